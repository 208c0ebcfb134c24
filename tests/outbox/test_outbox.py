"""The outbox: work recorded with the change, delivered once, re-sent by the relay when the
broker missed it. The last test goes through the real Redis broker and a real Celery worker."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from rcm.celery import app as celery_app
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.tasks import outbox_deliver, outbox_relay
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import membership_add
from tests.clock import now


@pytest.fixture
def eager() -> Any:
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def pending_welcome(org: Any, settings: Any) -> OutboxMessage:
    """A member was added but the broker never got the message (the commit hook did not run)."""
    settings.OUTBOX_RELAY_AFTER_SECONDS = 0
    with tenant_context(org):
        membership_add(
            email="nina@riverbend.example", role=Role.BILLER, password="a-long-pass-phrase-9"
        )
        return OutboxMessage.objects.get()


def test_the_relay_running_twice_delivers_once(
    pending_welcome: OutboxMessage, eager: None, org: Any
) -> None:
    assert outbox_relay() == 1
    assert outbox_relay() == 0
    assert len(mail.outbox) == 1
    with tenant_context(org):
        message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.DONE and message.attempts == 1


def test_a_redelivered_message_does_nothing_the_second_time(
    pending_welcome: OutboxMessage, org: Any
) -> None:
    assert outbox_deliver(str(org.pk), str(pending_welcome.pk)) is True
    assert outbox_deliver(str(org.pk), str(pending_welcome.pk)) is False
    assert len(mail.outbox) == 1


def test_the_same_idempotency_key_is_one_message(org: Any) -> None:
    from rcm.outbox.services import outbox_enqueue

    with tenant_context(org):
        first = outbox_enqueue(topic="tenancy.welcome_email", payload={}, idempotency_key="k")
        second = outbox_enqueue(topic="tenancy.welcome_email", payload={}, idempotency_key="k")
        assert first.pk == second.pk and OutboxMessage.objects.count() == 1


def test_a_failing_handler_leaves_the_message_pending_with_the_error(org: Any) -> None:
    with tenant_context(org):
        message = OutboxMessage.objects.create(
            topic="tenancy.welcome_email",
            payload={"membership_id": "00000000-0000-0000-0000-000000000000"},
            idempotency_key="broken",
        )
    assert outbox_deliver(str(org.pk), str(message.pk)) is False
    with tenant_context(org):
        message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "DoesNotExist" in message.last_error
    assert message.available_at > message.created_at


def test_the_relay_and_a_delivery_go_by_the_moment_they_are_given(
    pending_welcome: OutboxMessage, org: Any, settings: Any
) -> None:
    from rcm.outbox.services import outbox_pending_ids, outbox_process

    settings.OUTBOX_RELAY_AFTER_SECONDS = 60
    with tenant_context(org):
        # Not yet older than the relay delay; a minute later it is.
        assert outbox_pending_ids(now=now()) == []
        assert outbox_pending_ids(now=now() + timedelta(seconds=61)) == [pending_welcome.pk]
        # A message waiting for its retry time is not delivered before it.
        OutboxMessage.objects.filter(pk=pending_welcome.pk).update(
            available_at=now() + timedelta(minutes=2)
        )
        assert outbox_process(message_id=pending_welcome.pk, now=now()) is False
        assert outbox_pending_ids(now=now() + timedelta(minutes=1)) == []
        assert outbox_process(message_id=pending_welcome.pk, now=now() + timedelta(minutes=2))
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_reaches_a_real_worker_through_redis(settings: Any) -> None:
    from celery.contrib.testing.worker import start_worker

    from tests.factories import OrganizationFactory

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (make test provides it)")
    org = OrganizationFactory(slug="worker-org")
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with tenant_context(org):
            membership = membership_add(
                email="wes@worker.example", role=Role.MANAGER, password="a-long-pass-phrase-9"
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with tenant_context(org):
                status = OutboxMessage.objects.get().status
            if status == OutboxStatus.DONE:
                break
            time.sleep(0.1)
    assert status == OutboxStatus.DONE
    assert [m.to for m in mail.outbox] == [["wes@worker.example"]]
    with tenant_context(org):
        assert Membership.objects.filter(pk=membership.pk).exists()
