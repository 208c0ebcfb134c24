"""Pure rules of the patients app: no ORM, no clock (dates are passed in)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
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
