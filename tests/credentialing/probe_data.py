"""One row of every credentialing model, for the isolation probe."""

from __future__ import annotations

from datetime import date

from credentialing import services
from credentialing.rules import npi_with_check_digit
from patients.services import payer_create
from rcm.tenancy.models import Organization


def build(org: Organization) -> None:
    payer = payer_create(
        name=f"{org.name} credentialing plan", payer_id="CRED1", payer_type="medicaid"
    )
    salt = f"{sum(map(ord, org.slug)) % 10**6:06d}"
    supervisor = services.provider_create(
        first_name="Probe",
        last_name=f"Supervisor {org.slug}",
        npi=npi_with_check_digit(f"100{salt}"),
        taxonomy_code="1041C0700X",
        provider_type="lcsw",
        active_from=date(2024, 1, 1),
    )
    facility = services.facility_create(
        name=f"{org.name} main site",
        npi=npi_with_check_digit(f"200{salt}"),
        address_line1="1 Probe Way",
        city="Springfield",
        state="IL",
        postal_code="62701",
        place_of_service="11",
    )
    services.credential_create(
        provider=supervisor,
        kind="state_licence",
        number="LCSW-1",
        state="IL",
        issued_on=date(2020, 1, 1),
        expires_on=date(2030, 1, 1),
    )
    services.enrollment_create(
        provider=supervisor,
        payer=payer,
        service_facility=facility,
        status="submitted",
        submitted_on=date(2026, 1, 5),
        today=date(2026, 1, 5),
    )
    services.payer_rule_create(payer=payer, provider_type="lmsw", requires_supervision=True)
