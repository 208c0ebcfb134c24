"""The claim lifecycle: status transitions, corrected and voided copies."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from claims.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EntryStatus,
    Frequency,
    ServiceEntry,
)
from claims.services.building import _new_pcn
from claims.services.payer_rules import corrected_claim_days
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.models import Organization

# --- Lifecycle -------------------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.DRAFT: frozenset({ClaimStatus.VOID}),
    ClaimStatus.READY: frozenset({ClaimStatus.SUBMITTED, ClaimStatus.DRAFT, ClaimStatus.VOID}),
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.ACCEPTED, ClaimStatus.REJECTED}),
    ClaimStatus.ACCEPTED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED}
    ),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.DRAFT, ClaimStatus.VOID}),
    ClaimStatus.PAID: frozenset({ClaimStatus.CLOSED}),
    ClaimStatus.PARTIALLY_PAID: frozenset(
        {ClaimStatus.APPEALED, ClaimStatus.CLOSED, ClaimStatus.PAID}
    ),
    ClaimStatus.DENIED: frozenset({ClaimStatus.APPEALED, ClaimStatus.CLOSED}),
    ClaimStatus.APPEALED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED, ClaimStatus.CLOSED}
    ),
    ClaimStatus.CLOSED: frozenset(),
    ClaimStatus.VOID: frozenset(),
}


def claim_transition(*, claim: Claim, to_status: str, actor: Any = None, note: str = "") -> Claim:
    """Move a claim along its lifecycle; an illegal move is refused with the legal ones named.
    `ready` is reached only by scrubbing clean."""
    if to_status not in ClaimStatus.values:
        raise DomainError(f"Unknown status: {to_status}", field="status")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        allowed = TRANSITIONS[claim.status]
        if to_status not in allowed:
            legal = ", ".join(sorted(ClaimStatus(s).label for s in allowed)) or "none (final)"
            raise DomainError(
                f"A claim that is {claim.get_status_display().lower()} cannot become {ClaimStatus(to_status).label.lower()}. Possible: {legal}.",
                field="status",
            )
        if to_status == ClaimStatus.SUBMITTED and claim.status != ClaimStatus.READY:
            raise DomainError("Only a claim that scrubbed clean can be submitted.", field="status")
        previous = claim.status
        claim.status = to_status
        update = ["status", "updated_at"]
        if to_status == ClaimStatus.SUBMITTED:
            claim.submitted_at = timezone.now()
            update.append("submitted_at")
        claim.save(update_fields=update)
        if (
            to_status == ClaimStatus.VOID
            and claim.frequency == Frequency.ORIGINAL
            and claim.primary_claim_id is None
            and previous in {ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED}
        ):
            # Never sent (or refused at the front door): its charges may be billed again. Not a
            # secondary claim's: its charges stay billed on the primary's claim.
            ServiceEntry.objects.filter(claim_lines__claim=claim).update(status=EntryStatus.OPEN)
        event = ClaimEvent.objects.create(
            claim=claim, from_status=previous, to_status=to_status, actor=actor, note=note[:300]
        )
        # A domain event for the apps above (webhooks): ids and the change only.
        outbox_enqueue(
            topic="claims.status_changed",
            payload={"changes": [{"claim_id": str(claim.pk), "from": previous, "to": to_status}]},
            idempotency_key=f"claims.status_changed:{event.pk}",
        )
        audit_record(
            action="claim.transition",
            obj=claim,
            patient_id=claim.patient_id,
            detail={"from": previous, "to": to_status},
        )
    return claim


# Where the payer has decided on a claim: a replacement or void may follow.
ADJUDICATED = frozenset(
    {
        ClaimStatus.ACCEPTED,
        ClaimStatus.PAID,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
        ClaimStatus.CLOSED,
    }
)
# A replacement or void the payer has not accepted yet: a second one would cross it.
NOT_YET_WITH_PAYER = frozenset(
    {ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.SUBMITTED, ClaimStatus.REJECTED}
)


def _decided_on(claim: Claim) -> date:
    """The day (in the organization's time zone) of the payer's last decision on the claim: the
    last time it was accepted, paid or denied; the last service date when none is recorded."""
    decided = (
        ClaimEvent.objects.filter(
            claim=claim,
            to_status__in=[
                ClaimStatus.ACCEPTED,
                ClaimStatus.PAID,
                ClaimStatus.PARTIALLY_PAID,
                ClaimStatus.DENIED,
            ],
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if decided is None:
        return claim.statement_to
    zone = Organization.objects.values_list("time_zone", flat=True).get(pk=claim.organization_id)
    return timezone.localtime(decided, ZoneInfo(zone)).date()


def correction_refusal(claim: Claim, *, frequency: str, today: date) -> str:
    """Why a replacement (7) or void (8) of the claim would be refused as of `today`, in words;
    "" when it may be sent. The claim page offers the actions only when this is empty."""
    what = "replaced" if frequency == Frequency.REPLACEMENT else "voided with the payer"
    pcn = claim.patient_control_number
    if claim.frequency == Frequency.VOID or claim.status == ClaimStatus.VOID:
        return f"Claim {pcn} is a void claim: it cannot be {what}."
    if claim.status not in ADJUDICATED:
        return (
            f"Claim {pcn} is {claim.get_status_display().lower()}: only a claim the payer "
            f"accepted can be {what}. Before the payer has it, edit its lines or void it directly."
        )
    if not claim.payer_claim_number:
        return (
            f"The payer never accepted claim {pcn} under a claim control number (none came on a "
            "277CA or an 835, CLP07): a replacement or void must cite it (REF*F8)."
        )
    pending = (
        Claim.objects.filter(original_claim=claim, status__in=NOT_YET_WITH_PAYER)
        .exclude(frequency=Frequency.ORIGINAL)
        .order_by("created_at")
        .first()
    )
    if pending is not None:
        return (
            f"Claim {pcn} already has an open {Frequency(pending.frequency).label.lower()} "
            f"({pending.patient_control_number}, {pending.get_status_display().lower()}): finish "
            "or void that one first."
        )
    done = (
        Claim.objects.filter(original_claim=claim, status__in=ADJUDICATED)
        .exclude(frequency=Frequency.ORIGINAL)
        .order_by("-created_at")
        .first()
    )
    if done is not None:
        if done.frequency == Frequency.VOID:
            return f"The payer accepted void claim {done.patient_control_number} for claim {pcn}."
        return (
            f"Claim {pcn} was replaced by {done.patient_control_number}, which the payer "
            "accepted: correct or void that claim instead."
        )
    limit = corrected_claim_days(claim.payer_id)
    if limit is not None:
        decided = _decided_on(claim)
        deadline = decided + timedelta(days=limit)
        if today > deadline:
            return (
                f"{claim.payer.name} allows corrected and void claims within {limit} days of its "
                f"decision ({decided}); that limit passed on {deadline}."
            )
    return ""


def _copy(claim: Claim, *, frequency: str, actor: Any, today: date) -> Claim:
    claim = Claim.objects.select_for_update().select_related("payer").get(pk=claim.pk)
    refusal = correction_refusal(claim, frequency=frequency, today=today)
    if refusal:
        field = "payer_claim_number" if not claim.payer_claim_number else "frequency"
        raise DomainError(refusal, field=field, code="correction_refused")
    copy = Claim.objects.get(pk=claim.pk)
    copy.pk = uuid.uuid4()
    copy.patient_control_number = _new_pcn()
    copy.frequency = frequency
    copy.original_claim = claim
    # The copy's own payer claim number comes with its own acceptance; REF*F8 cites the
    # original's (submissions rendering reads it from original_claim).
    copy.payer_claim_number = ""
    copy.status = ClaimStatus.DRAFT
    copy.submitted_at = copy.scrubbed_at = None
    copy.created_at = timezone.now()
    copy.save(force_insert=True)
    lines = []
    for line in ClaimLine.objects.filter(claim=claim).order_by("line_number"):
        line.pk = uuid.uuid4()
        line.claim = copy
        line.line_control_number = f"{copy.patient_control_number}-{line.line_number}"
        lines.append(line)
    ClaimLine.objects.bulk_create(lines)
    ClaimEvent.objects.create(
        claim=copy,
        from_status="",
        to_status=ClaimStatus.DRAFT,
        actor=actor,
        note=f"{Frequency(frequency).label} of {claim.patient_control_number}",
    )
    ClaimEvent.objects.create(
        claim=claim,
        from_status=claim.status,
        to_status=claim.status,
        actor=actor,
        note=f"{Frequency(frequency).label} {copy.patient_control_number} started",
    )
    return copy


def claim_correct(*, claim: Claim, today: date, actor: Any = None) -> Claim:
    """A replacement claim (frequency 7) that cites the original's payer claim number; fix its
    lines, then scrub and submit it like any claim. Refused, with the reason, for a claim the
    payer never accepted (no payer claim control number), a void claim, a claim with a
    replacement or void not yet accepted, and past the payer's days for corrected claims."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.REPLACEMENT, actor=actor, today=today)
        audit_record(
            action="claim.correct",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy


def claim_void_with_payer(*, claim: Claim, today: date, actor: Any = None) -> Claim:
    """A void claim (frequency 8) asking the payer to cancel an accepted claim; refused as a
    replacement is."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.VOID, actor=actor, today=today)
        audit_record(
            action="claim.void_request",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy
