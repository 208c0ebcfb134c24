"""Charges (service entries), fee schedules, claims with their lines, scrubber findings and the
claim lifecycle history. Money is Decimal with 2 places."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from claims.rules import CareProgram, ServiceKind, TelehealthMode
from patients.levels import LevelOfCare
from patients.models import ClaimForm
from rcm.tenancy.models import TenantModel


def money(**kwargs: Any) -> models.DecimalField:
    """Money: Decimal with 2 places."""
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


SERVICE_KINDS = [(k.value, k.value.replace("_", " ").capitalize()) for k in ServiceKind]
TELEHEALTH = [
    ("", "In person"),
    (TelehealthMode.AUDIO_VIDEO.value, "Telehealth, audio-video"),
    (TelehealthMode.AUDIO_ONLY.value, "Telehealth, audio only"),
]


class EntryStatus(models.TextChoices):
    OPEN = "open", "Open (not yet on a claim)"
    BILLED = "billed", "On a claim"
    VOID = "void", "Void"


def who_and_where_fields() -> tuple[models.ForeignKey[Any, Any], ...]:
    """Who rendered a service, who supervised it (when the payer requires a supervisor) and where:
    the same three fields on a charge and on the claim built from it. A model unpacks them in its
    class body: `rendering_provider, supervising_provider, service_facility = ...`."""
    return (
        models.ForeignKey("credentialing.Provider", on_delete=models.PROTECT, related_name="+"),
        models.ForeignKey(
            "credentialing.Provider",
            null=True,
            blank=True,
            on_delete=models.PROTECT,
            related_name="+",
        ),
        models.ForeignKey(
            "credentialing.ServiceFacility",
            null=True,
            blank=True,
            on_delete=models.PROTECT,
            related_name="+",
        ),
    )


class ServiceEntry(TenantModel):
    """One service delivered (a charge), as documented."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="service_entries"
    )
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="service_entries"
    )
    level = models.CharField(
        max_length=8, choices=LevelOfCare.choices, help_text="Level of care on the date of service"
    )
    rendering_provider, supervising_provider, service_facility = who_and_where_fields()
    date_of_service = models.DateField()
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Documented face-to-face minutes"
    )
    kind = models.CharField(max_length=30, choices=SERVICE_KINDS)
    service_code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    units = models.PositiveIntegerField(default=1)
    place_of_service = models.CharField(max_length=2)
    telehealth = models.CharField(max_length=12, choices=TELEHEALTH, blank=True)
    diagnosis_ids = models.JSONField(
        default=list, blank=True, help_text="Episode diagnoses, in pointer order (max 4)"
    )
    group_session_id = models.CharField(
        max_length=40, blank=True, help_text="Group therapy: the session all its patients share"
    )
    addon_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="addons"
    )
    program_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per-diem day: documented programming minutes"
    )
    services_delivered = models.TextField(blank=True)
    documentation_ref = models.CharField(max_length=80, blank=True)
    documentation_signed = models.BooleanField(default=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    charge = money()
    status = models.CharField(max_length=8, choices=EntryStatus.choices, default=EntryStatus.OPEN)
    idempotency_key = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date_of_service", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__isnull=True) | Q(end_at__gt=F("start_at")),
                name="entry_end_after_start",
                violation_error_message="The end time must be after the start time.",
            ),
            models.CheckConstraint(condition=Q(charge__gte=0), name="entry_charge_not_negative"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="entry_org_idempotency_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "date_of_service"],
                name="entry_org_status_dos_idx",
            ),
            models.Index(
                fields=["organization", "patient", "date_of_service"],
                name="entry_org_patient_dos_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} x{self.units} on {self.date_of_service}"


class ChargeMasterItem(TenantModel):
    """The organization's own price for a code (and modifier), from a date."""

    service_code = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=120, blank=True, help_text="Our own short wording")
    charge = money()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["service_code", "modifier", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_code", "modifier", "effective_from"],
                name="chargemaster_org_code_uniq",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="chargemaster_dates_ordered",
                violation_error_message="The end date is before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(charge__gte=0), name="chargemaster_charge_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code}{'-' + self.modifier if self.modifier else ''} ${self.charge}"


