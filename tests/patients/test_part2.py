"""42 CFR Part 2 on the patient screens and API, decided by the selectors and services through
rcm.part2: without the grant a substance use episode shows only that it exists, its forms and
writes are 404, a new one cannot be opened, and Part 2 consents stay unreadable."""

from __future__ import annotations

from typing import Any

from patients.models import EpisodeDiagnosis, EpisodeOfCare, LevelOfCareStay
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from tests.clock import days_ago

LIST = "/o/riverbend/patients/"
API = "/api/v1"
NO_PART2 = ["patients:read", "patients:write"]


def _without_grant(org: Any, user: Any) -> None:
    with tenant_context(org):
        Membership.objects.filter(user=user).update(part2_access=False)


def _counts(org: Any) -> tuple[int, int, int]:
    with tenant_context(org):
        return (
            EpisodeOfCare.objects.count(),
            LevelOfCareStay.objects.count(),
            EpisodeDiagnosis.objects.filter(effective_to__isnull=True).count(),
        )


def test_a_restricted_episodes_forms_are_404_without_the_grant(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    _without_grant(org, biller)
    client = client_for(biller)
    sud = chart["sud"]
    with tenant_context(org):
        diagnosis_pk = sud.diagnoses.get().pk
    before = _counts(org)
    for url in (
        f"{LIST}episodes/{sud.pk}/transition/",
        f"{LIST}episodes/{sud.pk}/discharge/",
        f"{LIST}episodes/{sud.pk}/diagnoses/new/",
        f"{LIST}diagnoses/{diagnosis_pk}/end/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"discharge_date": str(days_ago(1))}).status_code == 404, url
    assert _counts(org) == before
    with tenant_context(org):
        assert EpisodeOfCare.objects.get(pk=sud.pk).discharge_date is None
    # The mental health episode's forms are open to the same biller.
    assert client.get(f"{LIST}episodes/{chart['mh'].pk}/transition/").status_code == 200


def test_opening_a_substance_use_episode_is_refused_without_the_grant(
    org: Any, biller: Any, chart: Any, client_for: Any, api_client_for: Any
) -> None:
    _without_grant(org, biller)
    client = client_for(biller)
    url = f"{LIST}{chart['john'].pk}/episodes/new/"
    choices = dict(client.get(url).context["form"].fields["program_type"].choices)
    assert "substance_use" not in choices and "co_occurring" not in choices
    assert "mental_health" in choices
    before = _counts(org)
    response = client.post(
        url,
        {"program_type": "substance_use", "admission_date": str(days_ago(1)), "level": "2.1"},
    )
    assert response.status_code == 200 and "program_type" in response.context["form"].errors
    api = api_client_for(org, NO_PART2).post(
        f"{API}/episodes/",
        {
            "patient": str(chart["john"].pk),
            "program_type": "co_occurring",
            "admission_date": str(days_ago(1)),
            "level": "2.1",
        },
        format="json",
    )
    assert api.status_code == 400
    assert api.json()["errors"][0]["field"] == "program_type"
    assert "Part 2 grant" in api.json()["errors"][0]["message"]
    assert _counts(org) == before


def test_with_the_grant_a_substance_use_episode_is_opened(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{LIST}{chart['john'].pk}/episodes/new/",
        {"program_type": "substance_use", "admission_date": str(days_ago(1)), "level": "2.1"},
    )
    assert response.status_code == 302
    with tenant_context(org):
        assert EpisodeOfCare.objects.filter(
            patient=chart["john"], program_type="substance_use"
        ).exists()


def test_the_api_keeps_restricted_stays_diagnoses_and_episode_writes_from_a_key_without_the_grant(
    org: Any, chart: Any, api_client_for: Any
) -> None:
    api = api_client_for(org, NO_PART2)
    sud = chart["sud"]
    stays = api.get(f"{API}/level-of-care-stays/").json()["results"]
    assert {s["episode"] for s in stays} == {str(chart["mh"].pk)}
    assert api.post(f"{API}/episodes/{sud.pk}/discharge/", {}, format="json").status_code == 404
    added = api.post(f"{API}/diagnoses/", {"episode": str(sud.pk), "code": "F11.20"}, format="json")
    assert added.status_code == 400 and added.json()["errors"][0]["field"] == "episode"
    with tenant_context(org):
        assert not EpisodeDiagnosis.objects.filter(code="F11.20").exists()


def test_part2_consents_stay_unreadable_without_the_grant(
    org: Any, biller: Any, chart: Any, client_for: Any, api_client_for: Any
) -> None:
    api = api_client_for(org, NO_PART2)
    assert api.get(f"{API}/consents/").status_code == 403
    assert api.get(f"{API}/consents/{chart['consent'].pk}/").status_code == 403
    created = api.post(
        f"{API}/consents/",
        {"patient": str(chart["john"].pk), "purpose": "payment"},
        format="json",
    )
    assert created.status_code == 403
    _without_grant(org, biller)
    client = client_for(biller)
    assert client.get(f"{LIST}consents/{chart['consent'].pk}/revoke/").status_code == 403
    html = client.get(f"{LIST}{chart['jane'].pk}/").content.decode()
    assert "Part 2 consents are shown only to members with Part 2 access" in html
