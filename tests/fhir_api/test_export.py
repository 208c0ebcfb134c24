"""Bulk export end to end: kick-off (202 and the status URL), the same request while it runs
answers the running export, polling (202 with X-Progress, then the manifest), the outbox run,
NDJSON files that validate and that only the requester may read, Part 2 by the requester's
grant, the disclosure in the audit trail, and cancelling."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from fhir_api.models import ExportStatus, FhirExport, FhirExportFile
from fhir_api.services import EXPORT_TOPIC
from rcm.audit.models import AuditEvent
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.fhir_api.conftest import BASE, READ_ALL, World, validate

pytestmark = pytest.mark.django_db
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _exports() -> Any:
    """The exports the test started (tests/tenant_data.py seeds one per clinic)."""
    return FhirExport.objects.exclude(fingerprint__startswith="probe-")


def _run(org: Any, export_id: str) -> None:
    with tenant_context(org):
        message = OutboxMessage.objects.get(topic=EXPORT_TOPIC, payload__export_id=export_id)
    assert outbox_process(message_id=message.pk, now=clock.now(), organization_id=org.pk)


def _kickoff(api: Any, path: str = "$export", params: dict[str, str] | None = None) -> Any:
    return api.get(f"{BASE}/{path}", params or {}, headers=ASYNC)


def _ndjson(api: Any, url: str) -> list[dict[str, Any]]:
    response = api.get(_path(url))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in response.content.decode().splitlines()]


def test_a_bulk_export_runs_through_the_outbox_and_serves_valid_ndjson(
    world: World, api_client_for: Any
) -> None:
    api = api_client_for(world.org, [*READ_ALL, "part2:read", "fhir:export"])
    started = _kickoff(api)
    assert started.status_code == 202, started.content
    status_url = _path(started["Content-Location"])
    export_id = status_url.rsplit("/", 1)[-1]

    # The same request while it is queued answers the same export; no second job.
    again = _kickoff(api)
    assert again.status_code == 202 and again["Content-Location"] == started["Content-Location"]
    with tenant_context(world.org):
        assert _exports().count() == 1
        assert OutboxMessage.objects.filter(topic=EXPORT_TOPIC).count() == 1

    polled = api.get(status_url)
    assert polled.status_code == 202 and polled["X-Progress"]

    _run(world.org, export_id)
    done = api.get(status_url)
    assert done.status_code == 200, done.content
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    outputs = {o["type"]: o for o in manifest["output"]}
    assert set(outputs) == {
        "Patient", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit",
        "Practitioner", "Organization",
    }  # fmt: skip
    for resource_type, output in outputs.items():
        resources = _ndjson(api, output["url"])
        assert len(resources) == output["count"] > 0
        for resource in resources:
            assert resource["resourceType"] == resource_type
            validate(resource)
    claims = {r["id"]: r for r in _ndjson(api, outputs["Claim"]["url"])}
    assert str(world.part2_claim.pk) in claims
    assert "42CFRPart2" in {
        s["code"] for s in claims[str(world.part2_claim.pk)]["meta"]["security"]
    }
    assert str(world.other_claim.pk) not in claims

    # The download is a disclosure: audited with its patients and its Part 2 flag.
    with tenant_context(world.org):
        claim_events = AuditEvent.objects.filter(
            action="fhir.export", detail__resource_type="Claim"
        )
        assert claim_events.count() == 2  # one per download
        claim_event = claim_events.first()
        assert claim_event is not None
        assert AuditEvent.objects.filter(action="fhir.export_start").count() == 1
    assert claim_event.part2 is True
    assert str(world.patient.pk) in claim_event.detail["patient_ids"]

    # Running the message again changes nothing.
    with tenant_context(world.org):
        files = FhirExportFile.objects.filter(export_id=export_id).count()
        message = OutboxMessage.objects.get(topic=EXPORT_TOPIC)
    outbox_process(message_id=message.pk, now=clock.now(), organization_id=world.org.pk)
    with tenant_context(world.org):
        assert FhirExportFile.objects.filter(export_id=export_id).count() == files

    # A finished export lets a new identical one start.
    assert _kickoff(api)["Content-Location"] != started["Content-Location"]


def test_files_are_served_to_the_same_key_only(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, [*READ_ALL, "fhir:export"])
    status_url = _path(_kickoff(api, params={"_type": "Patient"})["Content-Location"])
    _run(world.org, status_url.rsplit("/", 1)[-1])
    file_url = _path(api.get(status_url).json()["output"][0]["url"])
    colleague = api_client_for(world.org, [*READ_ALL, "fhir:export"])
    assert colleague.get(status_url).status_code == 404
    assert colleague.get(file_url).status_code == 404
    stranger = api_client_for(world.other_org, [*READ_ALL, "fhir:export"])
    assert stranger.get(status_url).status_code == 404
    assert stranger.get(file_url).status_code == 404
    assert api.get(file_url).status_code == 200


def test_an_export_without_the_grant_leaves_part2_out(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, [*READ_ALL, "fhir:export"])
    started = _kickoff(api, "Patient/$export", {"_type": "Claim,ExplanationOfBenefit"})
    status_url = _path(started["Content-Location"])
    _run(world.org, status_url.rsplit("/", 1)[-1])
    outputs = {o["type"]: o for o in api.get(status_url).json()["output"]}
    assert set(outputs) == {"Claim", "ExplanationOfBenefit"}
    claim_ids = {r["id"] for r in _ndjson(api, outputs["Claim"]["url"])}
    assert str(world.claim.pk) in claim_ids and str(world.part2_claim.pk) not in claim_ids
    eob_ids = {r["id"] for r in _ndjson(api, outputs["ExplanationOfBenefit"]["url"])}
    assert str(world.part2_remittance.pk) not in eob_ids


def test_delete_cancels_a_running_export(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, [*READ_ALL, "fhir:export"])
    status_url = _path(_kickoff(api)["Content-Location"])
    export_id = status_url.rsplit("/", 1)[-1]
    cancelled = api.delete(status_url)
    assert cancelled.status_code == 202
    assert api.get(status_url).status_code == 404
    with tenant_context(world.org):
        message = OutboxMessage.objects.get(topic=EXPORT_TOPIC)
    outbox_process(message_id=message.pk, now=clock.now(), organization_id=world.org.pk)
    with tenant_context(world.org):
        export = FhirExport.objects.get(pk=export_id)
        assert export.status == ExportStatus.CANCELLED
        assert not FhirExportFile.objects.filter(export=export).exists()
        assert AuditEvent.objects.filter(action="fhir.export_cancel").count() == 1
    # Cancelling again is harmless.
    assert api.delete(status_url).status_code == 202


def test_kickoff_refusals_are_operation_outcomes(world: World, api_client_for: Any) -> None:
    api = api_client_for(world.org, [*READ_ALL, "fhir:export"])
    synchronous = api.get(f"{BASE}/$export")
    assert synchronous.status_code == 400
    assert "respond-async" in synchronous.json()["issue"][0]["diagnostics"]
    for params in (
        {"_type": "Observation"},
        {"_type": "Practitioner,"},
        {"_since": "last week"},
        {"_since": "2026-01-01T00:00:00"},
        {"_outputFormat": "text/csv"},
        {"_typeFilter": "Patient?name=x"},
    ):
        response = _kickoff(api, params=params)
        assert response.status_code == 400, params
        validate(response.json())
    # Patient/$export holds the patient compartment only.
    assert _kickoff(api, "Patient/$export", {"_type": "Practitioner"}).status_code == 400
    # Exporting needs fhir:export, and the read scope of every type asked for.
    reader = api_client_for(world.org, READ_ALL)
    assert _kickoff(reader).status_code == 403
    partial = api_client_for(world.org, ["patients:read", "fhir:export"])
    assert _kickoff(partial, params={"_type": "Claim"}).status_code == 403
    with tenant_context(world.org):
        assert not _exports().exists()
    unknown = api.get(f"{BASE}/$export-status/{world.claim.pk}")
    assert unknown.status_code == 404


def test_a_members_export_needs_the_csrf_token_to_cancel(world: World, owner: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    header = {"X-Organization": world.org.slug, **ASYNC}
    started = client.get(f"{BASE}/$export", {"_type": "Patient"}, headers=header)
    assert started.status_code == 202, started.content
    status_url = _path(started["Content-Location"])
    refused = client.delete(status_url, headers=header)
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert client.get(status_url, headers=header).status_code == 202
