"""Factories for the credentialing app. NPIs are generated with the real check digit.

Dates are relative to the frozen clock (tests/clock.py): by default a provider active for three
years, a licence issued six years ago and valid for four more, an enrollment approved and
effective 460 days ago, so a service any time in the last year is billable. A test that depends
on one of these dates passes its own."""

from __future__ import annotations

from typing import Any

import factory

from credentialing.models import (
    Credential,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ServiceFacility,
)
from credentialing.rules import npi_with_check_digit
from tests.clock import days_ago, days_from_now, years_ago
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
    active_from = factory.LazyFunction(lambda: years_ago(3))


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
    issued_on = factory.LazyFunction(lambda: years_ago(6))
    expires_on = factory.LazyFunction(lambda: days_from_now(4 * 365))


class EnrollmentFactory(TenantFactory):
    class Meta:
        model = PayerEnrollment

    provider = factory.SubFactory(
        ProviderFactory, organization=factory.SelfAttribute("..organization")
    )
    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    status = "approved"
    submitted_on = factory.LazyFunction(lambda: days_ago(550))
    approved_on = factory.LazyFunction(lambda: days_ago(460))
    effective_date = factory.LazyFunction(lambda: days_ago(460))


class PayerRuleFactory(TenantFactory):
    class Meta:
        model = PayerProviderRule

    payer = factory.SubFactory(PayerFactory, organization=factory.SelfAttribute("..organization"))
    provider_type = "lmsw"
    accepted = True
    requires_supervision = True


def billable_provider(organization: Any, payer: Any, **provider_fields: Any) -> Provider:
    """A provider who can bill `payer` on any day of the last year: licensed and enrolled with
    the factories' default dates."""
    provider = ProviderFactory(organization=organization, **provider_fields)
    CredentialFactory(organization=organization, provider=provider)
    EnrollmentFactory(organization=organization, provider=provider, payer=payer)
    return provider
