"""The claims API as partner EHRs use it."""

from __future__ import annotations

from typing import Any

from claims.models import ServiceEntry
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, at, dos

API = "/api/v1"
SCOPES = ["claims:read", "claims:write", "patients:read"]


def _charge(practice: Practice, **overrides: Any) -> dict[str, Any]:
    return {
        "patient": str(practice.patient.pk),
        "episode": str(practice.episode.pk),
        "rendering_provider": str(practice.provider.pk),
        "date_of_service": dos().isoformat(),
        "kind": "psychotherapy",
        "start_at": at(dos(), 9).isoformat(),
        "end_at": at(dos(), 9, 45).isoformat(),
        "documentation_signed": True,
        **overrides,
    }


def test_a_retried_charge_with_the_same_idempotency_key_is_recorded_once(
    practice: Practice, api_client_for: Any
) -> None:
    api = api_client_for(practice.org, SCOPES)
    first = api.post(
        f"{API}/charges/", _charge(practice), format="json", HTTP_IDEMPOTENCY_KEY="ehr-visit-1"
    )
    again = api.post(
        f"{API}/charges/", _charge(practice), format="json", HTTP_IDEMPOTENCY_KEY="ehr-visit-1"
    )
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and first.json()["id"] == again.json()["id"]
    assert first.json()["service_code"] == "90834"
    with tenant_context(practice.org):
        assert ServiceEntry.objects.count() == 1


def test_a_code_disagreeing_with_time_is_problem_json(
    practice: Practice, api_client_for: Any
) -> None:
    response = api_client_for(practice.org, SCOPES).post(
        f"{API}/charges/", _charge(practice, service_code="90837"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "service_code",
        "message": "45 documented minutes support 90834, not 90837.",
        "code": "invalid",
    }


def test_build_scrub_and_transition_through_the_api(
    practice: Practice, api_client_for: Any
) -> None:
    api = api_client_for(practice.org, SCOPES)
    api.post(f"{API}/charges/", _charge(practice), format="json")
    built = api.post(f"{API}/claims/build/", {}, format="json").json()
    claim_id = built["claims"][0]
    claim = api.get(f"{API}/claims/{claim_id}/").json()
    assert (
        claim["status"] == "ready"
        and claim["lines"][0]["service_code"] == "90834"
        and claim["findings"] == []
    )
    moved = api.post(f"{API}/claims/{claim_id}/transition/", {"status": "paid"}, format="json")
    assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "status"
    assert (
        api.post(
            f"{API}/claims/{claim_id}/transition/", {"status": "submitted"}, format="json"
        ).json()["status"]
        == "submitted"
    )


def test_a_read_only_key_cannot_build(practice: Practice, api_client_for: Any) -> None:
    assert (
        api_client_for(practice.org, ["claims:read"])
        .post(f"{API}/claims/build/", {}, format="json")
        .status_code
        == 403
    )
