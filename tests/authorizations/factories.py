"""Factories for the authorizations app. Authorizations are made through the service, so every
test row passes the same checks as a real one."""

from __future__ import annotations

from datetime import date
from typing import Any

from authorizations.services import authorization_create
from patients.models import Coverage, EpisodeOfCare
from rcm.tenancy.context import tenant_context
from tests.patients.factories import CoverageFactory, EpisodeFactory


def make_authorization(
    org: Any,
    *,
    episode: EpisodeOfCare | None = None,
    coverage: Coverage | None = None,
    **overrides: Any,
) -> Any:
    """An approved 3.5 residential authorization, 14 days from 2026-03-01, unless overridden."""
    with tenant_context(org):
        if episode is None:
            episode = EpisodeFactory(organization=org)
        if coverage is None:
            coverage = CoverageFactory(organization=org, patient=episode.patient)
        data: dict[str, Any] = {
            "level": "3.5",
            "unit_type": "days",
            "units_requested": 14,
            "units_approved": 14,
            "start_date": date(2026, 3, 1),
            "end_date": date(2026, 3, 14),
            "status": "approved",
            "auth_number": "A-100",
            "requested_on": date(2026, 2, 27),
            "decided_on": date(2026, 2, 28),
            "service_codes": ["H0018"],
        }
        data.update(overrides)
        return authorization_create(episode=episode, coverage=coverage, **data)
