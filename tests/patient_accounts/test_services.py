"""Patient accounts services: the ledger follows the claims' money, payments are applied oldest
first or as chosen, unapplied credit, refunds with approval, small-balance write-offs, guarantors
and collection placements; every refusal names its field and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from patient_accounts import selectors, services
from patient_accounts.models import (
    ChargeBalance,
    EntryKind,
    Guarantor,
    LedgerEntry,
    PatientPayment,
    PatientRefund,
)
from patient_accounts.services import Allocation
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.clock import now, today

D = Decimal
pytestmark = pytest.mark.django_db
ALL = part2.ORGANIZATION


def pay(practice, amount, **kwargs):
    kwargs.setdefault("method", "cash")
    kwargs.setdefault("received_on", today())
    return services.payment_record(
        patient=practice.patient, scopes=ALL, amount=amount, today=today(), **kwargs
    ).payment


def ledger_total(patient):
    return LedgerEntry.objects.filter(patient=patient).aggregate(s=Sum("patient_amount"))["s"]


def test_the_835s_coinsurance_becomes_the_patients_balance_and_syncing_again_posts_nothing(
    practice, coinsured
):
    cb = coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        assert (cb.billed, cb.insurance_paid, cb.adjusted) == (D("150"), D("80"), D("40"))
        assert (cb.patient_responsibility, cb.balance, cb.responsible_since) == (
            D("30"),
            D("30"),
            today(),
        )
        kinds = list(LedgerEntry.objects.values_list("kind", "patient_amount", "insurance_amount"))
        assert kinds == [
            (EntryKind.CHARGE, D("0"), D("150")),
            (EntryKind.INSURANCE_PAYMENT, D("0"), D("-80")),
            (EntryKind.ADJUSTMENT, D("0"), D("-40")),
            (EntryKind.PATIENT_RESPONSIBILITY, D("30"), D("-30")),
        ]
        assert services.ledger_sync_claim(claim_id=cb.claim_id, today=today()) == []
        assert LedgerEntry.objects.count() == 4
        ledger = selectors.patient_ledger(patient=practice.patient, scopes=ALL, today=today())
        assert [r.balance for r in ledger.rows] == [D("0"), D("0"), D("0"), D("30")]
        assert [r.insurance_balance for r in ledger.rows][-1] == D("0")
        assert ledger.balance == D("30")


def test_a_payment_goes_to_the_oldest_balance_first_and_the_rest_is_credit(practice, coinsured):
    old = coinsured(pr=D("30.00"), days_ago=40)
    new = coinsured(pr=D("20.00"), days_ago=10)
    with tenant_context(practice.org):
        # Same day of responsibility: the older service goes first.
        pay(practice, D("60.00"))
        old.refresh_from_db()
        new.refresh_from_db()
        assert (old.balance, new.balance) == (D("0"), D("0"))
        assert services.account_credit(patient=practice.patient) == D("10.00")
        assert ledger_total(practice.patient) == D("-10.00")


def test_a_payment_applied_to_a_chosen_charge(practice, coinsured):
    old = coinsured(pr=D("30.00"), days_ago=40)
    new = coinsured(pr=D("20.00"), days_ago=10)
    with tenant_context(practice.org):
        pay(practice, D("15.00"), allocations=[Allocation(new.pk, "15.00")])
        old.refresh_from_db()
        new.refresh_from_db()
        assert (old.balance, new.balance) == (D("30"), D("5"))


def test_over_allocation_is_refused_naming_the_field_and_nothing_changes(practice, coinsured):
    cb = coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as more_than_owed:
            pay(practice, D("50.00"), allocations=[Allocation(cb.pk, "40.00")])
        assert more_than_owed.value.field == "allocations[0].amount"
        assert "Over-allocation" in more_than_owed.value.message
        with pytest.raises(DomainError) as more_than_paid:
            pay(practice, D("10.00"), allocations=[Allocation(cb.pk, "20.00")])
        assert more_than_paid.value.field == "allocations"
        assert PatientPayment.objects.count() == 0
        cb.refresh_from_db()
        assert cb.balance == D("30")


def test_a_card_number_is_refused_and_only_the_last_four_are_kept(practice, coinsured):
    coinsured()
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as refused:
            pay(
                practice,
                D("10.00"),
                method="card",
                processor_reference="ch_1",
                card_last_four="4111 1111 1111 1111",
            )
        assert refused.value.field == "card_last_four"
        with pytest.raises(DomainError) as in_reference:
            pay(
                practice,
                D("10.00"),
                method="card",
                processor_reference="4111111111111111",
                card_last_four="1111",
            )
        assert [e.field for e in in_reference.value.errors] == ["processor_reference"]
        assert PatientPayment.objects.count() == 0
        payment = pay(
            practice,
            D("10.00"),
            method="card",
            processor_reference="ch_3Kx9",
            card_last_four="1111",
        )
        assert (payment.card_last_four, payment.processor_reference) == ("1111", "ch_3Kx9")


def test_a_check_needs_its_number_and_bad_amounts_are_named(practice, coinsured):
    coinsured()
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as refused:
            pay(practice, "0.001", method="check")
        assert {e.field for e in refused.value.errors} == {"amount", "check_number"}
        for bad in ("NaN", "-5", "abc", "Infinity"):
            with pytest.raises(DomainError) as error:
                pay(practice, bad)
            assert error.value.field == "amount"
        assert PatientPayment.objects.count() == 0


def test_the_same_idempotency_key_answers_the_first_payment_and_another_body_is_refused(
    practice, coinsured
):
    coinsured()
    with tenant_context(practice.org):
        first = services.payment_record(
            patient=practice.patient,
            scopes=ALL,
            method="cash",
            amount="10.00",
            received_on=today(),
            today=today(),
            idempotency_key="k-1",
            digest="aaa",
        )
        again = services.payment_record(
            patient=practice.patient,
            scopes=ALL,
            method="cash",
            amount="10.00",
            received_on=today(),
            today=today(),
            idempotency_key="k-1",
            digest="aaa",
        )
        assert (first.created, again.created, again.payment.pk) == (True, False, first.payment.pk)
        with pytest.raises(DomainError) as conflict:
            services.payment_record(
                patient=practice.patient,
                scopes=ALL,
                method="cash",
                amount="12.00",
                received_on=today(),
                today=today(),
                idempotency_key="k-1",
                digest="bbb",
            )
        assert conflict.value.code == "idempotency_conflict"
        assert PatientPayment.objects.count() == 1


def test_a_refund_is_requested_approved_by_another_member_and_recorded(
    practice, coinsured, biller, manager
):
    coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        pay(practice, D("50.00"))
        with pytest.raises(DomainError) as too_much:
            services.refund_request(
                patient=practice.patient, amount="25.00", reason="Overpaid", requested_by=biller
            )
        assert too_much.value.field == "amount" and "credit" in too_much.value.message
        assert PatientRefund.objects.count() == 0
        refund = services.refund_request(
            patient=practice.patient, amount="20.00", reason="Overpaid", requested_by=biller
        )
        with pytest.raises(DomainError):
            services.refund_record(refund=refund, recorded_on=today(), today=today())
        with pytest.raises(DomainError) as same_person:
            services.refund_approve(refund=refund, approver=biller, now=now())
        assert same_person.value.field == "approved_by"
        services.refund_approve(refund=refund, approver=manager, now=now())
        services.refund_record(
            refund=refund, recorded_on=today(), today=today(), reference="chk 88"
        )
        refund.refresh_from_db()
        assert refund.status == "recorded"
        assert services.account_credit(patient=practice.patient) == D("0")
        assert ledger_total(practice.patient) == D("0")


def test_a_refund_approved_after_the_credit_was_used_cannot_be_recorded(
    practice, coinsured, biller, manager
):
    coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        pay(practice, D("50.00"))
        refund = services.refund_request(
            patient=practice.patient, amount="20.00", reason="Overpaid", requested_by=biller
        )
        services.refund_approve(refund=refund, approver=manager, now=now())
    coinsured(pr=D("15.00"), days_ago=5)
    with tenant_context(practice.org):
        assert services.credit_apply(patient=practice.patient, scopes=ALL, today=today()) == D("15")
        with pytest.raises(DomainError) as refused:
            services.refund_record(refund=refund, recorded_on=today(), today=today())
        assert refused.value.field == "amount"


def test_a_smaller_share_after_a_reversal_moves_the_payment_to_credit(practice, coinsured):
    cb = coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        pay(practice, D("30.00"))
        # The payer's corrected figures: the patient owes 10 now (simulated on the stored copy,
        # as the sync would find it).
        cb.refresh_from_db()
        entries = services._sync_line(
            cb, cb.billed, cb.insurance_paid + D("20"), cb.adjusted, D("10.00"), today()
        )
        services._post(entries)
        cb.refresh_from_db()
        assert (cb.patient_paid, cb.balance) == (D("10"), D("0"))
        assert services.account_credit(patient=practice.patient) == D("20")
        assert ledger_total(practice.patient) == D("-20")


def test_small_balances_are_proposed_once_and_written_off_when_approved(
    practice, coinsured, biller, manager
):
    cb = coinsured(pr=D("4.00"))
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as no_rule:
            services.small_balance_propose()
        assert no_rule.value.field == "small_balance_limit"
        services.small_balance_rule_set(limit="5.00")
        assert services.small_balance_propose() == 1
        assert services.small_balance_propose() == 0
        (proposal,) = selectors.pending_write_offs(scopes=ALL)
        services.write_off_approve(write_off=proposal, approver=manager, today=today())
        cb.refresh_from_db()
        assert (cb.written_off, cb.balance) == (D("4"), D("0"))
        assert ledger_total(practice.patient) == D("0")


def test_a_guarantor_other_than_self_needs_a_valid_name_and_address(practice):
    with tenant_context(practice.org):
        assert services.guarantor_of(patient=practice.patient).relationship == "self"
        with pytest.raises(DomainError) as refused:
            services.guarantor_set(
                patient=practice.patient,
                data={
                    "relationship": "parent",
                    "first_name": "Ann",
                    "last_name": "Doe",
                    "address_line1": "1 Oak St",
                    "city": "Portland",
                    "state": "ZZ",
                    "postal_code": "1234",
                },
            )
        assert {e.field for e in refused.value.errors} == {"state", "postal_code"}
        assert not Guarantor.objects.exists()
        g = services.guarantor_set(
            patient=practice.patient,
            data={
                "relationship": "parent",
                "first_name": "Ann",
                "last_name": "Doe",
                "address_line1": "1 Oak St",
                "city": "Portland",
                "state": "or",
                "postal_code": "97205-1234",
            },
        )
        assert (g.state, g.postal_code) == ("OR", "972051234")
        g = services.guarantor_set(
            patient=practice.patient, data={"relationship": "self", "first_name": "x"}
        )
        assert (g.relationship, g.first_name) == ("self", "")


def test_an_account_is_placed_with_an_agency_whose_later_payment_is_recorded(practice, coinsured):
    coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        placement = services.placement_create(
            patient=practice.patient,
            scopes=ALL,
            agency_name="Acme Recovery",
            placed_on=today(),
            today=today(),
        )
        assert placement.amount_placed == D("30")
        with pytest.raises(DomainError):
            services.placement_create(
                patient=practice.patient,
                scopes=ALL,
                agency_name="Other",
                placed_on=today(),
                today=today(),
            )
        with pytest.raises(DomainError) as no_placement:
            pay(practice, D("10.00"), method="collection_agency")
        assert no_placement.value.field == "placement"
        pay(practice, D("10.00"), method="collection_agency", placement=placement)
        assert selectors.placement_collected([placement.pk]) == {placement.pk: D("10")}
        assert ChargeBalance.objects.get().balance == D("20")


def test_aging_counts_from_the_first_statement_else_from_the_day_the_balance_became_the_patients(
    practice, coinsured
):
    stated = coinsured(pr=D("30.00"), days_ago=85, synced_on=today() - timedelta(days=80))
    unstated = coinsured(pr=D("20.00"), days_ago=70, synced_on=today() - timedelta(days=61))
    boundary = coinsured(pr=D("10.00"), days_ago=40, synced_on=today() - timedelta(days=30))
    with tenant_context(practice.org):
        # The statements work sets first_statement_on; it wins over responsible_since.
        ChargeBalance.objects.filter(pk=stated.pk).update(
            first_statement_on=today() - timedelta(days=31)
        )
        aging = selectors.patient_ledger(patient=practice.patient, scopes=ALL, today=today()).aging
    assert aging == {
        "0-30": D("10.00"),
        "31-60": D("30.00"),
        "61-90": D("20.00"),
        "over 90": D("0.00"),
    }
    assert unstated.responsible_since == today() - timedelta(days=61)
    assert boundary.aging_from == today() - timedelta(days=30)


def test_posting_an_835_syncs_the_ledger_once_however_often_the_subscriber_runs(
    practice, submitted
):
    from patient_accounts.handlers import remittance_posted
    from rcm.outbox.models import OutboxMessage
    from tests.patient_accounts.conftest import post_835

    claim = submitted(start=today() - timedelta(days=12))
    imp = post_835(practice, claim, paid=D("100.00"), pr=D("50.00"), co=D("0.00"))
    message = OutboxMessage(
        organization_id=practice.org.pk,
        topic="denials.remittance_post",
        payload={"import_id": str(imp.pk)},
    )
    with tenant_context(practice.org):
        remittance_posted(message)
        remittance_posted(message)
        assert ChargeBalance.objects.get(claim=claim).balance == D("50.00")
        assert LedgerEntry.objects.filter(kind=EntryKind.PATIENT_RESPONSIBILITY).count() == 1
