"""One row of every authorizations model, for the isolation probe."""

from __future__ import annotations

from datetime import date

from authorizations import services
from patients import services as patient_services
from rcm import part2
from rcm.tenancy.models import Organization
from tests import clock
from tests.clock import days_ago, today


def build(org: Organization) -> None:
    payer = patient_services.payer_create(
        name=f"{org.slug} auth plan", payer_id="AP1", payer_type="commercial"
    )
    patient = patient_services.patient_create(
        today=clock.today(),
        mrn=f"AUTH-PROBE-{org.slug}",
        first_name="Auth",
        last_name=org.slug.title(),
        date_of_birth=date(1990, 1, 1),
        sex="U",
    )
    coverage = patient_services.coverage_create(
        patient=patient, payer=payer, member_id="AM1", effective_date=days_ago(400)
    )
    episode = patient_services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="mental_health",
        admission_date=days_ago(40),
        level="2.1",
    )
    auth = services.authorization_create(
        episode=episode,
        coverage=coverage,
        level="2.1",
        unit_type="per_diem",
        units_requested=10,
        units_approved=10,
        start_date=days_ago(40),
        end_date=days_ago(10),
        status="approved",
        auth_number=f"PROBE-{org.slug}",
        requested_on=days_ago(42),
        decided_on=days_ago(41),
        next_review_on=days_ago(26),
        today=today(),
    )
    services.authorization_record_usage(
        episode=episode,
        payer=payer,
        level="2.1",
        unit_type="per_diem",
        date_of_service=days_ago(39),
        units=1,
        authorization=auth,
    )
    services.authorization_settings_get()
