"""Factories for the authorizations app. Authorizations are made through the service, so every
test row passes the same checks as a real one.

The default authorization runs now: 14 days from `day(1)` (11 days ago) to `day(14)` (in two
days), so `day(12)` is today. Tests say the dates they need as days of that authorization
(`day(15)` is the day after it ends), never as calendar dates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from authorizations.services import authorization_create
from patients.models import Coverage, EpisodeOfCare
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, today
from tests.patients.factories import CoverageFactory, EpisodeFactory

STARTED_DAYS_AGO = 11  # day(12) is today: the default authorization has two days left


def day(n: int) -> date:
    """The n-th day of the default authorization: day(1) its start, day(14) its end, day(0) the
    day before it starts."""
    return days_ago(STARTED_DAYS_AGO) + timedelta(days=n - 1)


def make_authorization(
    org: Any,
    *,
    episode: EpisodeOfCare | None = None,
    coverage: Coverage | None = None,
    **overrides: Any,
) -> Any:
    """An approved 3.5 residential authorization for 14 days, day(1) to day(14) (ending in two
    days), requested on day(-1) and decided on day(0), unless overridden. A new episode admitted
    on its first day and a coverage in force for a year before it, unless given."""
    with tenant_context(org):
        if episode is None:
            episode = EpisodeFactory(organization=org, admission_date=day(1))
        if coverage is None:
            coverage = CoverageFactory(
                organization=org, patient=episode.patient, effective_date=day(1) - timedelta(365)
            )
        data: dict[str, Any] = {
            "level": "3.5",
            "unit_type": "days",
            "units_requested": 14,
            "units_approved": 14,
            "start_date": day(1),
            "end_date": day(14),
            "status": "approved",
            "auth_number": "A-100",
            "requested_on": day(-1),
            "decided_on": day(0),
            "service_codes": ["H0018"],
            "today": today(),
        }
        data.update(overrides)
        return authorization_create(episode=episode, coverage=coverage, **data)
