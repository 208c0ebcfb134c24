"""One row of every claims model, for the isolation probe."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from claims import services
from claims.models import SavedClaimFilter
from patients import services as patients_services
from patients.models import Patient, Payer
from rcm import part2
from rcm.tenancy.models import Membership, Organization
from tests import clock
from tests.clock import months_ago, today, years_ago
from tests.credentialing.factories import ProviderFactory


def build(org: Organization) -> None:
    payer = Payer.objects.first() or patients_services.payer_create(
        name="Probe plan", payer_id="PP", payer_type="commercial"
    )
    patient = Patient.objects.first()
    day = months_ago(1, day=5)
    # Coverage of its own, in force on the service day whatever the patients probe's dates are.
    patients_services.coverage_create(
        patient=patient, payer=payer, member_id="PM3", effective_date=years_ago(1), priority=3
    )
    episode = patients_services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="mental_health",
        admission_date=months_ago(2),
        level="1",
    )
    patients_services.diagnosis_add(episode=episode, code="F33.1")
    provider = ProviderFactory(organization=org)
    services.charge_master_set(
        service_code="90834", charge=Decimal("150.00"), effective_from=years_ago(1)
    )
    services.contract_rate_set(
        payer=payer, service_code="90834", allowed=Decimal("98.00"), effective_from=years_ago(1)
    )
    services.payer_billing_rule_create(
        payer=payer, rule_type="required_modifier", service_code="H0015", value="HF"
    )
    start = datetime.combine(day, time(9), tzinfo=UTC)
    services.service_entry_create(
        scopes=part2.ORGANIZATION,
        patient=patient,
        episode=episode,
        rendering_provider=provider,
        date_of_service=day,
        kind="psychotherapy",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        today=today(),
    )
    services.claims_build(scopes=part2.ORGANIZATION, today=day + timedelta(days=1))
    SavedClaimFilter.objects.create(
        user=Membership.objects.first().user, name="Probe", query="status=draft"
    )
    services.care_minutes_add(
        patient=patient,
        episode=episode,
        program="cocm",
        staff_name="Probe care manager",
        performed_on=day,
        minutes=40,
        today=today(),
        scopes=part2.ORGANIZATION,
    )
    services.care_month_rollup(month=day.replace(day=1), now=clock.now())
