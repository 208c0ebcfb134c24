"""Signed webhook deliveries to a real local HTTP receiver: signatures a receiver can verify,
retries with back-off, timeouts, redelivery with the same webhook-id, SSRF refusals, tenancy,
and events from other apps' outbox work."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from alerts.models import Alert
from denials import services as denial_services
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now as suite_now
from tests.denials.x835 import Clp, build_835
from tests.webhooks.receiver import receiver
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    DELIVER_TOPIC,
    delivery_redeliver,
    endpoint_create,
    endpoint_send_test,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """What a receiver does (docs/integration.md), written from the Standard Webhooks spec."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, g) for g in given)


def run_due(org: Any, now: Any) -> int:
    """Process every webhook outbox message due at `now` (what the relay and worker do)."""
    with tenant_context(org):
        ids = list(
            OutboxMessage.objects.filter(
                topic=DELIVER_TOPIC, status=OutboxStatus.PENDING, available_at__lte=now
            ).values_list("pk", flat=True)
        )
    return sum(outbox_process(message_id=i, now=now, organization_id=org.pk) for i in ids)


def test_a_test_event_arrives_signed_and_the_signature_verifies(org: Any) -> None:
    now = suite_now()
    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
            # Only the encryption of the secret is stored.
            assert created.secret not in created.endpoint.secret_encrypted
        assert run_due(org, now) == 1
    assert len(rx.requests) == 1
    got = rx.requests[0]
    assert verify(created.secret, got.headers, got.body)
    assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), got.headers, got.body)
    assert got.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert got.headers["webhook-id"] == f"msg_{delivery.event_id.hex}"
    assert json.loads(got.body)["type"] == "webhook.test"
    with tenant_context(org):
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)


def test_a_receiver_failing_twice_then_succeeding_gets_it_delivered_once_after_three_attempts(
    org: Any,
) -> None:
    now = suite_now()
    with receiver([500, 503, 200]) as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        assert run_due(org, now) == 1
        with tenant_context(org):
            delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
        # The retry waits its back-off: nothing is due a second later.
        assert delivery.next_try_at is not None and delivery.next_try_at >= now + timedelta(
            seconds=5
        )
        assert run_due(org, now + timedelta(seconds=1)) == 0
        assert run_due(org, now + timedelta(minutes=1)) == 1
        assert run_due(org, now + timedelta(hours=1)) == 1
        assert run_due(org, now + timedelta(days=2)) == 0  # delivered: nothing more to send
    assert len(rx.requests) == 3
    assert len({r.headers["webhook-id"] for r in rx.requests}) == 1
    with tenant_context(org):
        delivery.refresh_from_db()
        endpoint = WebhookEndpoint.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert endpoint.failing_since is None and endpoint.is_active


def test_a_receiver_that_does_not_answer_in_time_is_retried_later(org: Any, settings: Any) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    now = suite_now()
    with receiver([200], delay=1.5) as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        assert run_due(org, now) == 1
    with tenant_context(org):
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.response_code is None and "No answer within" in delivery.last_error
    assert delivery.next_try_at is not None and delivery.next_try_at > now


def test_an_endpoint_failing_for_days_is_disabled_and_its_owners_alerted(org: Any) -> None:
    now = suite_now()
    with receiver([500]) as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(
                failing_since=now - timedelta(days=3)
            )
            endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        run_due(org, now)
    with tenant_context(org):
        endpoint = WebhookEndpoint.objects.get()
        alert = Alert.objects.get(kind="webhooks.endpoint_disabled")
    assert not endpoint.is_active and "failed since" in endpoint.disabled_reason
    assert rx.url in alert.title
    with tenant_context(org), pytest.raises(DomainError, match="disabled"):
        endpoint_send_test(endpoint_id=endpoint.pk, now=now)


def test_a_redelivered_event_keeps_its_webhook_id(org: Any) -> None:
    now = suite_now()
    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        run_due(org, now)
        with tenant_context(org):
            delivery_redeliver(delivery_id=delivery.pk, now=now + timedelta(hours=1))
        assert run_due(org, now + timedelta(hours=1)) == 1
    assert len(rx.requests) == 2
    assert rx.requests[0].headers["webhook-id"] == rx.requests[1].headers["webhook-id"]
    assert rx.requests[0].body == rx.requests[1].body
    with tenant_context(org):
        delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hook", "https://"),
        ("https://10.1.2.3/hook", "private or local"),
        ("https://192.168.0.10/hook", "private or local"),
        ("https://127.0.0.1/hook", "private or local"),
        ("https://169.254.169.254/latest/meta-data", "private or local"),
        ("https://[::1]/hook", "private or local"),
        ("https://[fe80::1]/hook", "private or local"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("ftp://93.184.215.14/hook", "https://"),
        ("not a url", "valid URL"),
    ],
)
def test_a_url_that_is_not_https_or_points_inside_is_refused_naming_the_field(
    org: Any, settings: Any, url: str, says: str
) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    with tenant_context(org):
        with pytest.raises(DomainError) as refused:
            endpoint_create(url=url, event_types=["webhook.test"])
        assert WebhookEndpoint.objects.count() == 0
    fields = {e.field: e.message for e in [refused.value, *refused.value.errors]}
    assert says in fields["url"]


