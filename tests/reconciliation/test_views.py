"""The reconciliation pages as a biller uses them: upload with inline errors, the queues (tabs,
search, pagination, CSV) at a fixed number of queries, matching and unmatching by hand, and
another organization's rows answering 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rcm.tenancy.context import tenant_context
from reconciliation import services
from reconciliation.models import Deposit, Match
from tests.clock import days_ago, now
from tests.reconciliation.helpers import bank_account, era, post_835, three_ach_credits

pytestmark = pytest.mark.django_db


def _base(org: Any) -> str:
    return f"/o/{org.slug}/reconciliation"


def _upload(client: Any, org: Any, text: str, **extra: Any) -> Any:
    return client.post(
        f"{_base(org)}/deposits/",
        {"file": SimpleUploadedFile("statement.bai", text.encode()), **extra},
        follow=True,
    )


def test_a_biller_uploads_a_bai2_file_and_sees_what_it_matched(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        bank_account()
        era("TRC1001", "150.00", days_ago(2))
    client = client_for(biller)
    page = _upload(client, org, three_ach_credits(days_ago(1)))

    assert page.status_code == 200
    text = page.content.decode()
    assert "3 deposit(s) imported, 0 already known, 1 debit(s) ignored; 1 matched" in text
    assert text.count("Without ERA</span>") == 2 and "Matched</span>" in text

    again = _upload(client, org, three_ach_credits(days_ago(1))).content.decode()
    assert "nothing was imported again" in again


def test_a_malformed_upload_shows_the_line_beside_the_field(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        bank_account()
    bad = three_ach_credits(days_ago(1)).replace("16,165,27550,Z", "16,165,27x50,Z")
    page = _upload(client_for(biller), org, bad)

    assert page.status_code == 200
    assert 'id="id_file_error">Line 5: The amount “27x50” is not a whole number' in (
        page.content.decode()
    )
    with tenant_context(org):
        assert not Deposit.objects.exists()


def test_the_queues_cost_a_fixed_number_of_queries_and_export_csv(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(biller)
    with tenant_context(org):
        bank_account()
        services.statement_import(
            file_name="s.bai",
            content=three_ach_credits(days_ago(1)),
            bank_account_id=None,
            uploaded_by=None,
            now=now(),
        )
        for i in range(30):
            era(f"OLD{i:02}", f"{i + 1}.00", days_ago(10 + i))
        era("TRC1001", "149.00", days_ago(3))
    for tab in ("eras", "deposits", "mismatches"):
        client.get(f"{_base(org)}/?tab={tab}")  # warm the session and the caches
        with django_assert_max_num_queries(14):
            page = client.get(f"{_base(org)}/?tab={tab}")
        assert page.status_code == 200

    eras = client.get(f"{_base(org)}/?tab=eras").content.decode()
    assert "OLD29" in eras and "Page 1 of 2" in eras
    searched = client.get(f"{_base(org)}/?tab=eras&q=OLD07").content.decode()
    assert "OLD07" in searched and "OLD08" not in searched
    mismatches = client.get(f"{_base(org)}/?tab=mismatches").content.decode()
    assert "$150.00" in mismatches and "$149.00" in mismatches

    csv = client.get(f"{_base(org)}/?tab=deposits&export=csv")
    assert csv["Content-Type"] == "text/csv"
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Deposit date,Account,Kind,Trace")
    assert len(lines) == 4 and any("TRC9999" in line for line in lines)
    assert client.get(f"{_base(org)}/?tab=nope").status_code == 404


def test_a_biller_matches_by_hand_with_inline_errors_then_unmatches(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        bank_account()
        services.statement_import(
            file_name="s.bai",
            content=three_ach_credits(days_ago(1)),
            bank_account_id=None,
            uploaded_by=None,
            now=now(),
        )
        deposit = Deposit.objects.get(trace_number="TRC9999")
        a, b = era("PART-A", "50.00", days_ago(2)), era("PART-B", "40.00", days_ago(2))
    client = client_for(biller)
    url = f"{_base(org)}/matches/new/?deposit={deposit.pk}"
    form = client.get(url).content.decode()
    assert f'value="{deposit.pk}" id="dep-{deposit.pk}" checked' in form

    refused = client.post(url, {"deposits": [deposit.pk], "payments": [a.pk, b.pk]})
    assert refused.status_code == 200
    assert 'id="id_reason_error">The deposits total $99.99 and the ERAs $90.00' in (
        refused.content.decode()
    )
    done = client.post(
        url,
        {"deposits": [deposit.pk], "payments": [a.pk, b.pk], "reason": "Interest added"},
        follow=True,
    )
    assert done.status_code == 200 and "Matched." in done.content.decode()
    with tenant_context(org):
        match = Match.objects.get(method="manual")
        assert match.payment_total == Decimal("90.00")

    match_url = f"{_base(org)}/matches/{match.pk}/"
    empty = client.post(match_url, {"reason": ""})
    assert empty.status_code == 200 and 'id="id_reason_error"' in empty.content.decode()
    client.post(match_url, {"reason": "Wrong deposit"})
    with tenant_context(org):
        match.refresh_from_db()
        assert not match.active and match.unmatch_reason == "Wrong deposit"


def test_era_rows_show_payment_level_facts_and_link_to_the_payment_page(
    org: Any, biller: Any, client_for: Any
) -> None:
    """Part 2 is not involved in deposits; an ERA appears by payer, trace and amount only, and
    its claims are read on the payment page (denials.selectors.payment_detail applies Part 2)."""
    payment = post_835(org, trace="TRC7777", paid="80.00", control=31)  # Jane Doe's claim
    with tenant_context(org):  # the 835 is dated yesterday
        services.reconciliation_settings_update(
            era_without_deposit_days=1, suggestion_window_days=3
        )
    client = client_for(biller)
    queue = client.get(f"{_base(org)}/?tab=eras&q=TRC7777").content.decode()
    assert "TRC7777" in queue and "BLUE PLAN" in queue
    assert f"/o/{org.slug}/denials/payments/{payment.pk}/" in queue
    assert "DOE" not in queue and "JANE" not in queue


def test_another_organizations_rows_are_404(
    org: Any, other_org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(other_org):
        account = bank_account()
        services.statement_import(
            file_name="s.bai",
            content=three_ach_credits(days_ago(1)),
            bank_account_id=None,
            uploaded_by=None,
            now=now(),
        )
        deposit = Deposit.objects.get(trace_number="TRC9999")
        payment = era("THEIRS", "99.99", days_ago(1))
        match = services.match_create(
            deposit_ids=[deposit.pk], payment_ids=[payment.pk], reason="", actor=None, now=now()
        )
    client = client_for(biller)
    for path in (
        f"deposits/{deposit.pk}/",
        f"matches/{match.pk}/",
        f"bank-accounts/{account.pk}/",
    ):
        assert client.get(f"{_base(org)}/{path}").status_code == 404, path
    assert client.post(f"{_base(org)}/matches/{match.pk}/", {"reason": "x"}).status_code == 404
    with tenant_context(other_org):
        match.refresh_from_db()
        assert match.active


def test_only_an_owner_changes_the_settings_and_a_manager_cannot_upload(
    org: Any, owner: Any, manager: Any, client_for: Any
) -> None:
    url = f"{_base(org)}/settings/"
    data = {"era_without_deposit_days": 7, "suggestion_window_days": 2}
    assert client_for(manager).post(url, data).status_code == 403
    assert client_for(owner).post(url, {**data, "era_without_deposit_days": 0}).status_code == 200
    assert client_for(owner).post(url, data).status_code == 302
    assert "7" in client_for(manager).get(f"{_base(org)}/?tab=eras").content.decode()
    with tenant_context(org):
        bank_account()
    refused = _upload(client_for(manager), org, three_ach_credits(days_ago(1)))
    assert refused.status_code == 403
