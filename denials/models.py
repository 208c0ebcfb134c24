"""Remittance (835) posting, denials, the follow-up work queue, appeals, write-offs.

CARC/RARC code lists are global reference data (ordinary tables, filled by a data migration);
everything else is tenant data. Money is Decimal with 2 places.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from rcm.tenancy.models import TenantModel

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class DenialCategory(models.TextChoices):
    AUTHORIZATION = "authorization", "Authorization"
    MEDICAL_NECESSITY = "medical_necessity", "Medical necessity"
    CODING = "coding", "Coding"
    INFORMATION_MISSING = "information_missing", "Information missing"
    DOCUMENTATION = "documentation", "Documentation"
    ELIGIBILITY = "eligibility", "Eligibility"
    COB = "cob", "Coordination of benefits"
    TIMELY_FILING = "timely_filing", "Timely filing"
    DUPLICATE = "duplicate", "Duplicate"
    CREDENTIALING = "credentialing", "Credentialing"
    COVERAGE = "coverage", "Coverage"
    BENEFIT_LIMIT = "benefit_limit", "Benefit limit"
    OTHER = "other", "Other"


class ReasonKind(models.TextChoices):
    """What a CARC means for posting: a denial reason, the contract, or the patient's share."""

    DENIAL = "denial", "Denial"
    CONTRACTUAL = "contractual", "Contractual"
    PATIENT_SHARE = "patient_share", "Patient share"
    OTHER = "other", "Other adjustment"


