"""Every change to patient accounts. Each function runs in one transaction, locks the patient's
row first (so two front-desk clerks posting on one account queue rather than race), raises
DomainError naming the field for anything a user can fix, and writes the audit trail.

The insurance side of each charge is never computed here: `ledger_sync_claim` copies the figures
of `denials.account.claim_account` (what the claim page shows) and posts the differences to the
ledger, so running it twice posts nothing the second time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum

from claims.models import Claim, ClaimStatus
from denials.account import claim_account
from patient_accounts import rules
from patient_accounts.models import (
    ZERO,
    AccountSettings,
    ChargeBalance,
    CollectionPlacement,
    EntryKind,
    Guarantor,
    LedgerEntry,
    PatientPayment,
    PatientRefund,
    PatientWriteOff,
    PaymentMethod,
    PlacementStatus,
    RefundStatus,
    Relationship,
    WriteOffStatus,
)
from patients.models import Patient
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError, ErrorCollector
from rcm.tenancy.context import require_organization_id
from rcm.validators import ADDRESS_CLEANERS, PERSON_NAME_CLEANERS, clean_fields, clean_phone

CENT = Decimal("0.01")
# Claims whose charges have gone to a payer: a draft or ready claim owes nobody anything yet,
# and a void claim no longer does.
BILLED_STATUSES = [s for s in ClaimStatus.values if s not in {ClaimStatus.DRAFT, ClaimStatus.READY}]


def _lock_patient(patient: Patient | Any) -> Patient:
    pk = patient.pk if isinstance(patient, Patient) else patient
    return Patient.objects.select_for_update().get(pk=pk)


def _money(value: Any, *, field: str) -> Decimal:
    """A positive amount of dollars and cents, or a DomainError naming `field`."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError("Enter an amount such as 25.00.", field=field) from None
    if not amount.is_finite():
        raise DomainError("Enter an amount such as 25.00.", field=field)
    if amount != amount.quantize(CENT):
        raise DomainError("Amounts are in dollars and cents (two decimal places).", field=field)
    if amount <= ZERO:
        raise DomainError("The amount must be more than zero.", field=field)
    if amount >= Decimal("10000000000"):
        raise DomainError("The amount is too large.", field=field)
    return amount.quantize(CENT)


def account_credit(*, patient: Patient) -> Decimal:
    """The account's unapplied credit: what was paid and not applied to any charge, less refunds
    (the negative of the entries that belong to no charge)."""
    total = LedgerEntry.objects.filter(patient=patient, charge_balance__isnull=True).aggregate(
        s=Sum("patient_amount")
    )["s"]
    return -(total or ZERO)


# --- Guarantor --------------------------------------------------------------------------------

GUARANTOR_FIELDS = (
    "relationship",
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
)
GUARANTOR_REQUIRED = ("first_name", "last_name", "address_line1", "city", "state", "postal_code")


def guarantor_of(*, patient: Patient) -> Guarantor:
    """The patient's guarantor: the recorded one, or (none recorded) the patient themself."""
    found = Guarantor.objects.filter(patient=patient).first()
    return found or Guarantor(patient=patient, relationship=Relationship.SELF)


def guarantor_set(*, patient: Patient, data: dict[str, Any]) -> Guarantor:
    """Record who is responsible for the patient's balance: self (the name and address are
    cleared) or another person with a name and a mailing address an envelope can carry."""
    values = {f: str(data.get(f) or "").strip() for f in GUARANTOR_FIELDS}
    relationship = values["relationship"] or Relationship.SELF
    errors = ErrorCollector()
    if relationship not in Relationship.values:
        errors.add("Choose a relationship from the list.", field="relationship")
    if relationship == Relationship.SELF:
        values = dict.fromkeys(GUARANTOR_FIELDS, "")
    else:
        for field in GUARANTOR_REQUIRED:
            if not values[field]:
                errors.add("Required for a guarantor other than the patient.", field=field)
        cleaners = {**PERSON_NAME_CLEANERS, **ADDRESS_CLEANERS, "phone": clean_phone}
        cleaned: dict[str, object] = dict(values)
        for field, message in clean_fields(cleaned, cleaners).items():
            errors.add(message, field=field)
        values = {k: str(v) for k, v in cleaned.items()}
    errors.raise_any()
    values["relationship"] = relationship
    with transaction.atomic():
        patient = _lock_patient(patient)
        guarantor = Guarantor.objects.filter(patient=patient).first() or Guarantor(patient=patient)
        changed = [f for f in GUARANTOR_FIELDS if getattr(guarantor, f) != values[f]]
        for field in GUARANTOR_FIELDS:
            setattr(guarantor, field, values[field])
        guarantor.save()
        audit_record(
            action="guarantor.set",
            obj=guarantor,
            patient_id=patient.pk,
            detail={"fields": changed},
        )
    return guarantor


