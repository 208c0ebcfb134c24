"""Aging buckets at their boundaries, card-number detection, oldest-first allocation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from patient_accounts import rules
from tests.clock import today

D = Decimal


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-3, "0-30"),
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over 90"),
        (400, "over 90"),
    ],
)
def test_aging_buckets_at_their_boundaries(days, bucket):
    assert rules.aging_bucket(since=today() - timedelta(days=days), today=today()) == bucket


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1111", True),
        ("ref 5500005555555559", True),
        ("4111111111111112", False),
        ("1111", False),
        ("ch_3Kx9A2", False),
        ("", False),
        ("order 1234567890", False),
    ],
)
def test_what_looks_like_a_card_number(text, card):
    assert rules.looks_like_card_number(text) is card


def test_oldest_first_stops_when_the_money_runs_out():
    balances = [rules.Open("a", D("10")), rules.Open("b", D("0")), rules.Open("c", D("30"))]
    assert rules.allocate_oldest_first(D("25"), balances) == [("a", D("10")), ("c", D("15"))]
    assert rules.allocate_oldest_first(D("50"), balances) == [("a", D("10")), ("c", D("30"))]
