"""Replacement (frequency 7) and void (8) claims go out in 837P and 837I citing the payer's
claim control number the 277CA gave the original (REF*F8), and pyx12 finds the files valid."""

from __future__ import annotations

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimStatus, ServiceEntry
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus
from submissions.services import acknowledgment_import, pyx12_validate
from tests.clock import today
from tests.submissions.acks import ack_277ca
from tests.submissions.conftest import bill_ready
from tests.submissions.test_services import build

pytestmark = pytest.mark.django_db


def _accepted_by_payer(billing, *, institutional: bool) -> Claim:
    (claim,) = bill_ready(billing)
    if institutional:
        with tenant_context(billing.org):
            Claim.objects.filter(pk=claim.pk).update(claim_form="837I", level="3.5")
            claim.lines.update(revenue_code="1001", service_code="H0019")
            ServiceEntry.objects.update(service_code="H0019", kind="untimed", level="3.5")
    first = build(billing)
    assert first.status == BatchStatus.RELEASED, first.error
    with tenant_context(billing.org):
        acknowledgment_import(content=ack_277ca(first, {claim.patient_control_number: "A1:20"}))
        claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACCEPTED
    assert claim.payer_claim_number == f"PAYER{claim.patient_control_number}"  # 277CA REF*1K
    return claim


@pytest.mark.parametrize(
    ("institutional", "frequency", "clm05"),
    [
        (False, "7", "11:B:7"),
        (False, "8", "11:B:8"),
        (True, "7", "86:A:7"),
        (True, "8", "86:A:8"),
    ],
)
def test_a_correction_cites_the_original_payer_claim_number_and_is_valid_x12(
    billing, institutional, frequency, clm05
):
    original = _accepted_by_payer(billing, institutional=institutional)
    with tenant_context(billing.org):
        make = (
            claims_services.claim_correct
            if frequency == "7"
            else claims_services.claim_void_with_payer
        )
        copy = make(claim=original, today=today())
        claims_services.claims_scrub(claim_ids=[copy.pk], today=today())
        copy.refresh_from_db()
        assert copy.status == ClaimStatus.READY, list(
            copy.findings.values_list("message", flat=True)
        )
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    text = batch.content
    assert f"CLM*{copy.patient_control_number}*" in text and f"*{clm05}*" in text
    assert f"REF*F8*{original.payer_claim_number}~" in text
    assert ("*005010X223A2~" if institutional else "*005010X222A1~") in text
    assert pyx12_validate(text) == []
