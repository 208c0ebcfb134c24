"""Each KPI on a small book of claims computed by hand, empty data, filters, drill-down, query
count, the portfolio's isolation, exports and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from claims import services as claims_services
from claims.models import Claim
from dashboards.selectors import DashboardFilters, dashboard_figures
from denials.models import (
    Appeal,
    Denial,
    LineBalance,
    Payment,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceImport,
)
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests import clock
from tests.clock import days_ago, days_from_now, today
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory
from tests.factories import HOME_ADDRESS, MembershipFactory, UserFactory, set_billing_identity

URL = "/o/riverbend/dashboards/"


def dos() -> date:
    """The book's date of service: 20 days before the frozen today."""
    return days_ago(20)


@dataclass
class Book:
    org: Any
    payer: Any
    claims: list[Claim]


def _claim(org: Any, payer: Any, provider: Any, mrn: str) -> Claim:
    patient = patients_services.patient_create(
        today=today(),
        mrn=mrn,
        first_name="P",
        last_name=mrn,
        date_of_birth=date(1980, 1, 1),
        sex="U",
        **HOME_ADDRESS,
    )
    patients_services.coverage_create(
        patient=patient, payer=payer, member_id=f"M{mrn}", effective_date=days_ago(400)
    )
    episode = patients_services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="mental_health",
        admission_date=days_ago(25),
        level="1",
    )
    patients_services.diagnosis_add(episode=episode, code="F33.1")
    start = datetime.combine(dos(), time(9), tzinfo=ZoneInfo("UTC"))
    claims_services.service_entry_create(
        scopes=part2.ORGANIZATION,
        patient=patient,
        episode=episode,
        rendering_provider=provider,
        date_of_service=dos(),
        kind="psychotherapy",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        documentation_signed=True,
        today=today(),
    )
    return claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims[0]


def make_book(org: Any) -> Book:
    """Four claims of $150 submitted today: c1 accepted and paid $100 (CO-45 $50); c2 rejected;
    c3 accepted and denied (authorization); c4 waiting. Two appeals decided: one overturned."""
    set_billing_identity(org)
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="Blue Plan", payer_id="BP1", payer_type="commercial"
        )
        provider = ProviderFactory(organization=org)
        CredentialFactory(organization=org, provider=provider)
        EnrollmentFactory(organization=org, provider=provider, payer=payer)
        claims_services.charge_master_set(
            service_code="90834", charge=Decimal("150.00"), effective_from=days_ago(400)
        )
        claims = [_claim(org, payer, provider, f"K{i}") for i in range(1, 5)]
        for claim, path in zip(
            claims, (["accepted", "paid"], ["rejected"], ["accepted", "denied"], []), strict=True
        ):
            claims_services.claim_transition(claim=claim, to_status="submitted")
            for status in path:
                claims_services.claim_transition(claim=claim, to_status=status)
        c1, _, c3, _ = claims
        upload = RemittanceImport.objects.create(
            file_name="r.835", content="", sha256="x" * 64, status="posted"
        )
        payment = Payment.objects.create(
            remittance_import=upload,
            payer=payer,
            trace_number="T1",
            amount=Decimal("100.00"),
            payment_date=today(),
        )
        r1 = RemittanceClaim.objects.create(
            payment=payment,
            claim=c1,
            patient_control_number=c1.patient_control_number,
            status_code="1",
            charge=Decimal("150.00"),
            paid=Decimal("100.00"),
        )
        RemittanceAdjustment.objects.create(
            remittance_claim=r1, group_code="CO", reason_code="45", amount=Decimal("50.00")
        )
        r3 = RemittanceClaim.objects.create(
            payment=payment,
            claim=c3,
            patient_control_number=c3.patient_control_number,
            status_code="4",
            charge=Decimal("150.00"),
            paid=Decimal("0.00"),
        )
        RemittanceAdjustment.objects.create(
            remittance_claim=r3, group_code="CO", reason_code="197", amount=Decimal("150.00")
        )
        line1, line3 = c1.lines.get(), c3.lines.get()
        LineBalance.objects.create(
            claim=c1,
            claim_line=line1,
            charge=Decimal("150.00"),
            paid=Decimal("100.00"),
            contractual=Decimal("50.00"),
        )
        LineBalance.objects.create(
            claim=c3, claim_line=line3, charge=Decimal("150.00"), denied=Decimal("150.00")
        )
        denial = Denial.objects.create(
            claim=c3,
            claim_line=line3,
            remittance_claim=r3,
            payer=payer,
            group_code="CO",
            carc="197",
            category="authorization",
            amount=Decimal("150.00"),
            remittance_date=today(),
            appeal_deadline=days_from_now(180),
        )
        Appeal.objects.create(
            denial=denial,
            level="level_1",
            deadline=days_from_now(180),
            outcome="overturned",
            decided_on=today(),
        )
        Appeal.objects.create(
            denial=denial,
            level="level_2",
            deadline=days_from_now(180),
            outcome="upheld",
            decided_on=today(),
        )
    return Book(org, payer, claims)


