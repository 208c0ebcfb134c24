"""Claim status (276/277, 005010X212): asking payers about claims and acting on their answers.

One 276 goes to one payer through the clearinghouse that carried the claims' 837 (the first
active one when a claim never went in a batch): in real time when the clearinghouse answers
claim status over its CAQH CORE transport, otherwise as a file through its connection (folder or
SFTP, sent by an outbox handler), whose 277 comes back into the inbound folder like the 999s and
277CAs. Each claim asked about gets its own trace number (TRN02, unique in the organization),
which the 277 echoes and which matches the answer to the claim.

An answer is recorded on the claim's inquiry and shown on the claim's timeline; its category
decides the next step (x12.claimstatus.action_of): paid waits for the 835, denied opens a denial
work item, a request for information (R*, P3/P4) opens a follow-up, and "not found" (A4, D0) after
the acceptance window opens a follow-up to resubmit. A late answer to an older request never
overrides a newer answered one. A 277 that does not parse, names a trace we never sent (or
another organization's) is refused whole, naming the segment; the error is kept on the request
it names, nothing else changes."""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from claims.models import Claim, ClaimEvent, ClaimStatus
from denials.models import Denial, DenialCategory, RemittanceClaim, WorkKind
from denials.services import work_item_open
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from submissions.models import (
    ClaimStatusInquiry,
    ClaimStatusRequest,
    ClaimStatusResponse,
    ClaimStatusState,
    ClaimStatusTransport,
)
from submissions.realtime import RealtimeAdapter, RealtimeError
from submissions.services.acknowledgments import is_claim_status_response
from submissions.services.claimstatus import (
    ASKABLE,
    MAX_CLAIMS_PER_CHECK,
    accepted_at,
    claim_status_adapter,
    claim_status_fail,
    claim_status_request_create,
    claim_status_schedule,
    clearinghouses_for,
    transport_for,
)
from x12 import claimstatus as cs
from x12.reader import X12Error


def claim_status_check(
    *,
    claims: Sequence[Claim],
    now: datetime,
    today: date,
    source: str,
    actor: Any = None,
    prefer: str = ClaimStatusTransport.REALTIME,
    adapters: dict[Any, RealtimeAdapter] | None = None,
) -> list[ClaimStatusRequest]:
    """Ask the payers about the claims (already narrowed to what the caller may see): one 276
    per payer and clearinghouse. Real time when the clearinghouse supports it (the answer is
    applied before returning), else a batch file queued to be sent. Returns the requests."""
    claims = list(claims)
    if not claims:
        raise DomainError("Choose at least one claim.", field="claims")
    if len(claims) > MAX_CLAIMS_PER_CHECK:
        raise DomainError(f"Check at most {MAX_CLAIMS_PER_CHECK} claims at once.", field="claims")
    not_sent = [c.patient_control_number for c in claims if c.status not in ASKABLE]
    if not_sent:
        raise DomainError(
            f"Only submitted or accepted claims can be asked about: {', '.join(not_sent[:5])} "
            "are not.",
            field="claims",
        )
    houses = clearinghouses_for(claims)
    groups: dict[tuple[Any, Any], list[Claim]] = defaultdict(list)
    for claim in claims:
        groups[(claim.payer_id, houses[claim.pk].pk)].append(claim)
    requests = []
    for (_, ch_id), group in groups.items():
        ch = houses[group[0].pk]
        transport = transport_for(ch, prefer)
        request = claim_status_request_create(
            claims=group, clearinghouse=ch, transport=transport, now=now, source=source,
            actor=actor,
        )  # fmt: skip
        if transport == ClaimStatusTransport.REALTIME:
            adapter = (adapters or {}).get(ch_id) or claim_status_adapter(ch)
            request = _exchange(request, adapter, now=now, today=today, actor=actor)
        requests.append(request)
    return requests


