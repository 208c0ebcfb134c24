"""Money that reconciles: the organization's bank accounts, the deposits read from their
statements (BAI2 or CSV), and the matches that tie each deposit to the 835 payments (ERAs) it
paid. docs/reconciliation.md explains the matching rules.

Deposits and matches hold no PHI: a deposit is a bank line, and a match names payments (payer
level, like the payment page), never a claim or a patient.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from rcm.tenancy.models import TenantModel

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class BankAccount(TenantModel):
    """One of the organization's bank accounts, with the CSV column mapping its bank's exports
    use (the BAI2 format needs none)."""

    name = models.CharField(max_length=100)
    bank_name = models.CharField(max_length=100, blank=True)
    # The number as the bank's BAI2 files give it (03 record, field 1): how a BAI2 file's
    # accounts are told apart. Only its last four digits are ever shown.
    account_number = models.CharField(max_length=40)
    # CSV mapping: the header of each column, and how the date column is written.
    csv_date_column = models.CharField(max_length=60, blank=True, default="Date")
    csv_date_format = models.CharField(max_length=20, blank=True, default="%m/%d/%Y")
    csv_amount_column = models.CharField(max_length=60, blank=True, default="Amount")
    csv_type_column = models.CharField(max_length=60, blank=True, default="Type")
    csv_reference_column = models.CharField(max_length=60, blank=True, default="Description")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "account_number"], name="bankaccount_org_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (…{self.account_last4})"

    @property
    def account_last4(self) -> str:
        return self.account_number[-4:]


class StatementFormat(models.TextChoices):
    BAI2 = "bai2", "BAI2"
    CSV = "csv", "CSV"


class StatementImport(TenantModel):
    """One imported bank file. Only a file that imported is recorded: a malformed one is refused
    whole and leaves nothing behind."""

    bank_account = models.ForeignKey(
        BankAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    format = models.CharField(max_length=4, choices=StatementFormat.choices)
    sha256 = models.CharField(max_length=64)
    deposits_created = models.PositiveIntegerField(default=0)
    deposits_skipped = models.PositiveIntegerField(default=0)  # already imported from a file
    debits_ignored = models.PositiveIntegerField(default=0)
    auto_matched = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sha256"], name="stmtimport_org_sha_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class DepositKind(models.TextChoices):
    ACH = "ach", "ACH credit"
    CHECK = "check", "Check deposit"
    WIRE = "wire", "Wire"
    OTHER = "other", "Other credit"


class Deposit(TenantModel):
    """Money that arrived in a bank account: one credit line of a statement."""

    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="deposits"
    )
    deposit_date = models.DateField()
    amount = models.DecimalField(**MONEY)
    kind = models.CharField(max_length=5, choices=DepositKind.choices)
    # The bank's own code (BAI2 type code, e.g. 165) or the CSV's type text.
    type_code = models.CharField(max_length=40, blank=True)
    # TRN02 and TRN03 from the ACH addenda (the payer's re-association trace and its id), or for
    # a check the check number when the bank gives it; "" when the bank line carries none.
    trace_number = models.CharField(max_length=80, blank=True)
    payer_identifier = models.CharField(max_length=80, blank=True)
    reference = models.CharField(max_length=500, blank=True)  # the bank line's text, as given
    bank_reference = models.CharField(max_length=80, blank=True)
    # Account, date, amount, kind, reference and the occurrence of that combination in its file:
    # the same bank line in a second file (an overlapping statement) is recognised and skipped.
    natural_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-deposit_date", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "bank_account", "natural_key"],
                name="deposit_org_account_key_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "trace_number"], name="deposit_org_trace_idx"),
            models.Index(
                fields=["organization", "amount", "deposit_date"], name="deposit_org_amount_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Deposit {self.deposit_date} ${self.amount}"


class MatchMethod(models.TextChoices):
    TRACE = "trace", "Automatic (trace and amount)"
    MANUAL = "manual", "By hand"


class Match(TenantModel):
    """Deposits and ERAs (denials.Payment) that are the same money: usually one of each, but a
    payer may split a payment across deposits or pay several ERAs in one. Unmatching keeps the
    row (with who, when and why) and frees its deposits and payments."""

    method = models.CharField(max_length=6, choices=MatchMethod.choices)
    deposit_total = models.DecimalField(**MONEY)
    payment_total = models.DecimalField(**MONEY)
    reason = models.TextField(blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField()
    active = models.BooleanField(default=True)
    unmatch_reason = models.TextField(blank=True)
    unmatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unmatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-matched_at"]
        constraints = [
            # Only a person (with a reason) may match amounts that differ.
            models.CheckConstraint(
                condition=Q(method="manual") | Q(deposit_total=models.F("payment_total")),
                name="match_auto_amounts_agree",
            ),
        ]

    def __str__(self) -> str:
        return f"Match {self.method} ${self.deposit_total}/${self.payment_total}"

    @property
    def difference(self) -> Any:
        return self.deposit_total - self.payment_total


class MatchDeposit(TenantModel):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="deposit_links")
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="match_links")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # A deposit is in one live match at most: a second match of it is refused.
            models.UniqueConstraint(
                fields=["organization", "deposit"],
                condition=Q(active=True),
                name="matchdeposit_one_live_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.match_id} ↔ deposit {self.deposit_id}"


class MatchPayment(TenantModel):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="payment_links")
    payment = models.ForeignKey("denials.Payment", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payment"],
                condition=Q(active=True),
                name="matchpayment_one_live_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.match_id} ↔ payment {self.payment_id}"


class ReconciliationSettings(TenantModel):
    """Per organization: when an ERA without its deposit is worth chasing, and how far apart an
    ERA's date and a deposit's may be for the pair to be suggested."""

    era_without_deposit_days = models.PositiveSmallIntegerField(default=5)
    suggestion_window_days = models.PositiveSmallIntegerField(default=3)
    # A line paid under its contracted amount by no more than this amount, or this percent of
    # the expected payment, is inside the tolerance (rounding, sequestration pennies).
    underpayment_tolerance_amount = models.DecimalField(**MONEY, default=Decimal("1.00"))
    underpayment_tolerance_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("2.00")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="reconsettings_org_uniq")
        ]

    def __str__(self) -> str:
        return "Reconciliation settings"


class UnderpaymentOutcome(models.TextChoices):
    OPEN = "open", "Open"
    RECOVERED = "recovered", "Recovered"
    WRITTEN_OFF = "written_off", "Written off"
    CONTRACT_WRONG = "contract_wrong", "Contract rate was wrong"


class UnderpaymentItem(TenantModel):
    """An 835 service line the payer paid under its contract by more than the tolerance:
    expected = contracted allowed x units - the patient responsibility the 835 assigned; the
    variance is expected - paid. One per remittance line (posting the same 835 twice adds none).
    Part 2 through its claim (rcm/part2.py)."""

    remittance_line = models.OneToOneField(
        "denials.RemittanceLine", on_delete=models.PROTECT, related_name="+"
    )
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    claim_line = models.ForeignKey("claims.ClaimLine", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    contract_rate = models.ForeignKey(
        "claims.ContractRate", on_delete=models.PROTECT, related_name="+"
    )
    service_code = models.CharField(max_length=10)
    date_of_service = models.DateField()
    remittance_date = models.DateField()
    units = models.DecimalField(max_digits=9, decimal_places=2)
    contracted_allowed = models.DecimalField(**MONEY)  # the contract row's rate, per unit
    allowed = models.DecimalField(**MONEY, null=True, blank=True)  # what the 835 said
    patient_responsibility = models.DecimalField(**MONEY)
    expected = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    variance = models.DecimalField(**MONEY)
    outcome = models.CharField(
        max_length=14, choices=UnderpaymentOutcome.choices, default=UnderpaymentOutcome.OPEN
    )
    recovered_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    resolution_reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-remittance_date", "-variance", "pk"]
        indexes = [
            models.Index(
                fields=["organization", "outcome", "remittance_date"], name="underpay_org_out_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(variance__gt=0), name="underpay_variance_positive"),
            models.CheckConstraint(
                condition=Q(recovered_amount__gte=0), name="underpay_recovered_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Underpayment {self.service_code} ${self.variance}"
