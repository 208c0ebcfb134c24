"""Patient accounts: who pays (the guarantor), what the patient owes per charge, and the ledger
of every movement of money on the account.

The pieces, for whoever builds on them (statements, payment plans, sliding fees):
- `Guarantor`: one per patient; none means the patient is their own guarantor (self).
- `ChargeBalance`: one per claim line of a primary claim, the patient's side of that charge.
  The insurance figures (billed, paid, adjusted, patient responsibility) are copied from
  `denials.account.claim_account` by `services.ledger_sync_claim`, never computed here; what the
  patient paid and what was written off are this app's own. `balance` is what the patient owes on
  the charge (a check constraint keeps it equal to responsibility - paid - written off).
  `first_statement_on` is set by the first statement run that bills it (`statements.py`); aging
  falls back to `responsible_since`.
- `LedgerEntry`: the journal. Each entry moves the patient balance (`patient_amount`, signed:
  + owed more, - owed less) and/or the insurance balance (`insurance_amount`). An entry with a
  charge balance belongs to that charge; one without belongs to the account's unapplied credit.
  So, always: the sum of an account's entries' `patient_amount` = the sum of its charge balances
  - its unapplied credit (tests/patient_accounts/test_ledger_property.py checks it).
- `PatientPayment`, `PatientRefund`, `PatientWriteOff`, `CollectionPlacement`,
  `AccountSettings`: the documents behind the patient-side entries.
- `StatementRun`, `Statement`: a statement run per cycle and the statements it made (history).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rcm.tenancy.models import TenantModel

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class Relationship(models.TextChoices):
    SELF = "self", "Self"
    PARENT = "parent", "Parent"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    SPOUSE = "spouse", "Spouse"
    OTHER = "other", "Other responsible person"


class Guarantor(TenantModel):
    """The person responsible for the patient's balance. The patient themself when
    `relationship` is self (the name and address fields are then blank: the patient's own are
    used); otherwise the responsible person's name and mailing address."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="guarantor"
    )
    relationship = models.CharField(
        max_length=20, choices=Relationship.choices, default=Relationship.SELF
    )
    first_name = models.CharField(max_length=35, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    address_line1 = models.CharField(max_length=55, blank=True)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=9, blank=True)
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(relationship="self")
                | (
                    ~Q(first_name="")
                    & ~Q(last_name="")
                    & ~Q(address_line1="")
                    & ~Q(city="")
                    & ~Q(state="")
                    & ~Q(postal_code="")
                ),
                name="guarantor_other_has_name_and_address",
            )
        ]

    def __str__(self) -> str:
        if self.relationship == Relationship.SELF:
            return "Self"
        return f"{self.first_name} {self.last_name} ({self.get_relationship_display()})"


class ChargeBalance(TenantModel):
    """The patient's side of one charge: a claim line of a primary claim (secondary payers'
    outcomes are folded in by `claim_account`)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="charge_balances"
    )
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    claim_line = models.OneToOneField(
        "claims.ClaimLine", on_delete=models.PROTECT, related_name="patient_balance"
    )
    date_of_service = models.DateField()
    procedure_code = models.CharField(max_length=10, blank=True)
    # Copied from denials.account at the last sync.
    billed = models.DecimalField(**MONEY, default=ZERO)
    insurance_paid = models.DecimalField(**MONEY, default=ZERO)
    adjusted = models.DecimalField(**MONEY, default=ZERO)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    # This app's own.
    patient_paid = models.DecimalField(**MONEY, default=ZERO)
    written_off = models.DecimalField(**MONEY, default=ZERO)
    balance = models.DecimalField(**MONEY, default=ZERO)
    # The day the balance first became the patient's (the first sync that found responsibility).
    responsible_since = models.DateField(null=True, blank=True)
    # The day of the first patient statement showing this charge (set by statements); aging
    # counts from it, and from `responsible_since` until then.
    first_statement_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "patient", "balance"], name="chargebal_pat_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    balance=F("patient_responsibility") - F("patient_paid") - F("written_off")
                ),
                name="chargebal_balance_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="chargebal_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(patient_paid__gte=0), name="chargebal_paid_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.date_of_service}: ${self.balance}"

    @property
    def aging_from(self) -> date | None:
        """The day aging counts from: the first statement, else the day it became the
        patient's."""
        return self.first_statement_on or self.responsible_since


class EntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    INSURANCE_PAYMENT = "insurance_payment", "Insurance payment"
    ADJUSTMENT = "adjustment", "Insurance adjustment"
    PATIENT_RESPONSIBILITY = "patient_responsibility", "Transfer to patient responsibility"
    PATIENT_PAYMENT = "patient_payment", "Patient payment"
    CREDIT_TRANSFER = "credit_transfer", "Credit applied or released"
    REFUND = "refund", "Refund"
    WRITE_OFF = "write_off", "Write-off"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card (outside processor)"
    COLLECTION_AGENCY = "collection_agency", "Collection agency"


class PatientPayment(TenantModel):
    """Money the patient (or guarantor, or a collection agency) paid. Card payments are taken
    by an outside processor: only its reference and the card's last four digits are kept."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="patient_payments"
    )
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(**MONEY)
    received_on = models.DateField()
    check_number = models.CharField(max_length=30, blank=True)
    processor_reference = models.CharField(max_length=80, blank=True)
    card_last_four = models.CharField(max_length=4, blank=True)
    placement = models.ForeignKey(
        "CollectionPlacement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    note = models.CharField(max_length=200, blank=True)
    # The API's Idempotency-Key and a digest of the request it came with: the same key with the
    # same body answers the first payment; with another body it is refused.
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_digest = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-created_at"]
        indexes = [
            models.Index(fields=["organization", "patient", "-received_on"], name="ptpay_pat_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ptpay_amount_positive"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ptpay_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} ${self.amount} on {self.received_on}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    RECORDED = "recorded", "Recorded"
    REFUSED = "refused", "Refused"


class PatientRefund(TenantModel):
    """Money given back from the account's unapplied credit: requested with a reason, approved
    by a member with `patient_accounts:approve` (not the requester), then recorded when paid."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="patient_refunds"
    )
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    recorded_on = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ptrefund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Refund ${self.amount} ({self.status})"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class PatientWriteOff(TenantModel):
    """A patient balance written off (the small-balance rule proposes them); posted to the
    ledger when approved."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    charge_balance = models.ForeignKey(ChargeBalance, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ptwriteoff_amount_positive"),
            models.UniqueConstraint(
                fields=["organization", "charge_balance"],
                condition=Q(status="pending"),
                name="ptwriteoff_one_pending_per_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"Write-off ${self.amount} ({self.status})"


class PlacementStatus(models.TextChoices):
    PLACED = "placed", "With the agency"
    RECALLED = "recalled", "Recalled"


class CollectionPlacement(TenantModel):
    """An account placed with a collection agency, with the balance at placement."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    agency_name = models.CharField(max_length=120)
    placed_on = models.DateField()
    amount_placed = models.DecimalField(**MONEY)
    status = models.CharField(
        max_length=10, choices=PlacementStatus.choices, default=PlacementStatus.PLACED
    )
    recalled_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient"],
                condition=Q(status="placed"),
                name="placement_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(amount_placed__gt=0), name="placement_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_name} ({self.placed_on})"


