"""Real-time eligibility: a 270 about a coverage sent through the clearinghouse's real-time
transport and its 271 applied as a benefit verification (patients.services).

The exchange runs synchronously with the clearinghouse's short timeout (a few seconds, at most
`realtime_timeout_seconds` x (1 + `realtime_retries`)); no database transaction is held while
waiting. The request is recorded before sending, so a timeout or a refusal is kept on it ("no
answer" or "error", with the raw answer), never a silent success."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from patients.models import (
    Coverage,
    CoveragePriority,
    EligibilityRequest,
    EligibilityStatus,
    EpisodeOfCare,
    EpisodeStatus,
)
from patients.services import (
    eligibility_request_create,
    eligibility_request_fail,
    eligibility_response_apply,
)
from rcm.audit.services import audit_record
from rcm.crypto import decrypt
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Organization
from submissions.models import (
    Clearinghouse,
    EligibilityBatch,
    EligibilityBatchItem,
    EligibilityBatchStatus,
    RealtimeTransport,
)
from submissions.realtime import CoreMimeTransport, RealtimeAdapter, RealtimeError
from x12.eligibility import EligibilityInquiry, Person, render_270
from x12.reader import X12Error
from x12.writer import Envelope

# What a behavioral health check asks about: the plan (30) and mental health (MH).
SERVICE_TYPES = ("30", "MH")


def realtime_adapter(clearinghouse: Clearinghouse) -> RealtimeAdapter:
    """The clearinghouse's real-time transport; refused when it has none."""
    if clearinghouse.realtime_transport != RealtimeTransport.CORE_MIME:
        raise DomainError(
            f"{clearinghouse.name} has no real-time transport; set CAQH CORE on it first.",
            field="realtime_transport",
        )
    return CoreMimeTransport(
        url=clearinghouse.core_url,
        username=clearinghouse.core_username,
        password=decrypt(clearinghouse.core_password_encrypted)
        if clearinghouse.core_password_encrypted
        else "",
        sender_id=clearinghouse.submitter_id,
        receiver_id=clearinghouse.receiver_id,
        timeout=float(clearinghouse.realtime_timeout_seconds),
        retries=clearinghouse.realtime_retries,
        verify=settings.CLEARINGHOUSE_CA_BUNDLE or True,
        client_cert=decrypt(clearinghouse.core_client_cert_encrypted)
        if clearinghouse.core_client_cert_encrypted
        else "",
        client_key=decrypt(clearinghouse.core_client_key_encrypted)
        if clearinghouse.core_client_key_encrypted
        else "",
    )


def _person(last: str, first: str, member_id: str, birth: Any, sex: str) -> Person:
    return Person(
        last_name=last, first_name=first, member_id=member_id, birth_date=birth, gender=sex or ""
    )


def _inquiry(coverage: Coverage, trace: str, org: Organization, on: Any) -> EligibilityInquiry:
    patient = coverage.patient
    patient_person = _person(
        patient.last_name, patient.first_name, coverage.member_id, patient.date_of_birth,
        patient.sex if patient.sex in ("M", "F") else "",
    )  # fmt: skip
    if coverage.relationship == "18":
        subscriber, dependent = patient_person, None
    else:
        subscriber = _person(
            coverage.subscriber_last_name, coverage.subscriber_first_name, coverage.member_id,
            coverage.subscriber_date_of_birth, coverage.subscriber_sex,
        )  # fmt: skip
        dependent = replace_member(patient_person)
    return EligibilityInquiry(
        trace_number=trace,
        trace_originator="1" + (org.tax_id or "").replace("-", ""),
        payer_name=coverage.payer.name,
        payer_id=coverage.payer.payer_id,
        provider_name=org.name,
        provider_npi=org.group_npi,
        subscriber=subscriber,
        dependent=dependent,
        service_date=on,
        service_types=SERVICE_TYPES,
    )


def replace_member(person: Person) -> Person:
    """A dependent is named without a member id (2100D has none)."""
    return Person(
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=person.birth_date,
        gender=person.gender,
    )


