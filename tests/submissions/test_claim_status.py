"""Claim status (issue 21, items 3 and 4): a 276 for chosen claims of one payer, sent in batch
through the clearinghouse connection or in real time over CAQH CORE; the 277 recorded per claim,
shown on the timeline and acted on; the daily status scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimEvent, ClaimStatus
from denials.account import claim_timeline
from denials.claimstatus import (
    claim_status_check,
    claim_status_response_import,
    claim_status_scan,
)
from denials.models import WorkItem, WorkKind
from denials.tasks import claim_status_pickup
from patients import services as patients_services
from rcm import part2
from rcm.errors import DomainError
from rcm.operations.scans import scan_for
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from submissions.models import (
    ClaimStatusInquiry,
    ClaimStatusRequest,
    ClaimStatusResponse,
    ClaimStatusState,
    ClaimStatusTransport,
    Clearinghouse,
)
from submissions.services import (
    acknowledgment_import,
    batch_build,
    batches_create,
    claim_status_send,
    claim_status_setting_save,
    clearinghouse_save,
)
from submissions.tasks import acknowledgments_pickup
from tests.claims.conftest import dos
from tests.clock import now, today
from tests.core_server import PASSWORD, USERNAME, CoreServer, core_server
from tests.submissions.acks import ack_277ca
from tests.submissions.claim_status_277 import (
    DENIED_88,
    DOCUMENTS_R4,
    NOT_FOUND_A4,
    PAID_65,
    Answer,
    answer_277,
    answer_for,
)
from tests.submissions.conftest import bill_ready
from tests.x12.pyx12_check import pyx12_errors
from tests.x12.pyx12_maps import map_path

pytestmark = pytest.mark.django_db


def _age(claims: list[Claim], days: int) -> None:
    """The claims were accepted `days` ago (test data: the 277CA came in then)."""
    ClaimEvent.objects.filter(claim__in=claims, to_status=ClaimStatus.ACCEPTED).update(
        created_at=now() - timedelta(days=days)
    )


@pytest.fixture
def accepted(billing: Any) -> Any:
    """Two of Jane Doe's claims to Blue Plan, sent in one batch, accepted 40 days ago."""
    bill_ready(billing)
    billing.session(45, day=dos() + timedelta(days=7))
    with tenant_context(billing.org):
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=today())
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    with tenant_context(billing.org):
        claims = list(Claim.objects.order_by("statement_from"))
        acknowledgment_import(
            content=ack_277ca(batch, {c.patient_control_number: "A1:20" for c in claims})
        )
        claims = list(Claim.objects.order_by("statement_from"))
        assert {c.status for c in claims} == {ClaimStatus.ACCEPTED}
        _age(claims, 40)
    billing.claims = claims
    return billing


def _batch_check(practice: Any, claims: list[Claim]) -> list[ClaimStatusRequest]:
    return claim_status_check(
        claims=claims, now=now(), today=today(), source="ui", prefer=ClaimStatusTransport.BATCH
    )


def _state() -> tuple:
    return (
        list(ClaimStatusRequest.objects.order_by("pk").values_list("status", "error")),
        list(ClaimStatusInquiry.objects.order_by("pk").values_list("category_code", "outcome")),
        WorkItem.objects.count(),
        ClaimStatusResponse.objects.count(),
        list(Claim.objects.order_by("pk").values_list("status", "payer_claim_number")),
    )


# --- Batch: the 276 file out, the 277 back through the inbound folder --------------------------


def test_a_batch_check_writes_one_valid_276_and_sends_it_through_the_connection(
    accepted: Any, settings: Any
) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims)
        assert request.status == ClaimStatusState.QUEUED
        assert request.inquiries.count() == 2
        assert OutboxMessage.objects.filter(topic="submissions.claim_status_send").count() == 1
        valid, errors = pyx12_errors(request.raw_request, map_path())
        assert valid, errors
        for inquiry in request.inquiries.all():
            assert f"TRN*1*{inquiry.trace_number}~" in request.raw_request
        sent = claim_status_send(request_id=request.pk, now=now())
        again = claim_status_send(request_id=request.pk, now=now() + timedelta(hours=1))
    assert sent.status == ClaimStatusState.SENT and again.sent_at == sent.sent_at
    out = Path(settings.X12_OUTBOUND_DIR) / accepted.org.slug / "chi" / request.file_name
    assert out.read_text() == request.raw_request