def _post(entries: list[LedgerEntry]) -> None:
    """Write entries of one account, numbered after its last (the caller holds the patient's
    row lock, so no other transaction numbers entries of this account meanwhile)."""
    if not entries:
        return
    last = (
        LedgerEntry.objects.filter(patient_id=entries[0].patient_id)
        .order_by("-sequence")
        .values_list("sequence", "balance_after")
        .first()
    )
    sequence, balance = last or (0, ZERO)
    for entry in entries:
        sequence += 1
        balance += entry.patient_amount
        entry.sequence, entry.balance_after = sequence, balance
    LedgerEntry.objects.bulk_create(entries)


# --- Ledger sync (the insurance side, from denials.account) -----------------------------------


def _entry(
    cb: ChargeBalance | None, patient_id: Any, kind: str, today: date, **kw: Any
) -> LedgerEntry:
    # bulk_create skips TenantModel.save: the organization is set here.
    return LedgerEntry(
        organization_id=require_organization_id(),
        patient_id=patient_id,
        charge_balance=cb,
        kind=kind,
        posted_on=today,
        **kw,
    )


def ledger_sync_claim(*, claim_id: Any, today: date) -> list[LedgerEntry]:
    """Bring the charges of a claim (its primary, for a secondary claim) in line with what the
    claim's money says (`denials.account.claim_account`): post the difference of each figure as
    a ledger entry. Running it again posts nothing. The organization's own work: it sees every
    claim (Part 2 included); the ledger's readers are narrowed when they read."""
    with transaction.atomic():
        claim = Claim.objects.select_related("payer").get(pk=claim_id)
        if claim.primary_claim_id:
            claim = Claim.objects.select_related("payer").get(pk=claim.primary_claim_id)
        _lock_patient(claim.patient_id)
        if claim.status not in BILLED_STATUSES:
            return []
        account = claim_account(claim=claim, scopes=part2.ORGANIZATION)
        existing = {
            cb.claim_line_id: cb
            for cb in ChargeBalance.objects.select_for_update().filter(claim=claim)
        }
        entries: list[LedgerEntry] = []
        void = claim.status == ClaimStatus.VOID
        for lm in account.lines:
            line = lm.line
            assert line is not None
            cb = existing.get(line.pk) or ChargeBalance(
                patient_id=claim.patient_id,
                claim=claim,
                claim_line=line,
                date_of_service=line.date_of_service,
                procedure_code=line.service_code,
            )
            billed = ZERO if void else lm.billed
            paid = ZERO if void else lm.paid
            adjusted = ZERO if void else lm.adjusted
            # A negative patient share (a reversal larger than what the patient was charged) is
            # no debt of the patient's: the charge's responsibility stops at zero.
            responsibility = ZERO if void else max(lm.patient_responsibility, ZERO)
            entries += _sync_line(cb, billed, paid, adjusted, responsibility, today)
        _post(entries)
        if entries:
            audit_record(
                action="patient_ledger.sync",
                obj=claim,
                patient_id=claim.patient_id,
                detail={"entries": len(entries)},
            )
    return entries


