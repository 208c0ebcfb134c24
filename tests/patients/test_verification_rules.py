"""The differences between two benefit verifications (patients.rules): a pure function."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from patients.rules import benefit_snapshot, verification_differences


def changed(previous: dict | None, current: dict) -> dict[str, tuple]:
    return {
        c["field"]: (c["before"], c["after"], c["highlight"])
        for c in verification_differences(previous, current)
    }


def test_the_same_benefits_twice_are_no_change() -> None:
    snap = benefit_snapshot({"deductible": Decimal("500"), "copay": Decimal("25")}, active=True)
    assert verification_differences(snap, dict(snap)) == []


def test_money_compares_with_two_places() -> None:
    before = benefit_snapshot({"coinsurance_percent": Decimal("20.00")}, active=True)
    after = benefit_snapshot({"coinsurance_percent": Decimal("20")}, active=True)
    assert verification_differences(before, after) == []


def test_a_new_deductible_is_highlighted_a_new_copay_is_listed_only() -> None:
    before = benefit_snapshot({"deductible": Decimal("250"), "copay": Decimal("20")}, active=True)
    after = benefit_snapshot({"deductible": Decimal("500"), "copay": Decimal("25")}, active=True)
    assert changed(before, after) == {
        "deductible": ("250.00", "500.00", True),
        "copay": ("20.00", "25.00", False),
    }


def test_coverage_ended_is_highlighted() -> None:
    before = benefit_snapshot({"termination_date": None}, active=True)
    after = benefit_snapshot({"termination_date": date(2026, 10, 31)}, active=False)
    assert changed(before, after) == {
        "active": ("True", "False", True),
        "termination_date": (None, "2026-10-31", True),
    }


def test_an_end_moved_later_is_listed_not_highlighted() -> None:
    before = benefit_snapshot({"termination_date": date(2026, 10, 31)}, active=True)
    after = benefit_snapshot({"termination_date": date(2026, 12, 31)}, active=True)
    assert changed(before, after) == {"termination_date": ("2026-10-31", "2026-12-31", False)}


def test_authorization_now_required_is_highlighted_no_longer_required_is_not() -> None:
    no = benefit_snapshot({"auth_required": False}, active=True)
    yes = benefit_snapshot({"auth_required": True}, active=True)
    assert changed(no, yes) == {"auth_required": ("False", "True", True)}
    assert changed(yes, no) == {"auth_required": ("True", "False", False)}


def test_a_field_the_new_answer_does_not_state_is_no_change() -> None:
    before = benefit_snapshot({"copay": Decimal("25"), "visit_limit": 20}, active=True)
    after = benefit_snapshot({"copay": Decimal("25")}, active=True)
    assert verification_differences(before, after) == []


def test_without_a_previous_verification_only_act_on_fields_are_highlighted() -> None:
    after = benefit_snapshot(
        {"deductible": Decimal("500"), "copay": Decimal("25"), "auth_required": True}, active=True
    )
    assert changed(None, after) == {
        "active": (None, "True", False),
        "deductible": (None, "500.00", True),
        "copay": (None, "25.00", False),
        "auth_required": (None, "True", True),
    }
