"""The Account page: ledger with running balance, aging, guarantor, the payment form with
inline errors, receipts, refunds approved by a manager, collections export; Part 2 rows kept
from a member without the grant; another organization's patient is a 404; the page costs a
fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.models import Claim
from patient_accounts import services
from patient_accounts.models import PatientPayment, PatientRefund, PatientWriteOff
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.clock import today
from tests.conftest import _member

D = Decimal
pytestmark = pytest.mark.django_db


def page(org, patient, suffix=""):
    return f"/o/{org.slug}/patient_accounts/patients/{patient.pk}/{suffix}"


def test_the_account_page_shows_the_ledger_in_constant_queries(
    practice, coinsured, biller, client_for, django_assert_max_num_queries
):
    coinsured(pr=D("30.00"))
    client = client_for(biller)
    with django_assert_max_num_queries(30):
        first = client.get(page(practice.org, practice.patient))
    assert first.status_code == 200
    with django_assert_max_num_queries(30) as one:
        client.get(page(practice.org, practice.patient))
    for i in range(3):
        coinsured(pr=D("10.00"), days_ago=3 + i)
    with tenant_context(practice.org):
        services.payment_record(
            patient=practice.patient,
            scopes=part2.ORGANIZATION,
            method="cash",
            amount="25.00",
            received_on=today(),
            today=today(),
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = client.get(page(practice.org, practice.patient)).content.decode()
    assert "$35.00" in body  # 30 + 3 * 10 - 25
    assert "Transfer to patient responsibility" in body and "Receipt" in body
    patient_page = client.get(f"/o/{practice.org.slug}/patients/{practice.patient.pk}/")
    assert page(practice.org, practice.patient) in patient_page.content.decode()


def test_an_over_allocation_and_a_card_number_show_beside_their_fields(
    practice, coinsured, biller, client_for
):
    cb = coinsured(pr=D("30.00"))
    client = client_for(biller)
    url = page(practice.org, practice.patient, "payments/")
    base = {
        "method": "card",
        "amount": "50.00",
        "received_on": today().isoformat(),
        "processor_reference": "ch_9",
        "card_last_four": "4111111111111111",
    }
    card = client.post(url, base)
    assert card.status_code == 400
    assert 'id="id_card_last_four_error"' in card.content.decode()
    assert "looks like a full card number" in card.content.decode()
    over = client.post(
        url, base | {"card_last_four": "1111", "charge": str(cb.pk), "allocation_amount": "40.00"}
    )
    assert over.status_code == 400
    body = over.content.decode()
    assert 'id="id_allocation_amount_error"' in body and "Over-allocation" in body
    with tenant_context(practice.org):
        assert not PatientPayment.objects.exists()
    ok = client.post(url, base | {"card_last_four": "1111"})
    assert ok.status_code == 302
    with tenant_context(practice.org):
        payment = PatientPayment.objects.get()
    receipt = client.get(
        f"/o/{practice.org.slug}/patient_accounts/payments/{payment.pk}/receipt.pdf"
    )
    assert receipt["Content-Type"] == "application/pdf" and receipt.content.startswith(b"%PDF")


def test_a_refund_asked_by_a_biller_is_approved_by_the_manager(
    practice, coinsured, biller, manager, client_for
):
    coinsured(pr=D("10.00"))
    with tenant_context(practice.org):
        services.payment_record(
            patient=practice.patient,
            scopes=part2.ORGANIZATION,
            method="cash",
            amount="25.00",
            received_on=today(),
            today=today(),
        )
    bill = client_for(biller)
    too_much = bill.post(
        page(practice.org, practice.patient, "refunds/"), {"amount": "16.00", "reason": "Overpaid"}
    )
    assert too_much.status_code == 400 and "more than the account" in too_much.content.decode()
    bill.post(
        page(practice.org, practice.patient, "refunds/"), {"amount": "15.00", "reason": "Overpaid"}
    )
    with tenant_context(practice.org):
        refund = PatientRefund.objects.get()
    approve = f"/o/{practice.org.slug}/patient_accounts/refunds/{refund.pk}/approve/"
    assert bill.post(approve).status_code == 403
    assert client_for(manager).post(approve).status_code == 302
    refund.refresh_from_db()
    assert refund.status == "approved"


def test_another_organizations_patient_is_not_found(practice, outsider, other_org, client_for):
    client = client_for(outsider)
    other = f"/o/{other_org.slug}/patient_accounts/patients/{practice.patient.pk}/"
    assert client.get(other).status_code == 404
    assert client.get(page(practice.org, practice.patient)).status_code == 404


def test_a_member_without_the_part2_grant_sees_the_balance_withheld(
    org, practice, coinsured, client_for
):
    cb = coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        Claim.objects.filter(pk=cb.claim_id).update(is_part2=True)
    coinsured(pr=D("20.00"), days_ago=5)
    no_grant = _member(org, Role.BILLER, "nora@riverbend.example")
    body = client_for(no_grant).get(page(practice.org, practice.patient)).content.decode()
    assert "Restricted (42 CFR Part 2)" in body and "4 restricted entries" in body
    assert "$50.00" not in body and "on " + str(cb.date_of_service) not in body


def test_the_collections_export_lists_the_placed_accounts(practice, coinsured, biller, client_for):
    coinsured(pr=D("30.00"))
    client = client_for(biller)
    placed = client.post(
        page(practice.org, practice.patient, "placement/"),
        {"agency_name": "=Acme Recovery", "placed_on": today().isoformat()},
    )
    assert placed.status_code == 302
    csv = client.get(
        f"/o/{practice.org.slug}/patient_accounts/placements/export.csv"
    ).content.decode()
    assert "C-1,Doe,Jane" in csv and "'=Acme Recovery" in csv and "30.00" in csv


def test_the_manager_sets_the_small_balance_rule_proposes_and_approves_a_write_off(
    practice, coinsured, biller, manager, client_for
):
    cb = coinsured(pr=D("3.00"))
    url = f"/o/{practice.org.slug}/patient_accounts/small-balances/"
    assert client_for(biller).post(url, {"action": "propose"}).status_code == 403
    mona = client_for(manager)
    bad = mona.post(url, {"action": "limit", "small_balance_limit": "-1"})
    assert bad.status_code == 200 and "id_small_balance_limit_error" in bad.content.decode()
    assert mona.post(url, {"action": "limit", "small_balance_limit": "5.00"}).status_code == 302
    assert mona.post(url, {"action": "propose"}).status_code == 302
    listed = mona.get(url).content.decode()
    assert "Small balance under $5.00" in listed
    with tenant_context(practice.org):
        (write_off,) = PatientWriteOff.objects.all()
    decide = f"/o/{practice.org.slug}/patient_accounts/write-offs/{write_off.pk}/approve/"
    assert mona.post(decide).status_code == 302
    with tenant_context(practice.org):
        cb.refresh_from_db()
    assert (cb.written_off, cb.balance) == (D("3.00"), D("0.00"))
