"""Reads of patient accounts, shaped for the Account page and the API: a fixed number of
queries whatever the account's history.

42 CFR Part 2: the ledger's charge-level rows go through `rcm.part2.visible`. A member without
the grant sees the other rows, and how many were kept from them; the account's balance, the
running balance and the aging are then withheld ("restricted"), failing closed: a total that
counted the hidden rows would disclose that SUD treatment exists, and one that left them out
would be a wrong figure to collect on."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from patient_accounts import rules
from patient_accounts.models import (
    ZERO,
    ChargeBalance,
    CollectionPlacement,
    Guarantor,
    LedgerEntry,
    PatientPayment,
    PatientRefund,
    PatientWriteOff,
    PlacementStatus,
    Relationship,
    WriteOffStatus,
)
from patients.models import Patient
from rcm import part2


@dataclass
class LedgerRow:
    entry: LedgerEntry
    # The account's patient balance after this entry; None when withheld (Part 2).
    balance: Decimal | None
    insurance_balance: Decimal | None


@dataclass
class Ledger:
    patient: Patient
    guarantor: Guarantor
    rows: list[LedgerRow]
    hidden: int
    withheld: bool
    balance: Decimal | None
    credit: Decimal
    open_charges: list[ChargeBalance]
    aging: dict[str, Decimal] | None
    payments: list[PatientPayment] = field(default_factory=list)
    refunds: list[PatientRefund] = field(default_factory=list)
    write_offs: list[PatientWriteOff] = field(default_factory=list)
    placement: CollectionPlacement | None = None


def ledger_entries(*, patient: Patient, scopes: Collection[str]) -> QuerySet[LedgerEntry]:
    """The account's entries the caller may see, oldest first."""
    return (
        part2.visible(LedgerEntry.objects.filter(patient=patient), scopes)
        .select_related("charge_balance", "payment")
        .order_by("sequence")
    )


def ledger_hidden(*, patient: Patient, scopes: Collection[str]) -> int:
    return part2.hidden_count(LedgerEntry.objects.filter(patient=patient), scopes)


def guarantor_of(*, patient: Patient) -> Guarantor:
    found = Guarantor.objects.filter(patient=patient).first()
    return found or Guarantor(patient=patient, relationship=Relationship.SELF)


def open_charges(*, patient: Patient, scopes: Collection[str]) -> list[ChargeBalance]:
    """The caller's visible open charges, oldest first (the order payments are applied in)."""
    qs = part2.visible(ChargeBalance.objects.filter(patient=patient, balance__gt=0), scopes)
    return sorted(
        qs, key=lambda cb: (cb.aging_from or cb.date_of_service, cb.date_of_service, cb.created_at)
    )


def patient_ledger(*, patient: Patient, scopes: Collection[str], today: date) -> Ledger:
    entries = list(ledger_entries(patient=patient, scopes=scopes))
    hidden = ledger_hidden(patient=patient, scopes=scopes)
    withheld = hidden > 0
    rows: list[LedgerRow] = []
    running, insurance = ZERO, ZERO
    credit = ZERO
    for e in entries:
        running = e.balance_after
        insurance += e.insurance_amount
        if e.charge_balance_id is None:
            credit -= e.patient_amount
        rows.append(LedgerRow(e, None if withheld else running, None if withheld else insurance))
    charges = open_charges(patient=patient, scopes=scopes)
    aging = None
    if not withheld:
        aging = rules.aging_totals(
            ((cb.aging_from or cb.date_of_service, cb.balance) for cb in charges), today=today
        )
    return Ledger(
        patient=patient,
        guarantor=guarantor_of(patient=patient),
        rows=rows,
        hidden=hidden,
        withheld=withheld,
        balance=None if withheld else running,
        credit=credit,
        open_charges=charges,
        aging=aging,
        payments=list(payment_list(patient=patient)[:50]),
        refunds=list(
            PatientRefund.objects.filter(patient=patient).select_related(
                "requested_by", "approved_by"
            )[:50]
        ),
        write_offs=list(
            part2.visible(
                PatientWriteOff.objects.filter(patient=patient, status=WriteOffStatus.PENDING),
                scopes,
            ).select_related("charge_balance", "requested_by")
        ),
        placement=CollectionPlacement.objects.filter(
            patient=patient, status=PlacementStatus.PLACED
        ).first(),
    )


def payment_list(*, patient: Patient | None = None) -> QuerySet[PatientPayment]:
    qs = PatientPayment.objects.select_related("patient", "recorded_by")
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs.order_by("-received_on", "-created_at", "-pk")


def payment_allocations(*, payment: PatientPayment, scopes: Collection[str]) -> list[LedgerEntry]:
    """Where the payment went: its ledger entries the caller may see (a charge each, or credit)."""
    return list(
        part2.visible(LedgerEntry.objects.filter(payment=payment), scopes)
        .select_related("charge_balance")
        .order_by("created_at", "pk")
    )


def refund_list(*, patient: Patient | None = None) -> QuerySet[PatientRefund]:
    qs = PatientRefund.objects.select_related("patient", "requested_by", "approved_by")
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs.order_by("-created_at", "-pk")


def pending_write_offs(*, scopes: Collection[str]) -> QuerySet[PatientWriteOff]:
    return (
        part2.visible(PatientWriteOff.objects.filter(status=WriteOffStatus.PENDING), scopes)
        .select_related("patient", "charge_balance")
        .order_by("created_at", "pk")
    )


def placement_list() -> QuerySet[CollectionPlacement]:
    return CollectionPlacement.objects.select_related("patient").order_by("-placed_on", "-pk")


def placement_collected(placement_ids: list[Any]) -> dict[Any, Decimal]:
    """What each placement's agency has paid since (one query)."""
    from django.db.models import Sum

    rows = (
        PatientPayment.objects.filter(placement_id__in=placement_ids)
        .values("placement_id")
        .annotate(total=Sum("amount"))
    )
    return {r["placement_id"]: r["total"] for r in rows}


def statement_runs() -> QuerySet[Any]:
    from patient_accounts.models import StatementRun

    return StatementRun.objects.select_related("created_by").order_by("-cycle", "-created_at")


def run_statements(*, run: Any, scopes: Collection[str]) -> QuerySet[Any]:
    """The run's statements the caller may see (a statement with a Part 2 line needs the
    grant), by guarantor."""
    from patient_accounts.models import Statement

    return (
        part2.visible(Statement.objects.filter(run=run), scopes)
        .select_related("patient", "run")
        .order_by("guarantor_name", "pk")
    )


def statements_of(*, scopes: Collection[str], patient: Any = None) -> QuerySet[Any]:
    from patient_accounts.models import Statement

    qs = Statement.objects.all()
    if patient is not None:
        qs = qs.filter(patient=patient)
    return (
        part2.visible(qs, scopes)
        .select_related("patient", "run")
        .order_by("-statement_date", "guarantor_name", "pk")
    )
