"""Claim status (276, 005010X212): writing one 276 for claims of one payer, recording it (each
claim with its own trace number, TRN02, unique in the organization) and sending it through the
clearinghouse: as a file through its connection (folder or SFTP; an outbox handler sends it) or
in real time over its CAQH CORE transport. Reading the 277 and acting on it belongs to the
denials app (denials/claimstatus.py), which sits above this one."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from claims.models import Claim, ClaimEvent, ClaimStatus
from patients.models import Payer
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Organization
from submissions.models import (
    BatchClaim,
    ClaimStatusInquiry,
    ClaimStatusRequest,
    ClaimStatusSetting,
    ClaimStatusState,
    ClaimStatusTransport,
    Clearinghouse,
    ControlNumberCounter,
    RealtimeTransport,
    SubmissionBatch,
)
from submissions.realtime import PAYLOAD_276, PAYLOAD_277, RealtimeAdapter
from submissions.transport import sender_for
from x12 import claimstatus as cs
from x12.eligibility import Person
from x12.reader import X12Error
from x12.writer import Envelope

CLAIM_STATUS_SEND_TOPIC = "submissions.claim_status_send"
DEFAULT_AFTER_DAYS = 30
DEFAULT_INTERVAL_DAYS = 14
# Claims a payer can still be asked about: sent and not yet paid, denied or closed.
ASKABLE = (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED)
MAX_CLAIMS_PER_CHECK = 100


# --- Settings ---------------------------------------------------------------------------------


def claim_status_schedule(payer_ids: Iterable[Any]) -> dict[Any, tuple[int, int]]:
    """(after_days, interval_days) of each payer: its setting or the defaults (30, 14)."""
    found = {
        s.payer_id: (s.after_days, s.interval_days)
        for s in ClaimStatusSetting.objects.filter(payer_id__in=list(payer_ids))
    }
    return defaultdict(lambda: (DEFAULT_AFTER_DAYS, DEFAULT_INTERVAL_DAYS), found)


def claim_status_setting_save(
    *, payer: Payer, after_days: int, interval_days: int
) -> ClaimStatusSetting:
    """Set when a payer's claims are asked about (days after acceptance, days between asks)."""
    if not 1 <= after_days <= 365:
        raise DomainError("Ask after 1 to 365 days.", field="after_days")
    if not 1 <= interval_days <= 365:
        raise DomainError("Ask again after 1 to 365 days.", field="interval_days")
    with transaction.atomic():
        setting, _ = ClaimStatusSetting.objects.update_or_create(
            payer=payer, defaults={"after_days": after_days, "interval_days": interval_days}
        )
        audit_record(action="claim_status.setting", obj=setting)
    return setting


# --- Writing and sending the 276 --------------------------------------------------------------


def accepted_at(claim_ids: Collection[Any]) -> dict[Any, datetime]:
    rows = (
        ClaimEvent.objects.filter(claim_id__in=list(claim_ids), to_status=ClaimStatus.ACCEPTED)
        .values("claim_id")
        .annotate(at=Max("created_at"))
    )
    return {r["claim_id"]: r["at"] for r in rows}


def clearinghouses_for(claims: Sequence[Claim]) -> dict[Any, Clearinghouse]:
    """The clearinghouse of each claim's latest batch; the first active one otherwise."""
    latest: dict[Any, Clearinghouse] = {}
    items = (
        BatchClaim.objects.filter(claim__in=[c.pk for c in claims])
        .select_related("batch__clearinghouse")
        .order_by("batch__created_at")
    )
    for item in items:
        latest[item.claim_id] = item.batch.clearinghouse
    fallback = Clearinghouse.objects.filter(is_active=True).order_by("name").first()
    out = {}
    for claim in claims:
        ch = latest.get(claim.pk) or fallback
        if ch is None:
            raise DomainError(
                "No active clearinghouse: set one up before checking claim status.",
                field="clearinghouse",
            )
        out[claim.pk] = ch
    return out


def transport_for(ch: Clearinghouse, prefer: str) -> str:
    realtime = ch.claim_status_realtime and ch.realtime_transport == RealtimeTransport.CORE_MIME
    if realtime and (prefer == ClaimStatusTransport.REALTIME or not ch.claim_status_batch):
        return ClaimStatusTransport.REALTIME
    if ch.claim_status_batch:
        return ClaimStatusTransport.BATCH
    raise DomainError(
        f"{ch.name} takes no claim status requests: allow batch or real-time claim status on it.",
        field="clearinghouse",
    )


