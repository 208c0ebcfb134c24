"""The owners' webhook pages: add an endpoint (secret shown once), the delivery log, send a test
event, redeliver; nobody else sees them, and another organization's endpoint is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from tests.clock import now as suite_now
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_send_test, secret_decrypt

pytestmark = pytest.mark.django_db

PAGE = "/o/riverbend/webhooks/"


def _endpoint(org: Any, url: str = "https://93.184.215.14/hook") -> WebhookEndpoint:
    with tenant_context(org):
        return endpoint_create(url=url, event_types=["webhook.test"]).endpoint


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(
    org: Any, owner: Any, client_for: Any
) -> None:
    client = client_for(owner)
    assert "No webhook endpoint yet" in client.get(PAGE).content.decode()
    response = client.post(
        f"{PAGE}add/",
        {"url": "https://93.184.215.14/hook", "event_types": ["remittance.posted", "webhook.test"]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    with tenant_context(org):
        endpoint = WebhookEndpoint.objects.get()
    secret = secret_decrypt(endpoint.secret_encrypted)
    assert secret in body and "shown only once" in body
    assert endpoint.event_types == ["remittance.posted", "webhook.test"]
    detail = client.get(f"{PAGE}{endpoint.pk}/").content.decode()
    listing = client.get(PAGE).content.decode()
    assert secret not in detail and secret not in listing
    assert "https://93.184.215.14/hook" in listing


def test_a_refused_url_and_no_events_are_shown_beside_their_fields(
    org: Any, owner: Any, client_for: Any
) -> None:
    response = client_for(owner).post(f"{PAGE}add/", {"url": "https://10.0.0.8/x"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_url_error"' in body and "private or local address" in body
    assert 'id="id_event_types_error"' in body
    with tenant_context(org):
        assert not WebhookEndpoint.objects.exists()


def test_send_test_event_and_redeliver_show_in_the_log(
    org: Any, owner: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    endpoint = _endpoint(org)
    client = client_for(owner)
    response = client.post(f"{PAGE}{endpoint.pk}/test/")
    assert response.status_code == 302
    with tenant_context(org):
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="failed", attempts=8, created_at=suite_now() - timedelta(days=1)
        )
        for _ in range(30):
            endpoint_send_test(endpoint_id=endpoint.pk, now=suite_now())
    # Constant: the same with 31 deliveries as with one (a page of 25, the Part 2 hidden count).
    with django_assert_max_num_queries(13):
        body = client.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert "webhook.test" in body and "Page 1 of 2" in body
    page2 = client.get(f"{PAGE}{endpoint.pk}/?page=2").content.decode()
    assert f"msg_{delivery.event_id.hex}" in page2 and "Redeliver" in page2
    assert client.post(f"{PAGE}deliveries/{delivery.pk}/redeliver/").status_code == 302
    with tenant_context(org):
        delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_try_at is not None


@pytest.mark.parametrize("persona", ["biller", "manager", "auditor"])
def test_a_member_who_is_not_an_owner_cannot_use_webhooks(
    org: Any, persona: str, request: Any, client_for: Any
) -> None:
    endpoint = _endpoint(org)
    client = client_for(request.getfixturevalue(persona))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}{endpoint.pk}/").status_code == 403
    assert client.post(f"{PAGE}{endpoint.pk}/test/").status_code == 403
    assert client.post(f"{PAGE}{endpoint.pk}/part2/", {"allowed": "yes"}).status_code == 403
    with tenant_context(org):
        assert not WebhookDelivery.objects.exists()
        assert not WebhookEndpoint.objects.get().part2_allowed


def test_another_organizations_endpoint_is_a_404(
    org: Any, other_org: Any, owner: Any, outsider: Any, client_for: Any
) -> None:
    theirs = _endpoint(other_org)
    client = client_for(owner)
    assert client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/test/").status_code == 404
    assert client_for(outsider).get(PAGE).status_code == 404


def test_a_disabled_endpoint_refuses_test_events_until_enabled_again(
    org: Any, owner: Any, client_for: Any
) -> None:
    endpoint = _endpoint(org)
    with tenant_context(org):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False,
            disabled_reason="Deliveries failed since 2026-12-04",
            failing_since=suite_now(),
        )
    client = client_for(owner)
    body = client.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert "Disabled" in body and "Enable again" in body and "Send test event" not in body
    response = client.post(f"{PAGE}{endpoint.pk}/test/", follow=True)
    assert "The endpoint is disabled; enable it first." in response.content.decode()
    client.post(f"{PAGE}{endpoint.pk}/enable/")
    with tenant_context(org):
        endpoint.refresh_from_db()
        assert not WebhookDelivery.objects.exists()
    assert endpoint.is_active and endpoint.failing_since is None and not endpoint.disabled_reason


def test_an_owner_allows_part2_events_to_an_endpoint_and_it_is_audited(
    org: Any, owner: Any, client_for: Any
) -> None:
    endpoint = _endpoint(org)
    client = client_for(owner)
    body = client.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert "Events about Part 2 records are not sent here." in body
    response = client.post(f"{PAGE}{endpoint.pk}/part2/", {"allowed": "yes"}, follow=True)
    assert "Events about Part 2 records will be sent to this endpoint." in response.content.decode()
    with tenant_context(org):
        endpoint.refresh_from_db()
        assert endpoint.part2_allowed
        event = AuditEvent.objects.get(action="webhooks.endpoint_part2")
    assert event.detail == {"part2_allowed": [False, True]} and event.actor_id == owner.pk
    # A forged value changes nothing.
    response = client.post(f"{PAGE}{endpoint.pk}/part2/", {"allowed": "maybe"}, follow=True)
    assert "Choose whether Part 2 detail may be sent." in response.content.decode()
    with tenant_context(org):
        endpoint.refresh_from_db()
        assert endpoint.part2_allowed
    client.post(f"{PAGE}{endpoint.pk}/part2/", {"allowed": "no"})
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert not endpoint.part2_allowed