def test_a_277_in_the_inbound_folder_is_applied_once_and_a_pended_claim_opens_a_follow_up(
    accepted: Any, settings: Any
) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims[:1])
        claim_status_send(request_id=request.pk, now=now())
        (inquiry,) = request.inquiries.select_related("claim")
        text = answer_for(inquiry, DOCUMENTS_R4)
    folder = Path(settings.X12_INBOUND_DIR) / accepted.org.slug / "chi"
    folder.mkdir(parents=True)
    (folder / "status.277").write_text(text)
    assert acknowledgments_pickup() == 0  # not a 277CA: left for the claim status pickup
    assert claim_status_pickup() == 1
    assert (folder / "processed" / "status.277").is_file()
    with tenant_context(accepted.org):
        inquiry.refresh_from_db()
        assert inquiry.category_code == "R4" and inquiry.action == "information_requested"
        assert inquiry.outcome == "Information requested: follow-up opened."
        (item,) = WorkItem.objects.all()
        assert item.kind == WorkKind.STATUS_FOLLOW_UP and item.claim_id == inquiry.claim_id
        assert "asks for information" in item.title
        assert ClaimStatusRequest.objects.get().status == ClaimStatusState.ANSWERED
        before = _state()
    (folder / "again.277").write_text(text)
    assert claim_status_pickup() == 1
    with tenant_context(accepted.org):
        assert _state() == before
        done = claim_status_response_import(content=text, source="upload", now=now(), today=today())
        assert not done.applied and _state() == before


def test_a_finalized_denied_answer_opens_a_denial_with_the_status_text(accepted: Any) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims[:1])
        (inquiry,) = request.inquiries.select_related("claim")
        result = claim_status_response_import(
            content=answer_for(inquiry, DENIED_88), source="upload", now=now(), today=today()
        )
        assert result.applied and result.answered == 1
        inquiry.refresh_from_db()
        assert (inquiry.category_code, inquiry.status_code, inquiry.entity_code) == (
            "F2", "88", "QC",
        )  # fmt: skip
        assert str(inquiry.adjudication_date) == "2026-11-28"
        (item,) = WorkItem.objects.all()
        assert item.kind == WorkKind.DENIAL and item.category == "eligibility"
        assert "Entity not eligible for benefits" in item.title
        assert item.amount == inquiry.claim.total_charge
        claim = Claim.objects.get(pk=inquiry.claim_id)
        assert claim.payer_claim_number  # from the 277CA, kept
        timeline = claim_timeline(
            claim=claim, scopes=part2.ORGANIZATION, tz=ZoneInfo(accepted.org.time_zone)
        )
        answers = [e.text for e in timeline if e.kind == "answer"]
        assert answers and "Finalized: denied" in answers[0]
        assert "denial work item opened" in answers[0]


def test_a_paid_answer_waits_for_the_835_and_keeps_amounts_and_dates(accepted: Any) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims[:1])
        (inquiry,) = request.inquiries.select_related("claim")
        claim_status_response_import(
            content=answer_for(inquiry, PAID_65), source="upload", now=now(), today=today()
        )
        inquiry.refresh_from_db()
        assert inquiry.action == "paid" and inquiry.outcome.startswith("Paid: waiting for the 835")
        assert str(inquiry.payment_amount) == "112.50" and inquiry.check_number == "000884321"
        assert str(inquiry.paid_date) == "2026-12-02"
        assert WorkItem.objects.count() == 0
        assert Claim.objects.get(pk=inquiry.claim_id).status == ClaimStatus.ACCEPTED