def _exchange(
    request: ClaimStatusRequest, adapter: RealtimeAdapter, *, now: datetime, today: date,
    actor: Any,
) -> ClaimStatusRequest:  # fmt: skip
    ClaimStatusRequest.objects.filter(pk=request.pk).update(
        status=ClaimStatusState.SENT, sent_at=now
    )
    try:
        answer = adapter.exchange(request.raw_request, payload_id=str(uuid.uuid4()), now=now)
    except RealtimeError as exc:
        claim_status_fail(request, exc.status, exc.message, exc.raw_response)
    else:
        # A refused answer keeps its reason on the request; the caller reads the request.
        with contextlib.suppress(DomainError):
            claim_status_response_import(
                content=answer, source="realtime", now=now, today=today, actor=actor,
                request=request,
            )  # fmt: skip
    return ClaimStatusRequest.objects.get(pk=request.pk)


# --- Reading and applying the 277 -------------------------------------------------------------


def _traces_in(text: str) -> list[str]:
    """The trace numbers a 277 echoes (TRN*2), found even when it does not parse."""
    return re.findall(r"TRN\W2\W([A-Za-z0-9-]{1,50})", text)


def _refuse(message: str, text: str, request: ClaimStatusRequest | None) -> DomainError:
    """Keep the reason on the request(s) the 277 names, then refuse it."""
    targets = {request.pk} if request is not None else set()
    targets |= set(
        ClaimStatusInquiry.objects.filter(trace_number__in=_traces_in(text)[:200]).values_list(
            "request_id", flat=True
        )
    )
    if targets:
        with transaction.atomic():
            ClaimStatusRequest.objects.filter(pk__in=targets).exclude(
                status=ClaimStatusState.ANSWERED
            ).update(status=ClaimStatusState.ERROR, error=message, raw_response=text[:200_000])
            ClaimStatusRequest.objects.filter(
                pk__in=targets, status=ClaimStatusState.ANSWERED
            ).update(error=message)
    return DomainError(message, field="file")


@dataclass
class StatusImport:
    response: ClaimStatusResponse
    applied: bool
    answered: int
    superseded: int


def claim_status_response_import(
    *,
    content: str | bytes,
    source: str,
    now: datetime,
    today: date,
    file_name: str = "",
    actor: Any = None,
    request: ClaimStatusRequest | None = None,
) -> StatusImport:
    """Apply a 277 claim status response: each answered claim's inquiry gets the answer, the
    claim's next step is taken, and the requests become answered. The same file again changes
    nothing. A file that does not parse, or names a trace number none of our requests used, is
    refused whole with the segment named; the reason is kept on the request(s) it names."""
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    if not text.strip():
        raise DomainError("The 277 is empty.", field="file")
    digest = hashlib.sha256(text.encode("latin-1", errors="replace")).hexdigest()
    existing = ClaimStatusResponse.objects.filter(sha256=digest).first()
    if existing is not None:
        return StatusImport(existing, False, 0, 0)
    try:
        parsed = cs.parse_277(text, strict=True)
    except X12Error as exc:
        where = f"segment {exc.segment_id}" if exc.segment_id else "the envelope"
        if exc.segment_position:
            where += f" at position {exc.segment_position}"
        raise _refuse(f"The 277 was not applied ({where}): {exc.message}", text, request) from exc
    results = parsed.claims
    if not results:
        raise _refuse("The 277 was not applied (segment TRN): it answers no claim.", text, request)
    traces = [r.trace_number for r in results]
    inquiries = {
        i.trace_number: i
        for i in ClaimStatusInquiry.objects.select_related(
            "request", "claim", "claim__payer"
        ).filter(trace_number__in=traces)
    }
    for result in results:
        inquiry = inquiries.get(result.trace_number)
        if inquiry is None:
            raise _refuse(
                f"The 277 was not applied (segment TRN at position {result.segment_position}): "
                f"trace number {result.trace_number!r} is none of our claim status requests.",
                text,
                request,
            )
        if request is not None and inquiry.request_id != request.pk:
            raise _refuse(
                f"The 277 was not applied (segment TRN at position {result.segment_position}): "
                f"trace number {result.trace_number!r} belongs to another request.",
                text,
                request,
            )
        if not result.answers:
            raise _refuse(
                f"The 277 was not applied (segment STC after TRN at position "
                f"{result.segment_position}): claim {result.trace_number!r} has no status.",
                text,
                request,
            )
    answered = superseded = 0
    with transaction.atomic():
        response = ClaimStatusResponse.objects.create(
            sha256=digest, file_name=file_name[:200], content=text, source=source[:8], summary=""
        )
        for result in results:
            inquiry = inquiries[result.trace_number]
            if _apply(inquiry, result, now=now, today=today):
                answered += 1
            else:
                superseded += 1
        request_ids = {inquiries[t].request_id for t in traces}
        ClaimStatusRequest.objects.filter(pk__in=request_ids).update(
            status=ClaimStatusState.ANSWERED, answered_at=now, error="",
            raw_response=text[:200_000],
        )  # fmt: skip
        response.summary = f"277: {answered} claim(s) answered" + (
            f", {superseded} late answer(s) kept without effect" if superseded else ""
        )
        response.save(update_fields=["summary", "updated_at"])
        audit_record(
            action="claim_status.answer",
            obj=response,
            detail={"answered": answered, "superseded": superseded},
            part2=any(i.claim.is_part2 for i in inquiries.values()),
        )
    return StatusImport(response, True, answered, superseded)


