"""Writing and processing outbox messages."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.registry import handler_for
from rcm.tenancy.context import require_organization_id

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _send(organization_id: uuid.UUID, message_id: uuid.UUID) -> None:
    from rcm.outbox.tasks import outbox_deliver

    try:
        outbox_deliver.delay(str(organization_id), str(message_id))
    except Exception:
        # The broker is down: the row stays pending and the relay sends it again later.
        logger.warning(
            "outbox: could not send %s now; the relay will retry", message_id, exc_info=True
        )


def outbox_enqueue(*, topic: str, payload: dict[str, Any], idempotency_key: str) -> OutboxMessage:
    """Record work for after the current transaction commits; the same key twice is one message."""
    # A topic may be recorded before its consumer exists (it then waits, visible, as pending).
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=idempotency_key, defaults={"topic": topic, "payload": payload}
        )
        if created:
            org_id = require_organization_id()
            transaction.on_commit(lambda: _send(org_id, message.pk))
    return message


def outbox_process(*, message_id: uuid.UUID | str, now: datetime) -> bool:
    """Run the handler of one pending message that is due at `now`, once. True when this call
    did the work. A failure is retried after a back-off counted from `now`.

    The conditional UPDATE claims the row: a second delivery (a relay re-send, a redelivered
    Celery message) waits for the first transaction, then finds the row no longer pending.
    """
    topic = OutboxMessage.objects.filter(pk=message_id).values_list("topic", flat=True).first()
    if topic is None or handler_for(topic) is None:
        # No consumer yet (an app still to come): the message waits, pending and visible.
        return False
    with transaction.atomic():
        claimed = OutboxMessage.objects.filter(
            pk=message_id, status=OutboxStatus.PENDING, available_at__lte=now
        ).update(attempts=F("attempts") + 1, status=OutboxStatus.DONE, processed_at=now)
        if not claimed:
            return False
        message = OutboxMessage.objects.get(pk=message_id)
        handler = handler_for(message.topic)
        try:
            with transaction.atomic():
                handler(message)  # type: ignore[misc]
        except Exception as exc:
            failed = message.attempts >= MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=message.pk).update(
                status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
                processed_at=None,
                available_at=now + timedelta(minutes=2**message.attempts),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            logger.exception("outbox: %s failed (attempt %s)", message.topic, message.attempts)
            return False
    return True


def outbox_pending_ids(*, now: datetime) -> list[uuid.UUID]:
    """Pending messages of the organization in context, due at `now` and older than the relay
    delay, that the relay should send again."""
    cutoff = now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, available_at__lte=now)
        .filter(created_at__lte=cutoff)
        .values_list("pk", flat=True)[:1000]
    )
