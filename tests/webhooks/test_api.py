"""Webhooks on the API with the `webhooks:write` scope: create (secret once), send a test event
to a real receiver, the delivery log, redelivery; refusals name the field; another tenant's
endpoint is a 404; a key without the scope is refused."""

from __future__ import annotations

from typing import Any

import pytest

from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now as suite_now
from tests.webhooks.receiver import receiver
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_part2_set, event_emit, secret_decrypt

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks"


def test_a_partner_registers_an_endpoint_tests_it_and_reads_the_log(
    org: Any, api_client_for: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    api = api_client_for(org, ["webhooks:write"])
    with receiver([500, 200]) as rx:
        created = api.post(
            f"{BASE}/endpoints/", {"url": rx.url, "event_types": ["webhook.test"]}, format="json"
        )
        assert created.status_code == 201, created.content
        endpoint_id = created.json()["id"]
        with tenant_context(org):
            stored = WebhookEndpoint.objects.get(pk=endpoint_id)
        assert created.json()["secret"] == secret_decrypt(stored.secret_encrypted)
        assert "secret" not in api.get(f"{BASE}/endpoints/{endpoint_id}/").json()

        sent = api.post(f"{BASE}/endpoints/{endpoint_id}/test/")
        assert sent.status_code == 201 and sent.json()["status"] == "pending"
        with tenant_context(org):
            message = OutboxMessage.objects.get(topic="webhooks.deliver")
        assert outbox_process(message_id=message.pk, now=suite_now(), organization_id=org.pk)
        log = api.get(f"{BASE}/deliveries/", {"endpoint": endpoint_id}).json()["results"]
        assert [(d["status"], d["response_code"], d["attempts"]) for d in log] == [
            ("pending", 500, 1)
        ]
        delivery_id = log[0]["id"]
        # Waiting for its retry: a redelivery now is refused, naming why.
        refused = api.post(f"{BASE}/deliveries/{delivery_id}/redeliver/")
        assert refused.status_code == 400 and "already waiting" in refused.content.decode()
    assert rx.requests[0].headers["webhook-id"] == log[0]["webhook_id"]


def test_refusals_name_the_field(org: Any, api_client_for: Any) -> None:
    api = api_client_for(org, ["webhooks:write"])
    response = api.post(
        f"{BASE}/endpoints/",
        {"url": "https://169.254.169.254/latest", "event_types": ["webhook.test"]},
        format="json",
    )
    assert response.status_code == 400 and "url" in response.content.decode()
    response = api.post(
        f"{BASE}/endpoints/", {"url": "https://93.184.215.14/", "event_types": []}, format="json"
    )
    assert response.status_code == 400 and "event_types" in response.content.decode()
    with tenant_context(org):
        assert not WebhookEndpoint.objects.exists()


def test_another_tenants_endpoint_is_404_and_the_scope_is_needed(
    org: Any, other_org: Any, api_client_for: Any
) -> None:
    with tenant_context(other_org):
        theirs = endpoint_create(url="https://93.184.215.14/", event_types=["webhook.test"])
    api = api_client_for(org, ["webhooks:write"])
    assert api.get(f"{BASE}/endpoints/{theirs.endpoint.pk}/").status_code == 404
    assert api.post(f"{BASE}/endpoints/{theirs.endpoint.pk}/test/").status_code == 404
    assert api.get(f"{BASE}/endpoints/").json()["results"] == []
    reader = api_client_for(org, ["claims:read"])
    assert reader.get(f"{BASE}/endpoints/").status_code == 403


def test_part2_deliveries_need_the_grant_and_the_setting_is_not_on_the_api(
    org: Any, api_client_for: Any
) -> None:
    with tenant_context(org):
        endpoint = endpoint_create(
            url="https://93.184.215.14/", event_types=["claim.status_changed"]
        ).endpoint
        endpoint_part2_set(endpoint_id=endpoint.pk, allowed=True)
        [delivery] = event_emit(
            event_type="claim.status_changed",
            data={"claim_id": "c1", "to": "paid"},
            subject="claim:c1",
            part2=True,
            now=suite_now(),
        )
    api = api_client_for(org, ["webhooks:write"])
    assert api.get(f"{BASE}/deliveries/").json()["results"] == []
    assert api.post(f"{BASE}/deliveries/{delivery.pk}/redeliver/").status_code == 404
    granted = api_client_for(org, ["webhooks:write", "part2:read"])
    [row] = granted.get(f"{BASE}/deliveries/").json()["results"]
    assert row["part2"] is True and row["payload"]["part2"] is True
    # Read-only on the API: the owners decide on the endpoint's page.
    shown = api.get(f"{BASE}/endpoints/{endpoint.pk}/").json()
    assert shown["part2_allowed"] is True
    assert api.patch(
        f"{BASE}/endpoints/{endpoint.pk}/", {"part2_allowed": False}, format="json"
    ).status_code in (403, 405)
