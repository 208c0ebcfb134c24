"""The pure rules: burn-down forecast arithmetic, alert thresholds, and every coverage reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from authorizations.rules import (
    burn_down,
    coverage_decision,
    default_unit_type,
    expiry_threshold,
    units_low,
    usage_authorization,
)

TODAY = date(2026, 3, 10)


# --- Forecast ---------------------------------------------------------------------------------


def test_the_pace_is_the_window_usage_divided_by_fourteen_days() -> None:
    f = burn_down(
        units_approved=30, units_used=14, used_in_window=14, today=TODAY, end_date=date(2026, 3, 26)
    )
    assert f.daily_pace == Decimal("1.00")
    assert f.units_remaining == 16
    assert f.days_left == 16
    assert f.exhaustion_date == TODAY + timedelta(days=16)
    assert f.runs_out_before_end is False


def test_units_running_out_before_the_end_date_are_flagged() -> None:
    f = burn_down(
        units_approved=20, units_used=14, used_in_window=14, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.days_left == 6
    assert f.exhaustion_date == date(2026, 3, 16)
    assert f.runs_out_before_end is True


def test_running_out_on_the_end_date_itself_is_not_early() -> None:
    f = burn_down(
        units_approved=20, units_used=10, used_in_window=14, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.exhaustion_date == date(2026, 3, 20)
    assert f.runs_out_before_end is False


def test_a_fractional_pace_rounds_the_days_left_down() -> None:
    # 5 units in 14 days = 0.357/day; 3 remaining last 3 * 14 / 5 = 8.4 -> 8 days.
    f = burn_down(
        units_approved=10, units_used=7, used_in_window=5, today=TODAY, end_date=date(2026, 4, 30)
    )
    assert f.daily_pace == Decimal("0.36")
    assert f.days_left == 8
    assert f.exhaustion_date == date(2026, 3, 18)
    assert f.runs_out_before_end is True


def test_zero_usage_never_runs_out_at_this_pace() -> None:
    f = burn_down(
        units_approved=10, units_used=0, used_in_window=0, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.daily_pace == Decimal("0.00")
    assert f.days_left is None
    assert f.exhaustion_date is None
    assert f.runs_out_before_end is False
    assert f.units_projected == 0
    assert f.percent_used == 0


def test_old_usage_outside_the_window_does_not_set_the_pace() -> None:
    f = burn_down(
        units_approved=10, units_used=8, used_in_window=0, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.days_left is None
    assert f.percent_used == 80


def test_exhausted_units_ran_out_today() -> None:
    f = burn_down(
        units_approved=10, units_used=10, used_in_window=7, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.units_remaining == 0
    assert f.days_left == 0
    assert f.exhaustion_date == TODAY
    assert f.runs_out_before_end is True


def test_overuse_counts_as_nothing_remaining() -> None:
    f = burn_down(units_approved=10, units_used=12, used_in_window=12, today=TODAY, end_date=TODAY)
    assert f.units_remaining == 0
    assert f.percent_used == 100
    assert f.runs_out_before_end is False  # ran out today, which is the end date


def test_no_approved_units_gives_zero_percentages() -> None:
    f = burn_down(units_approved=0, units_used=0, used_in_window=0, today=TODAY, end_date=TODAY)
    assert (f.percent_used, f.percent_projected, f.units_remaining) == (0, 0, 0)


def test_the_projection_by_the_end_date_is_capped_at_the_approved_units() -> None:
    # 7 units in the window = 0.5/day; 10 days to the end -> 5 more units.
    f = burn_down(
        units_approved=30, units_used=10, used_in_window=7, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert f.units_projected == 15
    assert f.percent_projected == 50
    fast = burn_down(
        units_approved=12, units_used=10, used_in_window=14, today=TODAY, end_date=date(2026, 3, 20)
    )
    assert fast.units_projected == 12


@pytest.mark.parametrize(
    ("approved", "used", "window", "expected_days"),
    [
        (14, 0, 14, 14),
        (14, 0, 28, 7),
        (14, 0, 1, 196),
        (1, 0, 14, 1),
        (100, 99, 1, 14),
        (3, 0, 15, 2),
    ],
)
def test_days_left_is_remaining_times_window_over_window_usage(
    approved: int, used: int, window: int, expected_days: int
) -> None:
    f = burn_down(
        units_approved=approved,
        units_used=used,
        used_in_window=window,
        today=TODAY,
        end_date=date(2027, 1, 1),
    )
    assert f.days_left == expected_days
    assert f.exhaustion_date == TODAY + timedelta(days=expected_days)


# --- Thresholds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_to_end", "expected"),
    [(10, None), (8, None), (7, 7), (4, 7), (3, 3), (2, 3), (1, 1), (0, 1), (-1, None)],
)
def test_the_tightest_threshold_reached_is_reported(days_to_end: int, expected: int | None) -> None:
    end = TODAY + timedelta(days=days_to_end)
    assert expiry_threshold(end_date=end, today=TODAY, thresholds=[7, 3, 1]) == expected


@pytest.mark.parametrize(
    ("approved", "used", "low"),
    [(10, 7, False), (10, 8, False), (10, 9, True), (10, 10, True), (None, 0, False), (5, 9, True)],
)
def test_units_are_low_below_twenty_percent_remaining(
    approved: int | None, used: int, low: bool
) -> None:
    assert units_low(units_approved=approved, units_used=used, percent=20) is low


def test_draft_unit_types_follow_the_level_of_care() -> None:
    assert default_unit_type("3.5") == "days"
    assert default_unit_type("3.7-WM") == "days"
    assert default_unit_type("2.1") == "per_diem"
    assert default_unit_type("2.5") == "per_diem"
    assert default_unit_type("1") == "sessions"


# --- Coverage reasons -------------------------------------------------------------------------


@dataclass
class Auth:
    level: str = "3.5"
    status: str = "approved"
    start_date: date = date(2026, 3, 1)
    end_date: date = date(2026, 3, 14)
    service_codes: list[str] = field(default_factory=lambda: ["H0018"])
    units_approved: int | None = 14
    units_used: int = 0
    pk: object = "a1"


def _check(auths: list[Auth], **kwargs: object) -> tuple[str, str]:
    args = {
        "level": "3.5",
        "service_code": "H0018",
        "date_of_service": date(2026, 3, 5),
        "units": 1,
    }
    args.update(kwargs)
    decision = coverage_decision(auths, **args)  # type: ignore[arg-type]
    return decision.code, decision.message


def test_a_service_inside_an_approved_authorization_is_covered() -> None:
    code, message = _check([Auth(units_used=4)])
    assert code == "covered"
    assert "10 units remain" in message


def test_no_authorization_at_all_is_none() -> None:
    assert _check([])[0] == "none"


def test_a_request_still_waiting_is_not_yet_approved() -> None:
    for status in ("requested", "pending"):
        code, message = _check([Auth(status=status)])
        assert code == "not_approved"
        assert "not yet approved" in message


def test_a_service_after_the_end_date_names_the_expiry_date() -> None:
    code, message = _check([Auth()], date_of_service=date(2026, 3, 15))
    assert code == "expired"
    assert message == "The authorization expired on 2026-03-14."


def test_an_expired_status_also_reports_its_end_date() -> None:
    older = Auth(status="expired", start_date=date(2026, 2, 1), end_date=date(2026, 2, 14), pk="a0")
    code, message = _check([older, Auth(status="expired")], date_of_service=date(2026, 3, 20))
    assert code == "expired"
    assert "2026-03-14" in message


def test_units_used_up_are_exhausted() -> None:
    code, message = _check([Auth(units_used=14)])
    assert code == "exhausted"
    assert "0 of 14 units remain, 1 needed" in message


def test_asking_for_more_units_than_remain_is_exhausted() -> None:
    assert _check([Auth(units_used=12)], units=3)[0] == "exhausted"
    assert _check([Auth(units_used=12)], units=2)[0] == "covered"


def test_an_authorization_for_another_level_is_a_different_level_of_care() -> None:
    code, message = _check([Auth(level="2.5")])
    assert code == "wrong_level"
    assert "2.5, not level 3.5" in message


def test_a_code_outside_the_approval_is_not_covered() -> None:
    code, message = _check([Auth()], service_code="h0019")
    assert code == "code_not_covered"
    assert "H0019 is not covered" in message and "H0018" in message


def test_an_empty_code_list_covers_every_code() -> None:
    assert _check([Auth(service_codes=[])], service_code="90837")[0] == "covered"


def test_a_date_before_the_start_is_none() -> None:
    code, message = _check([Auth()], date_of_service=date(2026, 2, 27))
    assert code == "none"
    assert "covers 2026-02-27" in message


def test_a_denied_request_is_none_with_the_reason() -> None:
    code, message = _check([Auth(status="denied", units_approved=0)])
    assert code == "none"
    assert "denied" in message


def test_the_second_of_two_approvals_covers_when_the_first_is_used_up() -> None:
    first = Auth(units_used=14, pk="first")
    second = Auth(
        start_date=date(2026, 3, 5), end_date=date(2026, 3, 20), units_used=0, pk="second"
    )
    decision = coverage_decision(
        [first, second],
        level="3.5",
        service_code="H0018",
        date_of_service=date(2026, 3, 6),
        units=1,
    )
    assert decision.covered and decision.authorization is second


def test_usage_counts_against_a_covering_or_exhausted_approval_and_nothing_else() -> None:
    def counted_on(auth: Auth, **kwargs: object) -> object:
        args = {"level": "3.5", "service_code": "H0018", "date_of_service": date(2026, 3, 5)}
        args.update(kwargs)
        return usage_authorization([auth], units=1, **args)  # type: ignore[arg-type]

    covering, used_up = Auth(), Auth(units_used=14)
    assert counted_on(covering) is covering
    assert counted_on(used_up) is used_up  # over-use is counted, and the alerts report it
    assert counted_on(Auth(status="pending")) is None
    assert counted_on(Auth(), date_of_service=date(2026, 3, 15)) is None
    assert counted_on(Auth(), service_code="H0019") is None
    assert counted_on(Auth(level="2.5")) is None