def _sync_line(
    cb: ChargeBalance,
    billed: Decimal,
    paid: Decimal,
    adjusted: Decimal,
    responsibility: Decimal,
    today: date,
) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    pid = cb.patient_id
    code = f"{cb.procedure_code} on {cb.date_of_service}"
    if billed != cb.billed:
        out.append(
            _entry(
                cb,
                pid,
                EntryKind.CHARGE,
                today,
                insurance_amount=billed - cb.billed,
                description=f"Charge {code}",
            )
        )
    if paid != cb.insurance_paid:
        out.append(
            _entry(
                cb,
                pid,
                EntryKind.INSURANCE_PAYMENT,
                today,
                insurance_amount=-(paid - cb.insurance_paid),
                description=f"Insurance paid {code}",
            )
        )
    if adjusted != cb.adjusted:
        out.append(
            _entry(
                cb,
                pid,
                EntryKind.ADJUSTMENT,
                today,
                insurance_amount=-(adjusted - cb.adjusted),
                description=f"Insurance adjustment {code}",
            )
        )
    moved = responsibility - cb.patient_responsibility
    if moved:
        out.append(
            _entry(
                cb,
                pid,
                EntryKind.PATIENT_RESPONSIBILITY,
                today,
                insurance_amount=-moved,
                patient_amount=moved,
                description=f"Patient responsibility {code}",
            )
        )
    cb.billed, cb.insurance_paid, cb.adjusted = billed, paid, adjusted
    cb.patient_responsibility = responsibility
    if responsibility > ZERO and cb.responsible_since is None:
        cb.responsible_since = today
    # A share that shrank below what the patient already paid: the excess payment goes back to
    # the account's credit; below what was written off, the write-off is reversed.
    over = cb.patient_paid + cb.written_off - responsibility
    if over > ZERO:
        released = min(over, cb.patient_paid)
        if released:
            cb.patient_paid -= released
            out.append(
                _entry(
                    cb,
                    pid,
                    EntryKind.CREDIT_TRANSFER,
                    today,
                    patient_amount=released,
                    description=f"Payment moved to credit {code}",
                )
            )
            out.append(
                _entry(
                    None,
                    pid,
                    EntryKind.CREDIT_TRANSFER,
                    today,
                    patient_amount=-released,
                    description=f"Credit from {code}",
                )
            )
            over -= released
        if over > ZERO:
            cb.written_off -= over
            out.append(
                _entry(
                    cb,
                    pid,
                    EntryKind.WRITE_OFF,
                    today,
                    patient_amount=over,
                    description=f"Write-off reversed {code}",
                )
            )
    cb.balance = cb.patient_responsibility - cb.patient_paid - cb.written_off
    if out or cb._state.adding:
        cb.save()
    return out


def ledger_sync_patient(*, patient: Patient, today: date) -> int:
    """Sync every billed primary claim of the patient; the number of entries posted."""
    claim_ids = list(
        Claim.objects.filter(
            patient=patient, primary_claim__isnull=True, status__in=BILLED_STATUSES
        ).values_list("pk", flat=True)
    )
    return sum(len(ledger_sync_claim(claim_id=pk, today=today)) for pk in claim_ids)


# --- Patient payments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    charge_balance_id: Any
    amount: Any


@dataclass
class PaymentResult:
    payment: PatientPayment
    created: bool


def request_digest(data: dict[str, Any]) -> str:
    """A digest of a payment request's body, to tell a retry from another request under the
    same Idempotency-Key."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _open_balances(patient: Patient, scopes: Collection[str]) -> list[ChargeBalance]:
    """The caller's visible open balances, oldest first (by the day aging counts from)."""
    qs = part2.visible(ChargeBalance.objects.filter(patient=patient, balance__gt=0), scopes)
    return sorted(
        qs.select_for_update(of=("self",)),
        key=lambda cb: (cb.aging_from or cb.date_of_service, cb.date_of_service, cb.created_at),
    )