def test_plain_http_localhost_needs_the_development_setting(org: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    with tenant_context(org), pytest.raises(DomainError, match="https://"):
        endpoint_create(url="http://localhost:8080/hook", event_types=["webhook.test"])


def test_an_unknown_event_type_and_a_bad_url_are_refused_together(org: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    with tenant_context(org), pytest.raises(DomainError) as refused:
        endpoint_create(url="http://example.com", event_types=["claim.exploded"])
    fields = {e.field for e in refused.value.errors}
    assert fields == {"url", "event_types"}


def test_another_tenants_endpoint_and_deliveries_are_not_found(org: Any, other_org: Any) -> None:
    now = suite_now()
    with tenant_context(org):
        created = endpoint_create(url="http://localhost:9/hook", event_types=["webhook.test"])
        delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
    with tenant_context(other_org):
        with pytest.raises(WebhookEndpoint.DoesNotExist):
            endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        with pytest.raises(WebhookDelivery.DoesNotExist):
            delivery_redeliver(delivery_id=delivery.pk, now=now)


def test_a_posted_remittance_is_sent_to_the_endpoints_that_want_it(org: Any) -> None:
    now = suite_now()
    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["remittance.posted"])
            endpoint_create(url=rx.url + "/other", event_types=["webhook.test"])
            imp = denial_services.remittance_import_create(
                file_name="remit.835",
                content=build_835(
                    [
                        Clp(
                            "NO-SUCH-CLAIM",
                            "1",
                            D("150"),
                            D("80"),
                            D("20"),
                            cas=[("CO", "45", D("50")), ("PR", "3", D("20"))],
                        )
                    ]
                ),
            )
            post = OutboxMessage.objects.get(topic="denials.remittance_post")
        assert imp.status == "pending", imp.error
        assert outbox_process(message_id=post.pk, now=now, organization_id=org.pk)
        assert run_due(org, now) == 1
    assert len(rx.requests) == 1
    got = rx.requests[0]
    assert verify(created.secret, got.headers, got.body)
    body = json.loads(got.body)
    assert body["type"] == "remittance.posted"
    assert body["data"]["remittance_import_id"] == str(imp.pk)
    with tenant_context(org):
        imp.refresh_from_db()
    assert imp.status in ("posted", "rejected")
    assert body["data"]["status"] == imp.status
    assert set(body["data"]) == {"remittance_import_id", "status", "claims", "rows_posted"}


def test_the_verification_snippet_in_the_integration_guide_works(
    org: Any, monkeypatch: Any
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", guide, re.S)
    assert (
        snippet is not None and len([x for x in snippet.group(1).splitlines() if x.strip()]) <= 12
    )
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)  # noqa: S102  (our own documentation)
    now = suite_now()
    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        run_due(org, now)
    got = rx.requests[0]
    monkeypatch.setattr("time.time", lambda: now.timestamp() + 60)
    assert namespace["verify"](created.secret, got.headers, got.body.encode())
    assert not namespace["verify"](created.secret, got.headers, got.body.encode() + b" ")
    monkeypatch.setattr("time.time", lambda: now.timestamp() + 600)  # a replay, ten minutes on
    assert not namespace["verify"](created.secret, got.headers, got.body.encode())


def test_a_worker_dying_after_the_post_sends_again_with_the_same_id_and_records_once(
    org: Any, monkeypatch: Any
) -> None:
    """At-least-once: the attempt is recorded in the transaction that claimed the outbox message;
    a crash before it commits leaves the message pending, the next run sends the same event again
    (same webhook-id, for the receiver to de-duplicate) and records one delivery."""
    now = suite_now()
    real_save = WebhookDelivery.save
    crashes = {"left": 1}

    def crash_once(self: WebhookDelivery, *args: Any, **kwargs: Any) -> None:
        if self.attempts and crashes["left"]:
            crashes["left"] -= 1
            raise SystemError("worker lost")
        real_save(self, *args, **kwargs)

    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        monkeypatch.setattr(WebhookDelivery, "save", crash_once)
        assert run_due(org, now) == 0  # posted, then lost before recording
        with tenant_context(org):
            delivery.refresh_from_db()
            message = OutboxMessage.objects.get(topic=DELIVER_TOPIC)
        assert delivery.attempts == 0 and message.status == OutboxStatus.PENDING
        assert run_due(org, now + timedelta(minutes=5)) == 1
    assert len(rx.requests) == 2
    assert rx.requests[0].headers["webhook-id"] == rx.requests[1].headers["webhook-id"]
    with tenant_context(org):
        delivery.refresh_from_db()
        assert OutboxMessage.objects.filter(topic=DELIVER_TOPIC).count() == 1
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
