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
from rcm.outbox.registry import handler_for, is_long_running
from rcm.tenancy.context import require_organization_id, tenant_context

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def outbox_send(organization_id: uuid.UUID | str, message_id: uuid.UUID | str) -> None:
    """Hand one message to the broker; never raises (a pending row is re-sent by the relay)."""
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
            transaction.on_commit(lambda: outbox_send(org_id, message.pk))
    return message


def outbox_process(
    *, message_id: uuid.UUID | str, now: datetime, organization_id: uuid.UUID | str | None = None
) -> bool:
    """Run the handler of one pending message that is due at `now`, once. True when this call
    did the work. A failure is retried after a back-off counted from `now`.

    The conditional UPDATE claims the row: a second delivery (a relay re-send, a redelivered
    Celery message) waits for the first transaction, then finds the row no longer pending.
    A long-running handler (registry) is leased instead: see `_process_long_running`.
    """
    org_id = organization_id or require_organization_id()
    with tenant_context(org_id):
        topic = OutboxMessage.objects.filter(pk=message_id).values_list("topic", flat=True).first()
    if topic is None or handler_for(topic) is None:
        # No consumer yet (an app still to come): the message waits, pending and visible.
        return False
    if is_long_running(topic):
        return _process_long_running(org_id, message_id, now)
    with tenant_context(org_id):
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
            _record_failure(message, exc, now)
            return False
    return True


def outbox_lease() -> timedelta:
    """How long a long-running handler holds its message: past Celery's hard time limit, so
    when the lease ends the worker that held it has finished or been killed."""
    return timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 15 * 60) + 60)


def _process_long_running(
    org_id: uuid.UUID | str, message_id: uuid.UUID | str, now: datetime
) -> bool:
    """Lease the message (it stays pending, due again when the lease ends), run the handler
    outside any transaction (it commits its own progress), then mark the message done. A
    worker killed mid-run leaves the lease to expire; the relay then sends the message again
    and the handler starts over (it must be safe to). A delivery during the lease does nothing."""
    with tenant_context(org_id):
        leased = OutboxMessage.objects.filter(
            pk=message_id, status=OutboxStatus.PENDING, available_at__lte=now
        ).update(attempts=F("attempts") + 1, available_at=now + outbox_lease())
        if not leased:
            return False
        message = OutboxMessage.objects.get(pk=message_id)
        if message.attempts > MAX_ATTEMPTS:
            # Delivered again and again without ever finishing (workers lost mid-run).
            OutboxMessage.objects.filter(pk=message.pk).update(
                status=OutboxStatus.FAILED,
                last_error=f"Gave up after {MAX_ATTEMPTS} runs that never finished.",
            )
            logger.error("outbox: %s abandoned after %s runs", message.topic, MAX_ATTEMPTS)
            return False
    handler = handler_for(message.topic)
    try:
        handler(message)  # type: ignore[misc]
    except Exception as exc:
        with tenant_context(org_id):
            _record_failure(message, exc, now)
        return False
    with tenant_context(org_id):
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.DONE, processed_at=now, last_error=""
        )
    return True


def _record_failure(message: OutboxMessage, exc: Exception, now: datetime) -> None:
    failed = message.attempts >= MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
        processed_at=None,
        available_at=now + timedelta(minutes=2**message.attempts),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    logger.exception("outbox: %s failed (attempt %s)", message.topic, message.attempts)


def outbox_pending_ids(*, now: datetime) -> list[uuid.UUID]:
    """Pending messages of the organization in context, due at `now` and older than the relay
    delay, that the relay should send again."""
    cutoff = now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, available_at__lte=now)
        .filter(created_at__lte=cutoff)
        .values_list("pk", flat=True)[:1000]
    )