def _check_method(
    errors: ErrorCollector,
    *,
    method: str,
    check_number: str,
    processor_reference: str,
    card_last_four: str,
    note: str,
) -> None:
    if method not in PaymentMethod.values:
        errors.add("Choose cash, check, card or collection agency.", field="method")
    if method == PaymentMethod.CHECK and not check_number:
        errors.add("Enter the check number.", field="check_number")
    if method == PaymentMethod.CARD:
        if not processor_reference:
            errors.add(
                "Enter the processor's reference for the card payment.", field="processor_reference"
            )
        if not (len(card_last_four) == 4 and card_last_four.isdigit()):
            errors.add(
                "Enter the last four digits of the card, and only those.", field="card_last_four"
            )
    card_refusal = (
        "This looks like a full card number. Parity never keeps card numbers: enter only the "
        "processor's reference and the last four digits."
    )
    for field, value in (
        ("card_last_four", card_last_four),
        ("processor_reference", processor_reference),
        ("check_number", check_number),
        ("note", note),
    ):
        if rules.looks_like_card_number(value):
            errors.add(card_refusal, field=field)


def payment_record(
    *,
    patient: Patient,
    scopes: Collection[str],
    method: str,
    amount: Any,
    received_on: date,
    today: date,
    check_number: str = "",
    processor_reference: str = "",
    card_last_four: str = "",
    note: str = "",
    placement: CollectionPlacement | None = None,
    allocations: Sequence[Allocation] | None = None,
    idempotency_key: str = "",
    digest: str = "",
    recorded_by: Any = None,
) -> PaymentResult:
    """Record a patient payment and apply it: to the charges chosen (`allocations`), else to the
    oldest open balances; what is left is unapplied credit. With an idempotency key already used,
    the same request answers the first payment and another request is refused (code
    `idempotency_conflict`)."""
    check_number, processor_reference = check_number.strip(), processor_reference.strip()
    card_last_four, note = card_last_four.strip(), note.strip()
    errors = ErrorCollector()
    with errors.check():
        amount = _money(amount, field="amount")
    _check_method(
        errors,
        method=method,
        check_number=check_number,
        processor_reference=processor_reference,
        card_last_four=card_last_four,
        note=note,
    )
    if received_on > today:
        errors.add("The payment cannot be received in the future.", field="received_on")
    if method == PaymentMethod.COLLECTION_AGENCY and placement is None:
        errors.add("Choose the placement this agency payment is for.", field="placement")
    if placement is not None and placement.patient_id != patient.pk:
        errors.add("That placement is another patient's.", field="placement")
    chosen: list[tuple[Any, Decimal]] = []
    for i, a in enumerate(allocations or ()):
        with errors.check():
            chosen.append((a.charge_balance_id, _money(a.amount, field=f"allocations[{i}].amount")))
    errors.raise_any()
    with transaction.atomic():
        patient = _lock_patient(patient)
        if idempotency_key:
            first = PatientPayment.objects.filter(idempotency_key=idempotency_key).first()
            if first is not None:
                if first.request_digest != digest or first.patient_id != patient.pk:
                    raise DomainError(
                        "This Idempotency-Key was already used for a different payment.",
                        field="Idempotency-Key",
                        code="idempotency_conflict",
                    )
                return PaymentResult(first, created=False)
        open_balances = _open_balances(patient, scopes)
        by_id = {str(cb.pk): cb for cb in open_balances}
        if chosen:
            plan = _chosen_plan(chosen, by_id, amount)
        else:
            plan = rules.allocate_oldest_first(
                amount, [rules.Open(cb.pk, cb.balance) for cb in open_balances]
            )
        payment = PatientPayment.objects.create(
            patient=patient,
            method=method,
            amount=amount,
            received_on=received_on,
            check_number=check_number if method == PaymentMethod.CHECK else "",
            processor_reference=processor_reference,
            card_last_four=card_last_four if method == PaymentMethod.CARD else "",
            placement=placement,
            note=note,
            idempotency_key=idempotency_key,
            request_digest=digest,
            recorded_by=recorded_by,
        )
        label = f"{payment.get_method_display()} payment"
        entries = []
        for pk, applied in plan:
            cb = by_id[str(pk)]
            cb.patient_paid += applied
            cb.balance -= applied
            cb.save(update_fields=["patient_paid", "balance", "updated_at"])
            entries.append(
                _entry(
                    cb,
                    patient.pk,
                    EntryKind.PATIENT_PAYMENT,
                    received_on,
                    patient_amount=-applied,
                    payment=payment,
                    description=f"{label} to {cb.procedure_code} on {cb.date_of_service}",
                )
            )
        credit = amount - sum((a for _, a in plan), ZERO)
        if credit:
            entries.append(
                _entry(
                    None,
                    patient.pk,
                    EntryKind.PATIENT_PAYMENT,
                    received_on,
                    patient_amount=-credit,
                    payment=payment,
                    description=f"{label}: unapplied credit",
                )
            )
        _post(entries)
        audit_record(
            action="patient_payment.record",
            obj=payment,
            patient_id=patient.pk,
            detail={"method": method, "applied_to": len(plan), "credit": str(credit)},
            part2=False,
        )
    return PaymentResult(payment, created=True)


