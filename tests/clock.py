"""The suite's clock: every test runs at one frozen instant, taken from one place.

The frozen day is `DEFAULT_TODAY` unless `PARITY_TEST_TODAY=YYYY-MM-DD` says otherwise, so the
whole suite can be run as if it were any other day (`PARITY_TEST_TODAY=2031-03-01 make test`).
The instant is noon UTC of that day, which is the same calendar day in every organization's time
zone from UTC-11 to UTC+11, so "today" never depends on which clinic a test sets up.

Test data is built relative to that day with the helpers below ("a service 10 days ago", "an
authorization ending in 5 days"); a test about a specific calendar rule moves the clock itself
with the `time_machine` fixture (`time_machine.move_to(...)`).

This module imports nothing of Django so that .ci/run can read the default date from it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

ENV_VAR = "PARITY_TEST_TODAY"
DEFAULT_TODAY = date(2026, 12, 7)
EARLIEST, LATEST = date(2026, 1, 1), date(2035, 12, 31)


class ClockError(ValueError):
    """PARITY_TEST_TODAY holds something that is not a usable date."""


def suite_today(environ: dict[str, str] | None = None) -> date:
    """The frozen day: PARITY_TEST_TODAY when set, else DEFAULT_TODAY."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_TODAY
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ClockError(
            f"{ENV_VAR}={raw!r} is not a date: give it as YYYY-MM-DD, for example "
            f"{ENV_VAR}=2028-02-29"
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise ClockError(
            f"{ENV_VAR}={raw} is outside the range the suite supports "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )
    return day


def suite_now(environ: dict[str, str] | None = None) -> datetime:
    """The frozen instant: noon UTC of the frozen day."""
    return datetime.combine(suite_today(environ), time(12, 0), tzinfo=UTC)


def today() -> date:
    """The day the clock shows now (the frozen day, or where a test moved the clock)."""
    return datetime.now(UTC).date()


def now() -> datetime:
    """The instant the clock shows now, timezone-aware."""
    return datetime.now(UTC)


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)


def days_from_now(days: int) -> date:
    return today() + timedelta(days=days)


def months_ago(months: int, *, day: int = 1) -> date:
    """Day `day` (default the 1st) of the month `months` before this one."""
    current = today()
    index = current.year * 12 + current.month - 1 - months
    return date(index // 12, index % 12 + 1, day)


def years_ago(years: int) -> date:
    """The same day `years` years ago (28 February for a 29 February that year lacks)."""
    current = today()
    try:
        return current.replace(year=current.year - years)
    except ValueError:
        return current.replace(year=current.year - years, day=28)


def default_years_ahead(years: int) -> date:
    """DEFAULT_TODAY moved `years` years on (28 February for a 29 February that year lacks)."""
    try:
        return DEFAULT_TODAY.replace(year=DEFAULT_TODAY.year + years)
    except ValueError:
        return DEFAULT_TODAY.replace(year=DEFAULT_TODAY.year + years, day=28)


if __name__ == "__main__":
    # `python -m tests.clock --years-ahead 2` prints the day `make test-ahead` runs the suite on.
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years-ahead", type=int, default=0)
    print(default_years_ahead(parser.parse_args().years_ahead).isoformat())
