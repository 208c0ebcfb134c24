"""Background work goes out on named Celery queues by kind (imports, submissions, scans,
notifications), so each kind can get its own workers on other machines: every handler names a
declared queue, and a message reaches the real broker on its topic's queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from rcm.celery import app as celery_app
from rcm.outbox import registry
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import tenant_context


def test_every_handler_is_delivered_through_a_declared_queue() -> None:
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert declared == set(registry.QUEUES)
    topics = registry.registered_topics()
    assert len(topics) >= 10
    assert {registry.queue_for(topic) for topic in topics} <= declared


@pytest.mark.parametrize(
    ("topic", "queue"),
    [
        ("denials.remittance_post", "imports"),
        ("submissions.batch_build", "submissions"),
        ("denials.secondary_claims_build", "submissions"),
        ("tenancy.welcome_email", "notifications"),
        ("alerts.email", "notifications"),
        ("webhooks.deliver", "notifications"),
        ("operations.scan_run", "scans"),
    ],
)
def test_each_kind_of_work_has_its_queue(topic: str, queue: str) -> None:
    assert topic in registry.registered_topics(), topic
    assert registry.queue_for(topic) == queue


def test_an_unknown_queue_is_refused_when_a_handler_registers() -> None:
    with pytest.raises(ValueError, match="Unknown queue 'reports'"):
        registry.outbox_handler("x.y", queue="reports")


def test_the_beat_tasks_are_routed_to_their_kind() -> None:
    router = celery_app.amqp.router
    route = router.route({}, "claims.tasks.acknowledgments_pickup", (), {})
    assert route["queue"].name == "imports"
    route = router.route({}, "authorizations.tasks.authorization_scan_all", (), {})
    assert route["queue"].name == "scans"
    route = router.route({}, "rcm.outbox.tasks.outbox_relay", (), {})
    assert route["queue"].name == "default"


def _take(queue: str) -> list[Any]:
    """The messages waiting on `queue` of the real broker (taken off it)."""
    taken = []
    with celery_app.connection_for_write() as connection:
        simple = connection.SimpleQueue(queue)
        try:
            while True:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    return taken
                taken.append(message)
                message.ack()
        finally:
            simple.close()


def test_a_message_reaches_the_broker_on_its_topics_queue(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for queue in registry.QUEUES:
        _take(queue)  # anything an earlier test of this worker left
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        post = outbox_enqueue(
            topic="denials.remittance_post", payload={"x": 1}, idempotency_key="q-835"
        )
        mail = outbox_enqueue(topic="tenancy.welcome_email", payload={}, idempotency_key="q-mail")
    imports, notifications = _take("imports"), _take("notifications")
    assert [m.headers["task"] for m in imports] == ["rcm.outbox.tasks.outbox_deliver"]
    assert imports[0].headers["argsrepr"] == repr((str(org.pk), str(post.pk)))
    assert [m.headers["argsrepr"] for m in notifications] == [repr((str(org.pk), str(mail.pk)))]
    assert _take("default") == [] and _take("scans") == [] and _take("submissions") == []
