"""Webhook endpoints and deliveries. Every write is a service here, in a transaction; the HTTP
call is made by the outbox handler (webhooks.handlers), one attempt per outbox message.

Delivery is at-least-once: the attempt's outcome is recorded in the transaction that claimed
its outbox message, so a worker that dies mid-delivery leaves the message pending and the relay
sends it again; the receiver de-duplicates by `webhook-id` (the delivery's `event_id`, the same
on every attempt and on a redelivery)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import random
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection, transaction
from django.utils.encoding import force_bytes

from alerts.models import Area, Severity
from alerts.services import AlertSpec, alerts_raise
from rcm import part2 as part2_access
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id, tenant_context
from webhooks.events import EVENT_TYPES, TEST_EVENT
from webhooks.models import SEQUENCE, DeliveryStatus, WebhookDelivery, WebhookEndpoint

DELIVER_TOPIC = "webhooks.deliver"
SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)
# Waits before each retry (Standard Webhooks' suggested schedule): eight attempts over about a
# day (27 h 35 m 5 s, each wait stretched by up to JITTER).
RETRY_WAITS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.2
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# How long a delivery waiting behind an earlier one of the same object (being sent right now)
# waits before it looks again.
ORDER_WAIT = timedelta(seconds=5)
LOST_ATTEMPT = "No outcome recorded: the sending worker stopped; it is sent again."


# --- Secrets and signatures --------------------------------------------------------------------


def _fernet() -> Fernet:
    key = settings.WEBHOOK_ENCRYPTION_KEY or base64.urlsafe_b64encode(
        hashlib.sha256(force_bytes("parity-webhooks:" + settings.SECRET_KEY)).digest()
    )
    return Fernet(key)


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header (Standard Webhooks): "v1," + base64 of HMAC-SHA256 over
    "{id}.{timestamp}.{body}", keyed by the base64-decoded part of the secret after "whsec_"."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- SSRF ------------------------------------------------------------------------------------


def url_refusal(url: str) -> str | None:
    """Why this URL may not receive webhooks (None when it may): not HTTPS, or a host that is or
    resolves to a private, loopback, link-local, reserved or multicast address. Plain
    http://localhost only when settings.WEBHOOK_ALLOW_HTTP_LOCALHOST (development)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    if not host:
        return "Enter a valid URL with a host name."
    if parts.username or parts.password:
        return "The URL may not carry a user name or password."
    if settings.WEBHOOK_ALLOW_HTTP_LOCALHOST and host in LOCAL_HOSTS:
        return None if parts.scheme in ("http", "https") else "The URL must start with https://."
    if parts.scheme != "https":
        return "The URL must start with https://."
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"The host {host} could not be resolved."
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return f"The host {host} resolves to a private or local address ({address})."
    return None


# --- Endpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once; only its encryption is stored


def _clean_event_types(event_types: list[str]) -> list[str]:
    if not event_types:
        raise DomainError("Choose at least one event type.", field="event_types")
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(f"Unknown event type(s): {', '.join(unknown)}.", field="event_types")
    return sorted(set(event_types))