def _chosen_plan(
    chosen: list[tuple[Any, Decimal]], by_id: dict[Any, ChargeBalance], amount: Decimal
) -> list[tuple[Any, Decimal]]:
    errors = ErrorCollector()
    plan: dict[Any, Decimal] = {}
    for i, (pk, applied) in enumerate(chosen):
        cb = by_id.get(str(pk))
        field = f"allocations[{i}].charge"
        if cb is None:
            errors.add("No open balance of this patient has that id.", field=field)
            continue
        key = str(cb.pk)
        plan[key] = plan.get(key, ZERO) + applied
        if plan[key] > cb.balance:
            errors.add(
                f"Over-allocation: ${plan[key]} is more than the ${cb.balance} owed on this charge.",
                field=f"allocations[{i}].amount",
            )
    total = sum(plan.values(), ZERO)
    if total > amount:
        errors.add(
            f"Over-allocation: the allocations add up to ${total}, more than the ${amount} paid.",
            field="allocations",
        )
    errors.raise_any()
    return list(plan.items())


def credit_apply(*, patient: Patient, scopes: Collection[str], today: date) -> Decimal:
    """Apply the account's unapplied credit to its oldest open balances; the amount applied."""
    with transaction.atomic():
        patient = _lock_patient(patient)
        credit = account_credit(patient=patient)
        if credit <= ZERO:
            raise DomainError("The account has no unapplied credit.", field="credit")
        open_balances = _open_balances(patient, scopes)
        plan = rules.allocate_oldest_first(
            credit, [rules.Open(cb, cb.balance) for cb in open_balances]
        )
        if not plan:
            raise DomainError("Nothing is owed to apply the credit to.", field="credit")
        entries = []
        for cb, applied in plan:
            cb.patient_paid += applied
            cb.balance -= applied
            cb.save(update_fields=["patient_paid", "balance", "updated_at"])
            what = f"{cb.procedure_code} on {cb.date_of_service}"
            entries.append(
                _entry(
                    cb,
                    patient.pk,
                    EntryKind.CREDIT_TRANSFER,
                    today,
                    patient_amount=-applied,
                    description=f"Credit applied to {what}",
                )
            )
            entries.append(
                _entry(
                    None,
                    patient.pk,
                    EntryKind.CREDIT_TRANSFER,
                    today,
                    patient_amount=applied,
                    description=f"Credit applied to {what}",
                )
            )
        _post(entries)
        applied_total = sum((a for _, a in plan), ZERO)
        audit_record(
            action="patient_credit.apply",
            obj=patient,
            patient_id=patient.pk,
            detail={"amount": str(applied_total)},
            part2=False,
        )
    return applied_total


# --- Refunds -----------------------------------------------------------------------------------


def _refund_for_update(refund: PatientRefund) -> PatientRefund:
    return PatientRefund.objects.select_for_update().get(pk=refund.pk)


