"""Pure decisions of reconciliation: which deposit and which ERA are the same money. Plain data
in, pairs out; no ORM, no clock."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Money:
    """A deposit or an ERA (835 payment) as matching sees it."""

    id: Any
    trace: str
    payer_identifier: str
    amount: Decimal


def normal_trace(trace: str) -> str:
    return "".join(trace.split()).upper()


def _payers_agree(a: str, b: str) -> bool:
    """TRN03 is the payer's id ("1" + its EIN) in the 835 and in the ACH addenda alike; a bank
    that drops it cannot veto the match."""
    return not a or not b or normal_trace(a) == normal_trace(b)


def trace_pairs(deposits: list[Money], payments: list[Money]) -> list[tuple[Any, Any]]:
    """(deposit id, payment id) for each deposit and ERA with the same trace and the same
    amount, when that trace and amount name exactly one of each (two candidates on either side
    are for a person to decide) and their payer ids do not disagree."""
    by_key_d: dict[tuple[str, Decimal], list[Money]] = defaultdict(list)
    by_key_p: dict[tuple[str, Decimal], list[Money]] = defaultdict(list)
    for d in deposits:
        if normal_trace(d.trace):
            by_key_d[(normal_trace(d.trace), d.amount)].append(d)
    for p in payments:
        if normal_trace(p.trace):
            by_key_p[(normal_trace(p.trace), p.amount)].append(p)
    pairs = []
    for key, found in by_key_d.items():
        candidates = by_key_p.get(key, [])
        if len(found) == 1 and len(candidates) == 1:
            (deposit,), (payment,) = found, candidates
            if _payers_agree(deposit.payer_identifier, payment.payer_identifier):
                pairs.append((deposit.id, payment.id))
    return pairs