def eligibility_check(
    *,
    coverage: Coverage,
    clearinghouse: Clearinghouse,
    now: datetime,
    today: Any,
    user: Any = None,
    adapter: RealtimeAdapter | None = None,
) -> EligibilityRequest:
    """Ask the payer now whether the coverage is active and what it pays for mental health.

    Returns the request: answered (with its verification), rejected (AAA), no answer or error.
    A 270 we cannot write (the organization's NPI or tax id missing) is refused, nothing sent."""
    adapter = adapter or realtime_adapter(clearinghouse)
    org = Organization.objects.get(pk=require_organization_id())
    coverage = Coverage.objects.select_related("patient", "payer").get(pk=coverage.pk)
    trace = uuid.uuid4().hex[:30].upper()
    created = now.astimezone(UTC).replace(tzinfo=None)
    try:
        raw_270 = render_270(
            [_inquiry(coverage, trace, org, today)],
            Envelope(
                sender_id=clearinghouse.submitter_id,
                receiver_id=clearinghouse.receiver_id,
                sender_qualifier=clearinghouse.submitter_qualifier,
                receiver_qualifier=clearinghouse.receiver_qualifier,
                # Real time: one interchange per request, numbered by the second it was made.
                interchange_control_number=int(now.timestamp()) % 999_999_999 + 1,
                group_control_number=1,
                created=created,
                usage=clearinghouse.usage,
            ),
        )
    except X12Error as exc:
        raise DomainError(f"The 270 cannot be written: {exc}", field="coverage") from exc
    request = eligibility_request_create(
        coverage=coverage, trace_number=trace, raw_request=raw_270, now=now
    )
    try:
        answer = adapter.exchange(raw_270, payload_id=str(uuid.uuid4()), now=now)
    except RealtimeError as exc:
        return eligibility_request_fail(
            request=request, status=exc.status, error=exc.message, raw_response=exc.raw_response
        )
    try:
        eligibility_response_apply(raw=answer, now=now, verified_by=user, expect_trace=trace)
    except DomainError as exc:
        return eligibility_request_fail(
            request=request,
            status=EligibilityStatus.ERROR,
            error=exc.message,
            raw_response=answer,
        )
    return EligibilityRequest.objects.select_related("verification").get(pk=request.pk)


# --- "Check eligibility for all active episodes" --------------------------------------------

ELIGIBILITY_BATCH_TOPIC = "submissions.eligibility_batch"
RUNNING = (EligibilityBatchStatus.QUEUED, EligibilityBatchStatus.RUNNING)


def _batch_coverages(today: date) -> list[tuple[Coverage, EpisodeOfCare]]:
    """The primary coverage in force today of each active episode's patient, once per coverage
    (two queries). A patient's non-Part 2 episode is preferred as the item's episode, so 42 CFR
    Part 2 hides only the checks made for a substance use episode alone."""
    episodes = list(
        EpisodeOfCare.objects.filter(status=EpisodeStatus.ACTIVE).order_by("admission_date", "id")
    )
    by_patient: dict[Any, EpisodeOfCare] = {}
    for episode in episodes:
        chosen = by_patient.get(episode.patient_id)
        if chosen is None or (chosen.is_part2 and not episode.is_part2):
            by_patient[episode.patient_id] = episode
    coverages = (
        Coverage.objects.filter(
            patient_id__in=list(by_patient),
            priority=CoveragePriority.PRIMARY,
            effective_date__lte=today,
        )
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gte=today))
        .order_by("patient_id", "effective_date")
    )
    return [(c, by_patient[c.patient_id]) for c in coverages]


