"""Providers, their credentials, service facilities, payer enrollments (with their history) and
the payer's rules about which provider types it accepts. All tenant-owned.

Payer rules are data (`PayerProviderRule`), never code branches: the billability decision in
rules.py reads them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rcm.tenancy.models import TenantModel


class ProviderType(models.TextChoices):
    PSYCHIATRIST = "psychiatrist", "Psychiatrist (MD/DO)"
    PSYCHOLOGIST = "psychologist", "Psychologist (PhD/PsyD)"
    PSYCH_NP = "psych_np", "Psychiatric nurse practitioner"
    PA = "pa", "Physician assistant"
    LCSW = "lcsw", "LCSW"
    LMSW = "lmsw", "LMSW (pre-licensure)"
    LPC = "lpc", "LPC / LMHC"
    LMFT = "lmft", "LMFT"
    LAC = "lac", "Licensed addiction counselor"
    CAC = "cac", "Certified addiction counselor"
    PEER = "peer", "Peer specialist"
    OTHER = "other", "Other"


PRESCRIBER_TYPES = frozenset({ProviderType.PSYCHIATRIST, ProviderType.PSYCH_NP, ProviderType.PA})


class Provider(TenantModel):
    """An individual clinician who renders services (NPI type 1)."""

    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    credentials_suffix = models.CharField(
        max_length=30, blank=True, help_text="As printed after the name, e.g. MD, LCSW, PsyD."
    )
    npi = models.CharField("NPI", max_length=10)
    taxonomy_code = models.CharField(max_length=10, help_text="e.g. 1041C0700X")
    provider_type = models.CharField(max_length=20, choices=ProviderType.choices)
    supervising_provider = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervisees",
        help_text="For pre-licensure clinicians who bill under a licensed supervisor.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The provider's own Parity account, if any.",
    )
    active_from = models.DateField()
    active_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "npi"], name="provider_org_npi_uniq"),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True) | Q(active_until__gte=F("active_from")),
                name="provider_active_dates_ordered",
                violation_error_message="Active until is before active from.",
            ),
            models.CheckConstraint(
                condition=~Q(supervising_provider=F("id")),
                name="provider_not_own_supervisor",
                violation_error_message="A provider cannot supervise themself.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "last_name", "first_name"], name="provider_org_name_idx"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        suffix = f", {self.credentials_suffix}" if self.credentials_suffix else ""
        return f"{self.first_name} {self.last_name}{suffix}"

    def is_active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_until is None or day <= self.active_until)


class ServiceFacility(TenantModel):
    """Where services are rendered (837 loop 2310C); some payers enrol providers per location."""

    name = models.CharField(max_length=120)
    npi = models.CharField("NPI", max_length=10)
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    place_of_service = models.CharField(
        max_length=2, help_text="CMS place of service code, e.g. 11 office, 57 non-residential SUD."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "service facilities"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="facility_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class CredentialKind(models.TextChoices):
    STATE_LICENCE = "state_licence", "State licence"
    DEA = "dea", "DEA registration"
    BOARD = "board_certification", "Board certification"
    MALPRACTICE = "malpractice", "Malpractice insurance"
    CAQH = "caqh", "CAQH ProView"
    OIG_CHECK = "oig_check", "OIG exclusion check"


EXPIRING_KINDS = (CredentialKind.STATE_LICENCE, CredentialKind.DEA, CredentialKind.MALPRACTICE)


class OigResult(models.TextChoices):
    CLEAR = "clear", "Not excluded"
    EXCLUDED = "excluded", "Excluded"


class Credential(TenantModel):
    """One credential of a provider. The fields used depend on the kind: a licence has number,
    state, issue and expiry dates; CAQH has the ProView id (number) and the last attestation;
    an OIG check has the check date (`verified_on`) and its result."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=30, choices=CredentialKind.choices)
    number = models.CharField(
        max_length=40, blank=True, help_text="Licence / DEA / policy number, or CAQH ProView id."
    )
    state = models.CharField(max_length=2, blank=True)
    issuer = models.CharField(max_length=120, blank=True, help_text="Board or insurance carrier.")
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    verified_on = models.DateField(
        null=True, blank=True, help_text="Primary-source verification, or the OIG check date."
    )
    attested_on = models.DateField(
        null=True, blank=True, help_text="CAQH: last attestation (due every 120 days)."
    )
    result = models.CharField(max_length=10, choices=OigResult.choices, blank=True)

    class Meta:
        ordering = ["kind", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=F("issued_on")),
                name="credential_expires_after_issue",
                violation_error_message="The expiry date is before the issue date.",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "expires_on"], name="credential_org_expiry_idx"
            ),
            models.Index(fields=["organization", "provider"], name="credential_org_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()


class EnrollmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SUBMITTED = "submitted", "Application submitted"
    IN_PROCESS = "in_process", "In process"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    TERMINATED = "terminated", "Terminated"


class PayerEnrollment(TenantModel):
    """A provider's enrollment with a payer (and a facility, where the payer enrols by location)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="enrollments")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    service_facility = models.ForeignKey(
        ServiceFacility, null=True, blank=True, on_delete=models.PROTECT, related_name="enrollments"
    )
    status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.NOT_STARTED
    )
    submitted_on = models.DateField("application submitted on", null=True, blank=True)
    in_process_on = models.DateField(null=True, blank=True)
    approved_on = models.DateField(null=True, blank=True)
    denied_on = models.DateField(null=True, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    payer_provider_id = models.CharField("payer-assigned provider id", max_length=50, blank=True)
    recredentialing_due_on = models.DateField("re-credentialing due on", null=True, blank=True)
    bill_under_supervisor = models.BooleanField(
        "bill under the supervising provider",
        default=False,
        help_text="The payer allows this provider's services to be billed under the supervisor.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["provider__last_name", "payer__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "payer", "service_facility"],
                name="enrollment_org_provider_payer_facility_uniq",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(effective_date__isnull=False),
                name="enrollment_approved_has_effective_date",
                violation_error_message="An approved enrollment needs its effective date.",
            ),
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True)
                | Q(effective_date__isnull=True)
                | Q(termination_date__gte=F("effective_date")),
                name="enrollment_termination_after_effective",
                violation_error_message="The termination date is before the effective date.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="enrollment_org_status_idx"),
            models.Index(fields=["organization", "payer"], name="enrollment_org_payer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} at {self.payer}"


class EnrollmentEvent(TenantModel):
    """Append-only history of an enrollment: every status change and edit, who and when."""

    enrollment = models.ForeignKey(PayerEnrollment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    occurred_on = models.DateField(help_text="The date the step happened (may be back-dated).")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    fields_changed = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "enrollment", "created_at"], name="enrollevent_org_enr_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Enrollment history is append-only.")
        super().save(*args, **kwargs)


class PayerProviderRule(TenantModel):
    """Whether a payer accepts a provider type (for every code, or one service code), and whether
    it accepts it only when billed under a supervising provider."""

    payer = models.ForeignKey("patients.Payer", on_delete=models.CASCADE, related_name="+")
    provider_type = models.CharField(max_length=20, choices=ProviderType.choices)
    service_code = models.CharField(
        max_length=10, blank=True, help_text="Blank: the rule applies to every code."
    )
    accepted = models.BooleanField(default=True)
    requires_supervision = models.BooleanField(
        default=False, help_text="Accepted only when billed under the supervising provider."
    )
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["payer__name", "provider_type", "service_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer", "provider_type", "service_code"],
                name="payerrule_org_payer_type_code_uniq",
            ),
            models.CheckConstraint(
                condition=Q(accepted=True) | Q(requires_supervision=False),
                name="payerrule_supervision_only_when_accepted",
                violation_error_message="A type the payer does not accept cannot be accepted under supervision.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer}: {self.get_provider_type_display()} {self.service_code}".strip()
