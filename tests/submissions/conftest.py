from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from rcm import part2
from rcm.tenancy.context import tenant_context
from submissions.services import clearinghouse_save
from tests.claims.conftest import Practice, dos
from tests.claims.conftest import practice as practice
from tests.clock import today


def bill_ready(practice: Practice, *sessions: int) -> list[Claim]:
    """Sessions of the given minutes on consecutive weeks from `dos()`, built today into ready
    claims."""
    for week, minutes in enumerate(sessions or (45,)):
        practice.session(minutes, day=dos() + timedelta(days=7 * week))
    with tenant_context(practice.org):
        claims = claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
        ready = list(Claim.objects.filter(status=ClaimStatus.READY))
        assert ready, [list(c.findings.values_list("message", flat=True)) for c in claims]
        return ready


def set_billing_identity(org: Any) -> None:
    org.group_npi = "1234567893"
    org.tax_id = "93-1234567"
    org.taxonomy_code = "261QM0801X"
    org.address_line1 = "100 River St"
    org.address_line2 = "Suite 200"
    org.city = "Portland"
    org.state = "OR"
    org.postal_code = "97204-1234"
    org.save()


@pytest.fixture
def billing(practice: Practice, settings: Any, tmp_path: Any) -> Practice:
    """The practice with its billing identity and a folder clearinghouse."""
    settings.X12_OUTBOUND_DIR = str(tmp_path / "outbound")
    settings.X12_INBOUND_DIR = str(tmp_path / "inbound")
    set_billing_identity(practice.org)
    with tenant_context(practice.org):
        patient = practice.patient
        patient.address_line1, patient.city, patient.state = "12 Elm Ave", "Portland", "OR"
        patient.postal_code = "97205"
        patient.save()
    with tenant_context(practice.org):
        practice.clearinghouse = clearinghouse_save(  # type: ignore[attr-defined]
            name="Clearinghouse Inc", code="chi", receiver_name="Clearinghouse Inc",
            receiver_id="CLHSE01", submitter_id="RB12345", contact_name="Pat Biller",
            contact_phone="5035550100",
        )  # fmt: skip
    return practice


@pytest.fixture
def eager() -> Any:
    from rcm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