def refund_request(
    *, patient: Patient, amount: Any, reason: str, requested_by: Any
) -> PatientRefund:
    """Ask to refund part or all of the account's unapplied credit, with a reason."""
    errors = ErrorCollector()
    with errors.check():
        amount = _money(amount, field="amount")
    reason = reason.strip()
    if not reason:
        errors.add("Say why the money is refunded.", field="reason")
    errors.raise_any()
    with transaction.atomic():
        patient = _lock_patient(patient)
        _check_credit_covers(patient, amount)
        refund = PatientRefund.objects.create(
            patient=patient, amount=amount, reason=reason[:200], requested_by=requested_by
        )
        audit_record(
            action="patient_refund.request",
            obj=refund,
            patient_id=patient.pk,
            detail={"amount": str(amount)},
            part2=False,
        )
    return refund


def _check_credit_covers(patient: Patient, amount: Decimal) -> None:
    credit = account_credit(patient=patient)
    if amount > credit:
        raise DomainError(
            f"The refund of ${amount} is more than the account's unapplied credit (${credit}).",
            field="amount",
        )


def refund_approve(*, refund: PatientRefund, approver: Any, now: datetime) -> PatientRefund:
    """Approve a requested refund: by a member with `patient_accounts:approve` (the view or API
    checks the scope) who did not request it."""
    with transaction.atomic():
        _lock_patient(refund.patient_id)
        refund = _refund_for_update(refund)
        if refund.status != RefundStatus.REQUESTED:
            raise DomainError(
                f"This refund is {refund.get_status_display().lower()}.", field="status"
            )
        if approver is not None and refund.requested_by_id == getattr(approver, "pk", None):
            raise DomainError(
                "A refund is approved by someone other than who asked for it.", field="approved_by"
            )
        refund.status, refund.approved_by, refund.approved_at = RefundStatus.APPROVED, approver, now
        refund.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        audit_record(
            action="patient_refund.approve", obj=refund, patient_id=refund.patient_id, part2=False
        )
    return refund


def refund_refuse(*, refund: PatientRefund, approver: Any) -> PatientRefund:
    with transaction.atomic():
        refund = _refund_for_update(refund)
        if refund.status not in (RefundStatus.REQUESTED, RefundStatus.APPROVED):
            raise DomainError(
                f"This refund is {refund.get_status_display().lower()}.", field="status"
            )
        refund.status, refund.approved_by = RefundStatus.REFUSED, approver
        refund.save(update_fields=["status", "approved_by", "updated_at"])
        audit_record(
            action="patient_refund.refuse", obj=refund, patient_id=refund.patient_id, part2=False
        )
    return refund


def refund_record(
    *, refund: PatientRefund, recorded_on: date, today: date, reference: str = ""
) -> PatientRefund:
    """Record that an approved refund was paid out: it leaves the account's credit."""
    if recorded_on > today:
        raise DomainError("A refund cannot be paid in the future.", field="recorded_on")
    if rules.looks_like_card_number(reference):
        raise DomainError(
            "This looks like a full card number: enter the processor's reference.",
            field="reference",
        )
    with transaction.atomic():
        patient = _lock_patient(refund.patient_id)
        refund = _refund_for_update(refund)
        if refund.status != RefundStatus.APPROVED:
            raise DomainError("Only an approved refund can be recorded as paid.", field="status")
        _check_credit_covers(patient, refund.amount)
        refund.status, refund.recorded_on = RefundStatus.RECORDED, recorded_on
        refund.reference = reference.strip()[:80]
        refund.save(update_fields=["status", "recorded_on", "reference", "updated_at"])
        _post(
            [
                _entry(
                    None,
                    patient.pk,
                    EntryKind.REFUND,
                    recorded_on,
                    patient_amount=refund.amount,
                    refund=refund,
                    description=f"Refund: {refund.reason}"[:200],
                )
            ]
        )
        audit_record(action="patient_refund.record", obj=refund, patient_id=patient.pk, part2=False)
    return refund


# --- Small balances and write-offs -------------------------------------------------------------


def account_settings(*, create: bool = False) -> AccountSettings:
    found = AccountSettings.objects.first()
    if found is None:
        found = AccountSettings(small_balance_limit=ZERO)
        if create:
            found.save()
    return found


