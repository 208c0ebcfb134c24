"""Demo charge master and a month of charges for `make run`, built into claims and scrubbed, so
the ready-to-bill queue shows both clean claims and claims that need a fix (an unsigned note),
and one draft claim is voided. The submissions and denials demos carry the rest further."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from claims import services
from claims.models import ChargeMasterItem, Claim, ClaimStatus
from credentialing.models import PayerEnrollment
from patients.models import EpisodeOfCare
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.selectors import organization_today

PRICES = {
    "90791": "250.00",
    "90832": "95.00",
    "90834": "150.00",
    "90837": "190.00",
    "90839": "210.00",
    "90840": "95.00",
    "90853": "60.00",
    "H0015": "240.00",
    "H0035": "420.00",
    "H0018": "520.00",
    "H0004": "32.00",
}


def seed(organization: object) -> None:
    if ChargeMasterItem.objects.exists():
        return  # Already seeded.
    today = organization_today(organization)
    for code, price in PRICES.items():
        services.charge_master_set(
            service_code=code, charge=Decimal(price), effective_from=today.replace(month=1, day=1)
        )
    tz = ZoneInfo(getattr(organization, "time_zone", "UTC"))
    enrolled = {
        (e.payer_id, e.provider_id): e.provider
        for e in PayerEnrollment.objects.select_related("provider").filter(status="approved")
    }
    for index, episode in enumerate(
        EpisodeOfCare.objects.select_related("patient")
        .filter(status="active")
        .order_by("admission_date", "pk")
    ):
        coverage = episode.patient.coverages.order_by("priority").first()
        provider = next(
            (
                p
                for (payer_id, _), p in enrolled.items()
                if coverage and payer_id == coverage.payer_id
            ),
            None,
        )
        if provider is None:
            continue
        for days_ago in (31, 24, 5, 3):
            day = today - timedelta(days=days_ago)
            start = datetime.combine(day, time(10, 0), tzinfo=tz)
            try:
                services.service_entry_create(
                    scopes=part2.ORGANIZATION,
                    patient=episode.patient,
                    episode=episode,
                    rendering_provider=provider,
                    date_of_service=day,
                    kind="psychotherapy",
                    start_at=start,
                    end_at=start + timedelta(minutes=45 + days_ago),
                    # A few patients have an unsigned note: the queue shows what blocks it.
                    documentation_signed=not (index % 7 == 3 and days_ago == 5),
                    today=today,
                )
            except DomainError:
                continue  # e.g. no level of care that day: the demo skips it.
    services.claims_build(scopes=part2.ORGANIZATION, today=today)
    draft = Claim.objects.filter(status=ClaimStatus.DRAFT).order_by("patient_control_number")
    if (mistake := draft.first()) is not None:
        services.claim_transition(
            claim=mistake, to_status=ClaimStatus.VOID, note="Entered for the wrong patient"
        )
