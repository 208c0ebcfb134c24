"""KPI formulas as pure functions, and their definitions in words (docs/kpis.md says the same,
and the dashboard shows them on hover). None means "no data": a rate with nothing to divide by."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Age in days since submission, inclusive; None: no upper bound.
AGING_BOUNDS: dict[str, tuple[int, int | None]] = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-120": (91, 120),
    "120+": (121, None),
}
AGING_BUCKETS = tuple(AGING_BOUNDS)

FORMULAS: dict[str, str] = {
    "clean_claim_rate": "Claims accepted at the front door on their first submission, divided by submitted claims that have a front-door answer (accepted or rejected), for claims submitted in the period.",
    "initial_denial_rate": "Claims with at least one denied line on their remittance, divided by claims adjudicated (remitted) in the period.",
    "days_in_ar": "Open A/R balance today divided by the average daily charges of the last 90 days (charges of claims with service in those 90 days / 90).",
    "ar_over_90_share": "Open A/R balance of claims submitted more than 90 days ago, divided by the whole open A/R balance.",
    "net_collection_rate": "Payments posted in the period divided by (charges of the claims paid minus contractual adjustments on them).",
    "denial_overturn_rate": "Appeals decided in the period that were overturned in full or in part, divided by appeals decided in the period.",
    "cash_posted": "Sum of 835 payments (BPR amounts) by payment date.",
    "ar_aging": "Open balance of each claim with money still owed on it (the sum over its lines of charge less payments, contractual and other adjustments, write-offs and transfers to the secondary payer; an overpaid claim counts as nothing owed), by days since the claim was submitted; patient share is the patient responsibility the payer assigned.",
    "authorizations_expiring_7d": "Approved authorizations whose end date falls within the next 7 days.",
    "authorizations_lapsed": "Services recorded after their authorization's end date, or with no covering authorization where the payer requires one.",
    "providers_not_billable": "Active providers without an approved enrollment effective today, per active payer.",
    "work_backlog": "Open work items (not resolved or written off) by days since they were opened.",
    "unbilled_per_diem_days": "Days at a per-diem level of care (detox, residential, PHP, IOP) in the period with no charge recorded for the episode on that day.",
}


def rate(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def days_in_ar(
    ar_balance: Decimal, charges_last_90_days: Decimal, *, days: int = 90
) -> Decimal | None:
    if not charges_last_90_days:
        return None
    return (ar_balance / (charges_last_90_days / days)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def net_collection_rate(
    payments: Decimal, charges: Decimal, contractual: Decimal
) -> Decimal | None:
    return rate(payments, charges - contractual)


def aging_bucket(age_days: int) -> str:
    return next(
        name for name, (_, high) in AGING_BOUNDS.items() if high is None or age_days <= high
    )


def bar_heights(values: list[Decimal | int | None], *, height: int = 120) -> list[int]:
    """Pixel heights of SVG bars scaled to the largest value (no data draws nothing)."""
    numbers = [Decimal(v or 0) for v in values]
    top = max(numbers, default=Decimal(0))
    if not top:
        return [0 for _ in numbers]
    return [int((v / top * height).to_integral_value(rounding=ROUND_HALF_UP)) for v in numbers]