def _newer_answered(inquiry: ClaimStatusInquiry) -> bool:
    return (
        ClaimStatusInquiry.objects.filter(
            claim_id=inquiry.claim_id,
            answered_at__isnull=False,
            request__requested_at__gt=inquiry.request.requested_at,
        )
        .exclude(pk=inquiry.pk)
        .exists()
    )


def _apply(
    inquiry: ClaimStatusInquiry, result: cs.ClaimStatusResult, *, now: datetime, today: date
) -> bool:
    """Record the answer on the inquiry and take the claim's next step; False when a newer
    request about the claim was answered already (the late answer is kept, nothing done)."""
    inquiry = ClaimStatusInquiry.objects.select_for_update().get(pk=inquiry.pk)
    status = result.status
    assert status is not None  # checked by the caller
    inquiry.answered_at = now
    inquiry.category_code = status.category_code[:3]
    inquiry.status_code = status.status_code[:5]
    inquiry.entity_code = status.entity_code[:3]
    inquiry.action = status.action
    inquiry.status_text = result.reason[:500]
    inquiry.codes = [
        {"category": s.category_code, "status": s.status_code, "entity": s.entity_code,
         "text": s.reason}
        for a in result.answers for s in a.statuses
    ]  # fmt: skip
    inquiry.payer_claim_control_number = result.payer_claim_control_number[:50]
    inquiry.adjudication_date = result.adjudication_date
    inquiry.paid_date = result.paid_date
    inquiry.total_charge = result.total_charge
    inquiry.payment_amount = result.payment_amount
    inquiry.check_number = result.check_number[:50]
    inquiry.message = next((a.message for a in result.answers if a.message), "")[:300]
    inquiry.superseded = _newer_answered(inquiry)
    inquiry.outcome = (
        "A newer status request was answered already: kept, no action taken."
        if inquiry.superseded
        else _act(inquiry, today=today)
    )
    inquiry.save()
    if not inquiry.superseded:
        ClaimStatusInquiry.objects.filter(
            claim_id=inquiry.claim_id,
            answered_at__isnull=False,
            request__requested_at__lt=inquiry.request.requested_at,
        ).update(superseded=True)
        if inquiry.payer_claim_control_number and not inquiry.claim.payer_claim_number:
            Claim.objects.filter(pk=inquiry.claim_id).update(
                payer_claim_number=inquiry.payer_claim_control_number
            )
    return not inquiry.superseded