def eligibility_batch_start(
    *, clearinghouse: Clearinghouse, now: datetime, today: date, user: Any = None
) -> tuple[EligibilityBatch, bool]:
    """Start checking eligibility for every active episode's primary coverage (a job through the
    outbox). Returns the batch and whether this call started it: while one is queued or running,
    a second start returns that one and starts nothing. A clearinghouse without a real-time
    transport is refused."""
    realtime_adapter(clearinghouse)  # refuses a clearinghouse without CAQH CORE
    with transaction.atomic():
        running = EligibilityBatch.objects.filter(status__in=RUNNING).first()
        if running is not None:
            return running, False
        chosen = _batch_coverages(today)
        batch = EligibilityBatch(
            clearinghouse=clearinghouse, started_by=user, started_at=now, total=len(chosen)
        )
        if not chosen:
            batch.status, batch.finished_at = EligibilityBatchStatus.DONE, now
        try:
            with transaction.atomic():
                batch.save()
        except IntegrityError:
            # Another start won the race (the one-running constraint): that one is the batch.
            return EligibilityBatch.objects.get(status__in=RUNNING), False
        EligibilityBatchItem.objects.bulk_create(
            EligibilityBatchItem(
                batch=batch,
                coverage=coverage,
                episode=episode,
                organization_id=batch.organization_id,
            )
            for coverage, episode in chosen
        )
        audit_record(action="eligibility.batch_start", obj=batch, detail={"coverages": len(chosen)})
        if chosen:
            outbox_enqueue(
                topic=ELIGIBILITY_BATCH_TOPIC,
                payload={"batch_id": str(batch.pk)},
                idempotency_key=f"eligibility-batch:{batch.pk}",
            )
    return batch, True


def eligibility_batch_pending(*, batch_id: Any) -> list[Any]:
    """The batch's items not checked yet (a re-delivered job continues where it stopped)."""
    return list(
        EligibilityBatchItem.objects.filter(batch_id=batch_id, status="pending")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


def eligibility_batch_check_item(
    *, item_id: Any, now: datetime, today: date
) -> EligibilityBatchItem:
    """Check one coverage of a batch and record the result on the item and the batch's counts
    (committed at once: the progress page sees it). An item already checked is left alone; a
    check refused before sending (the 270 cannot be written) is recorded as an error."""
    item = EligibilityBatchItem.objects.select_related("batch__clearinghouse", "coverage").get(
        pk=item_id
    )
    if item.status != "pending":
        return item
    batch = item.batch
    if batch.status == EligibilityBatchStatus.QUEUED:
        EligibilityBatch.objects.filter(pk=batch.pk, status=EligibilityBatchStatus.QUEUED).update(
            status=EligibilityBatchStatus.RUNNING
        )
    request: EligibilityRequest | None = None
    try:
        request = eligibility_check(
            coverage=item.coverage, clearinghouse=batch.clearinghouse, now=now, today=today
        )
        status, error = request.status, request.error
    except DomainError as exc:
        status, error = EligibilityStatus.ERROR, exc.message
    with transaction.atomic():
        claimed = EligibilityBatchItem.objects.filter(pk=item.pk, status="pending").update(
            status=status, error=error, request=request, updated_at=now
        )
        if claimed:
            answered = 1 if status == EligibilityStatus.ANSWERED and not error else 0
            EligibilityBatch.objects.filter(pk=batch.pk).update(
                checked=F("checked") + 1,
                answered=F("answered") + answered,
                failed=F("failed") + (1 - answered),
            )
    item.refresh_from_db()
    return item


def eligibility_batch_finish(*, batch_id: Any, now: datetime) -> EligibilityBatch:
    """Mark the batch done once no item is pending (safe to call twice)."""
    with transaction.atomic():
        batch = EligibilityBatch.objects.select_for_update().get(pk=batch_id)
        pending = EligibilityBatchItem.objects.filter(batch=batch, status="pending").exists()
        if batch.status != EligibilityBatchStatus.DONE and not pending:
            batch.status, batch.finished_at = EligibilityBatchStatus.DONE, now
            batch.save(update_fields=["status", "finished_at", "updated_at"])
            audit_record(
                action="eligibility.batch_done",
                obj=batch,
                detail={
                    "checked": batch.checked,
                    "answered": batch.answered,
                    "failed": batch.failed,
                },
            )
    return batch
