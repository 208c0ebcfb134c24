"""Writing and processing outbox messages."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.registry import handler_for, is_long_running, queue_for, subscribers_of
from rcm.tenancy.context import require_organization_id, tenant_context

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def outbox_send(
    organization_id: uuid.UUID | str, message_id: uuid.UUID | str, *, topic: str
) -> None:
    """Hand one message to the broker, on its topic's queue; never raises (a pending row is
    re-sent by the relay)."""
    from rcm.outbox.tasks import outbox_deliver

    try:
        outbox_deliver.apply_async(
            args=(str(organization_id), str(message_id)), queue=queue_for(topic)
        )
    except Exception:
        # The broker is down: the row stays pending and the relay sends it again later.
        logger.warning(
            "outbox: could not send %s now; the relay will retry", message_id, exc_info=True
        )


def outbox_enqueue(
    *, topic: str, payload: dict[str, Any], idempotency_key: str,
    not_before: datetime | None = None,
) -> OutboxMessage:  # fmt: skip
    """Record work for after the current transaction commits; the same key twice is one message.
    `not_before`: the work is not due before then (a retry's back-off); the relay sends it when
    it is due."""
    # A topic may be recorded before its consumer exists (it then waits, visible, as pending).
    defaults: dict[str, Any] = {"topic": topic, "payload": payload}
    if not_before is not None:
        defaults["available_at"] = not_before
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=idempotency_key, defaults=defaults
        )
        if created:
            org_id = require_organization_id()
            transaction.on_commit(lambda: outbox_send(org_id, message.pk, topic=topic))
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
    if topic is None or (handler_for(topic) is None and not subscribers_of(topic)):
        # No consumer yet (an app still to come): the message waits, pending and visible.
        # A domain event (an app records what changed) has subscribers and no handler.
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
                if handler is not None:
                    handler(message)
                for subscriber in subscribers_of(message.topic):
                    subscriber(message)
        except Exception as exc:
            _record_failure(message, exc, now)
            return False
    return True


def outbox_lease() -> timedelta:
    """How long a long-running handler holds its message without a heartbeat: short, so a
    worker killed mid-run has its message delivered again within two minutes (lease + relay
    interval; system check rcm.E005). A live handler's heartbeat keeps renewing it."""
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


class LeaseHeartbeat:
    """Renews a leased message's lease every OUTBOX_HEARTBEAT_SECONDS while its handler runs: a
    daemon thread with its own database connection, under the message's tenant. Each beat moves
    `available_at` to a full lease after the moment of the beat, reckoned from the delivery's
    `now` plus the time elapsed since (a monotonic clock), and only while the message is still
    pending under this run's attempt. A beat that fails (a database blip) is tried again at the
    next one; the lease outlasts one missed beat (check rcm.E004; two with the default 45 s
    lease and 15 s heartbeat). Stopped in `finally`."""

    def __init__(
        self, *, organization_id: uuid.UUID | str, message_id: uuid.UUID | str, attempt: int,
        now: datetime,
    ) -> None:  # fmt: skip
        self.organization_id = organization_id
        self.message_id = message_id
        self.attempt = attempt
        self.now = now
        self.beats = 0
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"outbox-heartbeat-{message_id}", daemon=True
        )

    def beat(self) -> bool:
        """Renew the lease once; False when it is no longer this run's (done, failed, or taken
        over by a later delivery after it lapsed)."""
        elapsed = timedelta(seconds=time.monotonic() - self._started)
        with tenant_context(self.organization_id):
            renewed = OutboxMessage.objects.filter(
                pk=self.message_id, status=OutboxStatus.PENDING, attempts=self.attempt
            ).update(available_at=self.now + elapsed + outbox_lease())
        self.beats += 1
        return bool(renewed)

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.OUTBOX_HEARTBEAT_SECONDS):
                try:
                    if not self.beat():
                        logger.warning("outbox: lost the lease of %s", self.message_id)
                        return
                except Exception:
                    logger.warning(
                        "outbox: heartbeat of %s failed; next one in %s s",
                        self.message_id,
                        settings.OUTBOX_HEARTBEAT_SECONDS,
                        exc_info=True,
                    )
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _process_long_running(
    org_id: uuid.UUID | str, message_id: uuid.UUID | str, now: datetime
) -> bool:
    """Lease the message (it stays pending, due again when the lease ends), run the handler
    outside any transaction (it commits its own progress) while a heartbeat renews the lease,
    then mark the message done. A worker killed mid-run stops beating: the lease lapses within
    OUTBOX_LEASE_SECONDS, the relay sends the message again and the handler starts over (it must
    be safe to). A delivery while the lease holds does nothing."""
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
    heartbeat = LeaseHeartbeat(
        organization_id=org_id, message_id=message.pk, attempt=message.attempts, now=now
    )
    try:
        with heartbeat:
            handler(message)  # type: ignore[misc]
    except Exception as exc:
        with tenant_context(org_id):
            _record_failure(message, exc, now)
        return False
    with tenant_context(org_id):
        OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxStatus.PENDING, attempts=message.attempts
        ).update(status=OutboxStatus.DONE, processed_at=now, last_error="")
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


def outbox_pending(*, now: datetime) -> list[tuple[uuid.UUID, str]]:
    """(id, topic) of the pending messages of the organization in context, due at `now` and older
    than the relay delay, that the relay should send again."""
    cutoff = now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, available_at__lte=now)
        .filter(created_at__lte=cutoff)
        .values_list("pk", "topic")[:1000]
    )


def outbox_pending_ids(*, now: datetime) -> list[uuid.UUID]:
    return [pk for pk, _topic in outbox_pending(now=now)]
