"""Every dashboard table export neutralizes a formula in a payer's name."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from dashboards.tables import TABLES
from patients.models import Payer
from rcm.tenancy.context import tenant_context
from tests.dashboards.test_dashboard import URL, make_book

pytestmark = pytest.mark.django_db
PAYLOAD = '=HYPERLINK("http://x")'


def test_the_dashboard_exports_neutralize_formula_cells(
    org: Any, manager: Any, client_for: Any
) -> None:
    book = make_book(org)
    with tenant_context(org):
        Payer.objects.filter(pk=book.payer.pk).update(name=PAYLOAD)
    client = client_for(manager)
    seen = 0
    for table in TABLES:
        body = client.get(URL, {"export": table}).content.decode()
        cells = [c for row in csv.reader(io.StringIO(body)) for c in row]
        assert PAYLOAD not in cells, table
        seen += cells.count("'" + PAYLOAD)
    # The payer shows in the denials-by-payer and aging tables at least.
    assert seen >= 2
