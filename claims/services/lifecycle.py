"""The claim lifecycle: status transitions, corrected and voided copies."""

from __future__ import annotations

import uuid
from typing import Any

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
from rcm.audit.services import audit_record
from rcm.errors import DomainError

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
        ClaimEvent.objects.create(
            claim=claim, from_status=previous, to_status=to_status, actor=actor, note=note[:300]
        )
        audit_record(
            action="claim.transition",
            obj=claim,
            patient_id=claim.patient_id,
            detail={"from": previous, "to": to_status},
        )
    return claim


def _copy(claim: Claim, *, frequency: str, actor: Any) -> Claim:
    if claim.status not in {
        ClaimStatus.ACCEPTED,
        ClaimStatus.PAID,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
        ClaimStatus.CLOSED,
    }:
        raise DomainError(
            "Only a claim the payer accepted can be corrected or voided with the payer; void a draft or ready claim directly.",
            field="frequency",
        )
    if not claim.payer_claim_number:
        raise DomainError(
            "Record the payer's claim number first: a replacement or void must cite it (REF*F8).",
            field="payer_claim_number",
        )
    copy = Claim.objects.get(pk=claim.pk)
    copy.pk = uuid.uuid4()
    copy.patient_control_number = _new_pcn()
    copy.frequency = frequency
    copy.original_claim = claim
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
    return copy


def claim_correct(*, claim: Claim, actor: Any = None) -> Claim:
    """A replacement claim (frequency 7) that cites the original's payer claim number; fix its
    lines, then scrub and submit it like any claim."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.REPLACEMENT, actor=actor)
        audit_record(
            action="claim.correct",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy


def claim_void_with_payer(*, claim: Claim, actor: Any = None) -> Claim:
    """A void claim (frequency 8) asking the payer to cancel an accepted claim."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.VOID, actor=actor)
        audit_record(
            action="claim.void_request",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy
