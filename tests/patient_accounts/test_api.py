"""The patient accounts API: payments with an Idempotency-Key (a retry answers the first
payment, another body under the same key is a 409), refusals naming the field (over-allocation,
a card number, a refund larger than the credit, another organization's patient), tenant 404s,
the approve scope, and Part 2 entries kept from a key without the grant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.models import Claim
from patient_accounts.models import PatientPayment, PatientRefund
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import API_KEY_SCOPES
from tests.clock import today

D = Decimal
pytestmark = pytest.mark.django_db
API = "/api/v1/patient-accounts"
NO_PART2 = [s for s in API_KEY_SCOPES if s not in {"part2:read", "patient_accounts:approve"}]


def body(practice, **extra):
    return {
        "patient": str(practice.patient.pk),
        "method": "cash",
        "amount": "20.00",
        "received_on": today().isoformat(),
        **extra,
    }


def test_a_payment_retried_with_the_same_key_is_recorded_once(practice, coinsured, api_client_for):
    cb = coinsured(pr=D("30.00"))
    client = api_client_for(practice.org)
    first = client.post(
        f"{API}/payments/", body(practice), format="json", HTTP_IDEMPOTENCY_KEY="pay-1"
    )
    assert first.status_code == 201, first.json()
    assert first.json()["allocations"] == [{"charge": str(cb.pk), "amount": "20.00"}]
    again = client.post(
        f"{API}/payments/", body(practice), format="json", HTTP_IDEMPOTENCY_KEY="pay-1"
    )
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = client.post(
        f"{API}/payments/",
        body(practice, amount="25.00"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="pay-1",
    )
    assert other.status_code == 409
    missing = client.post(f"{API}/payments/", body(practice), format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    with tenant_context(practice.org):
        assert PatientPayment.objects.count() == 1
    ledger = client.get(f"{API}/ledgers/{practice.patient.pk}/").json()
    assert (ledger["balance"], ledger["credit"], ledger["withheld"]) == ("10.00", "0.00", False)
    assert ledger["aging"]["0-30"] == "10.00"
    listed = client.get(f"{API}/payments/?patient={practice.patient.pk}").json()
    assert [p["id"] for p in listed["results"]] == [first.json()["id"]]


def test_over_allocation_a_card_number_and_a_refund_beyond_the_credit_are_refused_by_field(
    practice, coinsured, api_client_for
):
    cb = coinsured(pr=D("30.00"))
    client = api_client_for(practice.org)
    over = client.post(
        f"{API}/payments/",
        body(practice, amount="50.00", allocations=[{"charge": str(cb.pk), "amount": "45.00"}]),
        format="json",
        HTTP_IDEMPOTENCY_KEY="over",
    )
    assert over.status_code == 400
    assert [e["field"] for e in over.json()["errors"]] == ["allocations[0].amount"]
    card = client.post(
        f"{API}/payments/",
        body(
            practice,
            method="card",
            processor_reference="ch_1",
            card_last_four="4242",
            note="card 4242 4242 4242 4242",
        ),
        format="json",
        HTTP_IDEMPOTENCY_KEY="card",
    )
    assert card.status_code == 400
    assert [e["field"] for e in card.json()["errors"]] == ["note"]
    refund = client.post(
        f"{API}/refunds/",
        {"patient": str(practice.patient.pk), "amount": "1.00", "reason": "Overpaid"},
        format="json",
    )
    assert refund.status_code == 400
    assert refund.json()["errors"][0]["field"] == "amount"
    with tenant_context(practice.org):
        assert not PatientPayment.objects.exists() and not PatientRefund.objects.exists()


def test_another_organizations_patient_and_records_are_not_found(
    practice, coinsured, api_client_for, other_org
):
    coinsured()
    ours = api_client_for(practice.org)
    paid = ours.post(f"{API}/payments/", body(practice), format="json", HTTP_IDEMPOTENCY_KEY="k")
    theirs = api_client_for(other_org)
    refused = theirs.post(
        f"{API}/payments/", body(practice), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "patient"
    assert theirs.get(f"{API}/ledgers/{practice.patient.pk}/").status_code == 404
    assert theirs.get(f"{API}/payments/{paid.json()['id']}/").status_code == 404
    assert (
        theirs.get(f"{API}/ledger-entries/?patient={practice.patient.pk}").json()["results"] == []
    )
    with tenant_context(practice.org):
        assert PatientPayment.objects.count() == 1


def test_a_refund_needs_the_approve_scope_and_is_then_recorded(practice, coinsured, api_client_for):
    coinsured(pr=D("10.00"))
    writer = api_client_for(practice.org, NO_PART2)
    writer.post(f"{API}/payments/", body(practice), format="json", HTTP_IDEMPOTENCY_KEY="k")
    refund = writer.post(
        f"{API}/refunds/",
        {"patient": str(practice.patient.pk), "amount": "10.00", "reason": "Overpaid"},
        format="json",
    ).json()
    assert refund["status"] == "requested"
    assert writer.post(f"{API}/refunds/{refund['id']}/approve/").status_code == 403
    approver = api_client_for(practice.org, ["patient_accounts:read", "patient_accounts:approve"])
    assert approver.post(f"{API}/refunds/{refund['id']}/approve/").json()["status"] == "approved"
    recorded = writer.post(
        f"{API}/refunds/{refund['id']}/record/",
        {"recorded_on": today().isoformat(), "reference": "check 1001"},
        format="json",
    )
    assert recorded.json()["status"] == "recorded"
    assert writer.get(f"{API}/ledgers/{practice.patient.pk}/").json()["credit"] == "0.00"


def test_a_guarantor_is_set_with_a_validated_address(practice, api_client_for):
    client = api_client_for(practice.org)
    bad = client.post(
        f"{API}/guarantors/",
        {
            "patient": str(practice.patient.pk),
            "relationship": "parent",
            "first_name": "Ann",
            "last_name": "Doe",
            "address_line1": "1 Oak St",
            "city": "Portland",
            "state": "XX",
            "postal_code": "97205",
        },
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "state"
    good = client.post(
        f"{API}/guarantors/",
        {
            "patient": str(practice.patient.pk),
            "relationship": "parent",
            "first_name": "Ann",
            "last_name": "Doe",
            "address_line1": "1 Oak St",
            "city": "Portland",
            "state": "OR",
            "postal_code": "97205",
        },
        format="json",
    )
    assert good.status_code == 200 and good.json()["relationship"] == "parent"
    assert (
        client.get(f"{API}/ledgers/{practice.patient.pk}/").json()["guarantor"]["last_name"]
        == "Doe"
    )


def test_a_key_without_the_part2_grant_sees_no_part2_entry_and_no_balance(
    practice, coinsured, api_client_for
):
    cb = coinsured(pr=D("30.00"))
    with tenant_context(practice.org):
        # The flag a claim built from an SUD episode carries (copied from the episode).
        Claim.objects.filter(pk=cb.claim_id).update(is_part2=True)
    coinsured(pr=D("20.00"), days_ago=5)
    without = api_client_for(practice.org, NO_PART2)
    entries = without.get(f"{API}/ledger-entries/?patient={practice.patient.pk}")
    assert entries["X-Part2-Hidden"] == "4"
    assert len(entries.json()["results"]) == 4
    assert {e["balance_after"] for e in entries.json()["results"]} == {None}
    ledger = without.get(f"{API}/ledgers/{practice.patient.pk}/").json()
    assert (ledger["balance"], ledger["aging"], ledger["withheld"]) == (None, None, True)
    charges = without.get(f"{API}/charges/?patient={practice.patient.pk}")
    assert charges["X-Part2-Hidden"] == "1" and len(charges.json()["results"]) == 1
    with_grant = api_client_for(practice.org)
    assert with_grant.get(f"{API}/ledgers/{practice.patient.pk}/").json()["balance"] == "50.00"
