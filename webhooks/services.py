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
from django.db import transaction
from django.utils.encoding import force_bytes

from alerts.models import Area, Severity
from alerts.services import AlertSpec, alerts_raise
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from webhooks.events import EVENT_TYPES, TEST_EVENT
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

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
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.is_active = True
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.save()
    return endpoint


# --- Events and deliveries ----------------------------------------------------------------------


def _queue(delivery: WebhookDelivery, *, when: datetime) -> None:
    delivery.next_try_at = when
    outbox_enqueue(
        topic=DELIVER_TOPIC,
        payload={"delivery_id": str(delivery.pk)},
        idempotency_key=f"webhook:{delivery.pk}:{delivery.attempts}:{when.isoformat()}",
        not_before=when,
    )


def event_emit(*, event_type: str, data: dict[str, Any], now: datetime) -> list[WebhookDelivery]:
    """One delivery per active endpoint that receives `event_type`, each sent after commit.
    `data` carries ids and the state change only (never Part 2 detail)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type}")
    with transaction.atomic():
        endpoints = [
            e for e in WebhookEndpoint.objects.filter(is_active=True) if event_type in e.event_types
        ]
        deliveries = []
        for endpoint in endpoints:
            delivery = WebhookDelivery(
                endpoint=endpoint,
                event_type=event_type,
                payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
            )
            delivery.save()
            _queue(delivery, when=now)
            delivery.save(update_fields=["next_try_at"])
            deliveries.append(delivery)
    return deliveries


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
        delivery.save(update_fields=["next_try_at"])
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
        delivery.save(update_fields=["status", "next_try_at", "updated_at"])
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


def delivery_attempt(*, delivery_id: uuid.UUID | str, now: datetime) -> WebhookDelivery:
    """Make one attempt and record it; on failure, queue the next one after the back-off (with
    jitter) or give up after the last. An endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS is
    disabled and its owners alerted."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != DeliveryStatus.PENDING:
            return delivery  # already delivered (a duplicate outbox message)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if not endpoint.is_active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The endpoint is disabled."
            delivery.next_try_at = None
            delivery.save()
            return delivery
        code, error = _post(endpoint, delivery, now)
        delivery.attempts += 1
        delivery.response_code = code
        delivery.last_error = error[:500]
        delivery.last_attempt_at = now
        delivery.next_try_at = None
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
