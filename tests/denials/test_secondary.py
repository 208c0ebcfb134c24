"""Secondary claims: after the primary's 835 posts, the patient's share moves to the secondary
coverage, a claim is built with the primary's adjudication, sent in an 837 batch with the COB
loops (2320/2330/2430, validated by pyx12), and the secondary's own 835 settles it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimLine
from denials import services
from denials.models import LineBalance, SecondaryClaim
from rcm import part2
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from submissions.services import batch_build, batches_create
from tests.claims.conftest import admitted, dos
from tests.clock import today
from tests.denials.conftest import add_medicaid
from tests.denials.x835 import Clp, Svc, build_835, paid_on
from tests.submissions.conftest import billing as billing
from tests.x12.pyx12_check import pyx12_errors

D = Decimal
pytestmark = pytest.mark.django_db


def submit_primary(practice, day: date | None = None) -> Claim:
    entry = practice.session(45, day=day or dos())
    with tenant_context(practice.org):
        (claim,) = claims_services.claims_build(
            scopes=part2.ORGANIZATION, entry_ids=[entry.pk], today=today()
        ).claims
        claim.refresh_from_db()
        assert claim.status == "ready", list(claim.findings.values_list("message", flat=True))
    with tenant_context(practice.org):
        batch = batches_create(
            scopes=part2.ORGANIZATION, clearinghouse=practice.clearinghouse, claim_ids=[claim.pk]
        )[0]
    batch_build(organization_id=practice.org.pk, batch_id=batch.pk)
    with tenant_context(practice.org):
        claim.refresh_from_db()
    assert claim.status == "submitted"
    return claim


def post(practice, text, name="remit.835"):
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name=name, content=text)
        return services.remittance_post(import_id=imp.pk, today=today())


def primary_pays(practice, claim: Claim, trace: str = "TRACE1", **kwargs):
    """Blue Plan allows 110 of 150, pays 80, the patient owes 30 coinsurance."""
    with tenant_context(practice.org):
        line = claim.lines.get()
    return post(
        practice,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("80"),
                    D("30"),
                    payer_claim_number="BP-2026-555",
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("80"),
                            lcn=line.line_control_number,
                            cas=[("CO", "45", D("40")), ("PR", "2", D("30"))],
                        )
                    ],
                    **kwargs,
                )
            ],
            trace=trace,
        ),
        name=f"{trace}.835",
    )


def test_the_primary_posting_builds_a_clean_secondary_claim_with_the_balance_moved(billing):
    medicaid = add_medicaid(billing)
    primary = submit_primary(billing)
    imp = primary_pays(billing, primary)
    with tenant_context(billing.org):
        assert OutboxMessage.objects.filter(
            topic="denials.secondary_claims_build", payload={"import_id": str(imp.pk)}
        ).exists()
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        claim.refresh_from_db()
        assert claim.status == "ready", list(claim.findings.values_list("message", flat=True))
        assert (claim.payer_id, claim.primary_claim_id) == (medicaid.pk, primary.pk)
        assert claim.coverage.priority == 2 and claim.total_charge == D("150.00")
        assert claim.patient_control_number != primary.patient_control_number
        (line,) = ClaimLine.objects.filter(claim=claim)
        (primary_line,) = ClaimLine.objects.filter(claim=primary)
        assert line.service_entry_id == primary_line.service_entry_id
        assert line.line_control_number != primary_line.line_control_number
        # Medicaid wants the practitioner-level modifier (an LCSW: HO); Blue Plan did not.
        assert (primary_line.modifiers, line.modifiers) == ([], ["HO"])
        # The secondary owes the patient's 30; the primary's line is settled.
        assert LineBalance.objects.get(claim_line=line).open_balance == D("30.00")
        assert LineBalance.objects.get(claim_line=primary_line).open_balance == D("0.00")
        secondary = SecondaryClaim.objects.get()
        assert (secondary.status, secondary.claim_id) == ("billed", claim.pk)
        snapshot = claim.other_payer_adjudication
        assert (snapshot["payer_id"], D(snapshot["paid"]), snapshot["member_id"]) == (
            "BP001",
            D("80"),
            "W1",
        )
        assert snapshot["payer_claim_number"] == "BP-2026-555"


def test_building_twice_builds_once(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        assert (
            len(
                services.secondary_claims_build(
                    import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
                )
            )
            == 1
        )
        assert (
            services.secondary_claims_build(
                import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
            )
            == []
        )
        assert services.secondary_claims_build(today=today(), scopes=part2.ORGANIZATION) == []
        assert Claim.objects.filter(primary_claim__isnull=False).count() == 1


def test_the_secondary_837_carries_the_primary_adjudication_and_passes_pyx12(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        batch = batches_create(
            scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse, claim_ids=[claim.pk]
        )[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == "released", batch.error
    with tenant_context(billing.org):
        text = batch.content
        line = ClaimLine.objects.get(claim=claim)
    segments = text.replace("\n", "").split("~")
    assert "SBR*S*18*******MC" in segments  # this claim goes to Medicaid, second in line
    assert "NM1*PR*2*STATE MEDICAID*****PI*SMCD1" in segments
    cob = segments[segments.index("SBR*P*18*******CI") :]
    assert cob[1:6] == [
        "AMT*D*80",
        "AMT*EAF*30",
        "OI***Y***Y",
        "NM1*IL*1*DOE*JANE****MI*W1",
        "NM1*PR*2*BLUE PLAN*****PI*BP001",
    ]
    assert "REF*F8*BP-2026-555" in cob
    at = segments.index(f"REF*6R*{line.line_control_number}")
    assert segments[at + 1 : at + 5] == [
        "SVD*BP001*80*HC:90834**1",
        "CAS*CO*45*40",
        "CAS*PR*2*30",
        f"DTP*573*D8*{paid_on():%Y%m%d}",  # the primary's adjudication: its payment date
    ]
    valid, errors = pyx12_errors(text)
    assert errors == [] and valid
    with tenant_context(billing.org):
        claim.refresh_from_db()
        assert claim.status == "submitted"


def test_the_secondary_payers_835_settles_the_moved_balance(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        batch = batches_create(
            scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse, claim_ids=[claim.pk]
        )[0]
    batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    with tenant_context(billing.org):
        line = ClaimLine.objects.get(claim=claim)
    # Medicaid pays the 30 coinsurance; CAS OA*23 restates what the primary settled.
    post(
        billing,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("30"),
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("30"),
                            lcn=line.line_control_number,
                            cas=[("OA", "23", D("120"))],
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
    with tenant_context(billing.org):
        balance = LineBalance.objects.get(claim_line=line)
        assert (balance.paid, balance.prior_payer, balance.contractual) == (
            D("30.00"),
            D("120.00"),
            D("0.00"),
        )
        assert balance.open_balance == D("0.00")
        claim.refresh_from_db()
        assert claim.status == "paid"
        # The secondary's remittance moves nothing further (no tertiary coverage).
        assert SecondaryClaim.objects.count() == 1


def test_a_provider_not_enrolled_with_the_secondary_payer_leaves_the_claim_in_draft(billing):
    add_medicaid(billing, enrolled=False)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        claim.refresh_from_db()
        assert claim.status == "draft"
        rules = set(claim.findings.values_list("rule", flat=True))
        # Only that: the same service on the primary's claim is no duplicate for another payer.
        assert rules == {"provider_not_enrolled"}


def test_a_crossover_is_not_billed_again(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing), crossover="STATE MEDICAID")
    with tenant_context(billing.org):
        assert SecondaryClaim.objects.get().status == "crossed_over"
        assert (
            services.secondary_claims_build(
                import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
            )
            == []
        )
        assert not Claim.objects.filter(primary_claim__isnull=False).exists()


def test_another_organizations_secondaries_are_never_built(billing, other_org):
    add_medicaid(billing)
    primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        ids = [SecondaryClaim.objects.get().pk]
    with tenant_context(other_org):
        assert (
            services.secondary_claims_build(
                secondary_ids=ids, today=today(), scopes=part2.ORGANIZATION
            )
            == []
        )
    with tenant_context(billing.org):
        assert SecondaryClaim.objects.get().status == "to_bill"


def test_the_secondaries_page_lists_builds_and_links_the_claims(
    billing, biller, manager, client_for, django_assert_max_num_queries
):
    add_medicaid(billing)
    primary = submit_primary(billing)
    primary_pays(billing, primary)
    client = client_for(biller)
    page = client.get("/o/riverbend/denials/secondaries/")
    assert page.status_code == 200
    html = page.content.decode()
    assert primary.patient_control_number in html and "State Medicaid" in html
    assert "$30.00" in html and "To bill" in html
    # A manager reads the page but cannot build.
    assert (
        client_for(manager).post("/o/riverbend/denials/secondaries/", {"all": "1"}).status_code
        == 403
    )
    # Nothing selected: refused, nothing built.
    client.post("/o/riverbend/denials/secondaries/", {})
    with tenant_context(billing.org):
        assert not Claim.objects.filter(primary_claim=primary).exists()
        secondary = SecondaryClaim.objects.get()
    response = client.post("/o/riverbend/denials/secondaries/", {"secondary": [str(secondary.pk)]})
    assert response.status_code == 302
    with tenant_context(billing.org):
        claim = Claim.objects.get(primary_claim=primary)
    built = client.get("/o/riverbend/denials/secondaries/?status=billed").content.decode()
    assert claim.patient_control_number in built
    assert "Nothing waiting" in client.get("/o/riverbend/denials/secondaries/").content.decode()
    detail = client.get(f"/o/riverbend/claims/{claim.pk}/").content.decode()
    assert "Secondary of" in detail and primary.patient_control_number in detail
    assert "Blue Plan paid $80" in detail
    assert (
        claim.patient_control_number
        in client.get(f"/o/riverbend/claims/{primary.pk}/").content.decode()
    )
    with django_assert_max_num_queries(12):
        assert client.get("/o/riverbend/denials/secondaries/?status=").status_code == 200


def test_the_secondaries_page_costs_the_same_for_one_or_many(billing, biller, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add_medicaid(billing)
    client = client_for(biller)
    primary_pays(billing, submit_primary(billing))
    client.get("/o/riverbend/denials/secondaries/")
    with CaptureQueriesContext(connection) as one:
        client.get("/o/riverbend/denials/secondaries/")
    claim = submit_primary(billing, day=dos() + timedelta(days=7))  # next week's session
    primary_pays(billing, claim, trace="TRACE2")
    with CaptureQueriesContext(connection) as two:
        html = client.get("/o/riverbend/denials/secondaries/").content.decode()
    assert html.count('name="secondary"') == 2
    assert len(two) == len(one)


def test_a_partner_lists_and_builds_secondaries_on_the_api(billing, api_client_for, other_org):
    add_medicaid(billing)
    primary_pays(billing, submit_primary(billing))
    api = api_client_for(billing.org, ["claims:read", "claims:write"])
    (row,) = api.get("/api/v1/secondary-claims/?status=to_bill").json()["results"]
    assert row["status"] == "to_bill" and row["amount"] == "30.00" and row["claim"] is None
    stranger = api_client_for(other_org)
    assert stranger.post(f"/api/v1/secondary-claims/{row['id']}/build/").status_code == 404
    reader = api_client_for(billing.org, ["claims:read"])
    assert reader.post(f"/api/v1/secondary-claims/{row['id']}/build/").status_code == 403
    built = api.post(f"/api/v1/secondary-claims/{row['id']}/build/")
    assert built.status_code == 200 and built.json()["status"] == "billed"
    claim = api.get(f"/api/v1/claims/{built.json()['claim']}/").json()
    assert claim["primary_claim"] == row["primary_claim"] and claim["status"] == "ready"
    again = api.post(f"/api/v1/secondary-claims/{row['id']}/build/")
    assert again.status_code == 400 and "nothing to build" in again.json()["detail"]


def test_the_dashboard_counts_a_service_once_and_ar_only_what_the_secondary_owes(billing):
    from dashboards.selectors import DashboardFilters, dashboard_figures
    from rcm import part2

    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        batch = batches_create(
            scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse, claim_ids=[claim.pk]
        )[0]
    batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    with tenant_context(billing.org):
        figures = dashboard_figures(
            filters=DashboardFilters(admitted(), today()), today=today(), scopes={part2.GRANT}
        )
    assert figures.charges_last_90 == D("150.00")  # not 300: the secondary re-bills it
    assert figures.ar_total == D("30.00")  # the primary is settled; Medicaid owes the 30


def test_voiding_a_secondary_draft_leaves_the_charges_billed_on_the_primary(billing):
    from claims.models import ServiceEntry

    add_medicaid(billing, enrolled=False)  # the secondary stays a draft
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(
            import_id=imp.pk, today=today(), scopes=part2.ORGANIZATION
        )
        claim.refresh_from_db()
        assert claim.status == "draft"
        claims_services.claim_transition(claim=claim, to_status="void")
        assert set(ServiceEntry.objects.values_list("status", flat=True)) == {"billed"}
        assert claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims == []


def test_a_malformed_id_filter_is_a_400_naming_the_parameter(billing, api_client_for):
    api = api_client_for(billing.org)
    for url in (
        "/api/v1/claims/?payer=nope",
        "/api/v1/denials/?payer=nope",
        "/api/v1/adjustments/?payment=nope",
        "/api/v1/work-items/?assignee=nope",
        "/api/v1/coverages/?patient=nope",
    ):
        response = api.get(url)
        assert response.status_code == 400, url
        assert "Not a valid id" in response.json()["detail"], url
    assert api.get("/api/v1/claims/?from=not-a-date").status_code == 400
