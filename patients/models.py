"""Patients, payers, coverage, episodes of care across levels of care, and 42 CFR Part 2 consent.

Everything here is tenant-owned. Rules that are payer-specific (claim form by level, filing and
appeal windows, which levels and codes need prior authorization, telehealth conventions) are
fields of the Payer, editable by the organization, never code branches.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from patients.levels import LevelOfCare
from rcm.crypto import decrypt_text, encrypt_text
from rcm.tenancy.models import TenantModel, mailing_address_fields


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICAID = "medicaid", "Medicaid"
    MEDICAID_MANAGED = "medicaid_mco", "Medicaid managed care"
    MEDICARE = "medicare", "Medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
    TRICARE = "tricare", "Tricare"
    SELF_PAY = "self_pay", "Self-pay"


class ClaimForm(models.TextChoices):
    PROFESSIONAL = "837P", "837P professional (CMS-1500)"
    INSTITUTIONAL = "837I", "837I institutional (UB-04)"


class TelehealthPos(models.TextChoices):
    POS_02 = "02", "02 Telehealth other than in patient's home"
    POS_10 = "10", "10 Telehealth in patient's home"


class TelehealthModifier(models.TextChoices):
    MOD_95 = "95", "95 Synchronous audio-video"
    GT = "GT", "GT Interactive audio-video (legacy)"
    MOD_93 = "93", "93 Audio only"
    NONE = "", "No modifier"


class SubmissionMethod(models.TextChoices):
    ELECTRONIC = "electronic", "Electronic (837 through the clearinghouse)"
    PAPER = "paper", "Paper (CMS-1500 printed and mailed)"


class Payer(TenantModel):
    """A health plan this organization bills, with its rules as editable data."""

    name = models.CharField(max_length=120)
    payer_id = models.CharField("X12 payer id", max_length=80)
    payer_type = models.CharField(max_length=20, choices=PayerType.choices)
    address_line1, address_line2, city, state, postal_code = mailing_address_fields()
    phone = models.CharField(max_length=20, blank=True)
    # Where appeals go (often not the claims address): an appeal letter is not sent without it.
    (
        appeals_address_line1,
        appeals_address_line2,
        appeals_city,
        appeals_state,
        appeals_postal_code,
    ) = mailing_address_fields()
    default_claim_form = models.CharField(
        max_length=4, choices=ClaimForm.choices, default=ClaimForm.PROFESSIONAL
    )
    submission_method = models.CharField(
        max_length=10,
        choices=SubmissionMethod.choices,
        default=SubmissionMethod.ELECTRONIC,
        help_text="Paper: professional claims are printed on the CMS-1500 (02/12) and mailed.",
    )
    # {"3.5": "837I", "2.1": "837I"}: levels billed on another form than the default.
    claim_form_by_level = models.JSONField(default=dict, blank=True)
    timely_filing_days = models.PositiveIntegerField(default=90)
    corrected_claim_days = models.PositiveIntegerField(default=90)
    appeal_window_days = models.PositiveIntegerField(default=180)
    # How long the payer usually takes to answer an appeal or a status request.
    response_days = models.PositiveIntegerField(default=30)
    auth_required_levels = models.JSONField(default=list, blank=True)
    auth_required_codes = models.JSONField(default=list, blank=True)
    telehealth_pos = models.CharField(
        max_length=2, choices=TelehealthPos.choices, default=TelehealthPos.POS_10
    )
    telehealth_modifier = models.CharField(
        max_length=2,
        choices=TelehealthModifier.choices,
        default=TelehealthModifier.MOD_95,
        blank=True,
    )
    audio_only_modifier = models.CharField(
        max_length=2,
        choices=TelehealthModifier.choices,
        default=TelehealthModifier.MOD_93,
        blank=True,
    )
    requires_licensure_modifier = models.BooleanField(
        default=False, help_text="Wants HP/HO/HN/HM on every line (common in Medicaid)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer_id", "name"], name="payer_org_id_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def claim_form_for(self, level: str | None) -> str:
        return self.claim_form_by_level.get(level or "", self.default_claim_form)

    def requires_authorization(
        self, *, level: str | None = None, service_code: str | None = None
    ) -> bool:
        return (level is not None and level in self.auth_required_levels) or (
            service_code is not None and service_code in self.auth_required_codes
        )


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DECEASED = "deceased", "Deceased"


class Patient(TenantModel):
    """A person the organization treats. No SSN is stored."""

    mrn = models.CharField("MRN", max_length=40)
    first_name = models.CharField(max_length=60)
    middle_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60)
    preferred_name = models.CharField(max_length=60, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    address_line1, address_line2, city, state, postal_code = mailing_address_fields()
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(
        max_length=10, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mrn"], name="patient_org_mrn_uniq")
        ]
        indexes = [
            models.Index(
                fields=["organization", "last_name", "first_name"], name="patient_org_name_idx"
            ),
            models.Index(fields=["organization", "date_of_birth"], name="patient_org_dob_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"


class CoveragePriority(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class SubscriberRelationship(models.TextChoices):
    """X12 individual relationship codes (2000B/2000C)."""

    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other relationship"


class Coverage(TenantModel):
    """A patient's insurance with one payer, in coordination-of-benefits order."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField(max_length=80)
    group_number = models.CharField(max_length=50, blank=True)
    plan_name = models.CharField(max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(
        choices=CoveragePriority.choices, default=CoveragePriority.PRIMARY
    )
    relationship = models.CharField(
        "patient's relationship to subscriber",
        max_length=2,
        choices=SubscriberRelationship.choices,
        default=SubscriberRelationship.SELF,
    )
    subscriber_first_name = models.CharField(max_length=60, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    effective_date = models.DateField()
    termination_date = models.DateField(null=True, blank=True)
    # Behavioral health benefits as last verified.
    copay = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    deductible = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    deductible_met = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    visit_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Visits per benefit year"
    )
    day_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Facility days per benefit year"
    )
    auth_required = models.BooleanField(
        null=True, blank=True, help_text="As the payer stated at verification"
    )
    benefits_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["priority", "-effective_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True)
                | Q(termination_date__gte=F("effective_date")),
                name="coverage_termination_after_effective",
                violation_error_message="The termination date is before the effective date.",
            ),
            models.CheckConstraint(
                condition=Q(coinsurance_percent__isnull=True)
                | (
                    Q(coinsurance_percent__gte=Decimal(0))
                    & Q(coinsurance_percent__lte=Decimal(100))
                ),
                name="coverage_coinsurance_percent_range",
                violation_error_message="Coinsurance is a percentage from 0 to 100.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "member_id"], name="coverage_org_member_idx")
        ]

    def __str__(self) -> str:
        return f"{self.payer} {self.member_id} ({self.get_priority_display()})"

    def is_active_on(self, day: date) -> bool:
        return self.effective_date <= day and (
            self.termination_date is None or day <= self.termination_date
        )


class VerificationMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Payer portal"
    EDI_271 = "271", "270/271 eligibility response"


class BenefitVerification(TenantModel):
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="verifications")
    verified_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=10, choices=VerificationMethod.choices)
    reference_number = models.CharField(max_length=80, blank=True)
    payer_representative = models.CharField(max_length=80, blank=True)
    is_active_coverage = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    # What changed from the benefits as last verified: [{"field", "label", "before", "after"}].
    changes = models.JSONField(default=list, blank=True)
    # What this verification said (patients.rules.benefit_snapshot): the next one is compared
    # with it. Empty for verifications recorded before snapshots were kept.
    benefits = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.verified_at:%Y-%m-%d}"


class EligibilityStatus(models.TextChoices):
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    REJECTED = "rejected", "Rejected by the payer"
    NO_ANSWER = "no_answer", "No answer"
    ERROR = "error", "Error"


class EligibilityRequest(TenantModel):
    """One electronic eligibility question (270) about a coverage and its answer (271), matched
    by our trace number (TRN02), unique per organization. The raw request and response are kept
    as sent and received."""

    coverage = models.ForeignKey(
        Coverage, on_delete=models.CASCADE, related_name="eligibility_requests"
    )
    trace_number = models.CharField(max_length=50)
    status = models.CharField(
        max_length=10, choices=EligibilityStatus.choices, default=EligibilityStatus.SENT
    )
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    # The raw 270 and 271 name the patient (PHI): kept encrypted (rcm.crypto, Fernet) and purged
    # after the organization's retention (`eligibility_raw_purge`); read them through
    # `raw_request` / `raw_response`.
    raw_request_encrypted = models.TextField(blank=True, editable=False)
    raw_response_encrypted = models.TextField(blank=True, editable=False)
    raw_purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, help_text="Why the answer was refused or never came")
    verification = models.OneToOneField(
        BenefitVerification,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="eligibility_request",
    )

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "trace_number"],
                name="eligibility_request_org_trace_uniq",
                violation_error_message="This trace number (TRN02) is already used.",
            )
        ]

    def __str__(self) -> str:
        return f"270 {self.trace_number} ({self.get_status_display()})"

    @property
    def raw_request(self) -> str:
        return decrypt_text(self.raw_request_encrypted)

    @raw_request.setter
    def raw_request(self, text: str) -> None:
        self.raw_request_encrypted = encrypt_text(text)

    @property
    def raw_response(self) -> str:
        return decrypt_text(self.raw_response_encrypted)

    @raw_response.setter
    def raw_response(self, text: str) -> None:
        self.raw_response_encrypted = encrypt_text(text)