def test_not_found_opens_a_resubmit_follow_up_only_after_the_acceptance_window(
    accepted: Any,
) -> None:
    old, recent = accepted.claims
    with tenant_context(accepted.org):
        _age([recent], 5)
        (request,) = _batch_check(accepted, [old, recent])
        by_claim = {i.claim_id: i for i in request.inquiries.select_related("claim")}
        text = answer_277(
            [
                Answer(by_claim[c.pk].trace_number, NOT_FOUND_A4, c.patient_control_number)
                for c in (old, recent)
            ]
        )
        claim_status_response_import(content=text, source="upload", now=now(), today=today())
        (item,) = WorkItem.objects.all()
        assert item.claim_id == old.pk and "resubmit" in item.title
        assert ClaimStatusInquiry.objects.get(claim=recent).outcome == (
            "Not found yet: still within the acceptance window."
        )


def test_a_late_answer_to_an_older_request_does_not_overwrite_the_newer_one(
    accepted: Any,
) -> None:
    claim = accepted.claims[0]
    with tenant_context(accepted.org):
        (older,) = _batch_check(accepted, [claim])
        (newer,) = claim_status_check(
            claims=[claim], now=now() + timedelta(minutes=5), today=today(), source="ui",
            prefer=ClaimStatusTransport.BATCH,
        )  # fmt: skip
        old_inquiry, new_inquiry = older.inquiries.get(), newer.inquiries.get()
        claim_status_response_import(
            content=answer_for(new_inquiry, PAID_65, number=801), source="upload",
            now=now() + timedelta(hours=1), today=today(),
        )  # fmt: skip
        late = claim_status_response_import(
            content=answer_for(old_inquiry, DENIED_88, number=802), source="upload",
            now=now() + timedelta(hours=2), today=today(),
        )  # fmt: skip
        assert late.superseded == 1 and late.answered == 0
        old_inquiry.refresh_from_db()
        assert old_inquiry.superseded and old_inquiry.category_code == "F2"
        assert WorkItem.objects.count() == 0  # the late denial opened nothing
        new_inquiry.refresh_from_db()
        assert new_inquiry.category_code == "F1" and not new_inquiry.superseded


# --- Bad 277s ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mangle", "segment"),
    [
        (lambda t: t.replace("STC*F2:88:QC", "STC*"), "segment STC"),
        (lambda t: t.replace("*20261128~", "*2026XX28~"), "segment STC"),
        (lambda t: t.replace("HL*4*3*22*0", "HL*4*3*99*0"), "segment HL"),
        (lambda t: t.replace("SE*", "SE*9"), "segment SE"),
    ],
)
def test_a_malformed_277_is_refused_naming_the_segment_and_kept_on_the_request(
    accepted: Any, mangle: Any, segment: str
) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims[:1])
        (inquiry,) = request.inquiries.select_related("claim")
        text = mangle(answer_for(inquiry, DENIED_88))
        before = _state()[1:]
        with pytest.raises(DomainError) as refused:
            claim_status_response_import(content=text, source="upload", now=now(), today=today())
        assert segment in refused.value.message
        request.refresh_from_db()
        assert request.status == ClaimStatusState.ERROR and segment in request.error
        assert _state()[1:] == before


def test_an_unknown_trace_or_another_organizations_trace_is_refused_naming_trn(
    accepted: Any, other_org: Any
) -> None:
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, accepted.claims[:1])
        (inquiry,) = request.inquiries.select_related("claim")
        ours = answer_for(inquiry, DENIED_88)
        before = _state()
        with pytest.raises(DomainError, match=r"segment TRN .*'NOPE1' is none of our"):
            claim_status_response_import(
                content=answer_277([Answer("NOPE1", DENIED_88)]), source="upload", now=now(),
                today=today(),
            )  # fmt: skip
        assert _state() == before
    with tenant_context(other_org):
        with pytest.raises(DomainError, match="segment TRN"):
            claim_status_response_import(content=ours, source="upload", now=now(), today=today())
        assert ClaimStatusResponse.objects.count() == 0
    with tenant_context(accepted.org):
        assert _state() == before