def endpoint_create(*, url: str, event_types: list[str], description: str = "") -> CreatedEndpoint:
    """Register an endpoint; the secret in the result is shown to the owner once."""
    errors = []
    refusal = url_refusal(url)
    if refusal:
        errors.append(DomainError(refusal, field="url"))
    try:
        types = _clean_event_types(event_types)
    except DomainError as error:
        errors.append(error)
        types = []
    if errors:
        raise DomainError.combine(errors)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            event_types=types,
            description=description,
            secret_encrypted=secret_encrypt(secret),
        )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def endpoint_enable(*, endpoint_id: uuid.UUID | str) -> WebhookEndpoint:
    """Resume a disabled endpoint (its failure window starts again); audited."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        was = endpoint.disabled_reason
        endpoint.is_active = True
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.save()
        audit_record(action="webhooks.endpoint_enabled", obj=endpoint, detail={"was": was})
    return endpoint


def endpoint_part2_set(*, endpoint_id: uuid.UUID | str, allowed: bool) -> WebhookEndpoint:
    """Whether events about 42 CFR Part 2 records may go to this endpoint (owners only: the
    views' `org:admin`; not on the API). Audited with the before and after."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if endpoint.part2_allowed != allowed:
            before = endpoint.part2_allowed
            endpoint.part2_allowed = allowed
            endpoint.save(update_fields=["part2_allowed", "updated_at"])
            audit_record(
                action="webhooks.endpoint_part2",
                obj=endpoint,
                detail={"part2_allowed": [before, allowed]},
            )
    return endpoint


def endpoint_scopes(endpoint: WebhookEndpoint) -> frozenset[str]:
    """What the endpoint may receive, as the Part 2 access layer reads a caller's scopes."""
    return part2_access.ORGANIZATION if endpoint.part2_allowed else frozenset()


# --- Events and deliveries ----------------------------------------------------------------------


def _queue(delivery: WebhookDelivery, *, when: datetime) -> None:
    """Record the outbox message that makes the next attempt at `when` (the caller saves the
    delivery); any message queued for it before is superseded (its key no longer matches)."""
    key = f"webhook:{delivery.pk}:{delivery.attempts}:{when.isoformat()}"
    delivery.next_try_at = when
    delivery.queue_key = key
    outbox_enqueue(
        topic=DELIVER_TOPIC,
        payload={"delivery_id": str(delivery.pk), "key": key},
        idempotency_key=key,
        not_before=when,
    )


@dataclass(frozen=True)
class Event:
    """One event about one object: `subject` names it for ordering ("claim:<id>"), `part2`
    says whether it is a 42 CFR Part 2 record (from rcm.part2)."""

    event_type: str
    data: dict[str, Any]
    subject: str
    part2: bool


def events_emit(*, events: list[Event], now: datetime) -> list[WebhookDelivery]:
    """One delivery per event and active endpoint that receives its type, each sent after
    commit, in order per object and endpoint. An event about a Part 2 record goes only to the
    endpoints allowed Part 2 detail: rcm.part2.event_withheld decides (withheld whole). `data`
    carries ids and the state change only."""
    for event in events:
        if event.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {event.event_type}")
    if not events:
        return []
    with transaction.atomic():
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True).order_by("created_at"))
        deliveries = []
        for event in events:
            for endpoint in endpoints:
                if event.event_type not in endpoint.event_types:
                    continue
                if part2_access.event_withheld(part2=event.part2, scopes=endpoint_scopes(endpoint)):
                    continue
                payload: dict[str, Any] = {
                    "type": event.event_type,
                    "timestamp": now.isoformat(),
                    "data": event.data,
                }
                if event.part2:
                    payload["part2"] = True
                deliveries.append(
                    WebhookDelivery(
                        endpoint=endpoint,
                        event_type=event.event_type,
                        payload=payload,
                        subject=event.subject,
                        part2=event.part2,
                    )
                )
        if not deliveries:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE, len(deliveries)]
            )
            numbers = sorted(row[0] for row in cursor.fetchall())
        org_id = require_organization_id()
        for delivery, number in zip(deliveries, numbers, strict=True):
            delivery.organization_id = org_id
            delivery.sequence = number
        WebhookDelivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            _queue(delivery, when=now)
        WebhookDelivery.objects.bulk_update(deliveries, ["next_try_at", "queue_key"])
    return deliveries


def event_emit(
    *, event_type: str, data: dict[str, Any], subject: str, part2: bool, now: datetime
) -> list[WebhookDelivery]:
    """One event (events_emit)."""
    return events_emit(
        events=[Event(event_type=event_type, data=data, subject=subject, part2=part2)], now=now
    )


def endpoint_send_test(*, endpoint_id: uuid.UUID | str, now: datetime) -> WebhookDelivery:
    """The "send test event" button: one `webhook.test` delivery to this endpoint."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        if not endpoint.is_active:
            raise DomainError("The endpoint is disabled; enable it first.", field="endpoint")
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type=TEST_EVENT,
            payload={
                "type": TEST_EVENT,
                "timestamp": now.isoformat(),
                "data": {"endpoint_id": str(endpoint.pk)},
            },
        )
        _queue(delivery, when=now)
        delivery.save(update_fields=["next_try_at", "queue_key"])
    return delivery


def delivery_redeliver(*, delivery_id: uuid.UUID | str, now: datetime) -> WebhookDelivery:
    """Send one event again, now, with the same `webhook-id`."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status == DeliveryStatus.PENDING and delivery.next_try_at:
            raise DomainError("This event is already waiting to be sent.", field="delivery")
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        if not endpoint.is_active:
            raise DomainError("The endpoint is disabled; enable it first.", field="endpoint")
        delivery.status = DeliveryStatus.PENDING
        _queue(delivery, when=now)
        delivery.save(update_fields=["status", "next_try_at", "queue_key", "updated_at"])
    return delivery


def _post(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime
) -> tuple[int | None, str]:
    """One HTTP attempt: (response code or None, error or "")."""
    refusal = url_refusal(endpoint.url)  # again at send time: DNS may have changed (rebinding)
    if refusal:
        return None, refusal
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    msg_id = f"msg_{delivery.event_id.hex}"
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": "Parity-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret_decrypt(endpoint.secret_encrypted),
            msg_id=msg_id,
            timestamp=timestamp,
            body=body,
        ),
    }
    try:
        response = requests.post(
            endpoint.url,
            data=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.Timeout:
        return None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except requests.RequestException as exc:
        return None, f"Could not connect: {type(exc).__name__}."
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"The endpoint answered {response.status_code}."


def _earlier_pending(delivery: WebhookDelivery) -> WebhookDelivery | None:
    """The oldest pending delivery of the same object to the same endpoint made before this
    one, which this one waits behind (None for an event about no object)."""
    if not delivery.subject:
        return None
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            subject=delivery.subject,
            status=DeliveryStatus.PENDING,
            sequence__lt=delivery.sequence,
        )
        .order_by("sequence")
        .first()
    )


