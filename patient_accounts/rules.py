"""Pure rules of patient accounts: aging buckets, what looks like a card number, and the order
a payment is applied in. No ORM, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")

# Aging buckets by days since the first patient statement (the balance's `aging_from`):
# 0-30, 31-60, 61-90, over 90. A day-0 balance is "0-30".
BUCKETS = ("0-30", "31-60", "61-90", "over 90")


def aging_bucket(*, since: date, today: date) -> str:
    """The bucket of a balance aging from `since` on `today` (a future `since` is 0-30)."""
    days = (today - since).days
    if days <= 30:
        return BUCKETS[0]
    if days <= 60:
        return BUCKETS[1]
    if days <= 90:
        return BUCKETS[2]
    return BUCKETS[3]


def aging_totals(balances: Iterable[tuple[date, Decimal]], *, today: date) -> dict[str, Decimal]:
    totals = dict.fromkeys(BUCKETS, ZERO)
    for since, amount in balances:
        totals[aging_bucket(since=since, today=today)] += amount
    return totals


# A primary account number is 13 to 19 digits (ISO/IEC 7812), often typed with spaces or
# hyphens between groups; one that passes the Luhn check is taken for a card number.
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?![ -]?\d)")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """Whether `text` holds something that could be a full card number (PCI DSS: Parity never
    stores one): a run of 13-19 digits, spaces or hyphens allowed between them, passing Luhn."""
    for match in _DIGIT_RUN.finditer(text or ""):
        if luhn_valid(re.sub(r"[ -]", "", match.group())):
            return True
    return False


@dataclass(frozen=True)
class Open:
    """An open balance a payment may go to."""

    key: Any
    balance: Decimal


def allocate_oldest_first(amount: Decimal, balances: Sequence[Open]) -> list[tuple[Any, Decimal]]:
    """Apply `amount` to `balances` (already oldest first) until it runs out; what is left over
    is the caller's unapplied credit."""
    plan: list[tuple[Any, Decimal]] = []
    left = amount
    for item in balances:
        if left <= ZERO:
            break
        if item.balance <= ZERO:
            continue
        applied = min(left, item.balance)
        plan.append((item.key, applied))
        left -= applied
    return plan
