"""The ledger always balances: random sequences of charges with a patient share (835s with
PR-2), patient payments (oldest first or to a chosen charge), write-offs, credit applied and
refunds (some larger than the credit, which must be refused and change nothing) keep

    ledger total == sum of the claims' patient balances - unapplied credit

where a claim's patient balance is what denials.account says the patient was made responsible
for, less what the patient paid on it and what was written off; every amount a Decimal in
cents (never a float, never NaN)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim
from denials.account import claim_account
from patient_accounts import services
from patient_accounts.models import ChargeBalance, LedgerEntry
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.clock import now, today
from tests.patient_accounts.conftest import post_835

D = Decimal
ALL = part2.ORGANIZATION
pytestmark = pytest.mark.django_db
CLAIMS = 3

cents = st.integers(min_value=1, max_value=20000).map(lambda c: D(c) / 100)
operation = st.one_of(
    st.tuples(st.just("remit"), st.integers(0, CLAIMS - 1), st.integers(0, 15000)),
    st.tuples(st.just("pay"), cents, st.booleans()),
    st.tuples(st.just("write_off"), cents, st.booleans()),
    st.tuples(st.just("refund"), cents, st.booleans()),
    st.tuples(st.just("apply_credit"), st.just(0), st.just(False)),
)


class Rollback(Exception):
    """Undo one example's work (the claims built once stay)."""


@pytest.fixture
def claims(practice, submitted):
    return [submitted(start=today() - timedelta(days=10 + 7 * i)) for i in range(CLAIMS)]


def _assert_cents(value):
    assert isinstance(value, Decimal) and value.is_finite(), value
    assert value == value.quantize(D("0.01")), value


def check_balanced(practice, claims, paid_total, refunded_total):
    patient = practice.patient
    responsibility = D("0")
    for claim in claims:
        claim = Claim.objects.select_related("payer").get(pk=claim.pk)
        responsibility += max(
            claim_account(claim=claim, scopes=ALL).total.patient_responsibility, D("0")
        )
    written_off = ChargeBalance.objects.aggregate(s=Sum("written_off"))["s"] or D("0")
    entries = list(LedgerEntry.objects.filter(patient=patient).order_by("sequence"))
    ledger_total = sum((e.patient_amount for e in entries), D("0"))
    for e in entries:
        _assert_cents(e.patient_amount)
        _assert_cents(e.insurance_amount)
    # The running balance kept on each entry is the sum of the entries up to it.
    running = D("0")
    for e in entries:
        running += e.patient_amount
        assert e.balance_after == running
    credit = services.account_credit(patient=patient)
    assert credit >= 0
    claims_balance = ChargeBalance.objects.aggregate(s=Sum("balance"))["s"] or D("0")
    # The claims' patient balances, from the claims' money and what the patient paid on them.
    applied = paid_total - refunded_total - credit
    assert claims_balance == responsibility - applied - written_off
    assert ledger_total == claims_balance - credit
    assert ledger_total == responsibility - paid_total + refunded_total - written_off
    for cb in ChargeBalance.objects.all():
        assert cb.balance >= 0 and cb.balance == (
            cb.patient_responsibility - cb.patient_paid - cb.written_off
        )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=8))
def test_the_ledger_always_equals_the_claims_patient_balances(
    practice, claims, biller, manager, ops
):
    try:
        with tenant_context(practice.org), transaction.atomic():
            run(practice, claims, biller, manager, ops)
            raise Rollback
    except Rollback:
        pass


def run(practice, claims, biller, manager, ops):
    paid_total, refunded_total = D("0"), D("0")
    remitted: set[int] = set()
    for kind, amount, flag in ops:
        if kind == "remit":
            # A charge whose 835 puts `flag` cents on the patient (the rest paid), once a claim.
            if amount in remitted:
                continue
            remitted.add(amount)
            share = D(flag) / 100
            post_835(practice, claims[amount], paid=D("150.00") - share, pr=share, co=D("0"))
            services.ledger_sync_claim(claim_id=claims[amount].pk, today=today())
        elif kind == "pay":
            open_charges = list(ChargeBalance.objects.filter(balance__gt=0).order_by("pk"))
            allocations = []
            if flag and open_charges:
                target = open_charges[0]
                allocations = [services.Allocation(target.pk, min(amount, target.balance))]
            services.payment_record(
                patient=practice.patient,
                scopes=ALL,
                method="cash",
                amount=amount,
                received_on=today(),
                today=today(),
                allocations=allocations,
            )
            paid_total += amount
        elif kind == "write_off":
            cb = ChargeBalance.objects.filter(balance__gt=0).order_by("pk").first()
            if cb is not None:
                wo = services.write_off_request(
                    charge_balance=cb,
                    amount=min(amount, cb.balance),
                    reason="Hardship",
                    requested_by=biller,
                )
                services.write_off_approve(write_off=wo, approver=manager, today=today())
        elif kind == "refund":
            credit = services.account_credit(patient=practice.patient)
            if amount > credit:
                before = LedgerEntry.objects.count()
                with pytest.raises(DomainError) as refused:
                    services.refund_request(
                        patient=practice.patient,
                        amount=amount,
                        reason="Overpaid",
                        requested_by=biller,
                    )
                assert refused.value.field == "amount"
                assert LedgerEntry.objects.count() == before
            else:
                refund = services.refund_request(
                    patient=practice.patient, amount=amount, reason="Overpaid", requested_by=biller
                )
                services.refund_approve(refund=refund, approver=manager, now=now())
                services.refund_record(refund=refund, recorded_on=today(), today=today())
                refunded_total += amount
        elif kind == "apply_credit":
            try:
                services.credit_apply(patient=practice.patient, scopes=ALL, today=today())
            except DomainError as error:
                assert error.field == "credit"
        check_balanced(practice, claims, paid_total, refunded_total)
