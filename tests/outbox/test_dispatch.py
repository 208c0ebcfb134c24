"""Background work is sent only by the outbox: a broker error never reaches the request, and no
code outside rcm/outbox sends a Celery task itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from rcm.celery import app as celery_app
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import tenant_context

ROOT = Path(__file__).resolve().parents[2]
SENDS = re.compile(r"\.(delay|apply_async)\(|\bsend_task\(")


def test_no_code_outside_the_outbox_sends_a_celery_task() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "node_modules"} or parts[:2] == ("rcm", "outbox"):
            continue
        if any(p.startswith(".") for p in parts):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if SENDS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "send background work with rcm.outbox.services.outbox_enqueue"


@pytest.mark.parametrize(
    "error", [OperationalError("connection refused"), RedisConnectionError("connection refused")]
)
def test_a_broker_error_on_commit_leaves_the_message_pending(
    org: Any, monkeypatch: Any, error: Exception, django_capture_on_commit_callbacks: Any
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(celery_app, "send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, tenant_context(org):
        outbox_enqueue(topic="tenancy.welcome_email", payload={}, idempotency_key="down")
    assert len(callbacks) == 1  # it ran, and raised nothing
    with tenant_context(org):
        message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
