"""Long-running outbox handlers hold a short lease that a heartbeat renews while they run: a
worker that dies stops beating, its lease lapses within OUTBOX_LEASE_SECONDS and the relay
delivers the message again; a live handler keeps it, so a second delivery does not run it twice.
(The real `kill -9` of a Celery worker is in the fault tests: make test-faults.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from rcm.celery import app as celery_app
from rcm.outbox import registry
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import (
    LeaseHeartbeat,
    outbox_lease,
    outbox_pending_ids,
    outbox_process,
)
from rcm.outbox.tasks import outbox_relay
from rcm.tenancy.context import tenant_context
from tests.clock import now

TOPIC = "tests.long_job"


class WorkerKilled(BaseException):
    """What `kill -9` looks like from inside: the run stops dead, nothing after it runs."""


@pytest.fixture
def long_job() -> Iterator[list[str]]:
    """A long-running topic whose handler records each run; the first run can be made to die."""
    runs: list[str] = []

    @registry.outbox_handler(TOPIC, long_running=True)
    def handler(message: OutboxMessage) -> None:
        runs.append(str(message.pk))
        if message.payload.get("die_on_first") and len(runs) == 1:
            raise WorkerKilled

    yield runs
    registry._HANDLERS.pop(TOPIC, None)
    registry._LONG_RUNNING.discard(TOPIC)


def _message(org: Any, **payload: Any) -> OutboxMessage:
    with tenant_context(org):
        return OutboxMessage.objects.create(topic=TOPIC, payload=payload, idempotency_key="job")


def _state(org: Any, pk: Any) -> OutboxMessage:
    with tenant_context(org):
        return OutboxMessage.objects.get(pk=pk)


def test_the_lease_is_short_and_comes_from_the_settings(settings: Any) -> None:
    assert outbox_lease() == timedelta(seconds=45)
    settings.OUTBOX_LEASE_SECONDS = 30
    assert outbox_lease() == timedelta(seconds=30)


def test_a_dead_workers_lease_lapses_and_the_relay_delivers_the_message_again(
    org: Any, long_job: list[str], settings: Any, time_machine: Any
) -> None:
    settings.OUTBOX_RELAY_AFTER_SECONDS = 0
    message = _message(org, die_on_first=True)
    start = now()
    with pytest.raises(WorkerKilled):
        outbox_process(message_id=message.pk, now=start, organization_id=org.pk)
    leased = _state(org, message.pk)
    assert leased.status == OutboxStatus.PENDING and leased.attempts == 1
    assert leased.available_at == start + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)

    # Until the lease lapses the relay leaves it alone and a delivery does nothing.
    just_before = leased.available_at - timedelta(seconds=1)
    with tenant_context(org):
        assert outbox_pending_ids(now=just_before) == []
    assert outbox_process(message_id=message.pk, now=just_before, organization_id=org.pk) is False
    assert len(long_job) == 1

    # One lease later (no heartbeat: the worker is dead) the relay sends it and it runs.
    time_machine.move_to(leased.available_at + timedelta(seconds=1), tick=False)
    celery_app.conf.task_always_eager = True
    try:
        assert outbox_relay() == 1
    finally:
        celery_app.conf.task_always_eager = False
    done = _state(org, message.pk)
    assert done.status == OutboxStatus.DONE and done.attempts == 2
    assert len(long_job) == 2
    assert outbox_relay() == 0


def test_a_heartbeat_renews_the_lease_from_the_moment_it_beats(
    org: Any, long_job: list[str]
) -> None:
    message = _message(org)
    start = now()
    with tenant_context(org):
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=1, available_at=start)
    heartbeat = LeaseHeartbeat(organization_id=org.pk, message_id=message.pk, attempt=1, now=start)
    time.sleep(0.05)
    assert heartbeat.beat() is True
    renewed = _state(org, message.pk).available_at
    assert renewed >= start + outbox_lease() + timedelta(seconds=0.05)
    assert renewed < start + outbox_lease() + timedelta(seconds=10)


def test_a_heartbeat_of_a_run_whose_lease_was_taken_over_renews_nothing(
    org: Any, long_job: list[str]
) -> None:
    message = _message(org)
    start = now()
    with tenant_context(org):
        # The lease lapsed and a later delivery (attempt 2) holds the message now.
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=2, available_at=start)
    stale = LeaseHeartbeat(organization_id=org.pk, message_id=message.pk, attempt=1, now=start)
    assert stale.beat() is False
    assert _state(org, message.pk).available_at == start


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_live_heartbeat_keeps_a_second_delivery_from_running_the_handler(
    settings: Any,
) -> None:
    """A worker runs the handler for longer than the lease; its heartbeat renews the lease, so
    a delivery after the first lease would have lapsed (the relay's, or Redis's own) does
    nothing, and the handler runs once."""
    from tests.factories import OrganizationFactory

    settings.OUTBOX_LEASE_SECONDS = 1
    settings.OUTBOX_HEARTBEAT_SECONDS = 0.2
    org = OrganizationFactory(slug="lease-org")
    started, release = threading.Event(), threading.Event()
    runs: list[datetime] = []

    @registry.outbox_handler(TOPIC, long_running=True)
    def slow(message: OutboxMessage) -> None:
        started.set()
        release.wait(20)
        runs.append(now())

    message = _message(org)
    start = now()
    results: list[bool] = []

    def worker() -> None:
        try:
            results.append(outbox_process(message_id=message.pk, now=start, organization_id=org.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(10)
        first_lease_end = start + outbox_lease()
        # The heartbeat has moved the lease past where the first lease ended.
        assert _wait_for(
            lambda: _state(org, message.pk).available_at > first_lease_end + timedelta(seconds=0.5),
            10,
        )
        late = first_lease_end + timedelta(seconds=0.2)
        assert outbox_process(message_id=message.pk, now=late, organization_id=org.pk) is False
        assert runs == []  # still the first run, not a second one
    finally:
        release.set()
        thread.join(20)
        registry._HANDLERS.pop(TOPIC, None)
        registry._LONG_RUNNING.discard(TOPIC)
    assert results == [True] and len(runs) == 1
    done = _state(org, message.pk)
    assert done.status == OutboxStatus.DONE and done.attempts == 1
    # Done is final: a delivery long after changes nothing.
    hour_later = start + timedelta(hours=1)
    assert outbox_process(message_id=message.pk, now=hour_later, organization_id=org.pk) is False
    assert len(runs) == 1
