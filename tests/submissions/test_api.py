from __future__ import annotations

from claims.models import ClaimStatus
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus
from tests.submissions.acks import ack_277ca, ack_999
from tests.submissions.conftest import bill_ready

API = "/api/v1/"


def test_a_batch_is_created_followed_and_its_file_fetched_over_the_api(
    billing, api_client_for, eager, django_capture_on_commit_callbacks
):
    (claim,) = bill_ready(billing)
    client = api_client_for(billing.org)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"{API}claim-batches/", {"clearinghouse": str(billing.clearinghouse.pk)}, format="json"
        )
    assert created.status_code == 201, created.content
    batch_id = created.json()[0]["id"]
    status = client.get(f"{API}claim-batches/{batch_id}/").json()
    assert status["status"] == BatchStatus.RELEASED and status["progress_percent"] == 100
    file = client.get(f"{API}claim-batches/{batch_id}/file/")
    assert file.status_code == 200 and file.content.startswith(b"ISA*00*")
    assert f"CLM*{claim.patient_control_number}*".encode() in file.content


def test_acknowledgments_are_uploaded_once_and_rejections_listed(
    billing, api_client_for, eager, django_capture_on_commit_callbacks
):
    (claim,) = bill_ready(billing)
    client = api_client_for(billing.org)
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = client.post(
            f"{API}claim-batches/", {"clearinghouse": str(billing.clearinghouse.pk)}, format="json"
        ).json()[0]["id"]
    with tenant_context(billing.org):
        from submissions.models import SubmissionBatch

        batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
    first = client.post(f"{API}claim-acknowledgments/", {"content": ack_999(batch)}, format="json")
    assert first.status_code == 201 and first.json()["kind"] == "999"
    again = client.post(f"{API}claim-acknowledgments/", {"content": ack_999(batch)}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    rejected = ack_277ca(batch, {claim.patient_control_number: "A7:562:85"})
    assert (
        client.post(
            f"{API}claim-acknowledgments/",
            {"content": rejected, "file_name": "r.277"},
            format="json",
        ).status_code
        == 201
    )
    rows = client.get(f"{API}claim-rejections/").json()["results"]
    assert [r["patient_control_number"] for r in rows] == [claim.patient_control_number]
    assert "National Provider Identifier" in rows[0]["reason"]
    with tenant_context(billing.org):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REJECTED


def test_a_bad_acknowledgment_is_problem_json_with_the_position(billing, api_client_for):
    response = api_client_for(billing.org).post(
        f"{API}claim-acknowledgments/", {"content": "ISA*00*short~"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "ISA" in response.json()["detail"]


def test_only_ready_claims_can_be_batched_over_the_api(billing, api_client_for):
    response = api_client_for(billing.org).post(
        f"{API}claim-batches/", {"clearinghouse": str(billing.clearinghouse.pk)}, format="json"
    )
    assert response.status_code == 400 and "no ready claim" in response.json()["detail"]


def test_a_read_only_key_cannot_create_batches(billing, api_client_for):
    client = api_client_for(billing.org, scopes=["claims:read"])
    assert client.get(f"{API}claim-batches/").status_code == 200
    assert (
        client.post(
            f"{API}claim-batches/", {"clearinghouse": str(billing.clearinghouse.pk)}, format="json"
        ).status_code
        == 403
    )