class ProgramType(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    CO_OCCURRING = "co_occurring", "Co-occurring"


PART2_PROGRAMS = frozenset({ProgramType.SUBSTANCE_USE, ProgramType.CO_OCCURRING})


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"


class EpisodeOfCare(TenantModel):
    """One course of treatment, from admission to discharge, across levels of care."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="episodes")
    program_type = models.CharField(max_length=20, choices=ProgramType.choices)
    admission_date = models.DateField()
    discharge_date = models.DateField(null=True, blank=True)
    referral_source = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=12, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    clinical_notes = models.TextField(
        blank=True, help_text="Restricted under 42 CFR Part 2 for SUD programs"
    )

    class Meta:
        ordering = ["-admission_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True)
                | Q(discharge_date__gte=F("admission_date")),
                name="episode_discharge_after_admission",
                violation_error_message="Discharge is before admission.",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "patient", "admission_date"], name="episode_org_patient_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_program_type_display()} episode from {self.admission_date}"

    @property
    def is_part2(self) -> bool:
        """42 CFR Part 2 protects substance use disorder treatment records."""
        return self.program_type in PART2_PROGRAMS


class EpisodeDiagnosis(TenantModel):
    """An ICD-10-CM diagnosis on an episode, ranked; claim lines point at these."""

    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField("ICD-10-CM code", max_length=8, help_text="With the dot, e.g. F10.20")
    description = models.CharField(max_length=255)
    rank = models.PositiveSmallIntegerField(default=1)
    is_primary = models.BooleanField(default=False)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="diagnosis_effective_range",
                violation_error_message="The diagnosis ends before it takes effect.",
            ),
            models.UniqueConstraint(
                fields=["organization", "episode"],
                condition=Q(is_primary=True, effective_to__isnull=True),
                name="diagnosis_one_current_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def code_x12(self) -> str:
        return self.code.replace(".", "")


class TransitionKind(models.TextChoices):
    ADMISSION = "admission", "Admission"
    STEP_DOWN = "step_down", "Step down"
    STEP_UP = "step_up", "Step up"
    LATERAL = "lateral", "Lateral move"


class LevelOfCareStay(TenantModel):
    """A period of an episode at one level of care. The current stay has no end date."""

    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="stays")
    level = models.CharField(max_length=8, choices=LevelOfCare.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    transition = models.CharField(
        max_length=10, choices=TransitionKind.choices, default=TransitionKind.ADMISSION
    )
    reason = models.CharField(max_length=200, blank=True)
    clinical_justification = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="stay_end_after_start",
                violation_error_message="The stay ends before it starts.",
            ),
            models.UniqueConstraint(
                fields=["organization", "episode"],
                condition=Q(end_date__isnull=True),
                name="stay_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "level", "start_date"], name="stay_org_level_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} from {self.start_date}"


class ConsentPurpose(models.TextChoices):
    PAYMENT = "payment", "Payment"
    TPO = "tpo", "Treatment, payment and health care operations"
    OTHER = "other", "Other"


class RecipientClass(models.TextChoices):
    NAMED_PAYER = "named_payer", "A named payer"
    ALL_HEALTH_PLANS = "all_health_plans", "My health plans (any payer covering me)"
    OTHER = "other", "Another named recipient"


class Consent(TenantModel):
    """A patient's written 42 CFR Part 2 consent to disclose SUD records."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    disclosing_party = models.CharField(max_length=200, help_text="Who may disclose (the program)")
    recipient_class = models.CharField(max_length=20, choices=RecipientClass.choices)
    recipient_payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_name = models.CharField(
        max_length=200, blank=True, help_text="For 'another named recipient'"
    )
    purpose = models.CharField(max_length=10, choices=ConsentPurpose.choices)
    purpose_detail = models.CharField(max_length=200, blank=True)
    information_scope = models.TextField(help_text="What information may be disclosed")
    includes_counseling_notes = models.BooleanField(
        default=False, help_text="SUD counseling notes need their own explicit consent"
    )
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True, help_text="e.g. 'end of treatment'")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-signed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("signed_on")),
                name="consent_expiry_after_signature",
                violation_error_message="The consent expires before it was signed.",
            ),
            models.CheckConstraint(
                condition=~Q(recipient_class="named_payer") | Q(recipient_payer__isnull=False),
                name="consent_named_payer_has_payer",
                violation_error_message="Choose the payer this consent names.",
            ),
        ]

    def __str__(self) -> str:
        return f"Part 2 consent signed {self.signed_on}"


