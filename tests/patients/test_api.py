"""The patients API as partner systems use it."""

from __future__ import annotations

from typing import Any

from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago

API = "/api/v1"
NO_PART2 = ["patients:read", "patients:write"]
WITH_PART2 = [*NO_PART2, "part2:read"]


def test_a_partner_creates_and_finds_a_patient(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org, NO_PART2)
    created = api.post(
        f"{API}/patients/",
        {
            "mrn": "E-1",
            "first_name": "Eve",
            "last_name": "Ng",
            "date_of_birth": "1991-01-02",
            "sex": "F",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    found = api.get(f"{API}/patients/", {"q": "E-1"}).json()["results"]
    assert [p["id"] for p in found] == [created.json()["id"]]


def test_bad_input_is_problem_json_naming_the_field(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org, NO_PART2)
    response = api.post(
        f"{API}/patients/",
        {
            "mrn": "E-1",
            "first_name": "Eve",
            "last_name": "Ng",
            "date_of_birth": "2999-01-02",
            "sex": "F",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "date_of_birth", "message": "Date of birth is in the future.", "code": "invalid"}
    ]


def test_an_unknown_diagnosis_code_is_named(org: Any, chart: Any, api_client_for: Any) -> None:
    api = api_client_for(org, WITH_PART2)
    response = api.post(
        f"{API}/diagnoses/", {"episode": str(chart["mh"].pk), "code": "F99.99"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "code",
        "message": "F99.99 is not an ICD-10-CM code.",
        "code": "invalid",
    }


def test_reading_a_patient_is_audited(org: Any, chart: Any, api_client_for: Any) -> None:
    api_client_for(org, NO_PART2).get(f"{API}/patients/{chart['jane'].pk}/")
    with tenant_context(org):
        assert AuditEvent.objects.filter(
            action="view", patient_id=chart["jane"].pk, detail__channel="api"
        ).exists()


def test_part2_episodes_are_redacted_without_the_scope(
    org: Any, chart: Any, api_client_for: Any
) -> None:
    client = api_client_for(org, NO_PART2)
    response = client.get(f"{API}/episodes/", {"patient": str(chart["jane"].pk)})
    # Left out, and counted: nothing of the episode (not even its id) reaches the caller.
    assert response.json()["results"] == []
    assert response["X-Part2-Hidden"] == "1"
    assert str(chart["sud"].pk) not in response.content.decode()
    assert client.get(f"{API}/episodes/{chart['sud'].pk}/").status_code == 404
    diagnoses = api_client_for(org, NO_PART2).get(f"{API}/diagnoses/").json()["results"]
    assert [d["code"] for d in diagnoses] == ["F33.1"]


def test_part2_reads_with_the_scope_are_disclosures_in_the_audit_trail(
    org: Any, chart: Any, api_client_for: Any
) -> None:
    episodes = (
        api_client_for(org, WITH_PART2)
        .get(f"{API}/episodes/", {"patient": str(chart["jane"].pk)})
        .json()["results"]
    )
    assert episodes[0]["diagnoses"][0]["code"] == "F10.20"
    with tenant_context(org):
        event = AuditEvent.objects.get(action="part2.api_read")
    assert event.patient_id == chart["jane"].pk and event.detail["episode_ids"] == [
        str(chart["sud"].pk)
    ]


def test_a_step_down_through_the_api(org: Any, chart: Any, api_client_for: Any) -> None:
    api = api_client_for(org, WITH_PART2)
    url = f"{API}/episodes/{chart['sud'].pk}/transition/"
    step_down = days_ago(80).isoformat()  # the residential stay began 100 days ago
    assert api_client_for(org, NO_PART2).post(url, {}, format="json").status_code == 404
    overlap = api.post(
        url,
        {
            "level": "2.1",
            "on_date": step_down,
            "end_current_on": step_down,
            "clinical_justification": "x",
        },
        format="json",
    )
    assert overlap.status_code == 400 and overlap.json()["errors"][0]["field"] == "end_current_on"
    stay = api.post(
        url,
        {"level": "2.1", "on_date": step_down, "clinical_justification": "Meets IOP"},
        format="json",
    )
    assert stay.status_code == 201 and stay.json()["transition"] == "step_down"
    stays = api.get(f"{API}/level-of-care-stays/", {"episode": str(chart["sud"].pk)}).json()[
        "results"
    ]
    assert sorted(s["level"] for s in stays) == ["2.1", "3.5"]


def test_consents_need_part2_and_the_check_explains_itself(
    org: Any, chart: Any, api_client_for: Any
) -> None:
    assert api_client_for(org, NO_PART2).get(f"{API}/consents/").status_code == 403
    api = api_client_for(org, WITH_PART2)
    params = {
        "patient": str(chart["jane"].pk),
        "payer": str(chart["payer"].pk),
        "purpose": "payment",
        "date": days_ago(90).isoformat(),  # the consent was signed 130 days ago
    }
    assert api.get(f"{API}/consents/check/", params).json()["covered"] is True
    api.post(f"{API}/consents/{chart['consent'].pk}/revoke/", {"note": "letter"}, format="json")
    check = api.get(f"{API}/consents/check/", params).json()
    assert check["covered"] is False and "revoked" in check["reason"]


def test_coverage_conflicts_are_refused_with_the_field(
    org: Any, chart: Any, api_client_for: Any
) -> None:
    api = api_client_for(org, NO_PART2)
    response = api.post(
        f"{API}/coverages/",
        {
            "patient": str(chart["jane"].pk),
            "payer": str(chart["payer"].pk),
            "member_id": "Z",
            "effective_date": days_ago(10).isoformat(),  # inside Jane's open primary
            "priority": 1,
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "priority"


def test_a_key_without_patient_scopes_is_forbidden(org: Any, api_client_for: Any) -> None:
    assert api_client_for(org, ["claims:read"]).get(f"{API}/patients/").status_code == 403
