"""One row of every credentialing model, for the isolation probe."""

from __future__ import annotations

from credentialing import services
from credentialing.rules import npi_with_check_digit
from patients.services import payer_create
from rcm.tenancy.models import Organization
from tests.clock import days_ago, days_from_now, today, years_ago


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
        active_from=years_ago(3),
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
        issued_on=years_ago(6),
        expires_on=days_from_now(3 * 365),
    )
    services.enrollment_create(
        provider=supervisor,
        payer=payer,
        service_facility=facility,
        status="submitted",
        submitted_on=days_ago(30),
        today=today(),
    )
    services.payer_rule_create(payer=payer, provider_type="lmsw", requires_supervision=True)
