"""Pure rules of the authorizations app: no ORM, no clock (`today` is passed in)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from patients.levels import STAGE_OF, Stage

FORECAST_WINDOW_DAYS = 14

APPROVED = frozenset({"approved", "partial"})
OPEN = frozenset({"requested", "pending"})


# --- Burn-down forecast -----------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    today: date
    end_date: date
    units_approved: int
    units_used: int
    units_remaining: int
    daily_pace: Decimal  # units per day over the window, rounded to 2 places for display
    days_left: int | None  # whole days the remaining units last at this pace; None: no usage
    exhaustion_date: date | None
    runs_out_before_end: bool
    units_projected: int  # units used by the end date if the pace holds, capped at approved

    @property
    def percent_used(self) -> int:
        if not self.units_approved:
            return 0
        return min(100, round(100 * self.units_used / self.units_approved))

    @property
    def percent_projected(self) -> int:
        if not self.units_approved:
            return 0
        return min(100, round(100 * self.units_projected / self.units_approved))


def burn_down(
    *,
    units_approved: int,
    units_used: int,
    used_in_window: int,
    today: date,
    end_date: date,
    window_days: int = FORECAST_WINDOW_DAYS,
) -> Forecast:
    """At the pace of the last `window_days` days (units used in the window / window), when do the
    remaining units run out, and is that before the authorization's end date?

    The remaining units last floor(remaining / pace) more days, so they run out on today plus
    that many days; with no usage in the window they never run out at this pace; with none
    remaining they ran out today."""
    remaining = max(units_approved - units_used, 0)
    used_in_window = max(used_in_window, 0)
    pace = Decimal(used_in_window) / Decimal(window_days)
    days_left: int | None
    if remaining == 0:
        days_left = 0
    elif used_in_window == 0:
        days_left = None
    else:
        # Exact integer arithmetic: remaining / (used / window) = remaining * window / used.
        days_left = (remaining * window_days) // used_in_window
    exhaustion = today + timedelta(days=days_left) if days_left is not None else None
    days_to_end = max((end_date - today).days, 0)
    projected = min(units_approved, units_used + (used_in_window * days_to_end) // window_days)
    return Forecast(
        today=today,
        end_date=end_date,
        units_approved=units_approved,
        units_used=units_used,
        units_remaining=remaining,
        daily_pace=pace.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        days_left=days_left,
        exhaustion_date=exhaustion,
        runs_out_before_end=exhaustion is not None and exhaustion < end_date,
        units_projected=max(projected, min(units_used, units_approved)),
    )


# --- Alert thresholds -------------------------------------------------------------------------


def expiry_threshold(*, end_date: date, today: date, thresholds: Sequence[int]) -> int | None:
    """The tightest threshold (days) the authorization's end is within, or None.

    With thresholds 7/3/1, an authorization ending in 2 days is inside the 3-day threshold; the
    alert for each threshold is raised once, so a daily scan raises at 7, then 3, then 1."""
    days = (end_date - today).days
    if days < 0:
        return None
    inside = [t for t in thresholds if days <= t]
    return min(inside) if inside else None


def units_low(*, units_approved: int | None, units_used: int, percent: int) -> bool:
    """Fewer than `percent`% of the approved units remain."""
    if not units_approved:
        return False
    remaining = max(units_approved - units_used, 0)
    return remaining * 100 < percent * units_approved


# --- Coverage check ---------------------------------------------------------------------------


class AuthorizationLike(Protocol):
    pk: object
    level: str
    status: str
    start_date: date
    end_date: date
    service_codes: list[str]
    units_approved: int | None
    units_used: int


@dataclass(frozen=True)
class CoverageDecision:
    """`code`: covered, none, not_approved, expired, exhausted, wrong_level, code_not_covered."""

    code: str
    message: str
    authorization: AuthorizationLike | None = None

    @property
    def covered(self) -> bool:
        return self.code == "covered"


def _covers_date(auth: AuthorizationLike, day: date) -> bool:
    return auth.start_date <= day <= auth.end_date


def coverage_decision(
    authorizations: Iterable[AuthorizationLike],
    *,
    level: str,
    service_code: str,
    date_of_service: date,
    units: int,
) -> CoverageDecision:
    """Which authorization covers this service, or the precise reason none does.

    `authorizations` are the episode's authorizations with the claim's payer. The reason returned
    is the one closest to covering, so a biller knows what to fix: a code the approval leaves
    out, exhausted units, an approval that ended, a request still waiting, another level."""
    code = service_code.strip().upper()
    auths = list(authorizations)
    if not auths:
        return CoverageDecision(
            "none", "No authorization with this payer is on file for the episode."
        )
    same_level = [a for a in auths if a.level == level]
    if not same_level:
        levels = ", ".join(sorted({a.level for a in auths}))
        return CoverageDecision(
            "wrong_level",
            f"The authorizations on file are for level {levels}, not level {level}.",
            auths[0],
        )
    approved_on_date = [
        a for a in same_level if a.status in APPROVED and _covers_date(a, date_of_service)
    ]
    if approved_on_date:
        with_code = [
            a
            for a in approved_on_date
            if not a.service_codes or code in {c.upper() for c in a.service_codes}
        ]
        if not with_code:
            auth = approved_on_date[0]
            return CoverageDecision(
                "code_not_covered",
                f"Service code {code} is not covered by the authorization "
                f"(it covers {', '.join(auth.service_codes)}).",
                auth,
            )
        for auth in with_code:
            if (auth.units_approved or 0) - auth.units_used >= units:
                return CoverageDecision(
                    "covered",
                    f"Covered: {(auth.units_approved or 0) - auth.units_used} units remain.",
                    auth,
                )
        auth = with_code[0]
        remaining = max((auth.units_approved or 0) - auth.units_used, 0)
        return CoverageDecision(
            "exhausted",
            f"The authorization is exhausted: {remaining} of {auth.units_approved} units "
            f"remain, {units} needed.",
            auth,
        )
    waiting = [a for a in same_level if a.status in OPEN and _covers_date(a, date_of_service)]
    if waiting:
        return CoverageDecision(
            "not_approved",
            f"The authorization for {date_of_service} is {waiting[0].status}, not yet approved.",
            waiting[0],
        )
    ended = [
        a for a in same_level if a.status in APPROVED | {"expired"} and a.end_date < date_of_service
    ]
    if ended:
        last = max(ended, key=lambda a: a.end_date)
        return CoverageDecision("expired", f"The authorization expired on {last.end_date}.", last)
    refused = [a for a in same_level if _covers_date(a, date_of_service)]
    if refused:
        return CoverageDecision(
            "none",
            f"The authorization for {date_of_service} was {refused[0].status}.",
            refused[0],
        )
    return CoverageDecision("none", f"No authorization for level {level} covers {date_of_service}.")


# Usage counts against an approval that covers the service even when its units are used up: the
# ledger refuses nothing, and the units-low and forecast alerts then report the over-use.
USAGE_COUNTS_ON = frozenset({"covered", "exhausted"})


def usage_authorization(
    authorizations: Iterable[AuthorizationLike],
    *,
    level: str,
    service_code: str,
    date_of_service: date,
    units: int,
) -> AuthorizationLike | None:
    """The authorization a service's usage counts against: the one `coverage_decision` finds for
    it, covering or exhausted; None when nothing approved covers it (a lapse)."""
    decision = coverage_decision(
        authorizations,
        level=level,
        service_code=service_code,
        date_of_service=date_of_service,
        units=units,
    )
    return decision.authorization if decision.code in USAGE_COUNTS_ON else None


# --- Defaults for drafts ----------------------------------------------------------------------

DRAFT_DAYS = 7


def default_unit_type(level: str) -> str:
    """Residential and detox are authorized in days, PHP and IOP per diem, outpatient in
    sessions (payers differ; the draft is editable)."""
    stage = STAGE_OF.get(level)
    if stage in {Stage.DETOX, Stage.RESIDENTIAL}:
        return "days"
    if stage in {Stage.PHP, Stage.IOP}:
        return "per_diem"
    return "sessions"


def days_in_range(start: date, end: date) -> int:
    return (end - start).days + 1
