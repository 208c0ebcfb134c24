"""Credentialing on the API: providers, credentials, enrollments and their history, the
billability check, the matrix as JSON; problem+json for bad input; 404 for another tenant."""

from __future__ import annotations

from typing import Any

from credentialing.models import PayerEnrollment, Provider
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, days_from_now, years_ago
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory
from tests.patients.factories import PayerFactory

API = "/api/v1/credentialing/"


def test_a_provider_is_created_and_listed(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org)
    response = api.post(
        f"{API}providers/",
        {
            "first_name": "Dana",
            "last_name": "Reyes",
            "npi": "1679576722",
            "taxonomy_code": "1041C0700X",
            "provider_type": "lcsw",
            "active_from": years_ago(2).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["display_name"] == "Dana Reyes"
    assert [p["npi"] for p in api.get(f"{API}providers/").json()["results"]] == ["1679576722"]


def test_a_bad_npi_is_a_problem_naming_the_field_and_nothing_is_created(
    org: Any, api_client_for: Any
) -> None:
    response = api_client_for(org).post(
        f"{API}providers/",
        {
            "first_name": "Dana",
            "last_name": "Reyes",
            "npi": "1234567890",
            "taxonomy_code": "1041C0700X",
            "provider_type": "lcsw",
            "active_from": years_ago(2).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "npi"
    assert "check digit" in response.json()["detail"]
    with tenant_context(org):
        assert not Provider.objects.exists()


def test_a_credential_is_added_and_a_bad_one_refused(org: Any, api_client_for: Any) -> None:
    provider = ProviderFactory(organization=org)
    api = api_client_for(org)
    good = {
        "provider": str(provider.pk),
        "kind": "state_licence",
        "number": "L1",
        "state": "IL",
        "issued_on": years_ago(3).isoformat(),
        "expires_on": days_from_now(365).isoformat(),
    }
    assert api.post(f"{API}credentials/", good, format="json").status_code == 201
    bad = {**good, "expires_on": years_ago(4).isoformat()}  # before it was issued
    response = api.post(f"{API}credentials/", bad, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "expires_on"
    assert len(api.get(f"{API}credentials/", {"provider": str(provider.pk)}).json()["results"]) == 1


def test_an_enrollment_is_created_moved_and_its_history_read(org: Any, api_client_for: Any) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    api = api_client_for(org)
    response = api.post(
        f"{API}enrollments/",
        {
            "provider": str(provider.pk),
            "payer": str(payer.pk),
            "status": "submitted",
            "submitted_on": days_ago(60).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    response = api.patch(f"{API}enrollments/{pk}/", {"status": "approved"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "effective_date"
    response = api.patch(
        f"{API}enrollments/{pk}/",
        {"status": "approved", "effective_date": days_ago(5).isoformat(), "note": "ok"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"
    history = api.get(f"{API}enrollments/{pk}/history/").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("submitted", "approved"),
        ("", "submitted"),
    ]
    duplicate = api.post(
        f"{API}enrollments/", {"provider": str(provider.pk), "payer": str(payer.pk)}, format="json"
    )
    assert (
        duplicate.status_code == 400 and "already has an enrollment" in duplicate.json()["detail"]
    )
    with tenant_context(org):
        assert PayerEnrollment.objects.count() == 1


def test_the_billability_endpoint_answers_with_the_reason(org: Any, api_client_for: Any) -> None:
    enrollment = EnrollmentFactory(
        organization=org, status="approved", effective_date=days_from_now(10)
    )
    CredentialFactory(organization=org, provider=enrollment.provider)
    response = api_client_for(org).get(
        f"{API}billability/",
        {
            "provider": str(enrollment.provider_id),
            "payer": str(enrollment.payer_id),
            "date_of_service": days_ago(5).isoformat(),
            "service_code": "90837",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "billable": False,
        "code": "not_yet_effective",
        "reason": f"Enrollment with {enrollment.payer.name} is effective only from "
        f"{days_from_now(10)}.",
        "under_supervisor": None,
    }


def test_the_billability_endpoint_does_not_know_another_tenants_provider(
    org: Any, other_org: Any, api_client_for: Any
) -> None:
    foreign = ProviderFactory(organization=other_org)
    payer = PayerFactory(organization=org)
    response = api_client_for(org).get(
        f"{API}billability/",
        {
            "provider": str(foreign.pk),
            "payer": str(payer.pk),
            "date_of_service": days_ago(5).isoformat(),
        },
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "provider"


def test_the_matrix_is_served_as_json_and_filters_gaps(org: Any, api_client_for: Any) -> None:
    enrollment = EnrollmentFactory(organization=org, status="submitted", effective_date=None)
    data = api_client_for(org).get(f"{API}matrix/", {"status": "gaps"}).json()
    assert [p["id"] for p in data["payers"]] == [str(enrollment.payer_id)]
    cell = data["rows"][0]["cells"][0]
    assert (cell["state"], cell["label"], cell["matches"]) == (
        "submitted",
        "Application submitted",
        True,
    )


def test_another_tenants_enrollment_is_404(org: Any, other_org: Any, api_client_for: Any) -> None:
    foreign = EnrollmentFactory(organization=other_org)
    api = api_client_for(org)
    assert api.get(f"{API}enrollments/{foreign.pk}/").status_code == 404
    assert api.get(f"{API}enrollments/{foreign.pk}/history/").status_code == 404
    assert (
        api.patch(f"{API}enrollments/{foreign.pk}/", {"notes": "x"}, format="json").status_code
        == 404
    )


def test_a_key_without_credentialing_scopes_is_refused(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org, scopes=["patients:read"])
    assert api.get(f"{API}providers/").status_code == 403
    read_only = api_client_for(org, scopes=["credentialing:read"])
    assert read_only.get(f"{API}providers/").status_code == 200
    assert read_only.post(f"{API}providers/", {}, format="json").status_code == 403