# Status codes (code list 508) that say which denial category a finalized-denied answer is.
DENIAL_CATEGORY_BY_STATUS = {
    "84": DenialCategory.AUTHORIZATION,
    "88": DenialCategory.ELIGIBILITY,
    "109": DenialCategory.ELIGIBILITY,
    "27": DenialCategory.ELIGIBILITY,
    "85": DenialCategory.COB,
    "52": DenialCategory.COB,
    "116": DenialCategory.COVERAGE,
}


def _act(inquiry: ClaimStatusInquiry, *, today: date) -> str:
    claim = inquiry.claim
    action = inquiry.action
    if action == cs.PAID:
        return "Paid: waiting for the 835 to post it."
    if action == cs.DENIED:
        work_item_open(
            kind=WorkKind.DENIAL,
            source_id=inquiry.pk,
            title=f"Denied per claim status (277) on {claim.patient_control_number}: "
            f"{inquiry.status_text}",
            today=today,
            claim=claim,
            amount=claim.total_charge,
            category=DENIAL_CATEGORY_BY_STATUS.get(inquiry.status_code, DenialCategory.OTHER),
        )
        return "Denied: denial work item opened."
    if action == cs.INFORMATION_REQUESTED:
        work_item_open(
            kind=WorkKind.STATUS_FOLLOW_UP,
            source_id=inquiry.pk,
            title=f"{claim.payer.name} asks for information on claim "
            f"{claim.patient_control_number}: {inquiry.status_text}",
            today=today,
            claim=claim,
            amount=claim.total_charge,
            category=DenialCategory.INFORMATION_MISSING,
        )
        return "Information requested: follow-up opened."
    if action == cs.NOT_FOUND:
        accepted = accepted_at([claim.pk]).get(claim.pk) or claim.submitted_at
        after_days, _ = claim_status_schedule([claim.payer_id])[claim.payer_id]
        if accepted is not None and accepted.date() <= today - timedelta(days=after_days):
            work_item_open(
                kind=WorkKind.STATUS_FOLLOW_UP,
                source_id=inquiry.pk,
                title=f"{claim.payer.name} has no record of claim "
                f"{claim.patient_control_number} {after_days}+ days after acceptance: resubmit",
                today=today,
                claim=claim,
                amount=claim.total_charge,
            )
            return "Not found after the acceptance window: follow-up to resubmit opened."
        return "Not found yet: still within the acceptance window."
    return ""


# --- Scheduled checks -------------------------------------------------------------------------


@dataclass
class StatusScanResult:
    claims: int
    requests: int


