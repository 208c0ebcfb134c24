"""Organizations (the tenants), their members, their API keys, and the base of every tenant table."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Manager
from django.utils import timezone

from rcm.tenancy.context import current_organization_id, require_organization_id
from rcm.tenancy.managers import TenantManager, UserManager
from rcm.tenancy.permissions import Role

TIME_ZONE_CHOICES = [
    (name, name) for name in sorted(zoneinfo.available_timezones()) if name.startswith("America/")
] + [("Pacific/Honolulu", "Pacific/Honolulu"), ("UTC", "UTC")]


class User(AbstractUser):
    """A person who signs in. Email is the sign-in name; the primary key is a UUID."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


# The names of the mailing_address_fields(), for the field lists of forms, serializers and services.
MAILING_ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")


def mailing_address_fields() -> tuple[models.CharField[str, str], ...]:
    """The fields of a street address, all optional, with the lengths the 837 allows (N3: 55,
    N4: 30, 2 and 10). A model unpacks them into the names of MAILING_ADDRESS_FIELDS:
    `address_line1, address_line2, city, state, postal_code = mailing_address_fields()` (in its
    class body, so they keep their place among its fields)."""
    return (
        models.CharField(max_length=55, blank=True),
        models.CharField(max_length=55, blank=True),
        models.CharField(max_length=30, blank=True),
        models.CharField(max_length=2, blank=True),
        models.CharField(max_length=10, blank=True),
    )


class TwoFactorPolicy(models.TextChoices):
    """Who must sign in with a second factor (docs/tenancy.md "Two-factor sign-in"). A
    billing-company user is one with active memberships in more than one organization (the
    partner biller who works several clinics): a stolen password opens more than one tenant."""

    EVERYONE = "everyone", "Everyone"
    OWNERS_AND_BILLING_COMPANY = (
        "owners_billing_company",
        "Owners and billing-company users (members of more than one organization)",
    )
    NOBODY = "nobody", "Nobody (optional for everyone)"


class Organization(models.Model):
    """A clinic or group practice: the tenant. Billing identity fields feed the 837 later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="America/New_York"
    )
    is_active = models.BooleanField(default=True)
    group_npi = models.CharField("group NPI", max_length=10, blank=True)
    tax_id = models.CharField("tax id (EIN)", max_length=10, blank=True)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    address_line1, address_line2, city, state, postal_code = mailing_address_fields()
    phone = models.CharField(max_length=20, blank=True)
    # Pay-to address (837 loop 2010AB), only when payments go elsewhere than the billing address;
    # unlike the billing address it may be a PO box.
    pay_to_address_line1 = models.CharField(max_length=55, blank=True)
    pay_to_address_line2 = models.CharField(max_length=55, blank=True)
    pay_to_city = models.CharField(max_length=30, blank=True)
    pay_to_state = models.CharField(max_length=2, blank=True)
    pay_to_postal_code = models.CharField(max_length=10, blank=True)
    two_factor_policy = models.CharField(
        "require two-factor sign-in for",
        max_length=30,
        choices=TwoFactorPolicy.choices,
        default=TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY,
    )
    eligibility_raw_retention_days = models.PositiveSmallIntegerField(
        "keep raw eligibility requests and responses for (days)",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="The raw 270/271 texts (PHI, encrypted at rest) are deleted after this many "
        "days; the verification they produced stays.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantModel(models.Model):
    """Base of every tenant-owned table: UUID key, organization, and the fail-closed manager.

    `objects` filters by the organization in context and raises without one. `all_tenants` is the
    loud bypass: every use needs a comment saying why. Row-level security stands behind both
    (migrations add it with `rcm.tenancy.rls.EnableRowLevelSecurity`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # A model whose table is read before the tenant is known sets this to the reason; the RLS
    # coverage test then accepts that the table has no policy. Everything else gets RLS.
    rls_exempt_reason: ClassVar[str] = ""

    all_tenants = Manager()
    objects = TenantManager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "all_tenants"

    def save(self, *args: Any, **kwargs: Any) -> None:
        context_org = current_organization_id()
        if self.organization_id is None:
            self.organization_id = require_organization_id()
        elif context_org is not None and context_org != self.organization_id:
            raise PermissionError("Refusing to save a row of another organization.")
        super().save(*args, **kwargs)


class Membership(TenantModel):
    """A user's place in an organization: one role, and the separate 42 CFR Part 2 grant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    part2_access = models.BooleanField(
        "42 CFR Part 2 access",
        default=False,
        help_text="May see substance use disorder (Part 2) episodes, diagnoses and notes.",
    )
    is_active = models.BooleanField(default=True)

    rls_exempt_reason = (
        "Read by the tenant middleware to decide which organization a signed-in user may enter, "
        "before any organization is in context. Holds no PHI."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_org_user_uniq"
            )
        ]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ApiKey(TenantModel):
    """A partner system's key: belongs to one organization, carries scopes, stored hashed."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    rls_exempt_reason = (
        "Looked up by its prefix to find out which organization a request belongs to, before any "
        "organization is in context. Stores only a hash of the key."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="apikey_org_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable_at(self, now: datetime) -> bool:
        """Not revoked, and not expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(TenantModel):
    """An owner's offer of membership to an email address. The membership exists only once the
    person accepts by the emailed link. The link carries a token signed with SECRET_KEY over the
    organization, the invitation and `nonce`; resending changes the nonce, so every earlier link
    stops working (the nonce alone is useless without SECRET_KEY)."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    part2_access = models.BooleanField("42 CFR Part 2 access", default=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    nonce = models.CharField(max_length=32, editable=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email_idx")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} ({self.get_role_display()})"

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