class NoteSubject(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLAIM = "claim", "Claim"
    DENIAL = "denial", "Denial"


class Note(TenantModel):
    """A biller's free-text note on a patient, a claim or a denial.

    One model for all three, here in the lowest app every subject reaches: `subject_type` +
    `subject_id` name the subject (claims and denials live in higher layers, so no foreign key to
    them), `patient` is always the subject's patient (so a patient's page finds every note about
    them), and `part2` is copied from the subject when the note is written (a Part 2 claim's or
    denial's note, or a patient note its author marks as SUD treatment detail): rcm.part2 hides
    such notes from members without the grant.

    Append-only: a note's text is never changed. An edit writes a new note that `corrects` the
    old one (which stays, marked `corrected_at` and shown struck through); a delete retracts it
    (kept for the audit trail, its text no longer shown). Each is audited as a PHI change.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    subject_type = models.CharField(max_length=8, choices=NoteSubject.choices)
    subject_id = models.UUIDField()
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    part2 = models.BooleanField(default=False)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    corrected_at = models.DateTimeField(
        null=True, blank=True, help_text="When a later note corrected this one"
    )
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retraction_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "subject_type", "subject_id"], name="note_org_subject_idx"
            ),
            models.Index(fields=["organization", "patient", "created_at"], name="note_org_pat_idx"),
        ]

    def __str__(self) -> str:
        return f"Note on {self.subject_type} {self.subject_id}"

    @property
    def is_current(self) -> bool:
        """Neither corrected by a later note nor retracted."""
        return self.retracted_at is None and self.corrected_at is None
