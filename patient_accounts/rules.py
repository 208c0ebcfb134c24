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


# --- Statements -------------------------------------------------------------------------------

# The statement's message by the bucket of the account's oldest open balance.
MESSAGE_LEVELS = {
    "0-30": "friendly",
    "31-60": "reminder",
    "61-90": "past_due",
    "over 90": "final_notice",
}
_CYCLE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def cycle_valid(cycle: str) -> bool:
    """A statement cycle is a month written YYYY-MM."""
    return bool(_CYCLE.match(cycle or ""))


def message_level(aging: dict[str, Decimal]) -> str:
    """The message for the oldest bucket that holds a balance (friendly when none does)."""
    level = MESSAGE_LEVELS[BUCKETS[0]]
    for bucket in BUCKETS:
        if aging.get(bucket, ZERO) > ZERO:
            level = MESSAGE_LEVELS[bucket]
    return level


def _name_key(name: str) -> str:
    return " ".join(name.lower().split())


def guarantor_consent(consents: Iterable[Any], *, guarantor_name: str, on_date: date) -> Any | None:
    """The patient's 42 CFR Part 2 consent that allows disclosing SUD treatment to this
    guarantor on a statement, or None. Fails closed: only a consent to "another named
    recipient" whose recipient name is the guarantor's name (case and spacing aside), for
    payment (or treatment, payment and operations), signed on or before `on_date`, not expired
    and never revoked counts."""
    wanted = _name_key(guarantor_name)
    if not wanted:
        return None
    for consent in sorted(consents, key=lambda c: c.signed_on, reverse=True):
        if consent.recipient_class != "other" or _name_key(consent.recipient_name) != wanted:
            continue
        if consent.purpose not in ("payment", "tpo"):
            continue
        if consent.signed_on > on_date or consent.revoked_at is not None:
            continue
        if consent.expires_on is not None and consent.expires_on < on_date:
            continue
        return consent
    return None