def _person(last: str, first: str, member_id: str, birth: Any, sex: str) -> Person:
    return Person(
        last_name=last, first_name=first, member_id=member_id, birth_date=birth,
        gender=sex if sex in ("M", "F") else "",
    )  # fmt: skip


def _status_inquiry(claim: Claim, trace: str, org: Organization) -> cs.StatusInquiry:
    patient, coverage = claim.patient, claim.coverage
    me = _person(patient.last_name, patient.first_name, coverage.member_id,
                 patient.date_of_birth, patient.sex)  # fmt: skip
    if coverage.relationship == "18":
        subscriber, dependent = me, None
    else:
        subscriber = _person(
            coverage.subscriber_last_name, coverage.subscriber_first_name, coverage.member_id,
            coverage.subscriber_date_of_birth, coverage.subscriber_sex,
        )  # fmt: skip
        dependent = replace(me, member_id="")
    return cs.StatusInquiry(
        trace_number=trace,
        patient_account_number=claim.patient_control_number,
        total_charge=claim.total_charge,
        service_date_from=claim.statement_from,
        service_date_to=claim.statement_to if claim.statement_to != claim.statement_from else None,
        provider_name=org.name.upper(),
        provider_npi=org.group_npi,
        subscriber=subscriber,
        dependent=dependent,
        payer_claim_control_number=claim.payer_claim_number,
        bill_type="",
    )


def _take_numbers(ch: Clearinghouse) -> tuple[int, int]:
    """The next ISA13/GS06 of the clearinghouse, from the counter the 837 batches use (locked),
    so a 276 file never repeats a batch's numbers."""
    used = SubmissionBatch.objects.filter(clearinghouse=ch).aggregate(
        interchange=Max("interchange_control_number"), group=Max("group_control_number")
    )
    ControlNumberCounter.objects.bulk_create(
        [
            ControlNumberCounter(
                organization_id=ch.organization_id,
                clearinghouse=ch,
                submitter_id=ch.submitter_id,
                last_interchange=used["interchange"] or 0,
                last_group=used["group"] or 0,
            )
        ],
        ignore_conflicts=True,
    )
    counter = ControlNumberCounter.objects.select_for_update().get(
        clearinghouse=ch, submitter_id=ch.submitter_id
    )
    if counter.last_interchange >= 999_999_999:
        raise DomainError("The interchange control numbers are exhausted.")
    counter.last_interchange += 1
    counter.last_group += 1
    counter.save(update_fields=["last_interchange", "last_group"])
    return counter.last_interchange, counter.last_group


def _new_trace() -> str:
    return "CS" + uuid.uuid4().hex[:20].upper()


