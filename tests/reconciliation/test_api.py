"""Reconciliation on the API: bank accounts, deposit import (JSON or multipart; the same file
twice; a malformed one named by line), matches (create, list, undo with a reason), the queues;
another tenant's rows are 404 and scopes are enforced."""

from __future__ import annotations

from typing import Any

import pytest

from rcm.tenancy.context import tenant_context
from reconciliation import services
from reconciliation.models import Deposit
from tests.clock import days_ago, now
from tests.reconciliation.helpers import ACCOUNT_NUMBER, era, three_ach_credits

pytestmark = pytest.mark.django_db
API = "/api/v1"


def test_a_partner_sets_up_an_account_imports_a_statement_and_matches_by_hand(
    org: Any, api_client_for: Any
) -> None:
    api = api_client_for(org, ["denials:read", "denials:write"])
    created = api.post(
        f"{API}/bank-accounts/",
        {"name": "Operating", "account_number": ACCOUNT_NUMBER},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["account_last4"] == "6789" and "account_number" not in created.json()
    with tenant_context(org):
        era("TRC1001", "150.00", days_ago(2))
        split = [era("S1", "90.00", days_ago(2)), era("S2", "9.99", days_ago(2))]

    text = three_ach_credits(days_ago(1))
    imported = api.post(f"{API}/deposits/import/", {"content": text}, format="json")
    assert imported.status_code == 201, imported.content
    body = imported.json()
    assert not body["duplicate"] and body["statement_import"]["deposits_created"] == 3
    assert body["statement_import"]["auto_matched"] == 1
    again = api.post(f"{API}/deposits/import/", {"content": text}, format="json")
    assert again.status_code == 200 and again.json()["duplicate"] is True

    unmatched = api.get(f"{API}/deposits/", {"status": "unmatched"}).json()["results"]
    assert sorted(d["trace_number"] for d in unmatched) == ["TRC1002", "TRC9999"]
    waiting = api.get(f"{API}/reconciliation-queues/deposits-without-era/").json()["results"]
    assert len(waiting) == 2
    deposit = next(d for d in unmatched if d["trace_number"] == "TRC9999")

    match = api.post(
        f"{API}/reconciliation-matches/",
        {"deposits": [deposit["id"]], "payments": [str(p.pk) for p in split]},
        format="json",
    )
    assert match.status_code == 201, match.content
    assert match.json()["method"] == "manual" and len(match.json()["payments"]) == 2
    twice = api.post(
        f"{API}/reconciliation-matches/",
        {"deposits": [deposit["id"]], "payments": [str(split[0].pk)], "reason": "again"},
        format="json",
    )
    assert twice.status_code == 400 and "already matched" in twice.content.decode()

    match_url = f"{API}/reconciliation-matches/{match.json()['id']}/"
    assert api.delete(match_url).status_code == 400
    undone = api.delete(f"{match_url}?reason=Wrong%20deposit")
    assert undone.status_code == 200 and undone.json()["active"] is False
    assert undone.json()["unmatch_reason"] == "Wrong deposit"
    live = api.get(f"{API}/reconciliation-matches/", {"active": "true"}).json()["results"]
    assert len(live) == 1 and live[0]["method"] == "trace"
    assert api.get(f"{API}/reconciliation-queues/amount-mismatches/").status_code == 200
    assert api.get(f"{API}/reconciliation-queues/eras-without-deposit/").status_code == 200


def test_a_malformed_statement_is_a_400_naming_the_line(org: Any, api_client_for: Any) -> None:
    with tenant_context(org):
        services.bank_account_create(name="Operating", account_number=ACCOUNT_NUMBER)
    api = api_client_for(org, ["denials:read", "denials:write"])
    bad = three_ach_credits(days_ago(1)).replace("49,153749,6/", "49,153749,7/")
    refused = api.post(f"{API}/deposits/import/", {"content": bad}, format="json")
    assert refused.status_code == 400
    assert "Line 8:" in refused.content.decode()
    assert api.post(f"{API}/deposits/import/", {}, format="json").status_code == 400
    csv_without_account = api.post(
        f"{API}/deposits/import/", {"content": "Date,Amount\n01/02/2030,5.00\n"}, format="json"
    )
    assert csv_without_account.status_code == 400
    assert "bank_account" in csv_without_account.content.decode()
    with tenant_context(org):
        assert not Deposit.objects.exists()


def test_another_tenants_rows_are_404_and_scopes_hold(
    org: Any, other_org: Any, api_client_for: Any
) -> None:
    with tenant_context(other_org):
        account = services.bank_account_create(name="Theirs", account_number=ACCOUNT_NUMBER)
        services.statement_import(
            file_name="s.bai",
            content=three_ach_credits(days_ago(1)),
            bank_account_id=None,
            uploaded_by=None,
            now=now(),
        )
        deposit = Deposit.objects.get(trace_number="TRC9999")
        match = services.match_create(
            deposit_ids=[deposit.pk],
            payment_ids=[era("T", "99.99", days_ago(1)).pk],
            reason="",
            actor=None,
            now=now(),
        )
    api = api_client_for(org, ["denials:read", "denials:write"])
    assert api.get(f"{API}/deposits/{deposit.pk}/").status_code == 404
    assert api.get(f"{API}/bank-accounts/{account.pk}/").status_code == 404
    assert api.get(f"{API}/reconciliation-matches/{match.pk}/").status_code == 404
    assert api.delete(f"{API}/reconciliation-matches/{match.pk}/?reason=x").status_code == 404
    assert api.get(f"{API}/deposits/").json()["results"] == []
    with_their_account = api.post(
        f"{API}/deposits/import/",
        {"content": "Date,Amount\n01/02/2030,5.00\n", "bank_account": str(account.pk)},
        format="json",
    )
    assert with_their_account.status_code == 400

    reader = api_client_for(org, ["denials:read"])
    assert reader.get(f"{API}/deposits/").status_code == 200
    assert (
        reader.post(f"{API}/deposits/import/", {"content": "x"}, format="json").status_code == 403
    )
    assert api_client_for(org, ["claims:read"]).get(f"{API}/deposits/").status_code == 403