# --- Real time over CAQH CORE -----------------------------------------------------------------


@pytest.fixture
def core(tmp_path: Path, settings: Any) -> Iterator[CoreServer]:
    with core_server(tmp_path) as server:
        settings.CLEARINGHOUSE_CA_BUNDLE = server.ca_bundle
        yield server


def _realtime(accepted: Any, core: CoreServer) -> Clearinghouse:
    with tenant_context(accepted.org):
        return clearinghouse_save(
            clearinghouse=accepted.clearinghouse, realtime_transport="core_mime",
            core_url=core.url, core_username=USERNAME, core_password=PASSWORD,
            realtime_timeout_seconds=1, realtime_retries=0, claim_status_realtime=True,
        )  # fmt: skip


def test_a_real_time_check_gets_the_277_at_once_and_a_denial_opens(
    accepted: Any, core: CoreServer
) -> None:
    _realtime(accepted, core)
    core.answer_277 = answer_277([Answer("{trace}", DENIED_88)])
    with tenant_context(accepted.org):
        (request,) = claim_status_check(
            claims=accepted.claims[:1], now=now(), today=today(), source="ui"
        )
        assert request.transport == ClaimStatusTransport.REALTIME
        assert request.status == ClaimStatusState.ANSWERED, request.error
        (sent,) = core.requests
        assert sent["PayloadType"] == "X12_276_Request_005010X212"
        assert request.inquiries.get().category_code == "F2"
        assert WorkItem.objects.get().kind == WorkKind.DENIAL
        assert OutboxMessage.objects.filter(topic="submissions.claim_status_send").count() == 0


def test_a_real_time_check_without_an_answer_says_so_and_changes_nothing(
    accepted: Any, core: CoreServer
) -> None:
    _realtime(accepted, core)
    core.mode = "500"
    with tenant_context(accepted.org):
        (request,) = claim_status_check(
            claims=accepted.claims[:1], now=now(), today=today(), source="ui"
        )
        assert request.status == ClaimStatusState.ERROR and "HTTP 500" in request.error
        assert request.inquiries.get().answered_at is None and WorkItem.objects.count() == 0


def test_a_real_time_277_that_does_not_parse_is_kept_as_the_requests_error(
    accepted: Any, core: CoreServer
) -> None:
    _realtime(accepted, core)
    core.answer_277 = answer_277([Answer("{trace}", DENIED_88)]).replace("STC*F2:88:QC", "STC*")
    with tenant_context(accepted.org):
        (request,) = claim_status_check(
            claims=accepted.claims[:1], now=now(), today=today(), source="ui"
        )
        assert request.status == ClaimStatusState.ERROR and "segment STC" in request.error
        assert WorkItem.objects.count() == 0


# --- The daily scan ---------------------------------------------------------------------------


def test_the_scan_sends_one_276_per_payer_for_aged_claims_and_nothing_on_its_second_run(
    accepted: Any,
) -> None:
    _, second = accepted.claims
    accepted.session(45, day=dos() + timedelta(days=14))  # a third charge, never sent
    with tenant_context(accepted.org):
        other_payer = patients_services.payer_create(
            name="Cedar Health", payer_id="CEDAR1", payer_type="commercial"
        )
        Claim.objects.filter(pk=second.pk).update(payer=other_payer)
        result = claim_status_scan(today=today(), now=now())
        assert (result.claims, result.requests) == (2, 2)
        requests = list(ClaimStatusRequest.objects.all())
        assert sorted(r.payer_id for r in requests) == sorted([accepted.payer.pk, other_payer.pk])
        assert all(r.inquiries.count() == 1 and r.source == "scan" for r in requests)
        assert all(r.transport == ClaimStatusTransport.BATCH for r in requests)
        assert OutboxMessage.objects.filter(topic="submissions.claim_status_send").count() == 2
        again = claim_status_scan(today=today(), now=now())
        assert (again.claims, again.requests) == (0, 0)
        assert ClaimStatusRequest.objects.count() == 2
        assert OutboxMessage.objects.filter(topic="submissions.claim_status_send").count() == 2


