"""Factories for every model. Tenant-owned rows are created inside their organization's context,
exactly as the application creates them."""

from __future__ import annotations

from typing import Any

import factory

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership, Organization, TwoFactorPolicy, User
from rcm.tenancy.permissions import Role

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = "America/New_York"
    # Tests sign in with force_login and no second factor; tests/tenancy/test_two_factor.py sets
    # the policy it tests (the model's default requires owners and billing-company users).
    two_factor_policy = TwoFactorPolicy.NOBODY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates the row inside tenant_context(organization), as services do."""

    class Meta:
        abstract = True

    organization = factory.SubFactory(OrganizationFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        organization = kwargs.pop("organization")
        with tenant_context(organization):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.BILLER


# What every 837 needs from the organization and the patient (the scrubber holds a claim without
# them): for tests that build claims to send.
BILLING_IDENTITY = {
    "group_npi": "1234567893",
    "tax_id": "93-1234567",
    "taxonomy_code": "261QM0801X",
    "address_line1": "100 River St",
    "city": "Portland",
    "state": "OR",
    "postal_code": "97204",
}
HOME_ADDRESS = {"address_line1": "12 Elm Ave", "city": "Portland", "state": "OR",
                "postal_code": "97205"}  # fmt: skip


def set_billing_identity(org: Organization) -> None:
    for name, value in BILLING_IDENTITY.items():
        setattr(org, name, value)
    org.save()