def small_balance_rule_set(*, limit: Any) -> AccountSettings:
    """Set the organization's small-balance limit (0 turns the rule off)."""
    try:
        value = Decimal(str(limit))
    except (InvalidOperation, ValueError):
        raise DomainError("Enter an amount such as 5.00.", field="small_balance_limit") from None
    if not value.is_finite() or value < 0 or value != value.quantize(CENT) or value > 1000:
        raise DomainError("Enter an amount from 0.00 to 1000.00.", field="small_balance_limit")
    with transaction.atomic():
        settings = account_settings(create=True)
        settings = AccountSettings.objects.select_for_update().get(pk=settings.pk)
        settings.small_balance_limit = value
        settings.save()
        audit_record(
            action="patient_accounts.settings",
            obj=settings,
            detail={"small_balance_limit": str(value)},
        )
    return settings


def small_balance_propose() -> int:
    """Propose a write-off of every open charge of each account whose whole balance is under the
    small-balance limit; each waits for approval. Running it twice proposes nothing new (one
    pending write-off per charge). The rule is the requester (no member: whoever ran it is in the
    audit trail), so any approver may approve. The number proposed."""
    limit = account_settings().small_balance_limit
    if limit <= ZERO:
        raise DomainError("Set a small-balance limit first.", field="small_balance_limit")
    with transaction.atomic():
        small = (
            ChargeBalance.objects.filter(balance__gt=0)
            .values("patient_id")
            .annotate(total=Sum("balance"))
            .filter(total__lt=limit)
            .values("patient_id")
        )
        pending = PatientWriteOff.objects.filter(status=WriteOffStatus.PENDING).values(
            "charge_balance_id"
        )
        charges = ChargeBalance.objects.filter(patient_id__in=small, balance__gt=0).exclude(
            pk__in=pending
        )
        proposals = [
            PatientWriteOff(
                organization_id=cb.organization_id,
                patient_id=cb.patient_id,
                charge_balance=cb,
                amount=cb.balance,
                reason=f"Small balance under ${limit}",
            )
            for cb in charges.select_related("claim")
        ]
        PatientWriteOff.objects.bulk_create(proposals)
        if proposals:
            audit_record(
                action="patient_writeoff.propose",
                object_type="patient_accounts.patientwriteoff",
                detail={"count": len(proposals)},
                part2=False,
            )
    return len(proposals)


def write_off_request(
    *, charge_balance: ChargeBalance, amount: Any, reason: str, requested_by: Any
) -> PatientWriteOff:
    """Ask to write off part or all of what is owed on one charge (approved like refunds)."""
    errors = ErrorCollector()
    with errors.check():
        amount = _money(amount, field="amount")
    reason = reason.strip()
    if not reason:
        errors.add("Say why the balance is written off.", field="reason")
    errors.raise_any()
    with transaction.atomic():
        _lock_patient(charge_balance.patient_id)
        cb = ChargeBalance.objects.select_for_update().get(pk=charge_balance.pk)
        if amount > cb.balance:
            raise DomainError(f"Only ${cb.balance} is owed on this charge.", field="amount")
        if PatientWriteOff.objects.filter(
            charge_balance=cb, status=WriteOffStatus.PENDING
        ).exists():
            raise DomainError(
                "A write-off of this charge already waits for approval.", field="amount"
            )
        write_off = PatientWriteOff.objects.create(
            patient_id=cb.patient_id,
            charge_balance=cb,
            amount=amount,
            reason=reason[:200],
            requested_by=requested_by,
        )
        audit_record(action="patient_writeoff.request", obj=write_off, patient_id=cb.patient_id)
    return write_off


