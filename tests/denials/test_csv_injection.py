"""The parity packet CSV neutralizes a formula in a payer's name."""

from __future__ import annotations

import csv
import io

import pytest

from patients.models import Payer
from rcm.tenancy.context import tenant_context
from tests.denials.test_views import denial  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
PAYLOAD = '=HYPERLINK("http://x")'


def test_the_parity_packet_neutralizes_formula_cells(denial, biller, client_for):  # noqa: F811
    with tenant_context(denial.organization_id):
        Payer.objects.filter(pk=denial.claim.payer_id).update(name=PAYLOAD)
    response = client_for(biller).get("/o/riverbend/denials/parity/packet.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {r["payer"] for r in rows} == {"'" + PAYLOAD}
