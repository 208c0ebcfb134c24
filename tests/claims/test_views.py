"""The claims screens as billers use them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from claims import services
from claims.models import Claim, ClaimStatus, SavedClaimFilter, ServiceEntry
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.claims.conftest import Practice, dos

BASE = "/o/riverbend/claims"


def _charge_data(practice: Practice, **overrides: Any) -> dict[str, Any]:
    data = {
        "patient": str(practice.patient.pk),
        "episode": str(practice.episode.pk),
        "rendering_provider": str(practice.provider.pk),
        "date_of_service": dos().isoformat(),
        "kind": "psychotherapy",
        "start_time": "09:00",
        "end_time": "09:45",
        "documentation_signed": "on",
    }
    return {**data, **overrides}


def test_the_charge_form_suggests_90834_for_45_minutes(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    params = _charge_data(practice)
    html = client.get(f"{BASE}/charges/preview/", params, HTTP_HX_REQUEST="true").content.decode()
    assert '<code class="suggested-code">90834</code>' in html and "38-52 minutes" in html
    short = client.get(f"{BASE}/charges/preview/", {**params, "end_time": "09:10"}).content.decode()
    assert "under the 16-minute minimum" in short


def test_recording_a_charge_and_a_wrong_code_inline(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    url = f"{BASE}/charges/new/?patient={practice.patient.pk}"
    wrong = client.post(url, _charge_data(practice, service_code="90837"))
    assert wrong.context["form"].errors["service_code"] == [
        "45 documented minutes support 90834, not 90837."
    ]
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()
    response = client.post(url, _charge_data(practice), follow=True)
    assert "Charge recorded: 90834 x1" in response.content.decode()


def test_building_claims_from_the_charges_page_lands_on_the_ready_queue(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    practice.session(45)
    practice.session(60)  # needs an authorization Blue Plan requires for 90837
    response = client_for(biller).post(f"{BASE}/build/", follow=True)
    html = response.content.decode()
    assert "Built 1 claim(s): 0 ready, 1 need fixes." in html
    assert "1 claim: No authorization with this payer is on file for the episode." in html


def test_the_ready_queue_groups_claims_by_fix_with_a_fixed_number_of_queries(
    practice: Practice, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for day in range(8):
        practice.session(60, day=dos() - timedelta(days=day * 3))
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
    client = client_for(biller)
    client.get(f"{BASE}/ready/")
    with django_assert_max_num_queries(12):
        response = client.get(f"{BASE}/ready/")
    groups = response.context["groups"]
    assert [(g.rule, len(g.claims)) for g in groups] == [("authorization_none", 1)]


def test_claims_list_filters_and_saved_filters(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
    client = client_for(biller)
    assert len(client.get(f"{BASE}/", {"status": "ready"}).context["page"]) == 1
    assert len(client.get(f"{BASE}/", {"status": "paid"}).context["page"]) == 0
    client.post(f"{BASE}/", {"name": "Ready ones", "query": "status=ready"})
    with tenant_context(practice.org):
        assert SavedClaimFilter.objects.get().query == "status=ready"
    assert "Ready ones" in client.get(f"{BASE}/").content.decode()


def test_the_claim_page_shows_findings_and_moves_the_claim(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    practice.session(45, documentation_signed=False)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
    client = client_for(biller)
    html = client.get(f"{BASE}/{claim.pk}/").content.decode()
    assert (
        "The progress note is not signed." in html and "Ask the clinician to sign the note." in html
    )
    response = client.post(
        f"{BASE}/{claim.pk}/action/",
        {"action": "transition", "to_status": "submitted"},
        follow=True,
    )
    assert "cannot become submitted" in response.content.decode()
    with tenant_context(practice.org):
        ServiceEntry.objects.update(documentation_signed=True)
    client.post(f"{BASE}/{claim.pk}/action/", {"action": "scrub"})
    client.post(f"{BASE}/{claim.pk}/action/", {"action": "transition", "to_status": "submitted"})
    with tenant_context(practice.org):
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_a_manager_reads_claims_but_cannot_build_or_move_them(
    practice: Practice, manager: Any, client_for: Any
) -> None:
    practice.session(45)
    client = client_for(manager)
    assert client.get(f"{BASE}/charges/").status_code == 200
    assert client.post(f"{BASE}/build/").status_code == 403


def test_part2_claims_are_hidden_without_part2_access(
    practice: Practice, manager: Any, biller: Any, client_for: Any
) -> None:
    practice.episode.program_type = "substance_use"
    with tenant_context(practice.org):
        practice.episode.save()
    practice.session(45)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
    assert client_for(manager).get(f"{BASE}/{claim.pk}/").status_code == 404
    assert len(client_for(manager).get(f"{BASE}/").context["page"]) == 0
    assert client_for(biller).get(f"{BASE}/{claim.pk}/").status_code == 200


def test_the_fee_schedule_names_a_bad_value(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{BASE}/fee-schedule/",
        {
            "form": "rule",
            "rule-payer": str(practice.payer.pk),
            "rule-rule_type": "unit_rounding",
            "rule-value": "sometimes",
        },
    )
    assert response.context["forms"]["rule"].errors["value"] == [
        "Unit rounding is 'midpoint' (CMS 8-minute rule), 'whole_units' or "
        "'threshold:N' (a partial unit counts from N minutes)."
    ]


def test_the_claim_page_shows_expected_reimbursement_from_the_contract(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    from decimal import Decimal

    from tests.clock import years_ago

    practice.session(45)
    with tenant_context(practice.org):
        services.contract_rate_set(
            payer=practice.payer,
            service_code="90834",
            allowed=Decimal("98.40"),
            effective_from=years_ago(1),
        )
        services.contract_rate_set(
            payer=practice.payer,
            service_code="90834",
            education_level="masters",
            allowed=Decimal("91.00"),
            effective_from=years_ago(1),
        )
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
    response = client_for(biller).get(f"{BASE}/{claim.pk}/")
    assert response.context["expected"] == Decimal("91.00") and response.context["unpriced"] == 0


def test_the_charge_form_offers_no_part2_episode_without_the_grant(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    from rcm.tenancy.models import Membership

    with tenant_context(practice.org):
        sud = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=practice.patient,
            program_type="substance_use",
            admission_date=dos(),
            level="2.1",
            diagnosis="F10.20",
        )
    url = f"{BASE}/charges/new/?patient={practice.patient.pk}"
    client = client_for(biller)
    assert "F10.20" in client.get(url).content.decode()  # Part 2 grant: listed
    with tenant_context(practice.org):
        Membership.objects.filter(user=biller).update(part2_access=False)
    page = client.get(url).content.decode()
    assert "F10.20" not in page and "F33.1" in page
    refused = client.post(url, {**_charge_data(practice), "episode": str(sud.pk)})
    assert "episode" in refused.context["form"].errors
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()
