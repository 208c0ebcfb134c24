from __future__ import annotations

from pathlib import Path

import pytest

from claims.models import Claim, ClaimEvent, ClaimStatus
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import (
    Acknowledgment,
    AckStatus,
    BatchClaim,
    BatchStatus,
    ClaimRejection,
    SubmissionBatch,
)
from submissions.services import acknowledgment_import, batch_build, batches_create
from submissions.tasks import acknowledgments_pickup
from tests.submissions.acks import ack_277ca, ack_999
from tests.submissions.conftest import bill_ready
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999

SAMPLES = Path(__file__).resolve().parents[1] / "x12" / "samples"


@pytest.fixture
def sent(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.RELEASED
    billing.batch, billing.claim = batch, claim
    return billing


def _state(practice):
    with tenant_context(practice.org):
        return (
            list(SubmissionBatch.objects.values_list("status", flat=True)),
            list(Claim.objects.values_list("status", flat=True)),
            ClaimEvent.objects.count(),
            ClaimRejection.objects.count(),
            Acknowledgment.objects.count(),
        )


def test_our_own_acknowledgments_parse_with_the_readers(sent):
    assert parse_999(ack_999(sent.batch)).acknowledgments[0].transaction_sets[0].ack_code == "A"
    claims = parse_277ca(ack_277ca(sent.batch, {"P1": "A7:562:85"})).claims
    assert claims[0].rejected and "National Provider Identifier" in claims[0].reason


def test_an_accepting_999_marks_the_batch_acknowledged_and_leaves_claims_submitted(sent):
    with tenant_context(sent.org):
        ack, applied = acknowledgment_import(content=ack_999(sent.batch), file_name="a.999")
        assert applied and ack.kind == "999" and ack.batch_id == sent.batch.pk
        assert SubmissionBatch.objects.get().status == BatchStatus.ACKNOWLEDGED
        assert Claim.objects.get().status == ClaimStatus.SUBMITTED


def test_a_rejecting_999_rejects_every_claim_with_the_reason_in_words(sent):
    with tenant_context(sent.org):
        ack, _ = acknowledgment_import(content=ack_999(sent.batch, accepted=False))
        assert ack.summary == "999: 0 accepted, 1 rejected"
        assert SubmissionBatch.objects.get().status == BatchStatus.REJECTED
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.REJECTED
        rejection = ClaimRejection.objects.get()
        assert rejection.reason.startswith("The clearinghouse rejected the whole file (999): ")
        assert "NM1" in rejection.reason and rejection.resolved_at is None


def test_a_277ca_accepts_and_rejects_claims_and_the_rejection_joins_the_queue(sent):
    pcn = sent.claim.patient_control_number
    with tenant_context(sent.org):
        acknowledgment_import(content=ack_999(sent.batch))
        ack, _ = acknowledgment_import(content=ack_277ca(sent.batch, {pcn: "A7:562:85"}))
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.REJECTED and ack.kind == "277CA"
        rejection = ClaimRejection.objects.get()
        assert rejection.reason.startswith("Rejected by the payer's front door (277CA): ")
        assert "National Provider Identifier" in rejection.reason
        assert BatchClaim.objects.get().ack_status == AckStatus.REJECTED


def test_an_accepting_277ca_moves_the_claim_to_accepted_and_keeps_the_payer_claim_number(sent):
    pcn = sent.claim.patient_control_number
    with tenant_context(sent.org):
        acknowledgment_import(content=ack_277ca(sent.batch, {pcn: "A1:20"}))
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.ACCEPTED and claim.payer_claim_number == f"PAYER{pcn}"
        assert BatchClaim.objects.get().ack_status == AckStatus.ACCEPTED


def test_importing_the_same_file_again_changes_nothing(sent):
    text = ack_277ca(sent.batch, {sent.claim.patient_control_number: "A7:562:85"})
    with tenant_context(sent.org):
        first, applied = acknowledgment_import(content=text)
    before = _state(sent)
    with tenant_context(sent.org):
        again, applied_again = acknowledgment_import(content=text.encode(), source="api")
    assert applied and not applied_again and again.pk == first.pk
    assert _state(sent) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda b: "hello, this is not X12", "This is not an X12 file"),
        (lambda b: ack_999(b).split("SE*")[0], "The file is truncated"),
        (lambda b: ack_999(b).replace("SE*6*", "SE*9*"), "Wrong segment count"),
        (lambda b: ack_999(b).replace("GE*1*", "GE*2*"), "Wrong transaction set count"),
        (lambda b: ack_999(b).replace(f"AK1*HC*{b.group_control_number}*", "AK1*HC*9876*"),
         "group control number(s) 9876 (AK102), which match none of our released batches"),
        (lambda b: ack_277ca(b, {"NOSUCHPCN": "A1:20"}), "claim 'NOSUCHPCN' (TRN02 at segment"),
        (lambda b: (SAMPLES / "999" / "ims_x12_999_rejected.txt").read_text(),
         "which match none of our released batches"),
    ],
)  # fmt: skip
def test_a_bad_acknowledgment_is_refused_with_the_reason_and_nothing_is_applied(
    sent, make, message
):
    before = _state(sent)
    with tenant_context(sent.org), pytest.raises(DomainError) as caught:
        acknowledgment_import(content=make(sent.batch))
    assert message in caught.value.message
    assert _state(sent) == before


def test_the_position_of_the_bad_segment_is_named(sent):
    text = ack_999(sent.batch).replace("SE*6*", "SE*9*")
    with tenant_context(sent.org), pytest.raises(DomainError, match=r"\(segment 8, SE\)"):
        acknowledgment_import(content=text)


def test_the_periodic_task_applies_inbound_files_once_and_sets_refused_ones_aside(sent, settings):
    folder = Path(settings.X12_INBOUND_DIR) / sent.org.slug / "chi"
    folder.mkdir(parents=True)
    (folder / "good.999").write_text(ack_999(sent.batch))
    (folder / "bad.999").write_text("not x12 at all")
    assert acknowledgments_pickup() == 2
    assert (folder / "processed" / "good.999").is_file()
    assert "not an X12 file" in (folder / "failed" / "bad.999.reason.txt").read_text()
    with tenant_context(sent.org):
        assert SubmissionBatch.objects.get().status == BatchStatus.ACKNOWLEDGED
        assert Acknowledgment.objects.get().source == "folder"
    (folder / "again.999").write_text(ack_999(sent.batch))
    assert acknowledgments_pickup() == 1
    with tenant_context(sent.org):
        assert Acknowledgment.objects.count() == 1
