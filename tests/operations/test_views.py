"""The operations page and API: owners see jobs and scan runs that failed for good and retry or
cancel them; nobody else sees them, and another organization's job is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from rcm.operations.models import ScanRun, ScanRunStatus
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.tenancy.context import tenant_context
from tests import clock

pytestmark = pytest.mark.django_db

PAGE = "/o/riverbend/operations/"


def _failed_job(org: Any, key: str = "batch:1", topic: str = "submissions.batch_build") -> Any:
    with tenant_context(org):
        return OutboxMessage.objects.create(
            topic=topic,
            idempotency_key=key,
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="OSError: the clearinghouse folder is full",
        )


def _failed_run(org: Any, days_ago: int = 0) -> Any:
    with tenant_context(org):
        return ScanRun.objects.create(
            scan="credentialing.daily",
            day=clock.days_ago(days_ago),
            status=ScanRunStatus.FAILED,
            attempts=3,
            error="RuntimeError: NPPES is down",
        )


def test_an_owner_sees_what_failed_with_its_reason(org: Any, owner: Any, client_for: Any) -> None:
    job, run = _failed_job(org), _failed_run(org)
    response = client_for(owner).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Claim batch build" in body and "OSError: the clearinghouse folder is full" in body
    assert "Credentialing scan" in body and "RuntimeError: NPPES is down" in body
    assert f'data-job="{job.pk}"' in body and f'data-scan-run="{run.pk}"' in body
    assert 'href="/o/riverbend/operations/"' in body  # in the navigation


def test_the_page_says_when_nothing_needs_the_owner(org: Any, owner: Any, client_for: Any) -> None:
    body = client_for(owner).get(PAGE).content.decode()
    assert "No job has failed for good. Nothing needs you here." in body
    assert "No scheduled scan has failed." in body


@pytest.mark.parametrize("persona", ["biller", "manager", "auditor"])
def test_a_member_who_is_not_an_owner_cannot_see_the_page(
    org: Any, persona: str, request: Any, client_for: Any
) -> None:
    member = request.getfixturevalue(persona)
    job = _failed_job(org)
    client = client_for(member)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}jobs/{job.pk}/retry/").status_code == 403
    assert 'href="/o/riverbend/operations/"' not in client.get("/o/riverbend/").content.decode()
    with tenant_context(org):
        assert OutboxMessage.objects.get().status == OutboxStatus.FAILED


def test_another_organizations_owner_gets_404(org: Any, outsider: Any, client_for: Any) -> None:
    assert client_for(outsider).get(PAGE).status_code == 404


def test_retrying_another_organizations_job_is_404(
    org: Any, other_org: Any, owner: Any, client_for: Any
) -> None:
    theirs, their_run = _failed_job(other_org), _failed_run(other_org)
    client = client_for(owner)
    assert client.post(f"{PAGE}jobs/{theirs.pk}/retry/").status_code == 404
    assert client.post(f"{PAGE}scan-runs/{their_run.pk}/retry/").status_code == 404
    assert client.get(f"{PAGE}jobs/{theirs.pk}/cancel/").status_code == 404
    with tenant_context(other_org):
        assert OutboxMessage.objects.get().status == OutboxStatus.FAILED
        assert ScanRun.objects.get().status == ScanRunStatus.FAILED


def test_retry_from_the_page_makes_the_job_pending(org: Any, owner: Any, client_for: Any) -> None:
    job = _failed_job(org)
    response = client_for(owner).post(f"{PAGE}jobs/{job.pk}/retry/", follow=True)
    body = response.content.decode()
    assert "Claim batch build will run again shortly." in body
    with tenant_context(org):
        job.refresh_from_db()
    assert (job.status, job.attempts, job.last_error) == ("pending", 0, "")


def test_retry_of_a_job_that_is_not_failed_says_so(org: Any, owner: Any, client_for: Any) -> None:
    job = _failed_job(org)
    client = client_for(owner)
    client.post(f"{PAGE}jobs/{job.pk}/retry/")
    body = client.post(f"{PAGE}jobs/{job.pk}/retry/", follow=True).content.decode()
    assert "Only a failed job can be retried." in body


def test_cancel_shows_the_missing_reason_beside_its_field(
    org: Any, owner: Any, client_for: Any
) -> None:
    run = _failed_run(org)
    client = client_for(owner)
    response = client.post(f"{PAGE}scan-runs/{run.pk}/cancel/", {"reason": ""})
    assert response.status_code == 200
    assert 'id="id_reason_error"' in response.content.decode()
    response = client.post(
        f"{PAGE}scan-runs/{run.pk}/cancel/", {"reason": "NPPES retired the endpoint"}, follow=True
    )
    assert "is cancelled." in response.content.decode()
    with tenant_context(org):
        run.refresh_from_db()
    assert (run.status, run.cancel_reason) == ("cancelled", "NPPES retired the endpoint")


def test_the_page_costs_the_same_queries_for_one_or_many_failures(
    org: Any, owner: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(owner)
    _failed_job(org, key="one")
    _failed_run(org)
    client.get(PAGE)
    with django_assert_max_num_queries(20) as few:
        client.get(PAGE)
    for i in range(30):
        _failed_job(org, key=f"many:{i}")
        _failed_run(org, days_ago=i + 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE)
    assert "Page 1 of 2" in response.content.decode()


def test_the_page_filters_by_status(org: Any, owner: Any, client_for: Any) -> None:
    _failed_job(org)
    with tenant_context(org):
        OutboxMessage.objects.create(
            topic="tenancy.welcome_email", idempotency_key="w", status=OutboxStatus.DONE
        )
    client = client_for(owner)
    assert "Welcome email" not in client.get(PAGE).content.decode()
    assert "Welcome email" in client.get(PAGE + "?status=done").content.decode()
    assert "Claim batch build" not in client.get(PAGE + "?status=done").content.decode()


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    client.credentials(HTTP_X_ORGANIZATION="riverbend")
    return client


def test_the_api_lists_failed_jobs_and_retries_one_for_an_owner(org: Any, owner: Any) -> None:
    job = _failed_job(org)
    _failed_run(org)
    client = _api(owner)
    listed = client.get("/api/v1/operations/jobs/").json()["results"]
    assert [(j["id"], j["status"], j["label"]) for j in listed] == [
        (str(job.pk), "failed", "Claim batch build")
    ]
    runs = client.get("/api/v1/operations/scan-runs/").json()["results"]
    assert runs[0]["error"] == "RuntimeError: NPPES is down"
    retried = client.post(f"/api/v1/operations/jobs/{job.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert client.get("/api/v1/operations/jobs/").json()["results"] == []
    again = client.post(f"/api/v1/operations/jobs/{job.pk}/retry/")
    assert again.status_code == 400
    assert again.json()["errors"][0]["message"] == "Only a failed job can be retried."


def test_the_api_cancel_needs_a_reason(org: Any, owner: Any) -> None:
    run = _failed_run(org)
    client = _api(owner)
    missing = client.post(f"/api/v1/operations/scan-runs/{run.pk}/cancel/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "reason"
    done = client.post(
        f"/api/v1/operations/scan-runs/{run.pk}/cancel/", {"reason": "retired"}, format="json"
    )
    assert done.json()["status"] == "cancelled"


def test_the_api_is_for_owners_only(
    org: Any, other_org: Any, owner: Any, biller: Any, api_client_for: Any
) -> None:
    job = _failed_job(org)
    assert _api(biller).get("/api/v1/operations/jobs/").status_code == 403
    assert _api(biller).post(f"/api/v1/operations/jobs/{job.pk}/retry/").status_code == 403
    # No API key carries org:admin, whatever its scopes.
    assert api_client_for(org).get("/api/v1/operations/jobs/").status_code == 403
    theirs = _failed_job(other_org)
    assert _api(owner).post(f"/api/v1/operations/jobs/{theirs.pk}/retry/").status_code == 404
    assert _api(owner).get(f"/api/v1/operations/jobs/{theirs.pk}/").status_code == 404
    assert _api(owner).get("/api/v1/operations/jobs/?status=bogus").status_code == 400