class ContractRate(TenantModel):
    """What a payer allows for a code, by modifier and licensure level, from a date."""

    payer = models.ForeignKey("patients.Payer", on_delete=models.CASCADE, related_name="+")
    service_code = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    education_level = models.CharField(
        max_length=16,
        blank=True,
        help_text="doctoral, masters, bachelors, below_bachelors; blank = any",
    )
    allowed = money()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["payer", "service_code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "payer",
                    "service_code",
                    "modifier",
                    "education_level",
                    "effective_from",
                ],
                name="contractrate_org_key_uniq",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="contractrate_dates_ordered",
                violation_error_message="The end date is before the start date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer_id} {self.service_code} ${self.allowed}"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft (needs fixes)"
    READY = "ready", "Ready (scrubbed clean)"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"
    CLOSED = "closed", "Closed"
    VOID = "void", "Void"


class Frequency(models.TextChoices):
    ORIGINAL = "1", "1 Original"
    REPLACEMENT = "7", "7 Replacement (corrected claim)"
    VOID = "8", "8 Void"


class Claim(TenantModel):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="claims")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="claims"
    )
    coverage = models.ForeignKey(
        "patients.Coverage", on_delete=models.PROTECT, related_name="claims"
    )
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="claims")
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    rendering_provider, supervising_provider, service_facility = who_and_where_fields()
    patient_control_number = models.CharField(max_length=20)
    frequency = models.CharField(
        max_length=1, choices=Frequency.choices, default=Frequency.ORIGINAL
    )
    original_claim = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    payer_claim_number = models.CharField(
        max_length=50,
        blank=True,
        help_text="The payer's claim control number (REF*F8 on corrections)",
    )
    primary_claim = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="secondary_claims",
        help_text="On a secondary claim: the primary's claim it follows",
    )
    other_payer_adjudication = models.JSONField(
        default=dict,
        blank=True,
        help_text="On a secondary claim: the primary's adjudication (837 loops 2320/2330/2430)",
    )
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    total_charge = money()
    statement_from = models.DateField()
    statement_to = models.DateField()
    level = models.CharField(max_length=8, choices=LevelOfCare.choices)
    diagnosis_codes = models.JSONField(
        default=list, help_text="ICD-10-CM codes in HI order (max 12)"
    )
    prior_authorization_number = models.CharField(max_length=50, blank=True)
    is_part2 = models.BooleanField(default=False)
    scrubbed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-statement_from", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient_control_number"], name="claim_org_pcn_uniq"
            ),
            models.CheckConstraint(
                condition=Q(statement_to__gte=F("statement_from")),
                name="claim_statement_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(total_charge__gte=0), name="claim_total_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "statement_from"], name="claim_org_status_idx"
            ),
            models.Index(
                fields=["organization", "payer", "statement_from"], name="claim_org_payer_idx"
            ),
            models.Index(fields=["organization", "patient"], name="claim_org_patient_idx"),
            # Dashboards: claims submitted in a period (clean claim rate, A/R aging).
            models.Index(fields=["organization", "submitted_at"], name="claim_org_submitted_idx"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.patient_control_number}"


