"""42 CFR Part 2 on the authorization pages and API: a biller without the Part 2 grant sees no
authorization of a substance use episode (list, detail, calendar, dropdown, API) and cannot act
on one; the same biller with the grant sees and does everything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.models import Alert
from authorizations.models import Authorization, ConcurrentReview
from authorizations.services import authorization_scan, review_schedule
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Role
from tests.authorizations.factories import make_authorization
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory
from tests.patients.factories import CoverageFactory, EpisodeFactory, PatientFactory

BASE = "/o/riverbend/authorizations/"
API = "/api/v1/authorizations/"
NO_GRANT = ["authorizations:read", "authorizations:write"]
WITH_GRANT = [*NO_GRANT, "part2:read"]


@pytest.fixture
def nora(org: Any) -> Any:
    """Nora bills at Riverbend without the Part 2 grant."""
    return MembershipFactory(
        organization=org,
        role=Role.BILLER,
        user=UserFactory(email="nora@riverbend.example"),
        part2_access=False,
    ).user


@pytest.fixture
def auths(org: Any) -> dict[str, Authorization]:
    """An authorization of a substance use episode (Sam Sud's, Part 2) and one of a mental health
    episode (Mia Mental's), both approved and ending in two days."""
    dates = {
        "start_date": today() - timedelta(days=5),
        "end_date": today() + timedelta(days=2),
        "units_requested": 8,
        "units_approved": 8,
        "requested_on": today() - timedelta(days=6),
        "decided_on": today() - timedelta(days=6),
    }
    with tenant_context(org):
        sud = EpisodeFactory(
            organization=org,
            program_type="substance_use",
            admission_date=today() - timedelta(days=5),
            patient=PatientFactory(organization=org, first_name="Sam", last_name="Sud"),
        )
        mh = EpisodeFactory(
            organization=org,
            program_type="mental_health",
            admission_date=today() - timedelta(days=5),
            patient=PatientFactory(organization=org, first_name="Mia", last_name="Mental"),
        )
    part2 = make_authorization(org, episode=sud, auth_number="SUD-1", **dates)
    plain = make_authorization(org, episode=mh, auth_number="MH-1", **dates)
    return {"part2": part2, "plain": plain}


def test_the_new_authorization_dropdown_names_no_part2_episode_without_the_grant(
    nora: Any, biller: Any, auths: Any, client_for: Any
) -> None:
    response = client_for(nora).get(f"{BASE}new/")
    episodes = list(response.context["form"].fields["episode"].queryset)
    assert episodes == [auths["plain"].episode]
    assert "Sud" not in response.content.decode()
    # A link naming the Part 2 episode does not preselect it either.
    linked = client_for(nora).get(f"{BASE}new/", {"episode": str(auths["part2"].episode_id)})
    assert linked.context["form"].initial["episode"] is None
    with_grant = client_for(biller).get(f"{BASE}new/").context["form"].fields["episode"]
    assert set(with_grant.queryset) == {auths["part2"].episode, auths["plain"].episode}


def test_creating_an_authorization_for_a_part2_episode_is_refused_without_the_grant(
    org: Any, nora: Any, auths: Any, client_for: Any, api_client_for: Any
) -> None:
    episode = auths["part2"].episode
    with tenant_context(org):
        coverage = CoverageFactory(organization=org, patient=episode.patient)
    before = _count(org)
    body = {
        "episode": str(episode.pk),
        "coverage": str(coverage.pk),
        "level": "3.5",
        "unit_type": "days",
        "units_requested": 5,
        "start_date": str(today()),
        "end_date": str(today() + timedelta(days=4)),
        "status": "requested",
    }
    response = client_for(nora).post(f"{BASE}new/", body)
    assert response.status_code == 200 and "episode" in response.context["form"].errors
    api = api_client_for(org, NO_GRANT).post(API, body, format="json")
    assert api.status_code == 400 and api.json()["errors"][0]["field"] == "episode"
    assert _count(org) == before


def test_the_list_hides_a_part2_authorization_and_says_so(
    nora: Any, biller: Any, auths: Any, client_for: Any
) -> None:
    response = client_for(nora).get(BASE)
    html = response.content.decode()
    assert [a.pk for a in response.context["page"]] == [auths["plain"].pk]
    assert "1 restricted record not shown" in html
    assert "SUD-1" not in html and "Sud" not in html
    expiring = client_for(nora).get(BASE, {"expiring_within": 7})
    assert [a.pk for a in expiring.context["page"]] == [auths["plain"].pk]
    assert "1 restricted record not shown" in expiring.content.decode()

    granted = client_for(biller).get(BASE)
    assert {a.pk for a in granted.context["page"]} == {auths["plain"].pk, auths["part2"].pk}
    assert "restricted record" not in granted.content.decode()


def test_a_search_by_name_does_not_count_a_part2_patients_authorizations(
    nora: Any, auths: Any, client_for: Any
) -> None:
    # "1 restricted record" under a search for Sud would say Sam Sud has a Part 2 authorization.
    searched = client_for(nora).get(BASE, {"q": "Sud"})
    assert list(searched.context["page"]) == []
    assert searched.context["part2_hidden"] == client_for(nora).get(BASE).context["part2_hidden"]


def test_the_list_costs_one_more_query_without_the_grant_whatever_the_rows(
    org: Any, nora: Any, auths: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        make_authorization(org, auth_number="MORE")  # the factory's episodes are substance use
    client = client_for(nora)
    client.get(BASE)
    with django_assert_max_num_queries(17):  # the list's 16, plus the one COUNT of hidden rows
        response = client.get(BASE)
    assert response.context["part2_hidden"] == 6


def test_the_detail_is_404_in_html_and_api_without_the_grant(
    org: Any, nora: Any, biller: Any, auths: Any, client_for: Any, api_client_for: Any
) -> None:
    pk = auths["part2"].pk
    assert client_for(nora).get(f"{BASE}{pk}/").status_code == 404
    assert api_client_for(org, NO_GRANT).get(f"{API}{pk}/").status_code == 404
    assert api_client_for(org, NO_GRANT).get(f"{API}{pk}/utilization/").status_code == 404
    listed = api_client_for(org, NO_GRANT).get(API).json()["results"]
    assert [a["id"] for a in listed] == [str(auths["plain"].pk)]
    assert client_for(biller).get(f"{BASE}{pk}/").status_code == 200
    assert api_client_for(org, WITH_GRANT).get(f"{API}{pk}/").status_code == 200


def test_acting_on_a_part2_authorization_without_the_grant_is_404_and_changes_nothing(
    org: Any, nora: Any, auths: Any, client_for: Any, api_client_for: Any
) -> None:
    auth = auths["part2"]
    client = client_for(nora)
    for path, data in [
        ("decide/", {"status": "denied", "decided_on": str(today())}),
        ("cancel/", {"reason": "not needed"}),
        ("edit/", {"units_requested": 99}),
        ("usage/", {"date_of_service": str(today()), "units": 1, "unit_type": "days"}),
        ("reviews/", {"review_type": "concurrent", "scheduled_on": str(today())}),
    ]:
        assert client.post(f"{BASE}{auth.pk}/{path}", data).status_code == 404, path
    api = api_client_for(org, NO_GRANT)
    assert api.post(f"{API}{auth.pk}/cancel/", {"reason": "x"}, format="json").status_code == 404
    assert (
        api.post(
            f"{API}{auth.pk}/decide/", {"status": "denied", "decided_on": str(today())}
        ).status_code
        == 404
    )
    assert api.patch(f"{API}{auth.pk}/", {"units_requested": 99}, format="json").status_code == 404
    review = api.post(
        "/api/v1/authorization-reviews/",
        {"authorization": str(auth.pk), "review_type": "concurrent", "scheduled_on": str(today())},
        format="json",
    )
    assert review.status_code == 400 and review.json()["errors"][0]["field"] == "authorization"
    with tenant_context(org):
        fresh = Authorization.objects.get(pk=auth.pk)
        assert (fresh.status, fresh.units_requested, fresh.units_used) == ("approved", 8, 0)
        assert not ConcurrentReview.objects.filter(authorization=auth).exists()


def test_a_part2_review_is_neither_listed_nor_completed_without_the_grant(
    org: Any, nora: Any, biller: Any, auths: Any, client_for: Any, api_client_for: Any
) -> None:
    with tenant_context(org):
        review = review_schedule(
            authorization=auths["part2"], review_type="concurrent", scheduled_on=today()
        )
    assert client_for(nora).get(f"{BASE}reviews/{review.pk}/complete/").status_code == 404
    api = api_client_for(org, NO_GRANT)
    assert api.get("/api/v1/authorization-reviews/").json()["results"] == []
    done = api.post(
        f"/api/v1/authorization-reviews/{review.pk}/complete/",
        {"outcome": "approved", "completed_on": str(today())},
        format="json",
    )
    assert done.status_code == 404
    calendar = client_for(nora).get(f"{BASE}reviews/")
    html = calendar.content.decode()
    # The review and the Part 2 authorization's end: two lines kept from Nora.
    assert "2 restricted records not shown" in html and "SUD-1" not in html
    assert "SUD-1" in client_for(biller).get(f"{BASE}reviews/").content.decode()
    with tenant_context(org):
        assert ConcurrentReview.objects.get(pk=review.pk).completed_on is None


def test_the_scan_flags_the_alerts_of_part2_authorizations(org: Any, auths: Any) -> None:
    with tenant_context(org):
        authorization_scan(today=today())
        flags = {
            (a.subject_id, a.part2)
            for a in Alert.objects.filter(kind="authorization.ending").only("subject_id", "part2")
        }
    assert flags == {(auths["part2"].pk, True), (auths["plain"].pk, False)}


def _count(org: Any) -> int:
    with tenant_context(org):
        return Authorization.objects.count()