class LedgerEntry(TenantModel):
    """One movement on a patient's account (see the module's docstring for the signs)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    charge_balance = models.ForeignKey(
        ChargeBalance, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    # The entry's place in the account's journal (1, 2, ...): entries written in one instant
    # keep the order they were posted in. Numbered under the patient's row lock.
    sequence = models.PositiveIntegerField()
    # The account's patient balance after this entry (the running balance), kept at posting.
    balance_after = models.DecimalField(**MONEY, default=ZERO)
    # The account's patient balance after this entry (the running balance), kept at posting.
    balance_after = models.DecimalField(**MONEY, default=ZERO)
    posted_on = models.DateField()
    patient_amount = models.DecimalField(**MONEY, default=ZERO)
    insurance_amount = models.DecimalField(**MONEY, default=ZERO)
    description = models.CharField(max_length=200, blank=True)
    payment = models.ForeignKey(
        PatientPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    refund = models.ForeignKey(
        PatientRefund, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    write_off = models.ForeignKey(
        PatientWriteOff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "sequence"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient", "sequence"], name="ledger_patient_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.patient_amount}"


class AccountSettings(TenantModel):
    """Per organization: the small-balance rule (balances under the limit are proposed for
    write-off, each approved by a member with `patient_accounts:approve`; 0 turns it off)."""

    small_balance_limit = models.DecimalField(**MONEY, default=ZERO)
    # Statements: the day of the month a cycle's run is due, the smallest balance billed, the
    # message by the age of the oldest open balance, the label a Part 2 line shows a guarantor
    # without the patient's consent, and the remit-to address (blank: the organization's own).
    statement_cycle_day = models.PositiveSmallIntegerField(default=1)
    statement_minimum = models.DecimalField(**MONEY, default=Decimal("5.00"))
    message_friendly = models.CharField(
        max_length=300, default="Thank you for choosing us. Your balance is due on receipt."
    )
    message_reminder = models.CharField(
        max_length=300, default="Reminder: this balance is now past 30 days. Please pay today."
    )
    message_past_due = models.CharField(
        max_length=300, default="Past due: please pay this balance or call us to set up a plan."
    )
    message_final_notice = models.CharField(
        max_length=300,
        default="Final notice: this balance is over 90 days old. Please call us within 10 days.",
    )
    part2_service_label = models.CharField(max_length=100, default="Behavioral health services")
    remit_to_name = models.CharField(max_length=200, blank=True)
    remit_to_address_line1 = models.CharField(max_length=55, blank=True)
    remit_to_address_line2 = models.CharField(max_length=55, blank=True)
    remit_to_city = models.CharField(max_length=30, blank=True)
    remit_to_state = models.CharField(max_length=2, blank=True)
    remit_to_postal_code = models.CharField(max_length=9, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="ptaccount_settings_one_per_org"),
            models.CheckConstraint(
                condition=Q(small_balance_limit__gte=0), name="ptaccount_small_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(statement_cycle_day__gte=1, statement_cycle_day__lte=28),
                name="ptaccount_cycle_day_1_28",
            ),
            models.CheckConstraint(
                condition=Q(statement_minimum__gte=0), name="ptaccount_stmt_minimum_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Small balances under ${self.small_balance_limit}"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class StatementRun(TenantModel):
    """One statement batch per organization per cycle (`cycle` is the month, "YYYY-MM"); its
    counts are the progress the run page polls."""

    cycle = models.CharField(max_length=7)
    statement_date = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    statements_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    amount_total = models.DecimalField(**MONEY, default=ZERO)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-cycle"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "cycle"], name="stmtrun_one_per_cycle")
        ]

    def __str__(self) -> str:
        return f"Statements {self.cycle}"


class Statement(TenantModel):
    """One guarantor's statement of one run: a snapshot (the history) of what was sent — the
    lines since the last statement, the open charges, insurance paid, amount owed, aging and
    message. `part2` is set when a line came from a Part 2 claim (rcm.part2 hides the statement
    from members without the grant)."""

    run = models.ForeignKey(StatementRun, on_delete=models.PROTECT, related_name="statements")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="statements"
    )
    statement_date = models.DateField()
    guarantor_name = models.CharField(max_length=100)
    guarantor_address = models.JSONField(default=dict)
    # The last ledger entry included: the next statement's lines start after it.
    through_sequence = models.PositiveIntegerField(default=0)
    lines = models.JSONField(default=list)
    charges = models.JSONField(default=list)
    previous_balance = models.DecimalField(**MONEY, default=ZERO)
    insurance_paid = models.DecimalField(**MONEY, default=ZERO)
    amount_due = models.DecimalField(**MONEY)
    aging = models.JSONField(default=dict)
    message_level = models.CharField(max_length=20)
    message = models.CharField(max_length=300)
    part2 = models.BooleanField(default=False)

    class Meta:
        ordering = ["-statement_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "run", "patient"], name="statement_one_per_run_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Statement {self.statement_date} ${self.amount_due}"
