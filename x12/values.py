"""Converting X12 element values to Python values.

Numbers are strict: an X12 decimal (R) is an optional leading minus sign, digits and an optional
decimal point, nothing else: no exponent (``1E+400``), no ``NaN``/``sNaN``/``Infinity``, no plus
sign, no spaces. A value must also fit the database column it ends up in (``Limit``), so a file
is refused when it is read, not when its rows are inserted. ``read_amount``/``read_quantity``
raise ``ValueError`` with the reason; the readers turn it into an ``X12Error`` naming the segment
and the element (``element_amount``...).

Dates stay lenient: a date that is not a real date is None (the readers add a warning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .reader import Segment, X12Error

ZERO = Decimal("0")

# R (decimal): optional minus, digits, optional decimal point (X12.6 section 3.5.2). ASCII
# digits only ("²".isdigit() is True in Python).
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]*\Z")
_NOT_A_NUMBER = frozenset({"nan", "snan", "inf", "infinity", "-nan", "-snan", "-inf", "-infinity"})


@dataclass(frozen=True, slots=True)
class Limit:
    """What a numeric element may hold: ``max_length`` digits as the implementation guide
    allows (the minus sign and the decimal point do not count), and at most ``max_digits`` digits
    of which ``decimal_places`` after the point, like the DecimalField that stores it."""

    name: str
    max_length: int
    max_digits: int
    decimal_places: int

    @property
    def integer_digits(self) -> int:
        return self.max_digits - self.decimal_places


# Monetary amounts (data element 782, R 1/18) are stored in DecimalField(max_digits=12,
# decimal_places=2) columns (denials.models.MONEY); quantities (data element 380, R 1/15: SVC05
# units, CAS quantities, QTY) in DecimalField(max_digits=9, decimal_places=2) columns.
# tests/denials/test_hostile_835.py checks these against the model fields.
MONEY = Limit("amount", max_length=18, max_digits=12, decimal_places=2)
QUANTITY = Limit("quantity", max_length=15, max_digits=9, decimal_places=2)
# Counts (QTY*90/AA in a 277CA, AK9 counts in a 999) are whole numbers.
COUNT = Limit("count", max_length=15, max_digits=9, decimal_places=0)


def read_decimal(value: str, limit: Limit) -> Decimal:
    """A non-empty R value as a finite Decimal within ``limit``; ValueError says why not."""
    if not _DECIMAL.match(value):
        lowered = value.strip().lower()
        if lowered.lstrip("+-") in {"nan", "snan", "inf", "infinity"} or lowered in _NOT_A_NUMBER:
            raise ValueError(
                "which is not a number: X12 decimal (R) values are digits with an optional "
                "leading minus sign and decimal point"
            )
        if _EXPONENT.match(value.strip()):
            raise ValueError(
                "which has an exponent: X12 decimal (R) values are written out in digits, "
                "without E notation"
            )
        raise ValueError(
            "which is not an X12 decimal (R) value: only digits, an optional leading minus sign "
            "and an optional decimal point are allowed"
        )
    digits = value.lstrip("-")
    whole, _, fraction = digits.partition(".")
    length = len(whole) + len(fraction)
    if length > limit.max_length:
        raise ValueError(
            f"which has {length} digits: an X12 {limit.name} has at most {limit.max_length}"
        )
    whole = whole.lstrip("0")
    fraction = fraction.rstrip("0")
    if len(whole) > limit.integer_digits:
        raise ValueError(
            f"which is too large: at most {limit.integer_digits} digits before the decimal point"
        )
    if len(fraction) > limit.decimal_places:
        if limit.decimal_places == 0:
            raise ValueError("which is not a whole number")
        raise ValueError(
            f"which has {len(fraction)} decimal places: at most {limit.decimal_places} are kept"
        )
    return Decimal(value)


def to_decimal(value: str, limit: Limit = MONEY) -> Decimal | None:
    """X12 R (decimal) elements: ``""`` is None, ``"34.00"`` is Decimal("34.00"). Raises
    ValueError for anything that is not a finite decimal within ``limit``."""
    if not value:
        return None
    return read_decimal(value, limit)


def to_amount(value: str) -> Decimal:
    """Money that is zero when absent (CLP05 patient responsibility...). ValueError as
    ``to_decimal``."""
    return read_decimal(value, MONEY) if value else ZERO


def to_date(value: str) -> date | None:
    """CCYYMMDD to a date; None when empty or not a real date (20002316 is not)."""
    if len(value) != 8 or not value.isascii() or not value.isdigit():
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


def to_int(value: str, max_length: int = 9) -> int | None:
    """A whole number of ASCII digits (counts, positions), or None. Never raises: ``"²"`` and a
    5,000-digit string are None, not a crash."""
    value = value.strip()
    if not value or len(value) > max_length or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _refuse(seg: Segment, i: int, value: str, reason: str, what: str) -> X12Error:
    shown = value if len(value) <= 40 else value[:40] + "..."
    label = f" ({what})" if what else ""
    return X12Error(
        f"{seg.id}{i:02d}{label} at segment {seg.position} is {shown!r}, {reason}.",
        seg.position,
        seg.id,
    )


def element_decimal(seg: Segment, i: int, limit: Limit = MONEY, what: str = "") -> Decimal | None:
    """Element ``i`` of ``seg`` as a Decimal within ``limit`` (None when empty); anything else
    is an X12Error naming the segment, its position, the element and the reason."""
    value = seg.element(i)
    if not value:
        return None
    try:
        return read_decimal(value, limit)
    except ValueError as error:
        raise _refuse(seg, i, value, str(error), what) from None


def element_amount(seg: Segment, i: int, what: str = "") -> Decimal:
    """A monetary element that is zero when absent; X12Error as ``element_decimal``."""
    amount = element_decimal(seg, i, MONEY, what)
    return ZERO if amount is None else amount


def element_count(seg: Segment, i: int, what: str = "") -> int | None:
    """A whole-number quantity (QTY02 counts): None when empty, X12Error when not a count."""
    amount = element_decimal(seg, i, COUNT, what)
    return None if amount is None else int(amount)
