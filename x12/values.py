"""Converting X12 element values to Python values, leniently and with a note when it fails."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

ZERO = Decimal("0")


def to_decimal(value: str) -> Decimal | None:
    """X12 R (decimal) elements: ``""`` is None, ``"34.00"`` is Decimal("34.00")."""
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def to_amount(value: str) -> Decimal:
    """Money that is zero when absent (CLP05 patient responsibility, CAS quantities...)."""
    amount = to_decimal(value)
    return ZERO if amount is None else amount


def to_date(value: str) -> date | None:
    """CCYYMMDD to a date; None when empty or not a real date (20002316 is not)."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def to_date_range(qualifier: str, value: str) -> tuple[date | None, date | None]:
    """DTP D8 (one date) or RD8 (CCYYMMDD-CCYYMMDD) to (start, end)."""
    if qualifier == "RD8" or "-" in value:
        start, _, end = value.partition("-")
        return to_date(start), to_date(end)
    day = to_date(value)
    return day, day