class ClaimLine(TenantModel):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    service_entry = models.ForeignKey(
        ServiceEntry, on_delete=models.PROTECT, related_name="claim_lines"
    )
    line_number = models.PositiveSmallIntegerField()
    service_code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list)
    units = models.PositiveIntegerField()
    charge = money()
    date_of_service = models.DateField()
    place_of_service = models.CharField(max_length=2)
    revenue_code = models.CharField(max_length=4, blank=True)
    diagnosis_pointers = models.JSONField(
        default=list, help_text="1-based positions in the claim's diagnosis codes"
    )
    line_control_number = models.CharField(
        max_length=30, help_text="REF*6R: how remittance lines match back"
    )
    authorization = models.ForeignKey(
        "authorizations.Authorization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rendering_provider = models.ForeignKey(
        "credentialing.Provider", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "line_control_number"], name="claimline_org_lcn_uniq"
            ),
            models.UniqueConstraint(
                fields=["organization", "claim", "line_number"], name="claimline_org_number_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_number}: {self.service_code}"


class Severity(models.TextChoices):
    ERROR = "error", "Error (blocks)"
    WARNING = "warning", "Warning"


class ClaimFinding(TenantModel):
    """What the scrubber found, with the field at fault and how to fix it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="findings")
    line = models.ForeignKey(
        ClaimLine, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    rule = models.CharField(max_length=40)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    field = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=300)
    fix_hint = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["claim", "-severity", "rule"]
        indexes = [models.Index(fields=["organization", "rule"], name="finding_org_rule_idx")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class ClaimEvent(TenantModel):
    """Append-only lifecycle history: who moved the claim, when, from what to what."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["organization", "claim", "to_status"], name="claimevent_org_claim_st_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class SavedClaimFilter(TenantModel):
    """A biller's named set of claims-list filters."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "name"], name="savedfilter_org_user_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PayerBillingRuleType(models.TextChoices):
    REQUIRED_MODIFIER = "required_modifier", "Modifier required on a code"
    PER_DIEM_MINIMUM = "per_diem_minimum_minutes", "Per-diem minimum minutes for a level"
    UNIT_ROUNDING = "unit_rounding", "Timed unit rounding (all codes, or one code)"
    UNIT_TYPE = "unit_type", "Unit of a code (per 15 minutes, per hour, per diem, per session)"
    NOT_ACCEPTED = "not_accepted", "Code the payer does not accept"
    CORRECTED_CLAIM_DAYS = (
        "corrected_claim_days",
        "Days allowed for a corrected or void claim (from the payer's decision)",
    )


class PayerBillingRule(TenantModel):
    """A payer-specific claim edit, as data the scrubber reads (never a code branch)."""

    payer = models.ForeignKey("patients.Payer", on_delete=models.CASCADE, related_name="+")
    rule_type = models.CharField(max_length=30, choices=PayerBillingRuleType.choices)
    service_code = models.CharField(max_length=5, blank=True)
    level = models.CharField(max_length=8, choices=LevelOfCare.choices, blank=True)
    value = models.CharField(max_length=20)

    class Meta:
        ordering = ["payer", "rule_type", "service_code", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer", "rule_type", "service_code", "level", "value"],
                name="payerbillingrule_org_key_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_type_display()}: {self.service_code or self.level} {self.value}"


# --- Monthly care management (collaborative care, behavioral health integration) --------------

CARE_PROGRAMS = [
    (CareProgram.COCM.value, "Psychiatric collaborative care (99492 / 99493 + 99494)"),
    (CareProgram.BHI.value, "General behavioral health integration (99484)"),
    (CareProgram.COCM_FQHC.value, "Collaborative care in an FQHC / RHC (G0512)"),
    (CareProgram.DMHT.value, "Digital mental health treatment management (G0553 + G0554)"),
]


class CareMinutes(TenantModel):
    """Minutes one staff member spent on a patient's monthly care management (care manager
    outreach, registry review, psychiatric consultation...); the month's minutes add up."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="+"
    )
    program = models.CharField(max_length=10, choices=CARE_PROGRAMS)
    month = models.DateField(help_text="First day of the calendar month")
    performed_on = models.DateField()
    staff_name = models.CharField(max_length=120)
    minutes = models.PositiveSmallIntegerField()
    activity = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-performed_on", "-created_at"]
        indexes = [models.Index(fields=["organization", "month", "program"])]

    def __str__(self) -> str:
        return f"{self.staff_name}: {self.minutes} min on {self.performed_on}"


class CareMonthStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed (a biller confirms)"
    NOTHING = "nothing", "Nothing to bill"
    CONFIRMED = "confirmed", "Confirmed (charges recorded)"


class CareMonth(TenantModel):
    """One patient's calendar month of a care-management program, rolled up at month end: the
    minutes, the charges they support (or why none) and whether a biller confirmed them. One row
    per patient, program and month: a month is never proposed or billed twice."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="+"
    )
    program = models.CharField(max_length=10, choices=CARE_PROGRAMS)
    month = models.DateField(help_text="First day of the calendar month")
    first_month = models.BooleanField()
    total_minutes = models.PositiveIntegerField()
    staff_count = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=CareMonthStatus.choices)
    proposed_lines = models.JSONField(default=list, help_text="[{code, units}]")
    reason = models.CharField(max_length=300)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    charges = models.JSONField(default=list, blank=True, help_text="Service entry ids recorded")

    class Meta:
        ordering = ["-month", "patient__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient", "program", "month"],
                name="caremonth_once_per_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.month:%Y-%m}: {self.total_minutes} min"