@pytest.fixture
def book(org: Any) -> Book:
    return make_book(org)


def _figures(org: Any, **filters: Any) -> Any:
    with tenant_context(org):
        return dashboard_figures(
            filters=DashboardFilters(date_from=days_ago(89), date_to=today(), **filters),
            today=today(),
            scopes={part2.GRANT},
        )


def test_every_kpi_matches_the_hand_computed_book(book: Book) -> None:
    d = _figures(book.org)
    assert d.clean_claims == (2, 3) and d.clean_claim_rate == Decimal("66.7")
    assert d.denials == (1, 2) and d.initial_denial_rate == Decimal("50.0")
    assert [(b.label, b.numerator) for b in d.denial_by_category] == [("Authorization", 1)]
    assert d.ar_total == Decimal("300.00") and d.ar_over_90_share == Decimal("0.0")
    assert d.charges_last_90 == Decimal("600.00") and d.days_in_ar == Decimal("45.0")
    assert d.denial_overturn_rate == Decimal("50.0")
    assert sum(amount for _, amount in d.cash_by_week) == Decimal("100.00")
    assert d.ar_buckets["0-30"]["insurance"] == Decimal("300.00")


def test_net_collection_rate_subtracts_contractual_adjustments(book: Book) -> None:
    d = _figures(book.org)
    paid, charges, contractual = d.collections
    assert (paid, charges) == (Decimal("100.00"), Decimal("300.00"))
    assert contractual == Decimal("50.00")  # CO-45; the CO-197 denial is still owed
    assert d.net_collection_rate == Decimal("40.0")  # 100 / (300 - 50)


def test_empty_data_shows_no_data_and_never_divides_by_zero(
    org: Any, manager: Any, client_for: Any
) -> None:
    d = _figures(org)
    assert d.clean_claim_rate is None and d.initial_denial_rate is None and d.days_in_ar is None
    assert (
        d.net_collection_rate is None
        and d.denial_overturn_rate is None
        and d.ar_over_90_share is None
    )
    html = client_for(manager).get(URL).content.decode()
    assert html.count("no data") >= 6 and "No claims adjudicated in this period." in html


def test_filters_narrow_every_figure(book: Book, other_org: Any) -> None:
    with tenant_context(book.org):
        other = patients_services.payer_create(name="Other", payer_id="OT", payer_type="commercial")
    d = _figures(book.org, payer_id=other.pk)
    assert d.denials == (0, 0) and d.ar_total == Decimal("0.00")
    assert _figures(book.org, level="2.1").clean_claims == (0, 0)
    assert _figures(book.org, payer_id=book.payer.pk).denials == (1, 2)


def test_the_drill_down_lists_the_claims_behind_the_number(
    book: Book, manager: Any, client_for: Any
) -> None:
    client = client_for(manager)
    denied = client.get(f"{URL}claims/", {"kind": "denied"})
    assert denied.context["page"].paginator.count == 1 == _figures(book.org).denials[0]
    assert [c.pk for c in denied.context["page"]] == [book.claims[2].pk]
    assert client.get(f"{URL}claims/", {"kind": "adjudicated"}).context["page"].paginator.count == 2
    assert client.get(f"{URL}claims/", {"kind": "ar"}).context["page"].paginator.count == 2
    assert (
        client.get(f"{URL}claims/", {"kind": "denied", "category": "coding"})
        .context["page"]
        .paginator.count
        == 0
    )


