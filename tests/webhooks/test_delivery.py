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
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now as suite_now
from tests.denials.x835 import Clp, build_835
from tests.webhooks.receiver import receiver
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    DELIVER_TOPIC,
    delivery_redeliver,
    endpoint_create,
    endpoint_send_test,
    event_emit,
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


class WorkerKilled(BaseException):
    """The process dying: not an Exception, so nothing in it gets to record anything."""


def test_a_worker_dying_after_the_post_sends_again_with_the_same_id_and_records_once(
    org: Any, monkeypatch: Any, settings: Any
) -> None:
    """At-least-once: the POST went out, then the worker died before recording the outcome. The
    outbox lease of the delivery message lapses, the message runs again, the receiver gets the
    same webhook-id a second time, and the log has one delivery showing both attempts."""
    now = suite_now()
    real_post = services._post

    def post_then_die(*args: Any, **kwargs: Any) -> Any:
        real_post(*args, **kwargs)
        raise WorkerKilled

    with receiver() as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
            delivery = endpoint_send_test(endpoint_id=created.endpoint.pk, now=now)
        monkeypatch.setattr(services, "_post", post_then_die)
        with pytest.raises(WorkerKilled):
            run_due(org, now)
        monkeypatch.setattr(services, "_post", real_post)
        with tenant_context(org):
            delivery.refresh_from_db()
            message = OutboxMessage.objects.get(topic=DELIVER_TOPIC)
        # The attempt is counted, its outcome unknown; the message is leased, still pending.
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == services.LOST_ATTEMPT
        assert message.status == OutboxStatus.PENDING
        assert run_due(org, now + timedelta(seconds=1)) == 0  # the lease still holds
        lapsed = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
        assert run_due(org, lapsed) == 1
        assert run_due(org, lapsed + timedelta(days=2)) == 0  # nothing more to send
    assert len(rx.requests) == 2
    assert rx.requests[0].headers["webhook-id"] == rx.requests[1].headers["webhook-id"]
    assert rx.requests[0].body == rx.requests[1].body
    with tenant_context(org):
        assert WebhookDelivery.objects.count() == 1
        delivery.refresh_from_db()
        assert OutboxMessage.objects.get(topic=DELIVER_TOPIC).status == OutboxStatus.DONE
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
    assert delivery.last_error == ""


def test_an_objects_later_event_waits_while_an_earlier_one_is_retried(org: Any) -> None:
    """In order per object and endpoint: the receiver fails the first event of claim A once; the
    second event of A waits behind its retry, while an event about claim B goes at once."""
    now = suite_now()
    a, b = "claim:aaaa", "claim:bbbb"
    with receiver([500, 200]) as rx:
        with tenant_context(org):
            endpoint_create(url=rx.url, event_types=["claim.status_changed"])

            def emit(subject: str, to: str) -> None:
                event_emit(
                    event_type="claim.status_changed",
                    data={"claim_id": subject, "to": to},
                    subject=subject,
                    part2=False,
                    now=now,
                )

            emit(a, "accepted")
            emit(a, "paid")
            emit(b, "accepted")
        run_due(org, now)
        got = [json.loads(r.body)["data"] for r in rx.requests]
        assert [(d["claim_id"], d["to"]) for d in got] == [(a, "accepted"), (b, "accepted")]
        with tenant_context(org):
            waiting = WebhookDelivery.objects.get(payload__data__to="paid")
        assert waiting.attempts == 0 and "earlier event" in waiting.last_error
        # Its turn comes after the retry of the first, whatever order the worker takes them in.
        for minutes in (1, 2, 3):
            run_due(org, now + timedelta(minutes=minutes))
    got = [json.loads(r.body)["data"] for r in rx.requests]
    assert [(d["claim_id"], d["to"]) for d in got] == [
        (a, "accepted"),
        (b, "accepted"),
        (a, "accepted"),
        (a, "paid"),
    ]
    with tenant_context(org):
        statuses = list(
            WebhookDelivery.objects.order_by("sequence").values_list("status", "attempts")
        )
    assert statuses == [("delivered", 2), ("delivered", 1), ("delivered", 1)]


def test_an_endpoint_failing_for_the_whole_window_is_disabled_then_enabled_again(
    org: Any, settings: Any, time_machine: Any
) -> None:
    """Every attempt failing for WEBHOOK_DISABLE_AFTER_DAYS (here 2, set) disables the endpoint
    and alerts its owners once; a success within the window resets it; Enable again resumes."""
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 2
    start = suite_now()
    with receiver([500]) as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
        for hours in (0, 12, 24, 36):
            time_machine.move_to(start + timedelta(hours=hours), tick=False)
            with tenant_context(org):
                endpoint_send_test(
                    endpoint_id=created.endpoint.pk, now=start + timedelta(hours=hours)
                )
            run_due(org, start + timedelta(hours=hours))
        with tenant_context(org):
            endpoint = WebhookEndpoint.objects.get()
        assert endpoint.is_active and endpoint.failing_since == start
        time_machine.move_to(start + timedelta(days=2), tick=False)
        with tenant_context(org):
            endpoint_send_test(endpoint_id=endpoint.pk, now=start + timedelta(days=2))
        run_due(org, start + timedelta(days=2))
        with tenant_context(org):
            endpoint.refresh_from_db()
            alerts = list(Alert.objects.filter(kind="webhooks.endpoint_disabled"))
            pending_after = WebhookDelivery.objects.filter(status="pending").count()
        assert not endpoint.is_active and "failed since" in endpoint.disabled_reason
        assert len(alerts) == 1 and alerts[0].link_path == f"webhooks/{endpoint.pk}/"
        sent = len(rx.requests)
        # Retries still queued find the endpoint disabled: nothing more is sent.
        time_machine.move_to(start + timedelta(days=3), tick=False)
        run_due(org, start + timedelta(days=3))
        assert len(rx.requests) == sent
        with tenant_context(org):
            assert WebhookDelivery.objects.filter(status="pending").count() < pending_after or (
                pending_after == 0
            )
            services.endpoint_enable(endpoint_id=endpoint.pk)
            endpoint.refresh_from_db()
            assert endpoint.is_active and endpoint.failing_since is None
            assert AuditEvent.objects.filter(action="webhooks.endpoint_enabled").count() == 1
    with receiver() as ok:
        with tenant_context(org):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=ok.url)
            endpoint_send_test(endpoint_id=endpoint.pk, now=start + timedelta(days=3))
        run_due(org, start + timedelta(days=3))
    assert len(ok.requests) == 1


def test_a_success_inside_the_window_keeps_the_endpoint(org: Any, time_machine: Any) -> None:
    start = suite_now()
    with receiver([500, 200, 200, 500]) as rx:
        with tenant_context(org):
            created = endpoint_create(url=rx.url, event_types=["webhook.test"])
        for days in (0, 2, 4):
            time_machine.move_to(start + timedelta(days=days), tick=False)
            with tenant_context(org):
                endpoint_send_test(
                    endpoint_id=created.endpoint.pk, now=start + timedelta(days=days)
                )
            run_due(org, start + timedelta(days=days))
    with tenant_context(org):
        endpoint = WebhookEndpoint.objects.get()
    # Failing since day 4 only (day 2 succeeded): not three days yet.
    assert endpoint.is_active and endpoint.failing_since == start + timedelta(days=4)
    assert len(rx.requests) >= 3
