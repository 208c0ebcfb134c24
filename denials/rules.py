"""Pure decisions for posting and denial work: no ORM, no clock (pass `today`).

The CARC/RARC lists are data (tables filled by a migration); services read them once and pass
them in here as plain mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Group codes whose adjustments the provider absorbs unless they are appealed; PR is the
# patient's share, CR a correction/reversal.
PAYER_GROUPS = frozenset({"CO", "PI", "OA"})
PRIOR_PAYER_CARC = "23"

# How likely a denial in this category is to be overturned on appeal or corrected-claim
# resubmission (0..1). Coding and missing-information denials are usually fixed by a corrected
# claim; timely filing and duplicates almost never come back.
RECOVERABILITY: dict[str, Decimal] = {
    "authorization": Decimal("0.6"),
    "medical_necessity": Decimal("0.5"),
    "coding": Decimal("0.8"),
    "information_missing": Decimal("0.8"),
    "documentation": Decimal("0.7"),
    "eligibility": Decimal("0.4"),
    "cob": Decimal("0.8"),
    "timely_filing": Decimal("0.1"),
    "duplicate": Decimal("0.05"),
    "credentialing": Decimal("0.3"),
    "coverage": Decimal("0.2"),
    "benefit_limit": Decimal("0.2"),
    "other": Decimal("0.5"),
}
RECOVERABLE_AT = Decimal("0.3")

# Appeal deadline escalation thresholds, in days left (the manager hears at each).
ESCALATION_DAYS = (14, 7, 3)


@dataclass(frozen=True)
class Reason:
    """A CARC as posting needs it: kind (denial, contractual, patient_share, other), category."""

    kind: str
    category: str = ""


@dataclass(frozen=True)
class Cas:
    group_code: str
    reason_code: str
    amount: Decimal


@dataclass(frozen=True)
class LineSplit:
    """Where a line's adjustments go: the posting buckets."""

    contractual: Decimal
    denied: Decimal
    patient_responsibility: Decimal
    other_adjusted: Decimal
    denial_reason: str  # the CARC carrying the largest denied amount, "" when none
    denial_group: str
    prior_payer: Decimal = ZERO  # CARC 23: what an earlier payer's adjudication settled


def split_adjustments(adjustments: Iterable[Cas], reasons: Mapping[str, Reason]) -> LineSplit:
    """Sort CAS amounts into posting buckets. PR is always the patient's share; in CO/PI/OA a
    CARC whose kind is 'denial' is denied money (and unknown codes count as denials, so a person
    looks at them rather than the money vanishing into 'contractual'); other CO/PI/OA codes are
    contractual; CARC 23 (the impact of a prior payer's adjudication, on a secondary claim) is
    the prior payer's; CR (corrections) are other adjustments."""
    contractual = denied = patient = other = prior = ZERO
    by_reason: dict[tuple[str, str], Decimal] = {}
    for cas in adjustments:
        if cas.group_code == "PR":
            patient += cas.amount
        elif cas.reason_code == PRIOR_PAYER_CARC:
            prior += cas.amount
        elif cas.group_code in PAYER_GROUPS:
            reason = reasons.get(cas.reason_code)
            if reason is None or reason.kind == "denial":
                denied += cas.amount
                key = (cas.group_code, cas.reason_code)
                by_reason[key] = by_reason.get(key, ZERO) + cas.amount
            elif reason.kind == "patient_share":
                patient += cas.amount
            else:
                contractual += cas.amount
        else:
            other += cas.amount
    top = max(by_reason.items(), key=lambda kv: kv[1])[0] if by_reason else ("", "")
    return LineSplit(contractual, denied, patient, other, top[1], top[0], prior)


def denial_category(
    carc: str,
    rarcs: Sequence[str],
    reasons: Mapping[str, Reason],
    remark_categories: Mapping[str, str],
) -> str:
    """The work-queue category: the CARC's (domain.md section 6); a CARC that only says
    'information missing' (16) or has no category is refined by its first RARC that has one."""
    reason = reasons.get(carc)
    category = reason.category if reason and reason.category else ""
    if category in {"", "information_missing"}:
        for rarc in rarcs:
            refined = remark_categories.get(rarc)
            if refined:
                return refined
    return category or "other"


def recoverability(category: str) -> Decimal:
    return RECOVERABILITY.get(category, RECOVERABILITY["other"])


def is_recoverable(category: str) -> bool:
    return recoverability(category) >= RECOVERABLE_AT


def appeal_deadline(remittance_date: date, window_days: int) -> date:
    return remittance_date + timedelta(days=window_days)


def deadline_urgency(deadline: date | None, today: date) -> Decimal:
    """1 with a month or more to go, rising to 3 on the last day; 0.1 once the deadline has
    passed (the item stays visible but sinks: only a late-appeal exception can save it)."""
    if deadline is None:
        return Decimal("1")
    days_left = (deadline - today).days
    if days_left < 0:
        return Decimal("0.1")
    if days_left >= 30:
        return Decimal("1")
    return Decimal("1") + Decimal(2) * Decimal(30 - days_left) / Decimal(30)


def priority_score(
    *, amount: Decimal, category: str, deadline: date | None, today: date
) -> Decimal:
    """amount x recoverability of the category x deadline urgency (higher works first)."""
    score = amount * recoverability(category) * deadline_urgency(deadline, today)
    return score.quantize(CENT)