def test_the_scan_waits_for_the_payers_window_and_asks_again_after_the_interval(
    accepted: Any,
) -> None:
    with tenant_context(accepted.org):
        claim_status_setting_save(payer=accepted.payer, after_days=60, interval_days=10)
        assert claim_status_scan(today=today(), now=now()).requests == 0  # 40 days < 60
        claim_status_setting_save(payer=accepted.payer, after_days=30, interval_days=10)
        assert claim_status_scan(today=today(), now=now()).claims == 2
        later = now() + timedelta(days=9)
        assert claim_status_scan(today=later.date(), now=later).claims == 0
        later = now() + timedelta(days=10)
        assert claim_status_scan(today=later.date(), now=later).claims == 2
        assert ClaimStatusRequest.objects.count() == 2


def test_a_paid_or_denied_claim_is_not_scanned_and_the_registered_scan_runs_it(
    accepted: Any,
) -> None:
    first, _ = accepted.claims
    with tenant_context(accepted.org):
        Claim.objects.filter(pk=first.pk).update(status=ClaimStatus.PAID)
        scan = scan_for("denials.claim_status")
        assert scan is not None
        assert scan.run(today()) == {"claims": 1, "requests": 1}
        assert scan.run(today()) == {"claims": 0, "requests": 0}


def test_a_clearinghouse_taking_no_claim_status_is_refused_with_the_reason(accepted: Any) -> None:
    with tenant_context(accepted.org):
        clearinghouse_save(clearinghouse=accepted.clearinghouse, claim_status_batch=False)
        with pytest.raises(DomainError, match="takes no claim status requests"):
            _batch_check(accepted, accepted.claims)
        assert ClaimStatusRequest.objects.count() == 0


def test_a_claim_never_sent_cannot_be_asked_about(billing: Any) -> None:
    (claim,) = bill_ready(billing)
    with (
        tenant_context(billing.org),
        pytest.raises(DomainError, match="Only submitted or accepted claims"),
    ):
        _batch_check(billing, [claim])


SAMPLE = Path(__file__).resolve().parents[1] / "x12" / "samples" / "277-handwritten"


def test_the_hand_written_277_sample_is_applied_claim_by_claim(accepted: Any) -> None:
    """tests/x12/samples/277-handwritten/claim_status_answers.277, with our 276's traces: the
    denied claim opens a denial work item, the pended one a follow-up."""
    denied, pended = accepted.claims
    with tenant_context(accepted.org):
        (request,) = _batch_check(accepted, [denied, pended])
        trace = {i.claim_id: i.trace_number for i in request.inquiries.all()}
        text = (SAMPLE / "claim_status_answers.277").read_text()
        text = text.replace("TRACE-DENIED", trace[denied.pk])
        text = text.replace("TRACE-PENDED", trace[pended.pk])
        # Keep the first two claims (HL 4 and 5): the others answer traces we never sent.
        segments = [s for s in text.replace("\n", "").split("~") if s]
        cut = segments.index("HL*6*3*22*0")
        ends = segments.index("GE*1*901")
        kept = segments[:cut]
        kept.append(f"SE*{len(kept) - 2 + 1}*0001")
        text = "~".join(kept + segments[ends:]) + "~"
        done = claim_status_response_import(content=text, source="upload", now=now(), today=today())
        assert done.answered == 2
        kinds = dict(WorkItem.objects.values_list("claim_id", "kind"))
        assert kinds == {denied.pk: WorkKind.DENIAL, pended.pk: WorkKind.STATUS_FOLLOW_UP}
        assert ClaimStatusInquiry.objects.get(claim=denied).payer_claim_control_number == (
            "2026330000101"
        )