def test_the_dashboard_costs_a_fixed_number_of_queries(
    org: Any, manager: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    make_book(org)
    client = client_for(manager)
    client.get(URL)
    with django_assert_max_num_queries(32):
        client.get(URL)
    with tenant_context(org):
        more = Claim.objects.first()
        for i in range(5, 9):
            _claim(org, more.payer, more.rendering_provider, f"K{i}")
    with django_assert_max_num_queries(32):
        client.get(URL)


def test_each_table_exports_as_csv_and_the_pdf_renders(
    book: Book, manager: Any, client_for: Any
) -> None:
    client = client_for(manager)
    csv_body = client.get(URL, {"export": "denials_by_payer"}).content.decode()
    assert csv_body.splitlines()[:2] == [
        "payer,denied claims,adjudicated claims,denial rate %",
        "Blue Plan,1,2,50.0",
    ]
    pdf = client.get(URL, {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(URL, {"export": "nope"}).status_code == 404


def test_a_biller_without_dashboards_scope_is_refused(
    book: Book, clinician: Any, client_for: Any
) -> None:
    assert client_for(clinician).get(URL).status_code == 403


def test_the_portfolio_computes_each_organization_in_its_own_context(
    book: Book, other_org: Any, client_for: Any
) -> None:
    user = UserFactory(email="pat@partner.example")
    MembershipFactory(organization=book.org, user=user, role=Role.MANAGER)
    MembershipFactory(organization=other_org, user=user, role=Role.MANAGER)
    response = client_for(user).get("/portfolio/")
    rows = {row["organization"].slug: row["figures"] for row in response.context["rows"]}
    assert rows["riverbend"]["initial_denial_rate"] == Decimal("50.0")
    assert rows["harborview"]["initial_denial_rate"] is None and rows["harborview"][
        "ar_total"
    ] == Decimal("0.00")


def test_the_kpi_api_returns_the_same_figures_with_formula_names(
    book: Book, api_client_for: Any
) -> None:
    body = (
        api_client_for(book.org, ["dashboards:read"])
        .get("/api/v1/kpis/", {"payer": str(book.payer.pk)})
        .json()
    )
    assert body["figures"]["initial_denial_rate"] == {
        "value": "50.0",
        "formula": "initial_denial_rate",
    }
    assert body["figures"]["clean_claim_rate"]["value"] == "66.7"
    assert "initial_denial_rate" in body["formulas"]
    bad = api_client_for(book.org, ["dashboards:read"]).get(
        "/api/v1/kpis/", {"from": days_ago(10).isoformat(), "to": days_ago(40).isoformat()}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "to"


def test_a_month_of_the_trend_drills_down_to_its_denied_claims(
    book: Book, manager: Any, client_for: Any
) -> None:
    month = dos().strftime("%Y-%m")
    client = client_for(manager)
    html = client.get(URL).content.decode()
    assert f"month={month}" in html
    response = client.get(f"{URL}claims/", {"kind": "denied", "month": month})
    assert [c.pk for c in response.context["page"]] == [book.claims[2].pk]


def test_unbilled_per_diem_days_list_the_census_days_without_a_charge(
    org: Any, manager: Any, client_for: Any
) -> None:
    with tenant_context(org):
        patient = patients_services.patient_create(
            today=today(),
            mrn="IOP1",
            first_name="I",
            last_name="Op",
            date_of_birth=date(1990, 1, 1),
            sex="U",
        )
        patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=days_ago(4),
            level="2.1",
        )
    assert _figures(org).unbilled_days == 4  # four past days at IOP, none charged (today excluded)
    response = client_for(manager).get(f"{URL}unbilled-days/")
    assert response.context["page"].paginator.count == 4


def test_the_work_backlog_counts_open_items_by_age(org: Any, manager: Any) -> None:
    from denials.models import WorkItem

    with tenant_context(org):
        for status, opened in (
            ("new", 3),
            ("waiting_on_payer", 45),
            ("resolved_paid", 5),
            ("in_progress", 200),
        ):
            WorkItem.objects.create(
                kind="denial",
                source_id=uuid4(),
                title="x",
                status=status,
                status_changed_on=today(),
                opened_on=days_ago(opened),
            )
    backlog = _figures(org).backlog
    assert backlog == {"0-30": 1, "31-60": 1, "61-90": 0, "91-120": 0, "120+": 1}


def test_the_dashboard_links_carry_its_filters_to_the_drilldowns_and_exports(
    book: Book, manager: Any, client_for: Any
) -> None:
    page = client_for(manager).get(URL, {"date_from": str(days_ago(60))}).content.decode()
    since = f"date_from={days_ago(60)}"
    assert f'/o/riverbend/dashboards/claims/?{since}&amp;kind=denied"' in page
    assert f'/o/riverbend/dashboards/claims/?{since}&amp;kind=ar&amp;bucket=91%2B"' in page
    assert f'href="?{since}&amp;export=denials_by_payer"' in page
    assert f'href="?{since}&amp;format=pdf"' in page