class AdjustmentReason(models.Model):
    """A Claim Adjustment Reason Code (global reference data, our own short wording)."""

    code = models.CharField(max_length=5, primary_key=True)
    description = models.CharField(max_length=200)
    kind = models.CharField(max_length=14, choices=ReasonKind.choices)
    category = models.CharField(max_length=20, choices=DenialCategory.choices, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"CARC {self.code}: {self.description}"


class RemarkCode(models.Model):
    """A Remittance Advice Remark Code (global reference data, our own short wording)."""

    code = models.CharField(max_length=6, primary_key=True)
    description = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=DenialCategory.choices, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"RARC {self.code}: {self.description}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Posting"
    POSTED = "posted", "Posted"
    DUPLICATE = "duplicate", "Duplicate (nothing posted)"
    REJECTED = "rejected", "Rejected"


class RemittanceImport(TenantModel):
    """One uploaded 835 file and the job that posts it (the UI polls its progress)."""

    file_name = models.CharField(max_length=200)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, default="ui")  # ui, api, folder
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_claims = models.PositiveIntegerField(default=0)
    processed_claims = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    error_position = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A file posts once: at most one import of the same bytes is live (waiting, posting or
            # posted); the same bytes again are recorded as a duplicate, never posted, however
            # close together the uploads arrive (services.remittance_import_create).
            models.UniqueConstraint(
                fields=["organization", "sha256"],
                condition=Q(status__in=["pending", "running", "posted"]),
                name="remitimport_org_sha_live_uniq",
            )
        ]
        indexes = [models.Index(fields=["organization", "sha256"], name="remitimport_org_sha_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        if not self.total_claims:
            return 100 if self.status in {ImportStatus.POSTED, ImportStatus.DUPLICATE} else 0
        return min(100, round(100 * self.processed_claims / self.total_claims))


class Payment(TenantModel):
    """BPR/TRN: one check or EFT and the claims it pays."""

    remittance_import = models.ForeignKey(
        RemittanceImport, on_delete=models.PROTECT, related_name="payments"
    )
    payer = models.ForeignKey(
        "patients.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer_name = models.CharField(max_length=120, blank=True)
    payer_identifier = models.CharField(max_length=80, blank=True)
    trace_number = models.CharField(max_length=80)
    amount = models.DecimalField(**MONEY)
    credit_debit = models.CharField(max_length=1, blank=True)
    method = models.CharField(max_length=3, blank=True)
    handling_code = models.CharField(max_length=2, blank=True)
    payment_date = models.DateField(null=True, blank=True)
    provider_adjustment_total = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["-payment_date", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer_identifier", "trace_number"],
                name="payment_org_trace_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"Payment {self.trace_number} ${self.amount}"


# CLP02, the payer's claim status code (835 TR3), in our own words.
CLP_STATUS_WORDING = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to another payer",
    "20": "Processed as secondary, forwarded to another payer",
    "21": "Processed as tertiary, forwarded to another payer",
    "22": "Reversal of a previous payment",
    "23": "Not our claim, forwarded to another payer",
    "25": "Predetermination pricing only, no payment",
}


class RemittanceClaim(TenantModel):
    """CLP: the payer's decision on one of our claims (or on a claim we could not match)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="claims")
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_control_number = models.CharField(max_length=38)
    status_code = models.CharField(max_length=2)
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY, default=0)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    crossover_payer_name = models.CharField(max_length=120, blank=True)
    remark_codes = models.JSONField(default=list, blank=True)
    segment_position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["payment", "segment_position"]
        indexes = [models.Index(fields=["organization", "claim"], name="remitclaim_org_claim_idx")]

    def __str__(self) -> str:
        return f"CLP {self.patient_control_number} ({self.status_code})"

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"

    @property
    def status_wording(self) -> str:
        return CLP_STATUS_WORDING.get(self.status_code, "")


class RemittanceLine(TenantModel):
    """SVC: paid and allowed for one of our claim lines."""

    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.CASCADE, related_name="lines"
    )
    claim_line = models.ForeignKey(
        "claims.ClaimLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_code = models.CharField(max_length=10)
    original_service_code = models.CharField(
        max_length=10,
        blank=True,
        help_text="SVC06: the code we billed when the payer adjudicated another one",
    )
    line_control_number = models.CharField(max_length=30, blank=True)
    service_date = models.DateField(null=True, blank=True)
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    allowed = models.DecimalField(**MONEY, null=True, blank=True)
    units = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    remark_codes = models.JSONField(default=list, blank=True)
    segment_position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["remittance_claim", "segment_position", "created_at"]

    def __str__(self) -> str:
        return f"SVC {self.service_code} paid ${self.paid}"


class RemittanceAdjustment(TenantModel):
    """CAS: one group code + CARC + amount (+ quantity), on a claim or one of its lines."""

    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.CASCADE, related_name="adjustments"
    )
    remittance_line = models.ForeignKey(
        RemittanceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments"
    )
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5)
    amount = models.DecimalField(**MONEY)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["remittance_claim", "created_at"]
        indexes = [
            models.Index(fields=["organization", "reason_code"], name="remitadj_org_reason_idx")
        ]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} ${self.amount}"


class ProviderAdjustment(TenantModel):
    """PLB: an adjustment to the payment not tied to a claim (interest, offsets, recoupments)."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="provider_adjustments"
    )
    provider_identifier = models.CharField(max_length=50)
    reason_code = models.CharField(max_length=4)
    reference = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["payment", "created_at"]

    def __str__(self) -> str:
        return f"PLB {self.reason_code} ${self.amount}"


class ExceptionKind(models.TextChoices):
    UNMATCHED_CLAIM = "unmatched_claim", "Unmatched claim id"
    UNMATCHED_LINE = "unmatched_line", "Unmatched service line"


class RemittanceException(TenantModel):
    """Something in an 835 we could not post to one of our claims: it waits here for a person."""

    remittance_import = models.ForeignKey(
        RemittanceImport, on_delete=models.CASCADE, related_name="exceptions"
    )
    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.CASCADE, related_name="exceptions"
    )
    remittance_line = models.ForeignKey(
        RemittanceLine, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    message = models.CharField(max_length=300)
    amount = models.DecimalField(**MONEY, default=0)
    resolved = models.BooleanField(default=False)
    resolution_note = models.TextField(
        blank=True, help_text="How it was resolved: the match made, or why it is not ours"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resolved", "-created_at"]

    def __str__(self) -> str:
        return self.message

    @property
    def summary(self) -> str:
        """Which id matched nothing of ours (reads the CLP and SVC the list selects with it)."""
        from denials.rules import exception_summary

        rc, line = self.remittance_claim, self.remittance_line
        return exception_summary(
            kind=self.kind,
            patient_control_number=rc.patient_control_number,
            payer_claim_number=rc.payer_claim_number,
            service_code=line.service_code if line else "",
            service_date=line.service_date if line else None,
            line_control_number=line.line_control_number if line else "",
        )

    @property
    def is_matched(self) -> bool:
        """Resolved by posting it to one of our claims (not dismissed as not ours)."""
        if self.kind == ExceptionKind.UNMATCHED_CLAIM:
            return self.remittance_claim.claim_id is not None
        return self.remittance_line is not None and self.remittance_line.claim_line_id is not None


class LineBalance(TenantModel):
    """Running totals of everything posted to one claim line (reversals subtract)."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="+")
    claim_line = models.OneToOneField(
        "claims.ClaimLine", on_delete=models.CASCADE, related_name="balance"
    )
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY, default=0)
    allowed = models.DecimalField(**MONEY, null=True, blank=True)
    contractual = models.DecimalField(**MONEY, default=0)
    denied = models.DecimalField(**MONEY, default=0)
    patient_responsibility = models.DecimalField(**MONEY, default=0)
    other_adjusted = models.DecimalField(**MONEY, default=0)
    written_off = models.DecimalField(**MONEY, default=0)
    transferred = models.DecimalField(
        **MONEY, default=0, help_text="Moved to the secondary coverage"
    )
    prior_payer = models.DecimalField(
        **MONEY,
        default=0,
        help_text="On a secondary claim's line: what the primary settled (paid and adjusted)",
    )

    class Meta:
        ordering = ["claim", "created_at"]
        indexes = [models.Index(fields=["organization", "claim"], name="linebal_org_claim_idx")]

    def __str__(self) -> str:
        return f"Balance {self.open_balance}"

    @property
    def open_balance(self):  # type: ignore[no-untyped-def]
        """What is still owed to us on the line: charge less payments, contractual and other
        adjustments, write-offs, what moved to the secondary payer and, on a secondary claim's
        line, what the primary already settled."""
        return (
            self.charge
            - self.paid
            - self.contractual
            - self.other_adjusted
            - self.written_off
            - self.transferred
            - self.prior_payer
        )


class SecondaryStatus(models.TextChoices):
    TO_BILL = "to_bill", "To bill"
    CROSSED_OVER = "crossed_over", "Crossed over by the primary"
    BILLED = "billed", "Claim built"


class SecondaryClaim(TenantModel):
    """The balance moved to the secondary coverage after the primary paid, with the primary's
    adjudication (what the 837 COB loops 2320/2330/2430 carry)."""

    primary_claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    remittance_claim = models.OneToOneField(
        RemittanceClaim, on_delete=models.PROTECT, related_name="secondary"
    )
    claim = models.OneToOneField(
        "claims.Claim",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The secondary claim built from it",
    )
    coverage = models.ForeignKey("patients.Coverage", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    primary_paid = models.DecimalField(**MONEY)
    primary_adjudication = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12, choices=SecondaryStatus.choices, default=SecondaryStatus.TO_BILL
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Secondary ${self.amount}"


class Denial(TenantModel):
    """A denied or partially denied line (or claim), with what it would take to recover it."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    claim_line = models.ForeignKey(
        "claims.ClaimLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.PROTECT, related_name="denials"
    )
    remittance_line = models.OneToOneField(
        RemittanceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="denial"
    )
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    group_code = models.CharField(max_length=2)
    carc = models.CharField(max_length=5)
    rarcs = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=20, choices=DenialCategory.choices)
    amount = models.DecimalField(**MONEY)
    fully_denied = models.BooleanField(default=True)
    remittance_date = models.DateField()
    appeal_deadline = models.DateField()
    recoverable = models.BooleanField(default=True)

    class Meta:
        ordering = ["appeal_deadline"]
        indexes = [
            models.Index(fields=["organization", "payer", "category"], name="denial_org_payer_idx"),
            models.Index(
                fields=["organization", "appeal_deadline"], name="denial_org_deadline_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Denial {self.group_code}-{self.carc} ${self.amount}"


class WorkKind(models.TextChoices):
    DENIAL = "denial", "Denial"
    REJECTION = "rejection", "Rejection"
    UNMATCHED_REMITTANCE = "unmatched_remittance", "Unmatched remittance"
    PAYER_FOLLOW_UP = "payer_follow_up", "Payer follow-up"
    STATUS_FOLLOW_UP = "status_follow_up", "Claim status follow-up"


class WorkStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_PAYER = "waiting_on_payer", "Waiting on payer"
    APPEALED = "appealed", "Appealed"
    RESOLVED_PAID = "resolved_paid", "Resolved, paid"
    WRITTEN_OFF = "written_off", "Written off"


OPEN_WORK_STATUSES = (
    WorkStatus.NEW,
    WorkStatus.IN_PROGRESS,
    WorkStatus.WAITING_ON_PAYER,
    WorkStatus.APPEALED,
)


class WorkItem(TenantModel):
    """One thing a biller must chase. `kind` + `source_id` name what it came from (a denial, a
    front-door rejection, an unmatched remittance, a follow-up), so other apps can feed it."""

    kind = models.CharField(max_length=20, choices=WorkKind.choices)
    source_id = models.UUIDField()
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer = models.ForeignKey(
        "patients.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=DenialCategory.choices, blank=True)
    amount = models.DecimalField(**MONEY, default=0)
    deadline = models.DateField(null=True, blank=True)
    priority_score = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=16, choices=WorkStatus.choices, default=WorkStatus.NEW)
    status_changed_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_follow_up = models.DateField(null=True, blank=True)
    is_due = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    opened_on = models.DateField()

    class Meta:
        ordering = ["-priority_score", "opened_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "source_id"], name="workitem_org_source_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "priority_score"], name="workitem_org_queue_idx"
            ),
            models.Index(
                fields=["organization", "next_follow_up"], name="workitem_org_followup_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_WORK_STATUSES


class WorkItemEvent(TenantModel):
    """Append-only history of a work item: status moves, assignments and notes."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class AppealLevel(models.TextChoices):
    LEVEL_1 = "level_1", "Level 1"
    LEVEL_2 = "level_2", "Level 2"
    EXTERNAL = "external", "External review"


class AppealOutcome(models.TextChoices):
    PENDING = "", "Pending"
    OVERTURNED = "overturned", "Overturned (paid)"
    PARTIAL = "partial", "Partially overturned"
    UPHELD = "upheld", "Upheld"


class Appeal(TenantModel):
    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="appeals")
    level = models.CharField(max_length=10, choices=AppealLevel.choices)
    deadline = models.DateField()
    submitted_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=20, blank=True)  # portal, fax, mail, phone
    outcome = models.CharField(max_length=10, choices=AppealOutcome.choices, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    recovered_amount = models.DecimalField(**MONEY, default=0)
    letter_body = models.TextField(blank=True)
    letter_updated_at = models.DateTimeField(null=True, blank=True)
    # The letter as sent, recorded once when the appeal is marked sent: the HTML it was printed
    # from and the PDF itself. The download serves this copy from then on.
    sent_letter_html = models.TextField(blank=True)
    sent_letter_pdf = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["denial", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "denial", "level"], name="appeal_org_denial_level_uniq"
            ),
            models.CheckConstraint(
                condition=Q(recovered_amount__gte=0), name="appeal_recovered_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} appeal"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    AUTO = "auto", "Automatic (small balance rule)"
    REFUSED = "refused", "Refused"


class WriteOff(TenantModel):
    claim_line = models.ForeignKey("claims.ClaimLine", on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Write-off ${self.amount}"


class DenialSettings(TenantModel):
    """Per organization: who must approve a write-off and what counts as a small balance."""

    write_off_approval_threshold = models.DecimalField(**MONEY, default=100)
    small_balance_limit = models.DecimalField(**MONEY, default=5)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="denialsettings_org_uniq")
        ]

    def __str__(self) -> str:
        return "Denial settings"
