"""Correcting a claim before the payer has it: edit or delete its lines (and the charges behind
them) while it is a draft, ready, or rejected at the front door (999 / 277CA), each change with a
reason, recorded in the claim's history and audited, and followed by a fresh scrub. A rejected
claim goes back to draft when the biller starts fixing it and to ready when it scrubs clean, so
the next batch picks it up.

After the payer has it, a claim is corrected by a replacement (frequency 7) or void (8) claim:
claims.services.lifecycle."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Sum

from authorizations.services import authorization_release_usage
from claims.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EntryStatus,
    Frequency,
    ServiceEntry,
)
from claims.services.lifecycle import claim_transition
from claims.services.scrubbing import claims_scrub
from rcm.audit.services import audit_record
from rcm.errors import DomainError

# The states in which the payer does not have the claim: its lines may be changed in place.
EDITABLE = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED})

SERVICE_CODE = re.compile(r"^[A-Z0-9]{5}$")
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
PLACE_OF_SERVICE = re.compile(r"^[0-9]{2}$")
MAX_UNITS = 9999
MAX_CHARGE = Decimal("99999999.99")

# What a line edit may change, in the order the history names them.
LINE_FIELDS = (
    "service_code",
    "modifiers",
    "units",
    "charge",
    "date_of_service",
    "place_of_service",
    "diagnosis_pointers",
)


def claim_editable(claim: Claim) -> bool:
    """True while the payer does not have the claim (draft, ready or rejected at the door)."""
    return claim.status in EDITABLE


def _refuse_unless_editable(claim: Claim) -> None:
    if claim.status in EDITABLE:
        return
    raise DomainError(
        f"Claim {claim.patient_control_number} is {claim.get_status_display().lower()}: its "
        "lines can be changed only while it is a draft, ready, or rejected before the payer "
        "(999 / 277CA)."
        + (
            " The payer has it: send a replacement claim (frequency 7) instead."
            if claim.status != ClaimStatus.VOID
            else ""
        ),
        field="status",
        code="not_editable",
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Say why the claim is changed (the reason is kept in its history).", field="reason"
        )
    return reason


def _lock(claim: Claim) -> Claim:
    return Claim.objects.select_for_update().get(pk=claim.pk)


def _reopen_if_rejected(claim: Claim, *, reason: str, actor: Any) -> Claim:
    """A rejected claim goes back to draft (the lifecycle's only way back to work) before its
    first fix; the scrub afterwards makes it ready again when it is clean."""
    if claim.status == ClaimStatus.REJECTED:
        claim = claim_transition(
            claim=claim,
            to_status=ClaimStatus.DRAFT,
            actor=actor,
            note=f"Reopened to fix the rejection: {reason}",
        )
    return claim


def _charge_follows(claim: Claim) -> bool:
    """The charge behind a line is the claim's own only on an original claim to the primary
    payer: a secondary claim or a replacement shares it with the claim it follows."""
    return claim.frequency == Frequency.ORIGINAL and claim.primary_claim_id is None


def _refresh_totals(claim: Claim) -> None:
    totals = ClaimLine.objects.filter(claim=claim).aggregate(
        total=Sum("charge"), first=Min("date_of_service"), last=Max("date_of_service")
    )
    claim.total_charge = totals["total"] or Decimal("0.00")
    claim.statement_from = totals["first"] or claim.statement_from
    claim.statement_to = totals["last"] or claim.statement_to
    claim.save(update_fields=["total_charge", "statement_from", "statement_to", "updated_at"])


def _history(claim: Claim, *, actor: Any, note: str) -> ClaimEvent:
    """An event in the claim's history (its timeline) that changes no status."""
    return ClaimEvent.objects.create(
        claim=claim, from_status=claim.status, to_status=claim.status, actor=actor, note=note[:300]
    )


def _clean_line_values(
    claim: Claim, line: ClaimLine, values: dict[str, Any], *, today: date
) -> dict[str, Any]:
    """The changed values, normalized; every bad one refused with its field named."""
    clean: dict[str, Any] = {}
    if (code := values.get("service_code")) is not None:
        code = str(code).strip().upper()
        if not SERVICE_CODE.match(code):
            raise DomainError(
                "A service code is 5 letters or digits (CPT or HCPCS).", field="service_code"
            )
        clean["service_code"] = code
    if (modifiers := values.get("modifiers")) is not None:
        if isinstance(modifiers, str):
            modifiers = modifiers.replace(",", " ").split()
        mods = [str(m).strip().upper() for m in modifiers if str(m).strip()]
        bad = [m for m in mods if not MODIFIER.match(m)]
        if bad:
            raise DomainError(
                f"A modifier is 2 letters or digits, not {bad[0]!r}.", field="modifiers"
            )
        if len(mods) > 4:
            raise DomainError("A line carries 4 modifiers at most.", field="modifiers")
        if len(set(mods)) != len(mods):
            raise DomainError("A modifier is given twice.", field="modifiers")
        clean["modifiers"] = mods
    if (units := values.get("units")) is not None:
        if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_UNITS:
            raise DomainError(f"Units are a whole number from 1 to {MAX_UNITS}.", field="units")
        clean["units"] = units
    if (charge := values.get("charge")) is not None:
        charge = Decimal(charge)
        if not charge.is_finite() or charge < 0 or charge > MAX_CHARGE:
            raise DomainError("The charge is an amount of $0.00 or more.", field="charge")
        if charge != charge.quantize(Decimal("0.01")):
            raise DomainError("The charge has cents at most (2 decimal places).", field="charge")
        clean["charge"] = charge.quantize(Decimal("0.01"))
    if (day := values.get("date_of_service")) is not None:
        episode = claim.episode
        if day > today:
            raise DomainError("The date of service is in the future.", field="date_of_service")
        if day < episode.admission_date or (
            episode.discharge_date and day > episode.discharge_date
        ):
            raise DomainError(
                f"{day} is outside the episode ({episode.admission_date} to "
                f"{episode.discharge_date or 'now'}).",
                field="date_of_service",
            )
        clean["date_of_service"] = day
    if (pos := values.get("place_of_service")) is not None:
        pos = str(pos).strip()
        if not PLACE_OF_SERVICE.match(pos):
            raise DomainError(
                "A place of service is a 2-digit code (11 office, 02/10 telehealth...).",
                field="place_of_service",
            )
        clean["place_of_service"] = pos
    if (pointers := values.get("diagnosis_pointers")) is not None:
        if isinstance(pointers, str):
            try:
                pointers = [int(p) for p in pointers.replace(",", " ").split()]
            except ValueError:
                raise DomainError(
                    "Diagnosis pointers are numbers (1, 2...).", field="diagnosis_pointers"
                ) from None
        count = len(claim.diagnosis_codes)
        pointers = list(pointers)
        if not pointers or len(pointers) > 4:
            raise DomainError(
                "A line points at 1 to 4 of the claim's diagnoses.", field="diagnosis_pointers"
            )
        if len(set(pointers)) != len(pointers) or any(
            not isinstance(p, int) or not 1 <= p <= count for p in pointers
        ):
            raise DomainError(
                f"Each pointer names one of the claim's {count} diagnoses (1 to {count}), once.",
                field="diagnosis_pointers",
            )
        clean["diagnosis_pointers"] = pointers
    return {k: v for k, v in clean.items() if getattr(line, k) != v}


def claim_line_update(
    *,
    line: ClaimLine,
    reason: str,
    today: date,
    actor: Any = None,
    service_code: str | None = None,
    modifiers: Sequence[str] | str | None = None,
    units: int | None = None,
    charge: Decimal | str | None = None,
    date_of_service: date | None = None,
    place_of_service: str | None = None,
    diagnosis_pointers: Sequence[int] | str | None = None,
) -> Claim:
    """Change a line of a claim the payer does not have (draft, ready, rejected at the door),
    with a reason. The charge behind it changes with it on an original claim (it is that claim's
    own). The claim's total and service dates follow its lines; the change is kept in the claim's
    history with the reason and audited, and the claim is scrubbed again as of `today` (the
    organization's day): clean, it is ready for the next batch. Nothing changes when a value is
    refused (the error names its field); giving the same values changes nothing."""
    reason = _reason(reason)
    values = {
        "service_code": service_code,
        "modifiers": modifiers,
        "units": units,
        "charge": charge,
        "date_of_service": date_of_service,
        "place_of_service": place_of_service,
        "diagnosis_pointers": diagnosis_pointers,
    }
    with transaction.atomic():
        claim = _lock(line.claim)
        _refuse_unless_editable(claim)
        line = ClaimLine.objects.select_for_update().get(pk=line.pk, claim=claim)
        changes = _clean_line_values(claim, line, values, today=today)
        if not changes:
            raise DomainError("Nothing to change: the line already says that.")
        claim = _reopen_if_rejected(claim, reason=reason, actor=actor)
        before = {k: getattr(line, k) for k in changes}
        for name, value in changes.items():
            setattr(line, name, value)
        line.save(update_fields=[*changes, "updated_at"])
        if _charge_follows(claim):
            entry_fields = {k: v for k, v in changes.items() if k != "diagnosis_pointers"}
            if entry_fields:
                ServiceEntry.objects.filter(pk=line.service_entry_id).update(**entry_fields)
        _refresh_totals(claim)
        said = ", ".join(
            f"{name.replace('_', ' ')} {_shown(before[name])} → {_shown(changes[name])}"
            for name in LINE_FIELDS
            if name in changes
        )
        event = _history(
            claim, actor=actor, note=f"Line {line.line_number} edited ({said}): {reason}"
        )
        audit_record(
            action="claim.line_update",
            obj=claim,
            patient_id=claim.patient_id,
            detail={"line": line.line_number, "fields": sorted(changes), "event": str(event.pk)},
        )
        claims_scrub(claim_ids=[claim.pk], today=today, actor=actor)
    claim.refresh_from_db()
    return claim


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "none"
    return str(value)


def claim_line_delete(
    *, line: ClaimLine, reason: str, today: date, actor: Any = None, void_charge: bool = False
) -> Claim:
    """Take a line off a claim the payer does not have, with a reason; the remaining lines are
    renumbered and the claim is scrubbed again. On an original claim the charge behind the line
    goes back to the open charges (to be billed on another claim), or is voided with
    `void_charge` (the service should never have been billed). A claim keeps one line at least:
    void the claim instead."""
    reason = _reason(reason)
    with transaction.atomic():
        claim = _lock(line.claim)
        _refuse_unless_editable(claim)
        line = ClaimLine.objects.select_for_update().get(pk=line.pk, claim=claim)
        lines = list(ClaimLine.objects.filter(claim=claim).order_by("line_number"))
        if len(lines) == 1:
            raise DomainError(
                "This is the claim's only line: a claim needs one. Void the claim instead.",
                field="line",
            )
        claim = _reopen_if_rejected(claim, reason=reason, actor=actor)
        number, code, entry_id = line.line_number, line.service_code, line.service_entry_id
        line.delete()
        for later in lines:
            if later.line_number > number:
                later.line_number -= 1
                later.save(update_fields=["line_number", "updated_at"])
        charge_note = ""
        if _charge_follows(claim):
            if void_charge:
                ServiceEntry.objects.filter(pk=entry_id).update(status=EntryStatus.VOID)
                authorization_release_usage(source_ids=[str(entry_id)])
                charge_note = "; its charge voided"
            else:
                ServiceEntry.objects.filter(pk=entry_id).update(status=EntryStatus.OPEN)
                charge_note = "; its charge back to the open charges"
        _refresh_totals(claim)
        event = _history(
            claim, actor=actor, note=f"Line {number} ({code}) deleted{charge_note}: {reason}"
        )
        audit_record(
            action="claim.line_delete",
            obj=claim,
            patient_id=claim.patient_id,
            detail={"line": number, "void_charge": void_charge, "event": str(event.pk)},
        )
        claims_scrub(claim_ids=[claim.pk], today=today, actor=actor)
    claim.refresh_from_db()
    return claim


def claim_rescrub(*, claim: Claim, today: date, actor: Any = None, reason: str = "") -> Claim:
    """Scrub a claim the payer does not have again, after a fix made elsewhere (the patient's
    address, the coverage, an authorization). A rejected claim needs the reason (what was fixed):
    it goes back to draft, then to ready when it scrubs clean, for the next batch."""
    with transaction.atomic():
        claim = _lock(claim)
        _refuse_unless_editable(claim)
        if claim.status == ClaimStatus.REJECTED:
            claim = _reopen_if_rejected(claim, reason=_reason(reason), actor=actor)
        claims_scrub(claim_ids=[claim.pk], today=today, actor=actor)
    claim.refresh_from_db()
    return claim