def write_off_approve(*, write_off: PatientWriteOff, approver: Any, today: date) -> PatientWriteOff:
    """Approve a pending write-off: the charge's balance drops by it (refused if the balance has
    since dropped below the amount)."""
    with transaction.atomic():
        _lock_patient(write_off.patient_id)
        write_off = PatientWriteOff.objects.select_for_update().get(pk=write_off.pk)
        if write_off.status != WriteOffStatus.PENDING:
            raise DomainError(
                f"This write-off is {write_off.get_status_display().lower()}.", field="status"
            )
        if approver is not None and write_off.requested_by_id == getattr(approver, "pk", None):
            raise DomainError(
                "A write-off is approved by someone other than who asked for it.",
                field="approved_by",
            )
        cb = ChargeBalance.objects.select_for_update().get(pk=write_off.charge_balance_id)
        if write_off.amount > cb.balance:
            raise DomainError(f"Only ${cb.balance} is still owed on this charge.", field="amount")
        cb.written_off += write_off.amount
        cb.balance -= write_off.amount
        cb.save(update_fields=["written_off", "balance", "updated_at"])
        write_off.status, write_off.approved_by = WriteOffStatus.APPROVED, approver
        write_off.save(update_fields=["status", "approved_by", "updated_at"])
        _post(
            [
                _entry(
                    cb,
                    cb.patient_id,
                    EntryKind.WRITE_OFF,
                    today,
                    patient_amount=-write_off.amount,
                    write_off=write_off,
                    description=f"Write-off: {write_off.reason}"[:200],
                )
            ]
        )
        audit_record(
            action="patient_writeoff.approve", obj=write_off, patient_id=write_off.patient_id
        )
    return write_off


def write_off_refuse(*, write_off: PatientWriteOff, approver: Any) -> PatientWriteOff:
    with transaction.atomic():
        write_off = PatientWriteOff.objects.select_for_update().get(pk=write_off.pk)
        if write_off.status != WriteOffStatus.PENDING:
            raise DomainError(
                f"This write-off is {write_off.get_status_display().lower()}.", field="status"
            )
        write_off.status, write_off.approved_by = WriteOffStatus.REFUSED, approver
        write_off.save(update_fields=["status", "approved_by", "updated_at"])
        audit_record(
            action="patient_writeoff.refuse", obj=write_off, patient_id=write_off.patient_id
        )
    return write_off


# --- Collections -------------------------------------------------------------------------------


def placement_create(
    *, patient: Patient, scopes: Collection[str], agency_name: str, placed_on: date, today: date
) -> CollectionPlacement:
    """Place the account with a collection agency, for the balance the caller can see."""
    agency_name = agency_name.strip()
    errors = ErrorCollector()
    if not agency_name:
        errors.add("Enter the agency's name.", field="agency_name")
    if placed_on > today:
        errors.add("The placement cannot be in the future.", field="placed_on")
    errors.raise_any()
    with transaction.atomic():
        patient = _lock_patient(patient)
        if CollectionPlacement.objects.filter(
            patient=patient, status=PlacementStatus.PLACED
        ).exists():
            raise DomainError(
                "The account is already with a collection agency.", field="agency_name"
            )
        balance = (
            part2.visible(ChargeBalance.objects.filter(patient=patient), scopes).aggregate(
                s=Sum("balance")
            )["s"]
            or ZERO
        )
        if balance <= ZERO:
            raise DomainError("The account owes nothing to place.", field="agency_name")
        placement = CollectionPlacement.objects.create(
            patient=patient,
            agency_name=agency_name[:120],
            placed_on=placed_on,
            amount_placed=balance,
        )
        audit_record(action="collection.place", obj=placement, patient_id=patient.pk, part2=False)
    return placement


def placement_recall(*, placement: CollectionPlacement, recalled_on: date) -> CollectionPlacement:
    with transaction.atomic():
        placement = CollectionPlacement.objects.select_for_update().get(pk=placement.pk)
        if placement.status != PlacementStatus.PLACED:
            raise DomainError("This placement was already recalled.", field="status")
        if recalled_on < placement.placed_on:
            raise DomainError("The recall cannot be before the placement.", field="recalled_on")
        placement.status, placement.recalled_on = PlacementStatus.RECALLED, recalled_on
        placement.save(update_fields=["status", "recalled_on", "updated_at"])
        audit_record(
            action="collection.recall", obj=placement, patient_id=placement.patient_id, part2=False
        )
    return placement
