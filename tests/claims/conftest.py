from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from claims import services as claims_services
from patients import services as patients_services
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory

CHICAGO = ZoneInfo("America/Chicago")
DOS = date(2026, 10, 5)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


@dataclass
class Practice:
    org: Any
    payer: Any
    patient: Any
    coverage: Any
    episode: Any
    diagnosis: Any
    provider: Any

    def session(self, minutes: int = 45, day: date = DOS, **kwargs: Any) -> Any:
        with tenant_context(self.org):
            return claims_services.service_entry_create(
                patient=self.patient,
                episode=self.episode,
                rendering_provider=self.provider,
                date_of_service=day,
                kind=kwargs.pop("kind", "psychotherapy"),
                start_at=at(day, 9),
                end_at=at(day, 9) + timedelta(minutes=minutes),
                documentation_signed=kwargs.pop("documentation_signed", True),
                **kwargs,
            )


@pytest.fixture
def practice(org: Any) -> Practice:
    """Riverbend: Blue Plan (auth required for outpatient 90837 only), Jane Doe in outpatient
    mental health care with F33.1, and Lena, an LCSW licensed and enrolled with Blue Plan."""
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="Blue Plan",
            payer_id="BP001",
            payer_type="commercial",
            auth_required_codes=["90837"],
        )
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn="C-1",
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1980, 5, 1),
            sex="F",
        )
        coverage = patients_services.coverage_create(
            patient=patient, payer=payer, member_id="W1", effective_date=date(2026, 1, 1)
        )
        episode = patients_services.episode_open(
            patient=patient,
            program_type="mental_health",
            admission_date=date(2026, 9, 1),
            level="1",
        )
        diagnosis = patients_services.diagnosis_add(episode=episode, code="F33.1")
        provider = ProviderFactory(
            organization=org, first_name="Lena", last_name="Park", provider_type="lcsw"
        )
        CredentialFactory(organization=org, provider=provider)
        EnrollmentFactory(organization=org, provider=provider, payer=payer)
        for code, price in (
            ("90832", "95.00"),
            ("90834", "150.00"),
            ("90837", "190.00"),
            ("90839", "210.00"),
            ("90840", "95.00"),
            ("H0015", "240.00"),
        ):
            claims_services.charge_master_set(
                service_code=code, charge=Decimal(price), effective_from=date(2026, 1, 1)
            )
    return Practice(org, payer, patient, coverage, episode, diagnosis, provider)
