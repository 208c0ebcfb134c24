"""One row of every submission model, for the isolation probe (runs after claims' probe data,
which made a claim)."""

from __future__ import annotations

from claims.models import Claim
from patients.models import Coverage, EligibilityRequest, EpisodeOfCare, Payer
from rcm.tenancy.models import Organization
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    ClaimRejection,
    ClaimStatusInquiry,
    ClaimStatusRequest,
    ClaimStatusResponse,
    ClaimStatusSetting,
    Clearinghouse,
    ControlNumberCounter,
    EligibilityBatch,
    EligibilityBatchItem,
    SubmissionBatch,
)
from tests import clock


def build(org: Organization) -> None:
    ch = Clearinghouse.objects.create(
        name="Probe clearinghouse", code="probe", receiver_name="Probe CH", receiver_id="PROBECH",
        submitter_id=f"SUB{org.slug[:8].upper()}", contact_name="Probe", contact_phone="5035550100",
    )  # fmt: skip
    ControlNumberCounter.objects.create(clearinghouse=ch, submitter_id=ch.submitter_id)
    claim = Claim.objects.first()
    batch = SubmissionBatch.objects.create(
        clearinghouse=ch, claim_form="837P", status="released", interchange_control_number=1,
        group_control_number=1, transaction_control_number=1, claim_count=1, progress_total=1,
        progress_done=1, file_name="837P_probe_000000001.x12", content="ISA*probe~",
    )  # fmt: skip
    BatchClaim.objects.create(batch=batch, claim=claim, position=1)
    ack = Acknowledgment.objects.create(
        kind="999", batch=batch, sha256=f"probe-{org.slug}", content="ISA*probe~",
        source="upload", summary="999: 0 accepted, 1 rejected", rejected_count=1,
    )  # fmt: skip
    ClaimRejection.objects.create(
        claim=claim, batch=batch, acknowledgment=ack, source="999", reason="Probe rejection"
    )
    eligibility = EligibilityBatch.objects.create(
        clearinghouse=ch, status="done", started_at=clock.now(), finished_at=clock.now(),
        total=1, checked=1, failed=1,
    )  # fmt: skip
    EligibilityBatchItem.objects.create(
        batch=eligibility,
        coverage=Coverage.objects.first(),
        episode=EpisodeOfCare.objects.first(),
        request=EligibilityRequest.objects.first(),
        status="no_answer",
        error="Probe: no answer",
    )
    payer = Payer.objects.first()
    ClaimStatusSetting.objects.create(payer=payer, after_days=30, interval_days=14)
    status_request = ClaimStatusRequest.objects.create(
        clearinghouse=ch, payer=payer, transport="batch", status="answered",
        reference=f"PROBE{org.slug[:8].upper()}", source="ui", requested_at=clock.now(),
    )  # fmt: skip
    ClaimStatusInquiry.objects.create(
        request=status_request, claim=claim, trace_number=f"PROBE-{org.slug}",
        answered_at=clock.now(), category_code="A1", status_code="20", status_text="Probe",
    )  # fmt: skip
    ClaimStatusResponse.objects.create(
        sha256=f"probe-277-{org.slug}", content="ISA*probe~", source="upload", summary="277: probe"
    )
