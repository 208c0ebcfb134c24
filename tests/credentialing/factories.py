"""Factories for the credentialing app. NPIs are generated with the real check digit."""

from __future__ import annotations

from datetime import date

import factory

from credentialing.models import (
    Credential,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ServiceFacility,
)
from credentialing.rules import npi_with_check_digit
from tests.factories import TenantFactory
from tests.patients.factories import PayerFactory


class ProviderFactory(TenantFactory):
    class Meta:
        model = Provider

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    credentials_suffix = "LCSW"
    npi = factory.Sequence(lambda n: npi_with_check_digit(f"1{n:08d}"))
    taxonomy_code = "1041C0700X"
    provider_type = "lcsw"
    active_from = date(2024, 1, 1)


class FacilityFactory(TenantFactory):
    class Meta:
        model = ServiceFacility

    name = factory.Sequence(lambda n: f"Clinic site {n}")
    npi = factory.Sequence(lambda n: npi_with_check_digit(f"2{n:08d}"))
    address_line1 = "100 Main Street"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"
    place_of_service = "11"


class CredentialFactory(TenantFactory):
    class Meta:
        model = Credential

    provider = factory.SubFactory(
        ProviderFactory, organization=factory.SelfAttribute("..organization")
    )
    kind = "state_licence"
    number = factory.Sequence(lambda n: f"LIC{n:05d}")
    state = "IL"
    issued_on = date(2020, 1, 1)
    expires_on = date(2030, 12, 31)


class EnrollmentFactory(TenantFactory):
    class Meta:
        model = PayerEnrollment

    provider = factory.SubFactory(
        ProviderFactory, organization=factory.SelfAttribute("..organization")
    )
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    status = "approved"
    submitted_on = date(2025, 6, 1)
    approved_on = date(2025, 9, 1)
    effective_date = date(2025, 9, 1)


class PayerRuleFactory(TenantFactory):
    class Meta:
        model = PayerProviderRule

    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    provider_type = "lmsw"
    accepted = True
    requires_supervision = True
