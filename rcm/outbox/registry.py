"""Outbox topics and the functions that handle them. An app registers its handlers with
`@outbox_handler("topic")` in a module it imports from its AppConfig.ready().

A handler runs inside the transaction that claims its message (all or nothing) unless it is
registered `long_running=True`: then it manages its own transactions (to commit progress as it
goes) and the message is leased instead of claimed, the lease (OUTBOX_LEASE_SECONDS) renewed by a
heartbeat while it runs; a worker that dies mid-run stops beating, the lease lapses, and the relay
delivers the message again. Such a handler must be safe to run again from the start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]
_HANDLERS: dict[str, Handler] = {}
_LONG_RUNNING: set[str] = set()
_SUBSCRIBERS: dict[str, list[Handler]] = {}
_QUEUES: dict[str, str] = {}

# The Celery queues, by kind of work (docs/operations.md, "Scaling the workers out"): a worker
# started without -Q consumes all of them; a deployment gives each kind its own workers, on as
# many machines as it needs, with `celery -A rcm worker -Q <queue>`.
DEFAULT_QUEUE = "default"
IMPORTS = "imports"  # files in: 835 posting, acknowledgments, eligibility and status answers
SUBMISSIONS = "submissions"  # files out: 837 batches, secondary claims
SCANS = "scans"  # the daily scans and their fan-out per organization
NOTIFICATIONS = "notifications"  # e-mails, alerts, webhook deliveries
QUEUES = (DEFAULT_QUEUE, IMPORTS, SUBMISSIONS, SCANS, NOTIFICATIONS)


def outbox_handler(
    topic: str, *, long_running: bool = False, queue: str = DEFAULT_QUEUE
) -> Callable[[Handler], Handler]:
    """Register the handler of `topic`; its messages are delivered through the Celery `queue`
    (one of QUEUES)."""
    if queue not in QUEUES:
        raise ValueError(f"Unknown queue {queue!r} for {topic}: one of {', '.join(QUEUES)}.")

    def register(func: Handler) -> Handler:
        _HANDLERS[topic] = func
        _QUEUES[topic] = queue
        if long_running:
            _LONG_RUNNING.add(topic)
        else:
            _LONG_RUNNING.discard(topic)
        return func

    return register


def queue_for(topic: str) -> str:
    """The Celery queue a message of `topic` is delivered through (an unknown topic: default)."""
    return _QUEUES.get(topic, DEFAULT_QUEUE)


def registered_topics() -> list[str]:
    return sorted(_HANDLERS)


def outbox_subscriber(topic: str) -> Callable[[Handler], Handler]:
    """Also run `func` after the handler of `topic` succeeds, in the same transaction (all or
    nothing): how an app above the one that records a topic listens to it (webhooks). Only for
    topics whose handler is not long-running. A topic may have subscribers and no handler: a
    domain event, recorded by a lower app only for the apps above ("claims.status_changed")."""

    def register(func: Handler) -> Handler:
        subscribers = _SUBSCRIBERS.setdefault(topic, [])
        if func not in subscribers:
            subscribers.append(func)
        return func

    return register


def subscribers_of(topic: str) -> list[Handler]:
    return list(_SUBSCRIBERS.get(topic, ()))


def handler_for(topic: str) -> Handler | None:
    return _HANDLERS.get(topic)


def is_long_running(topic: str) -> bool:
    return topic in _LONG_RUNNING
