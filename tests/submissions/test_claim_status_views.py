"""Claim status in the browser and the API: "Check status" on the claim page and on a selection
of claims, the answer or the wait shown; another organization's claim and, without the Part 2
grant, a Part 2 claim are not found."""

from __future__ import annotations

from typing import Any

import pytest

from claims.models import Claim
from denials.claimstatus import claim_status_response_import
from denials.models import WorkItem
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions.models import ClaimStatusInquiry, ClaimStatusRequest
from tests.clock import now, today
from tests.factories import MembershipFactory, UserFactory
from tests.submissions.claim_status_277 import DENIED_88, answer_for
from tests.submissions.test_claim_status import accepted as accepted

pytestmark = pytest.mark.django_db

PAGES = "/o/riverbend/denials/"
API = "/api/v1/claim-statuses/"


@pytest.fixture
def plain_biller(org: Any) -> Any:
    """Pat bills at Riverbend like Bill, without the Part 2 grant."""
    return MembershipFactory(
        organization=org, role=Role.BILLER, user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user  # fmt: skip


def _answer_latest(org: Any) -> None:
    with tenant_context(org):
        inquiry = ClaimStatusInquiry.objects.select_related("claim").latest("created_at")
        claim_status_response_import(
            content=answer_for(inquiry, DENIED_88), source="upload", now=now(), today=today()
        )


def test_check_status_on_the_claim_page_shows_the_wait_then_the_answer(
    accepted: Any, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    claim = accepted.claims[0]
    page = client.get(f"/o/riverbend/claims/{claim.pk}/").content.decode()
    assert f"{PAGES}claims/{claim.pk}/status/" in page
    empty = client.get(f"{PAGES}claims/{claim.pk}/status/", HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "Never asked about." in empty.content.decode()
    asked = client.post(f"{PAGES}claims/{claim.pk}/status/", HTTP_HX_REQUEST="true")
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "Queued to send" in body and 'hx-trigger="every 5s"' in body  # the panel polls
    _answer_latest(accepted.org)
    answered = client.get(f"{PAGES}claims/{claim.pk}/status/", HTTP_HX_REQUEST="true")
    body = answered.content.decode()
    assert "Finalized: denied: Entity not eligible for benefits" in body
    assert "denial work item opened" in body and "every 5s" not in body
    assert "F2:88:QC" in body
    timeline = client.get(f"{PAGES}claims/{claim.pk}/account/").content.decode()
    assert "Claim status answer (277): Finalized: denied" in timeline


def test_checking_a_selection_asks_once_per_payer_and_errors_show_inline(
    accepted: Any, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    listing = client.get(f"{PAGES}claim-status/")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert all(c.patient_control_number in body for c in accepted.claims)
    refused = client.post(f"{PAGES}claim-status/", {"claim_ids": []})
    assert (
        refused.status_code == 400 and "Tick the claims to ask about." in refused.content.decode()
    )
    bad = client.post(f"{PAGES}claim-status/", {"claim_ids": ["not-a-uuid"]})
    assert bad.status_code == 400
    done = client.post(f"{PAGES}claim-status/", {"claim_ids": [c.pk for c in accepted.claims]})
    assert done.status_code == 302
    with tenant_context(accepted.org):
        (request,) = ClaimStatusRequest.objects.all()
        assert request.inquiries.count() == 2
    after = client.get(f"{PAGES}claim-status/").content.decode()
    assert "waiting for the 277" in after


def test_another_organizations_claim_is_not_found(
    accepted: Any, outsider: Any, client_for: Any, other_org: Any, api_client_for: Any
) -> None:
    claim = accepted.claims[0]
    client = client_for(outsider)
    url = f"/o/harborview/denials/claims/{claim.pk}/status/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    api = api_client_for(other_org, ["claims:read", "claims:write"])
    assert api.post(API, {"claims": [str(claim.pk)]}, format="json").status_code == 404
    with tenant_context(accepted.org):
        assert ClaimStatusRequest.objects.count() == 0


def test_without_the_part2_grant_a_part2_claims_status_cannot_be_checked_or_seen(
    accepted: Any, plain_biller: Any, biller: Any, client_for: Any, api_client_for: Any
) -> None:
    claim = accepted.claims[0]
    with tenant_context(accepted.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
    granted = client_for(biller)
    assert (
        granted.post(f"{PAGES}claims/{claim.pk}/status/", HTTP_HX_REQUEST="true").status_code == 200
    )
    _answer_latest(accepted.org)
    plain = client_for(plain_biller)
    assert plain.get(f"{PAGES}claims/{claim.pk}/status/").status_code == 404
    assert plain.post(f"{PAGES}claims/{claim.pk}/status/").status_code == 404
    listing = plain.get(f"{PAGES}claim-status/").content.decode()
    assert claim.patient_control_number not in listing
    assert "1 restricted record not shown" in listing
    refused = plain.post(f"{PAGES}claim-status/", {"claim_ids": [claim.pk]})
    assert refused.status_code == 400 and "cannot be asked about" in refused.content.decode()
    api = api_client_for(accepted.org, ["claims:read", "claims:write"])
    rows = api.get(API)
    assert rows.status_code == 200 and rows.json()["results"] == []
    assert rows["X-Part2-Hidden"] == "1"
    assert api.post(API, {"claims": [str(claim.pk)]}, format="json").status_code == 404
    full = api_client_for(accepted.org, ["claims:read", "claims:write", "part2:read"])
    (row,) = full.get(API, {"claim": str(claim.pk)}).json()["results"]
    assert row["category_code"] == "F2"
    with tenant_context(accepted.org):
        assert ClaimStatusRequest.objects.count() == 1 and WorkItem.objects.count() == 1


def test_the_api_asks_about_claims_and_lists_the_answers(
    accepted: Any, api_client_for: Any
) -> None:
    api = api_client_for(accepted.org, ["claims:read", "claims:write"])
    ids = [str(c.pk) for c in accepted.claims]
    made = api.post(API, {"claims": ids, "transport": "batch"}, format="json")
    assert made.status_code == 201, made.content
    assert sorted(r["claim"] for r in made.json()) == sorted(ids)
    assert {r["request_status"] for r in made.json()} == {"queued"}
    assert api.post(API, {"claims": []}, format="json").status_code == 400
    assert api.post(API, {"claims": ["nope"]}, format="json").status_code == 400
    _answer_latest(accepted.org)
    answered = [r for r in api.get(API).json()["results"] if r["answered_at"]]
    assert len(answered) == 1 and answered[0]["status_code"] == "88"
    assert answered[0]["outcome"] == "Denied: denial work item opened."
    one = api.get(f"{API}{answered[0]['id']}/")
    assert one.status_code == 200 and one.json()["payer_claim_control_number"] == "PAYERCCN1"
    assert api.get(API, {"claim": "junk"}).status_code == 404
    reader = api_client_for(accepted.org, ["claims:read"])
    assert reader.post(API, {"claims": ids}, format="json").status_code == 403


def test_the_selection_list_costs_a_fixed_number_of_queries(
    accepted: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(biller)
    client.post(f"{PAGES}claim-status/", {"claim_ids": [c.pk for c in accepted.claims]})
    client.get(f"{PAGES}claim-status/")
    with django_assert_max_num_queries(20):
        assert client.get(f"{PAGES}claim-status/").status_code == 200


def test_a_payers_timing_is_saved_and_a_bad_value_is_an_inline_error(
    accepted: Any, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    url = f"{PAGES}claim-status/"
    payer = accepted.payer.pk
    bad = client.post(url, {"save_setting": "1", "payer": payer, "after_days": 0,
                            "interval_days": 14})  # fmt: skip
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in bad.content.decode()
    good = client.post(url, {"save_setting": "1", "payer": payer, "after_days": 45,
                             "interval_days": 7})  # fmt: skip
    assert good.status_code == 302
    with tenant_context(accepted.org):
        assert ClaimStatusRequest.objects.count() == 0
        from submissions.models import ClaimStatusSetting

        assert ClaimStatusSetting.objects.values_list("after_days", "interval_days").get() == (
            45, 7,
        )  # fmt: skip
    assert "Blue Plan</td><td>45</td><td>7" in client.get(url).content.decode()
