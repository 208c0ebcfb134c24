"""Pure rules of the patients app: no ORM, no clock (dates are passed in)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Protocol

# The ICD-10-CM year file (codesets/icd10cm_years.csv): the codes each federal fiscal year added or
# deleted. It lives here, with the diagnosis check, so the patient chart and the claims scrubber
# (claims.coding_edits, by date of service) read the same data.
ICD_YEARS_FILE = Path(__file__).resolve().parent / "codesets" / "icd10cm_years.csv"


@dataclass(frozen=True)
class DiagnosisCheck:
    ok: bool
    code: str
    description: str = ""
    reason: str = ""


def normalize_icd10(raw: str) -> str:
    """'f1020' or 'F10.20 ' -> 'F10.20' (the dot after the third character)."""
    code = raw.strip().upper().replace(".", "")
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


@dataclass(frozen=True)
class IcdChange:
    fiscal_year: int
    change: str  # added / deleted
    code: str
    note: str


@cache
def icd10_year_changes() -> tuple[IcdChange, ...]:
    """The rows of the ICD-10-CM year file (its `#` header lines skipped)."""
    with ICD_YEARS_FILE.open(newline="", encoding="utf-8") as handle:
        body = [line for line in handle if not line.startswith("#")]
    return tuple(
        IcdChange(int(r["fiscal_year"]), r["change"], r["code"], r["note"])
        for r in csv.DictReader(body)
    )


def check_icd10(raw: str) -> DiagnosisCheck:
    """A diagnosis must be a valid, billable (leaf) ICD-10-CM code: of the shipped release, or one
    a year of the ICD-10-CM year file adds (F64.A from FY2027). Whether the code is billable on a
    given date of service is the scrubber's check (claims.coding_edits.icd10_in_effect); the chart
    records the diagnosis whatever the year."""
    # Imported here, not at the top: the code set loads in seconds, and every process (migrate,
    # seed_demo, the server's reloader) would pay that at startup without checking one code.
    import simple_icd_10_cm as icd

    code = normalize_icd10(raw)
    if not code:
        return DiagnosisCheck(False, code, reason="Enter an ICD-10-CM code.")
    added = [c for c in icd10_year_changes() if c.code == code and c.change == "added"]
    if added and not icd.is_valid_item(code):
        first = min(added, key=lambda c: c.fiscal_year)
        return DiagnosisCheck(True, code, description=first.note)
    if not icd.is_valid_item(code):
        return DiagnosisCheck(False, code, reason=f"{code} is not an ICD-10-CM code.")
    if not icd.is_leaf(code):
        return DiagnosisCheck(
            False,
            code,
            reason=f"{code} is a category, not a billable code: add the characters that complete it "
            f"(e.g. {icd.get_children(code)[0] if icd.get_children(code) else code}).",
        )
    return DiagnosisCheck(True, code, description=icd.get_description(code))


class ConsentLike(Protocol):
    recipient_class: str
    recipient_payer_id: object
    purpose: str
    signed_on: date
    expires_on: date | None
    revoked_at: object


@dataclass(frozen=True)
class ConsentDecision:
    covered: bool
    reason: str
    consent: object | None = None


PURPOSES_COVERED: dict[str, frozenset[str]] = {
    # A consent for treatment, payment and health care operations covers a payment disclosure.
    "payment": frozenset({"payment", "tpo"}),
    "tpo": frozenset({"tpo"}),
    "other": frozenset({"other"}),
}


def consent_decision(
    consents: list[ConsentLike],
    *,
    payer_id: object,
    purpose: str,
    on_date: date,
    revoked_before: object,
) -> ConsentDecision:
    """Does one of the patient's consents cover disclosing to this payer for this purpose on this
    date? Answers yes with the consent, or the most useful reason why not.

    `revoked_before` is the moment of the disclosure: a revocation at or before it counts."""
    if not consents:
        return ConsentDecision(False, "No Part 2 consent is on file for this patient.")
    reasons: list[str] = []
    for consent in sorted(consents, key=lambda c: c.signed_on, reverse=True):
        if consent.recipient_class == "named_payer" and consent.recipient_payer_id != payer_id:
            reasons.append("The consent on file names a different payer.")
            continue
        if consent.recipient_class == "other":
            reasons.append("The consent on file is for another recipient, not a health plan.")
            continue
        if purpose not in PURPOSES_COVERED or consent.purpose not in PURPOSES_COVERED[purpose]:
            reasons.append(f"The consent on file does not cover disclosure for {purpose}.")
            continue
        if consent.signed_on > on_date:
            reasons.append(f"The consent was signed on {consent.signed_on}, after {on_date}.")
            continue
        if consent.revoked_at is not None and consent.revoked_at <= revoked_before:  # type: ignore[operator]
            reasons.append(f"The consent was revoked on {consent.revoked_at:%Y-%m-%d}.")  # type: ignore[str-format]
            continue
        if consent.expires_on is not None and consent.expires_on < on_date:
            reasons.append(f"The consent expired on {consent.expires_on}.")
            continue
        return ConsentDecision(
            True, "Covered by the consent signed on " + str(consent.signed_on) + ".", consent
        )
    # The newest consent's reason is the one a biller acts on.
    return ConsentDecision(False, reasons[0])


# --- Differences between two benefit verifications -------------------------------------------

# The benefits a verification records (a snapshot, values as text so it is JSON) and their labels.
BENEFIT_LABELS = {
    "active": "Coverage active",
    "termination_date": "Coverage ends",
    "deductible": "Deductible",
    "deductible_met": "Deductible met",
    "copay": "Copay",
    "coinsurance_percent": "Coinsurance %",
    "visit_limit": "Visit limit",
    "auth_required": "Authorization required",
}


def _text(value: object) -> str | None:
    """Money and percents with two places, so 20 from a 271 equals 20.00 on file."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return None if value is None else str(value)


def benefit_snapshot(benefits: dict[str, object], *, active: bool) -> dict[str, str | None]:
    """What one verification said, as JSON-safe text: whether the coverage is active and the
    benefits it stated (fields it did not state are left out, so they never read as a change)."""
    snapshot = {name: _text(value) for name, value in benefits.items() if name in BENEFIT_LABELS}
    snapshot["active"] = "True" if active else "False"
    return snapshot


def verification_differences(
    previous: dict[str, str | None] | None, current: dict[str, str | None]
) -> list[dict[str, object]]:
    """What changed from the previous verification to the current one (both snapshots from
    `benefit_snapshot`). `highlight` marks what a biller must act on: a new deductible, coverage
    ended (inactive now, or an end date that appeared or moved earlier) and authorization now
    required. A field the current one does not state is not a change; with no previous
    verification every stated field is new, but only the act-on ones are highlighted."""
    previous = previous or {}
    out: list[dict[str, object]] = []
    for name, label in BENEFIT_LABELS.items():
        if name not in current:
            continue
        before, after = previous.get(name), current[name]
        if before == after:
            continue
        if name == "deductible":
            highlight = after is not None
        elif name == "active":
            highlight = after == "False"
        elif name == "termination_date":
            highlight = after is not None and (before is None or after < before)
        elif name == "auth_required":
            highlight = after == "True"
        else:
            highlight = False
        out.append(
            {
                "field": name,
                "label": label,
                "before": before,
                "after": after,
                "highlight": highlight,
            }
        )
    return out
