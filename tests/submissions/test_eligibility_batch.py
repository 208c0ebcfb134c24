"""Check eligibility for all active episodes (issue 21, item 6): a batch through the outbox over
the active episodes' primary coverages, against a real CAQH CORE HTTPS server; its progress on a
page polled with htmx and through the API; one at a time per organization."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from patients import services as patients
from patients.models import Coverage
from rcm import part2
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from submissions.models import Clearinghouse, EligibilityBatch, EligibilityBatchItem
from submissions.services import (
    ELIGIBILITY_BATCH_TOPIC,
    clearinghouse_save,
    eligibility_batch_start,
)
from tests.clock import days_ago, now, today
from tests.core_server import PASSWORD, USERNAME, CoreServer, core_server


@pytest.fixture
def core(tmp_path: Path, settings: Any) -> Iterator[CoreServer]:
    with core_server(tmp_path) as server:
        settings.CLEARINGHOUSE_CA_BUNDLE = server.ca_bundle
        yield server


def person(mrn: str, last: str, member_id: str, program: str | None, **cov: Any) -> Coverage:
    payer = patients.payer_create(name=f"Plan {mrn}", payer_id=f"P{mrn}", payer_type="commercial")
    patient = patients.patient_create(
        today=today(), mrn=mrn, first_name="Ana", last_name=last,
        date_of_birth=date(1985, 3, 14), sex="F",
    )  # fmt: skip
    coverage = patients.coverage_create(
        patient=patient, payer=payer, member_id=member_id, effective_date=days_ago(400), **cov
    )
    if program:
        patients.episode_open(
            patient=patient, program_type=program, admission_date=days_ago(30), level="1",
            today=today(), scopes=part2.ORGANIZATION,
        )  # fmt: skip
    return coverage


@pytest.fixture
def world(org: Any, core: CoreServer) -> Iterator[dict[str, Any]]:
    org.group_npi, org.tax_id = "1234567893", "987654321"
    org.save()
    with tenant_context(org):
        hub = clearinghouse_save(
            name="Change Hub", code="chub", receiver_name="CHANGE HUB", receiver_id="CHUB01",
            submitter_id="RB12345", contact_name="Billing", contact_phone="3125550100",
            realtime_transport="core_mime", core_url=core.url, core_username=USERNAME,
            core_password=PASSWORD, realtime_timeout_seconds=2, realtime_retries=0,
        )  # fmt: skip
        yield {
            "hub": hub,
            "ana": person("R-1", "Rivera", "W123456789", "mental_health"),
            "sud": person("R-2", "Stone", "W123456789", "substance_use"),
            "ended": person(
                "R-3", "Gone", "W123456789", "mental_health", termination_date=days_ago(5)
            ),
            "no_episode": person("R-4", "Nobody", "W123456789", None),
        }


def run(message: OutboxMessage, org: Any) -> bool:
    return outbox_process(message_id=message.pk, now=now(), organization_id=org.pk)


def test_a_batch_checks_each_active_episodes_primary_coverage_once(
    world: dict[str, Any], org: Any, core: CoreServer
) -> None:
    with tenant_context(org):
        batch, started = eligibility_batch_start(
            clearinghouse=world["hub"], now=now(), today=today()
        )
        assert started and batch.status == "queued" and batch.total == 2
        covered = set(EligibilityBatchItem.objects.values_list("coverage_id", flat=True))
        assert covered == {world["ana"].pk, world["sud"].pk}
        message = OutboxMessage.objects.get(topic=ELIGIBILITY_BATCH_TOPIC)
        # A second start while it is queued returns it and starts nothing.
        again, started_again = eligibility_batch_start(
            clearinghouse=world["hub"], now=now(), today=today()
        )
        assert again.pk == batch.pk and not started_again
        assert OutboxMessage.objects.filter(topic=ELIGIBILITY_BATCH_TOPIC).count() == 1
    assert run(message, org)
    with tenant_context(org):
        batch.refresh_from_db()
        assert (batch.status, batch.checked, batch.answered, batch.failed) == ("done", 2, 2, 0)
        assert batch.finished_at is not None
        for item in EligibilityBatchItem.objects.select_related("request"):
            assert item.status == "answered" and item.request.verification_id is not None
        assert world["ana"].verifications.count() == 1
    assert len(core.requests) == 2
    # Delivered again: nothing is checked twice.
    with tenant_context(org):
        OutboxMessage.objects.filter(pk=message.pk).update(status="pending")
    run(message, org)
    assert len(core.requests) == 2
    with tenant_context(org):
        assert EligibilityBatch.objects.get().checked == 2
        # Done: the next start is a new batch.
        _, started = eligibility_batch_start(clearinghouse=world["hub"], now=now(), today=today())
        assert started and EligibilityBatch.objects.count() == 2


def test_a_coverage_without_an_answer_is_recorded_and_counted(
    world: dict[str, Any], org: Any, core: CoreServer
) -> None:
    core.mode, core.delay = "slow", 3
    with tenant_context(org):
        batch, _ = eligibility_batch_start(clearinghouse=world["hub"], now=now(), today=today())
        message = OutboxMessage.objects.get(topic=ELIGIBILITY_BATCH_TOPIC)
    run(message, org)
    with tenant_context(org):
        batch.refresh_from_db()
        assert (batch.status, batch.checked, batch.answered, batch.failed) == ("done", 2, 0, 2)
        statuses = set(EligibilityBatchItem.objects.values_list("status", flat=True))
        assert statuses == {"no_answer"}
        assert "no answer" in EligibilityBatchItem.objects.first().error


def test_the_progress_page_polls_while_running_and_lists_the_results(
    world: dict[str, Any], org: Any, biller: Any, manager: Any, client_for: Any
) -> None:
    client = client_for(biller)
    base = "/o/riverbend/claims/batches/eligibility/all/"
    assert "No eligibility batch yet." in client.get(base).content.decode()
    response = client.post(base)
    assert response.status_code == 302
    with tenant_context(org):
        batch = EligibilityBatch.objects.get()
        message = OutboxMessage.objects.get(topic=ELIGIBILITY_BATCH_TOPIC)
    assert response["Location"].endswith(f"{base}{batch.pk}/")
    # Starting again while it runs goes to the same batch.
    assert client.post(base)["Location"] == response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and "0 of 2 coverages checked" in page
    run(message, org)
    progress = client.get(f"{response['Location']}?part=progress", HTTP_HX_REQUEST="true")
    assert (
        progress["HX-Refresh"] == "true" and "2 of 2 coverages checked" in progress.content.decode()
    )
    done = client.get(response["Location"]).content.decode()
    assert "every 2s" not in done and "Rivera" in done and "Answered" in done
    # The manager reads but may not start one; without the Part 2 grant the substance use
    # episode's check is left out and counted.
    manager_client = client_for(manager)
    assert manager_client.post(base).status_code == 403
    restricted = manager_client.get(response["Location"]).content.decode()
    assert "Rivera" in restricted and "Stone" not in restricted
    assert 'data-part2-hidden="1"' in restricted


def test_the_api_starts_a_batch_and_reads_its_progress(
    world: dict[str, Any], org: Any, other_org: Any, api_client_for: Any
) -> None:
    api = api_client_for(org)
    first = api.post("/api/v1/eligibility-batches/", {}, format="json")
    assert first.status_code == 202, first.content
    body = first.json()
    assert body["status"] == "queued" and body["total"] == 2 and body["checked"] == 0
    second = api.post("/api/v1/eligibility-batches/", {}, format="json")
    assert second.status_code == 200 and second.json()["id"] == body["id"]
    with tenant_context(org):
        run(OutboxMessage.objects.get(topic=ELIGIBILITY_BATCH_TOPIC), org)
    progress = api.get(f"/api/v1/eligibility-batches/{body['id']}/").json()
    assert (progress["status"], progress["checked"], progress["answered"]) == ("done", 2, 2)
    assert progress["percent"] == 100
    theirs = api_client_for(other_org)
    assert theirs.get(f"/api/v1/eligibility-batches/{body['id']}/").status_code == 404
    bad = api.post("/api/v1/eligibility-batches/", {"clearinghouse": "nope"}, format="json")
    assert bad.status_code == 400


def test_a_clearinghouse_without_real_time_is_refused(org: Any) -> None:
    with tenant_context(org):
        hub = clearinghouse_save(
            name="Batch only", code="b", receiver_name="B", receiver_id="B01",
            submitter_id="RB12345", contact_name="Billing", contact_phone="3125550100",
        )  # fmt: skip
        assert isinstance(hub, Clearinghouse)
        with pytest.raises(DomainError, match="no real-time transport"):
            eligibility_batch_start(clearinghouse=hub, now=now(), today=today())
        assert not EligibilityBatch.objects.exists()
