"""The audit export neutralizes a formula an attacker got into the trail."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from rcm.audit.services import audit_record
from rcm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db
PAYLOAD = '=HYPERLINK("http://x")'


def test_the_audit_export_neutralizes_formula_cells(
    org: Any, auditor: Any, client_for: Any
) -> None:
    with tenant_context(org):
        audit_record(action="patient.view", object_type="patients.patient", object_id=PAYLOAD)
    response = client_for(auditor).get("/o/riverbend/audit/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    (row,) = [r for r in rows if r["action"] == "patient.view"]
    assert row["object_id"] == "'" + PAYLOAD
    assert "\n" + PAYLOAD not in response.content.decode()
    assert "," + PAYLOAD not in response.content.decode()
