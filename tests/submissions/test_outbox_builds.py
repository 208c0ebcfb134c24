"""A batch's build is an outbox message written with the batch: creating a batch while the broker
is down still succeeds, the relay builds it when the broker is back, a second delivery changes
nothing, and a build whose worker died is built again with the numbers it already had.

The broker outage is simulated at the unit level: the Celery app's `send_task` raises kombu's
OperationalError (the real fault tests stop Redis)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from rcm.celery import app as celery_app
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_lease, outbox_process
from rcm.outbox.tasks import outbox_deliver, outbox_relay
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus, ControlNumberCounter, SubmissionBatch
from submissions.services import BATCH_BUILD_TOPIC, batch_number
from tests import clock
from tests.submissions.conftest import bill_ready

BASE = "/o/riverbend/claims/batches/"
API = "/api/v1/"


@pytest.fixture
def broker_down(monkeypatch: Any) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    return monkeypatch


def _state(org: Any) -> tuple[SubmissionBatch, OutboxMessage]:
    with tenant_context(org):
        return SubmissionBatch.objects.get(), OutboxMessage.objects.get(topic=BATCH_BUILD_TOPIC)


def test_a_batch_created_while_the_broker_is_down_is_built_when_the_relay_runs(
    billing: Any,
    biller: Any,
    client_for: Any,
    broker_down: Any,
    eager: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bill_ready(billing)
    celery_app.conf.task_always_eager = False  # a real send, which the broker refuses
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(biller).post(BASE, {"clearinghouse": billing.clearinghouse.pk})
    assert response.status_code == 302
    batch, message = _state(billing.org)
    assert batch.status == BatchStatus.QUEUED
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert message.payload == {"batch_id": str(batch.pk)}

    # The broker is back: the relay sends the message again and the batch is built.
    broker_down.undo()
    celery_app.conf.task_always_eager = True
    settings.OUTBOX_RELAY_AFTER_SECONDS = 0
    assert outbox_relay() == 1
    batch, message = _state(billing.org)
    assert batch.status == BatchStatus.RELEASED and batch.content.startswith("ISA*")
    assert message.status == OutboxStatus.DONE and message.attempts == 1
    # The release recorded the claims' status change for the apps above (webhooks): sent next.
    assert outbox_relay() == 1
    assert outbox_relay() == 0


def test_the_api_creates_a_batch_while_the_broker_is_down(
    billing: Any, api_client_for: Any, broker_down: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bill_ready(billing)
    with django_capture_on_commit_callbacks(execute=True):
        created = api_client_for(billing.org).post(
            f"{API}claim-batches/", {"clearinghouse": str(billing.clearinghouse.pk)}, format="json"
        )
    assert created.status_code == 201, created.content
    batch, message = _state(billing.org)
    assert created.json()[0]["id"] == str(batch.pk) and batch.status == BatchStatus.QUEUED
    assert message.status == OutboxStatus.PENDING


def test_a_second_delivery_of_a_built_batch_changes_nothing(
    billing: Any, biller: Any, client_for: Any, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bill_ready(billing)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(biller).post(BASE, {"clearinghouse": billing.clearinghouse.pk})
    built, message = _state(billing.org)
    assert built.status == BatchStatus.RELEASED
    assert outbox_deliver(str(billing.org.pk), str(message.pk)) is False
    # Even the handler run again (a message re-sent by hand) leaves the released batch as it is.
    from rcm.outbox.registry import handler_for

    handler_for(BATCH_BUILD_TOPIC)(message)  # type: ignore[misc]
    again, message = _state(billing.org)
    assert (again.status, again.sha256, again.interchange_control_number, again.updated_at) == (
        built.status,
        built.sha256,
        built.interchange_control_number,
        built.updated_at,
    )
    assert message.attempts == 1
    with tenant_context(billing.org):
        assert ControlNumberCounter.objects.get().last_interchange == 1


def test_a_build_whose_worker_died_is_built_again_with_the_same_control_numbers(
    billing: Any,
) -> None:
    from rcm import part2
    from submissions.services import batches_create

    bill_ready(billing)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
        message = OutboxMessage.objects.get(topic=BATCH_BUILD_TOPIC)
        # A worker leased the message, numbered the batch, and was killed mid-render.
        start = clock.now()
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=1, available_at=start + outbox_lease()
        )
        numbered = batch_number(batch_id=batch.pk)
        assert numbered.status == BatchStatus.BUILDING
        SubmissionBatch.objects.filter(pk=batch.pk).update(progress_done=1)
        # While the lease holds, another delivery (Celery's own redelivery) does nothing.
        assert outbox_process(message_id=message.pk, now=start) is False
        assert SubmissionBatch.objects.get(pk=batch.pk).status == BatchStatus.BUILDING
        # Once it has expired the relay's delivery builds the batch from the start.
        later = start + outbox_lease() + timedelta(seconds=1)
        assert outbox_process(message_id=message.pk, now=later) is True
        rebuilt = SubmissionBatch.objects.get(pk=batch.pk)
        assert rebuilt.status == BatchStatus.RELEASED
        assert rebuilt.interchange_control_number == numbered.interchange_control_number
        assert ControlNumberCounter.objects.get().last_interchange == 1  # no number burned
        message.refresh_from_db()
        assert message.status == OutboxStatus.DONE and message.attempts == 2


def test_a_build_that_never_finishes_is_given_up_after_the_attempts(billing: Any) -> None:
    from rcm import part2
    from rcm.outbox.services import MAX_ATTEMPTS
    from submissions.services import batches_create

    bill_ready(billing)
    with tenant_context(billing.org):
        batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)
        message = OutboxMessage.objects.get(topic=BATCH_BUILD_TOPIC)
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS)
        assert outbox_process(message_id=message.pk, now=clock.now()) is False
        message.refresh_from_db()
        assert message.status == OutboxStatus.FAILED and "never finished" in message.last_error
        assert SubmissionBatch.objects.get().status == BatchStatus.QUEUED
