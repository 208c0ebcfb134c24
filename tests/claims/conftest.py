from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from claims import services as claims_services
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.clock import months_ago, today, years_ago
from tests.credentialing.factories import (
    billable_provider,
)

CHICAGO = ZoneInfo("America/Chicago")


def dos() -> date:
    """The usual date of service: the 5th of last month. That is 24 to 57 days ago, inside Blue
    Plan's 90-day filing limit and short of its 14-day warning; weekly sessions from it up to
    three weeks later are still in the past, and the 8 days after it stay in its month."""
    return months_ago(1, day=5)


def admitted() -> date:
    """Jane Doe's admission: the 1st of the month three months back (89 to 122 days ago, over
    three weeks before `dos()`), so ten weekly sessions from it are all in the past."""
    return months_ago(3, day=1)


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

    def session(self, minutes: int = 45, day: date | None = None, **kwargs: Any) -> Any:
        day = day or dos()
        with tenant_context(self.org):
            return claims_services.service_entry_create(
                scopes=part2.ORGANIZATION,
                patient=self.patient,
                episode=self.episode,
                rendering_provider=self.provider,
                date_of_service=day,
                kind=kwargs.pop("kind", "psychotherapy"),
                start_at=at(day, 9),
                end_at=at(day, 9) + timedelta(minutes=minutes),
                documentation_signed=kwargs.pop("documentation_signed", True),
                today=today(),
                **kwargs,
            )


@pytest.fixture
def practice(org: Any) -> Practice:
    """Riverbend: Blue Plan (auth required for outpatient 90837 only), Jane Doe covered for a
    year and in outpatient mental health care with F33.1 since `admitted()`, and Lena, an LCSW
    licensed and enrolled with Blue Plan for years to come; the fee schedule began a year ago."""
    # The billing identity every 837 carries (the scrubber checks it before a claim is ready).
    org.group_npi, org.tax_id, org.taxonomy_code = "1234567893", "93-1234567", "261QM0801X"
    org.address_line1, org.address_line2 = "100 River St", "Suite 200"
    org.city, org.state, org.postal_code = "Portland", "OR", "97204-1234"
    org.save()
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
            address_line1="12 Elm Ave",
            city="Portland",
            state="OR",
            postal_code="97205",
        )
        coverage = patients_services.coverage_create(
            patient=patient, payer=payer, member_id="W1", effective_date=years_ago(1)
        )
        episode = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=admitted(),
            level="1",
        )
        diagnosis = patients_services.diagnosis_add(episode=episode, code="F33.1")
        provider = billable_provider(
            org, payer, first_name="Lena", last_name="Park", provider_type="lcsw"
        )
        for code, price in (
            ("90832", "95.00"),
            ("90834", "150.00"),
            ("90837", "190.00"),
            ("90839", "210.00"),
            ("90840", "95.00"),
            ("H0015", "240.00"),
        ):
            claims_services.charge_master_set(
                service_code=code, charge=Decimal(price), effective_from=years_ago(1)
            )
    return Practice(org, payer, patient, coverage, episode, diagnosis, provider)