def _release_next(delivery: WebhookDelivery, now: datetime) -> None:
    """The delivery is settled: the next one of its object to its endpoint goes now."""
    if not delivery.subject:
        return
    following = (
        WebhookDelivery.objects.select_for_update()
        .filter(
            endpoint_id=delivery.endpoint_id,
            subject=delivery.subject,
            status=DeliveryStatus.PENDING,
            sequence__gt=delivery.sequence,
        )
        .order_by("sequence")
        .first()
    )
    # Not one being sent right now (no next try): it is recorded by its own run.
    if following is not None and following.next_try_at is not None and following.next_try_at > now:
        _queue(following, when=now)
        following.save(update_fields=["next_try_at", "queue_key", "updated_at"])


def delivery_attempt(
    *, organization_id: uuid.UUID | str, delivery_id: uuid.UUID | str, now: datetime, key: str = ""
) -> WebhookDelivery:
    """Make one attempt and record it; on failure, queue the next one after the back-off (with
    jitter) or give up after the last. An endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS is
    disabled and its owners alerted. `key`: the outbox message's key; a superseded message
    does nothing.

    Three steps, and no database transaction open during the HTTP call: (1) the attempt is
    recorded as made (unless an earlier event of the same object to the same endpoint is still
    pending: this one then waits behind it); (2) the POST; (3) its outcome. A worker that dies
    between (1) and (3) leaves the attempt counted with LOST_ATTEMPT; its outbox lease lapses
    and the message runs again: the same `webhook-id` is sent again (at-least-once) and the one
    delivery records both attempts. Each step is its own transaction under the organization."""
    with tenant_context(organization_id):
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != DeliveryStatus.PENDING:
            return delivery  # already settled (a duplicate outbox message)
        if key and key != delivery.queue_key:
            return delivery  # superseded: queued again since
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        if not endpoint.is_active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The endpoint is disabled."
            delivery.next_try_at = None
            delivery.save()
            return delivery
        earlier = _earlier_pending(delivery)
        if earlier is not None:
            # In order per object: wait until the earlier one is settled or tried again.
            _queue(delivery, when=max(now + ORDER_WAIT, (earlier.next_try_at or now) + ORDER_WAIT))
            delivery.last_error = "Waiting for an earlier event about the same object."
            delivery.save()
            return delivery
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = None
        delivery.last_error = LOST_ATTEMPT
        delivery.next_try_at = None
        delivery.save()
        attempt = delivery.attempts

    code, error = _post(endpoint, delivery, now)

    with tenant_context(organization_id):
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if delivery.status != DeliveryStatus.PENDING or delivery.attempts != attempt:
            return delivery  # recorded by another run meanwhile
        delivery.response_code = code
        delivery.last_error = error[:500]
        if not error:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            endpoint.failing_since = None
        else:
            endpoint.failing_since = endpoint.failing_since or now
            retry = delivery.attempts - 1
            if retry < len(RETRY_WAITS):
                wait = RETRY_WAITS[retry] * (1 + random.uniform(0, JITTER))  # noqa: S311
                _queue(delivery, when=now + wait)
            else:
                delivery.status = DeliveryStatus.FAILED
            if now - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
                _disable(endpoint, now)
        delivery.save()
        endpoint.save(update_fields=["failing_since", "is_active", "disabled_reason", "updated_at"])
        if delivery.status != DeliveryStatus.PENDING:
            _release_next(delivery, now)
    return delivery


def _disable(endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.is_active = False
    endpoint.disabled_reason = (
        f"Deliveries failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC; disabled "
        f"{now:%Y-%m-%d %H:%M} UTC."
    )
    alerts_raise(
        specs=[
            AlertSpec(
                area=Area.OPERATIONS,
                kind="webhooks.endpoint_disabled",
                severity=Severity.CRITICAL,
                dedupe_key=f"webhook-disabled:{endpoint.pk}:{now:%Y%m%d%H%M}",
                title=f"Webhook endpoint disabled: {endpoint.url}",
                message=endpoint.disabled_reason + " Fix the receiver, then enable it again.",
                subject_type="webhooks.endpoint",
                subject_id=endpoint.pk,
                link_path=f"webhooks/{endpoint.pk}/",
            )
        ]
    )
