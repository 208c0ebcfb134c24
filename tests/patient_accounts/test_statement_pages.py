"""Statement pages and API: the run form (a second run of a cycle refused beside the field),
the run page's progress and statements in a fixed number of queries, the settings form with
inline errors, the PDFs, the API list and PDF, Part 2 statements kept from a key without the
grant, and another organization's runs and statements are 404s."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.models import Claim
from patient_accounts.models import Statement, StatementRun
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import API_KEY_SCOPES
from tests.clock import now, today

D = Decimal
pytestmark = pytest.mark.django_db
API = "/api/v1/patient-accounts"
NO_PART2 = [s for s in API_KEY_SCOPES if s != "part2:read"]


def url(org, suffix=""):
    return f"/o/{org.slug}/patient_accounts/statements/{suffix}"


def work_outbox(org):
    with tenant_context(org):
        ids = list(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True))
    for pk in ids:
        outbox_process(message_id=pk, now=now(), organization_id=org.pk)


def test_a_biller_runs_statements_sees_the_progress_and_downloads_the_pdfs(
    practice, coinsured, biller, client_for, django_assert_max_num_queries
):
    for i in range(3):
        coinsured(pr=D("30.00"), days_ago=20 + i)
    client = client_for(biller)
    assert "No statement run yet" in client.get(url(practice.org)).content.decode()
    cycle = f"{today():%Y-%m}"
    started = client.post(url(practice.org), {"cycle": cycle})
    assert started.status_code == 302
    with tenant_context(practice.org):
        run = StatementRun.objects.get()
    run_page = url(practice.org, f"runs/{run.pk}/")
    pending = client.get(run_page, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in pending and "0 of 0 accounts" in pending
    work_outbox(practice.org)
    with django_assert_max_num_queries(25):
        done = client.get(run_page).content.decode()
    assert "every 2s" not in done and "$90.00" in done and "Jane Doe" in done
    again = client.post(url(practice.org), {"cycle": cycle})
    assert again.status_code == 200 and "already run" in again.content.decode()
    bad = client.post(url(practice.org), {"cycle": "March"})
    assert "YYYY-MM" in bad.content.decode()
    with tenant_context(practice.org):
        assert StatementRun.objects.count() == 1
    combined = client.get(url(practice.org, f"runs/{run.pk}/statements.pdf"))
    assert combined.status_code == 200 and combined.content.startswith(b"%PDF")
    with tenant_context(practice.org):
        statement = Statement.objects.get()
    one = client.get(url(practice.org, f"{statement.pk}/statement.pdf"))
    assert one.status_code == 200 and one["Content-Type"] == "application/pdf"


def test_statement_settings_errors_show_beside_their_fields(practice, biller, client_for):
    client = client_for(biller)
    page = url(practice.org, "settings/")
    assert "Behavioral health services" in client.get(page).content.decode()
    form = {
        "statement_cycle_day": "30",
        "statement_minimum": "5.00",
        "message_friendly": "Hello",
        "message_reminder": "Reminder",
        "message_past_due": "Past due",
        "message_final_notice": "Final",
        "part2_service_label": "Health services",
        "remit_to_address_line1": "PO Box 1",
    }
    assert "less than or equal to 28" in client.post(page, form).content.decode()
    form["statement_cycle_day"] = "15"
    assert "city, state and ZIP" in client.post(page, form).content.decode()
    assert "1st of the month" in client.get(url(practice.org)).content.decode()
    saved = client.post(
        page,
        {**form, "remit_to_city": "Salem", "remit_to_state": "OR",
         "remit_to_postal_code": "97301"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert "15th of the month" in client.get(url(practice.org)).content.decode()


def test_the_api_lists_statements_and_serves_the_pdf_and_hides_part2_without_the_grant(
    practice, coinsured, biller, client_for, api_client_for, other_org
):
    cb = coinsured(pr=D("30.00"))
    client_for(biller).post(url(practice.org), {"cycle": f"{today():%Y-%m}"})
    work_outbox(practice.org)
    api = api_client_for(practice.org)
    listed = api.get(f"{API}/statements/?patient={practice.patient.pk}")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["amount_due"] == "30.00" and row["cycle"] == f"{today():%Y-%m}"
    pdf = api.get(f"{API}/statements/{row['id']}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    theirs = api_client_for(other_org)
    assert theirs.get(f"{API}/statements/{row['id']}/").status_code == 404
    assert theirs.get(f"{API}/statements/{row['id']}/pdf/").status_code == 404
    assert theirs.get(f"{API}/statements/").json()["results"] == []
    with tenant_context(practice.org):
        Claim.objects.filter(pk=cb.claim_id).update(is_part2=True)
        Statement.objects.update(part2=True)
    without = api_client_for(practice.org, NO_PART2)
    hidden = without.get(f"{API}/statements/")
    assert hidden["X-Part2-Hidden"] == "1" and hidden.json()["results"] == []
    assert without.get(f"{API}/statements/{row['id']}/pdf/").status_code == 404


def test_another_organizations_run_and_statement_are_not_found(
    practice, coinsured, biller, client_for, outsider, other_org
):
    coinsured()
    client_for(biller).post(url(practice.org), {"cycle": f"{today():%Y-%m}"})
    work_outbox(practice.org)
    with tenant_context(practice.org):
        run, statement = StatementRun.objects.get(), Statement.objects.get()
    client = client_for(outsider)
    for suffix in (
        f"runs/{run.pk}/",
        f"runs/{run.pk}/statements.pdf",
        f"{statement.pk}/statement.pdf",
    ):
        assert client.get(url(other_org, suffix)).status_code == 404