def claim_status_scan(*, today: date, now: datetime) -> StatusScanResult:
    """Ask each payer about its claims accepted at least its `after_days` ago with no payment or
    denial and not asked about within its interval: one 276 per payer (and clearinghouse), sent
    in batch. A second run the same day finds every claim just asked about and sends nothing."""
    last_asked = (
        ClaimStatusInquiry.objects.filter(claim_id=OuterRef("pk"))
        .order_by("-request__requested_at")
        .values("request__requested_at")[:1]
    )
    accepted = (
        ClaimEvent.objects.filter(claim_id=OuterRef("pk"), to_status=ClaimStatus.ACCEPTED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    candidates = list(
        Claim.objects.filter(status=ClaimStatus.ACCEPTED)
        .exclude(pk__in=RemittanceClaim.objects.filter(claim__isnull=False).values("claim_id"))
        .exclude(pk__in=Denial.objects.values("claim_id"))
        .annotate(accepted_at=Subquery(accepted), last_asked=Subquery(last_asked))
        .filter(accepted_at__isnull=False)
        .select_related("payer")
    )
    schedule = claim_status_schedule({c.payer_id for c in candidates})
    due = []
    for claim in candidates:
        after_days, interval = schedule[claim.payer_id]
        old_enough = claim.accepted_at.date() <= today - timedelta(days=after_days)  # type: ignore[attr-defined]
        asked = claim.last_asked  # type: ignore[attr-defined]
        if old_enough and (asked is None or asked <= now - timedelta(days=interval)):
            due.append(claim)
    requests = 0
    by_payer: dict[Any, list[Claim]] = defaultdict(list)
    for claim in due:
        by_payer[claim.payer_id].append(claim)
    for group in by_payer.values():
        for start in range(0, len(group), MAX_CLAIMS_PER_CHECK):
            try:
                made = claim_status_check(
                    claims=group[start : start + MAX_CLAIMS_PER_CHECK], now=now, today=today,
                    source="scan", prefer=ClaimStatusTransport.BATCH,
                )  # fmt: skip
            except DomainError as error:
                audit_record(
                    action="claim_status.scan_refused",
                    object_type="payer",
                    object_id=str(group[0].payer_id),
                    detail={"error": error.message[:200]},
                )
                continue
            requests += len(made)
    return StatusScanResult(claims=len(due), requests=requests)


def claim_status_visible_claims(ids: Iterable[Any], scopes: Collection[str]) -> list[Claim]:
    """The claims of `ids` the caller may see (Part 2 through rcm.part2); an id that is not
    one of them is refused as not found."""
    ids = list(ids)
    found = list(part2.visible(Claim.objects.filter(pk__in=ids), scopes).select_related("payer"))
    if len(found) != len(set(map(str, ids))):
        raise DomainError("One of the chosen claims was not found.", field="claims")
    return found


def claim_status_import_folder(*, folder: Any, now: datetime, today: date) -> list[str]:
    """Apply every 277 claim status response in an inbound folder (999s and 277CAs are left to
    their pickup); applied files move to processed/, refused ones to failed/ with the reason next
    to them. Returns one line per file."""
    from pathlib import Path

    folder = Path(folder)
    results: list[str] = []
    if not folder.is_dir():
        return results
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        content = path.read_bytes()
        if not is_claim_status_response(content):
            continue
        try:
            done = claim_status_response_import(
                content=content, file_name=path.name, source="folder", now=now, today=today
            )
            target = folder / "processed"
            results.append(
                f"{path.name}: {done.response.summary if done.applied else 'already applied'}"
            )
        except DomainError as error:
            target = folder / "failed"
            target.mkdir(exist_ok=True)
            (target / f"{path.name}.reason.txt").write_text(error.message)
            results.append(f"{path.name}: refused: {error.message}")
        target.mkdir(exist_ok=True)
        path.replace(target / path.name)
    return results


# --- Reads ------------------------------------------------------------------------------------


def claim_status_inquiries(*, scopes: Collection[str], claim_id: Any = None) -> Any:
    """The claims asked about, newest first, with their request and answer, narrowed to what
    the caller may see (Part 2 through rcm.part2); `claim_id` keeps one claim's."""
    qs = ClaimStatusInquiry.objects.select_related("request", "request__payer", "claim")
    if claim_id is not None:
        qs = qs.filter(claim_id=claim_id)
    return part2.visible(qs, scopes).order_by("-request__requested_at", "trace_number")


def claim_status_inquiries_hidden(*, scopes: Collection[str], claim_id: Any = None) -> int:
    qs = ClaimStatusInquiry.objects.all()
    if claim_id is not None:
        qs = qs.filter(claim_id=claim_id)
    return part2.hidden_count(qs, scopes)


def claims_askable(*, scopes: Collection[str]) -> Any:
    """The claims a biller may ask a payer about (submitted or accepted), oldest first, each with
    the time it was last asked about (`last_asked`)."""
    last_asked = (
        ClaimStatusInquiry.objects.filter(claim_id=OuterRef("pk"))
        .order_by("-request__requested_at")
        .values("request__requested_at")[:1]
    )
    return (
        part2.visible(Claim.objects.filter(status__in=ASKABLE), scopes)
        .select_related("payer", "patient")
        .annotate(last_asked=Subquery(last_asked))
        .order_by("statement_from", "patient_control_number")
    )