def claim_outcome(lines: Sequence[tuple[Decimal, Decimal]], *, status_code: str) -> str:
    """The claim status after posting, from (paid, denied) per line: 'denied' when nothing was
    paid and something denied (or CLP02 = 4), 'partially_paid' when something was denied,
    else 'paid'."""
    paid = sum((p for p, _ in lines), ZERO)
    denied = sum((d for _, d in lines), ZERO)
    if status_code == "4" or (paid <= 0 and denied > 0):
        return "denied"
    if denied > 0:
        return "partially_paid"
    return "paid"


def escalation_threshold(deadline: date, today: date) -> int | None:
    """The smallest escalation threshold (14, 7, 3 days) the deadline is within, or None."""
    days_left = (deadline - today).days
    if days_left < 0:
        return None
    within = [d for d in ESCALATION_DAYS if days_left <= d]
    return min(within) if within else None


# --- Parity -------------------------------------------------------------------------------------

OUTPATIENT_LEVELS = frozenset({"1", "2.1", "OTP", "1-WM", "2-WM"})
PARITY_CATEGORIES = frozenset({"authorization", "medical_necessity"})
RATE_FACTOR = Decimal("1.5")
RATE_MIN_POINTS = Decimal("0.10")
RATE_MIN_LINES = 10


def is_parity_sensitive_denial(category: str, level: str) -> bool:
    """Authorization and medical-necessity denials of outpatient behavioral health services are
    the classic non-quantitative treatment limitation (NQTL) a parity complaint examines."""
    return category in PARITY_CATEGORIES and level in OUTPATIENT_LEVELS


def rate_far_above(*, denied: int, total: int, baseline_denied: int, baseline_total: int) -> bool:
    """A denial rate 'far above' its baseline: at least RATE_MIN_LINES lines, 1.5x the baseline
    and at least 10 points higher."""
    if total < RATE_MIN_LINES or baseline_total == 0:
        return False
    rate = Decimal(denied) / Decimal(total)
    base = Decimal(baseline_denied) / Decimal(baseline_total)
    return rate >= base * RATE_FACTOR and rate - base >= RATE_MIN_POINTS


def write_off_needs_approval(amount: Decimal, threshold: Decimal) -> bool:
    return amount > threshold


def is_small_balance(balance: Decimal, limit: Decimal) -> bool:
    return ZERO < balance <= limit


# --- Appeal letters ------------------------------------------------------------------------------

# Any bracketed text is a part the biller was asked to fill in ("[BILLER TO COMPLETE: ...]").
LETTER_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
# The letter's own date: a line holding only a date ("December 7, 2026" or "12/07/2026").
LETTER_DATE_LINE = re.compile(
    r"^\s*(?:(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\s+\d{1,2},\s+\d{4}|\d{1,2}/\d{1,2}/\d{4})\s*$",
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(frozen=True)
class LetterRequirements:
    """What a letter must name, from the records (empty when the record lacks it)."""

    payer_name: str
    appeals_address: tuple[str, ...]
    provider_name: str
    provider_npi: str
    claim_number: str
    member_id: str


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def letter_missing_parts(body: str, required: LetterRequirements) -> list[str]:
    """Every part an appeal letter lacks before it may be recorded as sent, in reading order;
    an empty list means it is complete."""
    text = _squash(body)

    def has(value: str) -> bool:
        return bool(value.strip()) and _squash(value) in text

    missing = [
        f"placeholder left: {' '.join(p.split())[:60]}{'…' if len(p) > 60 else ''}"
        for p in LETTER_PLACEHOLDER.findall(body)
    ]
    if not LETTER_DATE_LINE.search(body):
        missing.append("the date of the letter (a line of its own, e.g. December 7, 2026)")
    if not has(required.payer_name):
        missing.append(f"the payer's name ({required.payer_name})")
    if not required.appeals_address:
        missing.append("the payer's appeals address (add it to the payer record)")
    elif not all(has(line) for line in required.appeals_address):
        missing.append(f"the payer's appeals address ({', '.join(required.appeals_address)})")
    if not (has(required.provider_name) and has(f"NPI {required.provider_npi}")):
        missing.append(
            f"the provider signature block ({required.provider_name}, NPI {required.provider_npi})"
        )
    if not has(required.claim_number):
        missing.append(f"the claim number ({required.claim_number})")
    if not required.member_id:
        missing.append("the member ID (the claim's coverage has none)")
    elif not has(required.member_id):
        missing.append(f"the member ID ({required.member_id})")
    return missing


# --- Remittance exceptions -----------------------------------------------------------------------


def exception_summary(
    *,
    kind: str,
    patient_control_number: str,
    payer_claim_number: str,
    service_code: str = "",
    service_date: date | None = None,
    line_control_number: str = "",
) -> str:
    """What an 835 exception is, in a biller's words: which id matched nothing of ours."""
    if kind == "unmatched_line":
        on = f" on {service_date:%Y-%m-%d}" if service_date else ""
        why = (
            f"unknown line control number {line_control_number} (REF*6R)"
            if line_control_number
            else "no line control number (REF*6R) and no line of the same code, date and charge"
        )
        return f"Unmatched service line {service_code}{on} of claim {patient_control_number}: {why}"
    summary = f"Unmatched claim id {patient_control_number} (CLP01)"
    if payer_claim_number:
        summary += f"; unknown payer claim number {payer_claim_number} (CLP07)"
    return summary
