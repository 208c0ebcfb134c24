"""Demo authorizations for `make run`: every demo episode whose payer wants prior authorization
for its level of care gets an approved one from its admission, a few of them ending within the
week (the alerts and the authorizations list show what is about to expire). Skipped when the
organization already has authorizations, so running it twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from authorizations.models import Authorization
from authorizations.services import authorization_create
from patients.models import EpisodeOfCare, LevelOfCareStay
from rcm.tenancy.selectors import organization_today


def seed(organization: object) -> None:
    if Authorization.objects.exists():
        return
    today = organization_today(organization)
    stays = (
        LevelOfCareStay.objects.select_related("episode")
        .filter(episode__status="active")
        .order_by("episode__patient__mrn", "start_date")
    )
    coverages = {
        e.pk: e.patient.coverages.order_by("priority").select_related("payer").first()
        for e in EpisodeOfCare.objects.select_related("patient").filter(status="active")
    }
    for n, stay in enumerate(stays):
        coverage = coverages.get(stay.episode_id)
        if coverage is None or not coverage.payer.requires_authorization(level=stay.level):
            continue
        # Every third ends within the week: "expiring soon" in the list and an alert.
        end = today + timedelta(days=4 if n % 3 == 0 else 45)
        if stay.end_date is not None:
            end = stay.end_date
        days = (end - stay.start_date).days + 1
        authorization_create(
            episode=stay.episode,
            coverage=coverage,
            level=stay.level,
            unit_type="days",
            units_requested=days,
            units_approved=days,
            start_date=stay.start_date,
            end_date=end,
            status="approved",
            auth_number=f"PA-{stay.episode.patient.mrn[-4:]}-{stay.level}",
            requested_on=stay.start_date - timedelta(days=1),
            decided_on=stay.start_date,
            stay=stay,
            today=today,
        )
