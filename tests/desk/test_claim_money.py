"""The money on a claim (denials.account): per line and in total, billed = paid + adjustments +
patient balance + insurance balance, from posted 835s: a partial payment, a denial, a PR
coinsurance and a secondary payment; the page and the API show the same figures."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

import pytest

from claims.models import Claim
from denials import services
from denials.account import claim_account, claim_timeline
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.conftest import add_medicaid
from tests.denials.test_secondary import primary_pays, submit_primary
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
pytestmark = pytest.mark.django_db
API = "/api/v1"


def post(practice, text, name="remit.835"):
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name=name, content=text)
        return services.remittance_post(import_id=imp.pk, today=today())


def account_of(practice, claim):
    with tenant_context(practice.org):
        claim = Claim.objects.select_related("payer").get(pk=claim.pk)
        return claim_account(claim=claim, scopes=part2.ORGANIZATION)


def assert_adds_up(money):
    assert money.billed == money.paid + money.adjusted + money.patient_balance + (
        money.insurance_balance
    ), money
    assert money.unbalanced == D("0")


def test_a_partial_payment_with_coinsurance_adds_up_per_line_and_in_total(practice, submitted):
    claim = submitted(days=2)
    with tenant_context(practice.org):
        first, _second = claim.lines.order_by("line_number")
    # Line 1: allowed 110, paid 80, CO-45 40, PR-2 30. Line 2: not in this remittance yet.
    clp = Clp(
        claim.patient_control_number,
        "1",
        D("150"),
        D("80"),
        D("30"),
        lines=[
            Svc(
                "90834",
                D("150"),
                D("80"),
                lcn=first.line_control_number,
                cas=[("CO", "45", D("40")), ("PR", "2", D("30"))],
                allowed=D("110"),
            )
        ],
    )
    post(practice, build_835([clp]))
    account = account_of(practice, claim)
    one, two = account.lines
    assert (one.billed, one.allowed, one.paid_by, one.patient_responsibility) == (
        D("150"),
        D("110"),
        {1: D("80")},
        D("30"),
    )
    assert [(a.group, a.reason, a.amount) for a in one.adjustments] == [("CO", "45", D("40"))]
    assert one.adjustments[0].text == "Charge exceeds the fee schedule or contracted amount"
    assert (one.insurance_balance, one.patient_balance) == (D("0"), D("30"))
    # The unpaid line is still the payer's to adjudicate.
    assert (two.paid, two.insurance_balance, two.allowed) == (D("0"), D("150"), None)
    for money in (one, two, account.total):
        assert_adds_up(money)
    assert account.total.balance == D("180")
    assert [p.trace_number for p in account.payments] == ["TRACE1"]


def test_a_denial_is_an_adjustment_with_its_reason_and_the_denial_linked(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        line = claim.lines.get()
    clp = Clp(
        claim.patient_control_number,
        "4",
        D("150"),
        D("0"),
        lines=[
            Svc(
                "90834",
                D("150"),
                D("0"),
                lcn=line.line_control_number,
                cas=[("CO", "50", D("150"))],
                rarcs=["N115"],
            )
        ],
    )
    post(practice, build_835([clp]))
    account = account_of(practice, claim)
    (money,) = account.lines
    (adj,) = money.adjustments
    assert (adj.group, adj.reason, adj.amount, adj.is_denial) == ("CO", "50", D("150"), True)
    assert "necess" in adj.text.lower()
    assert (money.paid, money.insurance_balance, money.patient_balance) == (D("0"),) * 3
    assert account.total.denied == D("150")
    assert_adds_up(account.total)
    (denial,) = account.denials
    assert denial.carc == "50"


def test_a_secondary_payment_is_shown_per_payer_and_settles_the_patient_share(billing):
    add_medicaid(billing)
    primary = submit_primary(billing)
    imp = primary_pays(billing, primary)
    with tenant_context(billing.org):
        (secondary,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
    # Before Medicaid answers: the coinsurance moved to it is an insurance balance.
    before = account_of(billing, primary)
    (line,) = before.lines
    assert (line.paid_by, line.insurance_balance, line.patient_balance) == (
        {1: D("80")},
        D("30"),
        D("0"),
    )
    assert_adds_up(line)
    assert [p.label for p in before.payers] == ["primary", "secondary"]
    assert before.secondary_claims == [secondary]
    with tenant_context(billing.org):
        sline = secondary.lines.get()
    # Medicaid pays 25 of the 30 and leaves 5 copay to the patient; OA-23 restates the primary.
    post(
        billing,
        build_835(
            [
                Clp(
                    secondary.patient_control_number,
                    "2",
                    D("150"),
                    D("25"),
                    D("5"),
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("25"),
                            lcn=sline.line_control_number,
                            cas=[("OA", "23", D("120")), ("PR", "3", D("5"))],
                        )
                    ],
                    payer_claim_number="MCD-77",
                )
            ],
            trace="MCDTRACE",
            payer_id="SMCD1",
        ),
        name="medicaid.835",
    )
    after = account_of(billing, primary)
    (line,) = after.lines
    assert line.paid_by == {1: D("80"), 2: D("25")}
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [("CO", "45", D("40"))]
    assert (line.patient_responsibility, line.insurance_balance) == (D("5"), D("0"))
    assert_adds_up(line)
    assert_adds_up(after.total)
    assert {p.trace_number for p in after.payments} == {"TRACE1", "MCDTRACE"}


def test_the_claim_page_and_the_api_show_the_same_figures(
    billing, biller, client_for, api_client_for
):
    primary = submit_primary(billing)
    primary_pays(billing, primary)
    page = client_for(biller).get(f"/o/{billing.org.slug}/denials/claims/{primary.pk}/account/")
    assert page.status_code == 200
    html = page.content.decode()
    for figure in ("$150.00", "$80.00", "CO-45 $40.00", "$30.00"):
        assert figure in html, figure
    api = api_client_for(billing.org, ["claims:read", "part2:read"])
    data = api.get(f"{API}/claim-accounts/{primary.pk}/").json()
    total = data["total"]
    assert (total["billed"], total["paid"], total["adjusted"], total["patient_balance"]) == (
        "150.00",
        "80.00",
        "40.00",
        "30.00",
    )
    assert total["insurance_balance"] == "0.00"
    assert data["lines"][0]["adjustments"][0]["reason"] == "45"
    assert data["payers"][0]["name"] == "Blue Plan"


def test_another_organizations_claim_is_not_found(
    billing, outsider, client_for, other_org, api_client_for
):
    primary = submit_primary(billing)
    page = client_for(outsider).get(f"/o/{other_org.slug}/denials/claims/{primary.pk}/account/")
    assert page.status_code == 404
    api = api_client_for(other_org, ["claims:read", "part2:read"])
    assert api.get(f"{API}/claim-accounts/{primary.pk}/").status_code == 404


def test_the_timeline_lists_every_event_in_order_in_a_constant_number_of_queries(
    billing, django_assert_max_num_queries
):
    tz = zoneinfo.ZoneInfo("America/Chicago")
    small = submit_primary(billing)
    with tenant_context(billing.org):
        claim = Claim.objects.get(pk=small.pk)
        with django_assert_max_num_queries(14) as short:
            claim_timeline(claim=claim, scopes=part2.ORGANIZATION, tz=tz)
    primary_pays(billing, small)
    from denials.notes import note_add

    with tenant_context(billing.org):
        for i in range(3):
            note_add(
                subject_type="claim",
                subject_id=small.pk,
                body=f"Called Blue Plan {i}",
                author=None,
                scopes=part2.ORGANIZATION,
            )
        claim = Claim.objects.get(pk=small.pk)
        with django_assert_max_num_queries(len(short.captured_queries)):
            events = claim_timeline(claim=claim, scopes=part2.ORGANIZATION, tz=tz)
        with django_assert_max_num_queries(12):
            claim_account(claim=claim, scopes=part2.ORGANIZATION)
    kinds = [e.kind for e in events]
    assert kinds[0] == "created" and "batched" in kinds and "paid" in kinds
    assert kinds.count("note") == 3
    # Moves written in one instant (the suite's clock stands still) follow each other.
    moves = [e.text.split(" — ")[0] for e in events if e.kind == "status"]
    assert moves == [
        "new → draft",
        "draft → ready",
        "ready → submitted",
        "submitted → accepted",
        "accepted → paid",
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(str(e.at.tzinfo) == "America/Chicago" for e in events)


def test_a_remittance_that_does_not_balance_changes_no_figure(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        line = claim.lines.get()
    # 150 charged, 80 paid, 40 contractual: the payer accounts for 120 of 150.
    svc = Svc("90834", D("150"), D("80"), lcn=line.line_control_number, cas=[("CO", "45", D("40"))])
    imp = post(
        practice,
        build_835([Clp(claim.patient_control_number, "1", D("150"), D("80"), lines=[svc])]),
    )
    assert imp.status == "rejected"
    account = account_of(practice, claim)
    (money,) = account.lines
    assert (money.paid, money.adjusted, money.insurance_balance) == (D("0"), D("0"), D("150"))
    assert money.unbalanced == D("0") and account.payments == []