def claim_status_request_create(
    *,
    claims: Sequence[Claim],
    clearinghouse: Clearinghouse,
    transport: str,
    now: datetime,
    source: str,
    actor: Any = None,
) -> ClaimStatusRequest:
    """Write one 276 for claims of one payer and record it (each claim with its own trace
    number); a batch request is queued to the outbox to be sent. A 276 that cannot be written
    (a missing NPI, member id or birth date) is refused naming the segment, nothing recorded."""
    if not claims:
        raise DomainError("Choose at least one claim.", field="claims")
    payers = {c.payer_id for c in claims}
    if len(payers) > 1:
        raise DomainError("One 276 asks one payer: the claims name several.", field="claims")
    org = Organization.objects.get(pk=require_organization_id())
    claims = list(
        Claim.objects.select_related("patient", "coverage", "payer").filter(
            pk__in=[c.pk for c in claims]
        )
    )
    payer = claims[0].payer
    reference = "CSR" + uuid.uuid4().hex[:12].upper()
    inquiries = [_status_inquiry(c, _new_trace(), org) for c in claims]
    created = now.astimezone(UTC).replace(tzinfo=None, second=0, microsecond=0)
    with transaction.atomic():
        if transport == ClaimStatusTransport.BATCH:
            number, group = _take_numbers(clearinghouse)
        else:  # real time: one interchange per request, numbered by the second it was made
            number = group = int(now.timestamp()) % 999_999_999 + 1
        try:
            raw = cs.render_276(
                [
                    cs.StatusRequest(
                        reference=reference,
                        payer_name=payer.name.upper(),
                        payer_id=payer.payer_id,
                        receiver_name=org.name.upper(),
                        receiver_id=clearinghouse.submitter_id,
                        claims=inquiries,
                    )
                ],
                Envelope(
                    sender_id=clearinghouse.submitter_id,
                    receiver_id=clearinghouse.receiver_id,
                    sender_qualifier=clearinghouse.submitter_qualifier,
                    receiver_qualifier=clearinghouse.receiver_qualifier,
                    interchange_control_number=number,
                    group_control_number=group,
                    created=created,
                    usage=clearinghouse.usage,
                ),
            )
        except X12Error as exc:
            segment = f" (segment {exc.segment_id})" if exc.segment_id else ""
            raise DomainError(
                f"The 276 cannot be written{segment}: {exc.message}", field="claims"
            ) from exc
        request = ClaimStatusRequest.objects.create(
            clearinghouse=clearinghouse, payer=payer, transport=transport,
            status=ClaimStatusState.QUEUED, reference=reference, source=source[:8],
            file_name=f"276_{clearinghouse.code}_{reference}.x12", raw_request=raw,
            requested_at=now, requested_by=actor if getattr(actor, "pk", None) else None,
        )  # fmt: skip
        ClaimStatusInquiry.objects.bulk_create(
            [
                ClaimStatusInquiry(
                    organization_id=request.organization_id,
                    request=request,
                    claim=claim,
                    trace_number=inquiry.trace_number,
                )
                for claim, inquiry in zip(claims, inquiries, strict=True)
            ]
        )
        audit_record(
            action="claim_status.request",
            obj=request,
            detail={"claims": len(claims), "transport": transport},
            part2=any(c.is_part2 for c in claims),
        )
        if transport == ClaimStatusTransport.BATCH:
            outbox_enqueue(
                topic=CLAIM_STATUS_SEND_TOPIC,
                payload={"request_id": str(request.pk)},
                idempotency_key=f"claim-status-send:{request.pk}",
            )
    return request


def claim_status_send(*, request_id: Any, now: datetime) -> ClaimStatusRequest:
    """Hand a queued 276 file to the clearinghouse's connection (folder or SFTP). A request
    already sent is left alone; a failed delivery is kept on the request ("error")."""
    with transaction.atomic():
        request = (
            ClaimStatusRequest.objects.select_for_update()
            .select_related("clearinghouse")
            .get(pk=request_id)
        )
        if request.status != ClaimStatusState.QUEUED:
            return request
        org = Organization.objects.get(pk=request.organization_id)
        try:
            delivery = sender_for(request.clearinghouse, org.slug).send(
                name=request.file_name, content=request.raw_request.encode("latin-1")
            )
        except DomainError as error:
            request.status, request.error = ClaimStatusState.ERROR, error.message
            request.transport_detail = f"Not delivered: {error.message}"[:300]
        else:
            request.status, request.sent_at = ClaimStatusState.SENT, now
            request.transport_detail = f"Delivered to {delivery.where}"[:300]
        request.save(update_fields=["status", "error", "sent_at", "transport_detail", "updated_at"])
        audit_record(action="claim_status.send", obj=request, detail={"status": request.status})
    return request


def claim_status_adapter(clearinghouse: Clearinghouse) -> RealtimeAdapter:
    """The clearinghouse's CORE transport speaking claim status (276 out, 277 back)."""
    from submissions.services.eligibility import realtime_adapter

    core = realtime_adapter(clearinghouse)
    return replace(  # type: ignore[type-var]
        core, request_payload_type=PAYLOAD_276, response_payload_type=PAYLOAD_277
    )


def claim_status_fail(request: ClaimStatusRequest, status: str, error: str, raw: str = "") -> None:
    with transaction.atomic():
        ClaimStatusRequest.objects.filter(pk=request.pk).update(
            status=status, error=error, **({"raw_response": raw} if raw else {})
        )
        audit_record(action="claim_status.fail", obj=request, detail={"status": status})


__all__ = [
    "ASKABLE",
    "CLAIM_STATUS_SEND_TOPIC",
    "MAX_CLAIMS_PER_CHECK",
    "accepted_at",
    "claim_status_adapter",
    "claim_status_fail",
    "claim_status_request_create",
    "claim_status_schedule",
    "claim_status_send",
    "claim_status_setting_save",
    "clearinghouses_for",
    "transport_for",
]
