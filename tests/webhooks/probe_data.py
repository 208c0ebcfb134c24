from __future__ import annotations

from rcm.tenancy.models import Organization
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import new_secret, secret_encrypt


def build(org: Organization) -> None:
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/parity",
        event_types=["webhook.test"],
        secret_encrypted=secret_encrypt(new_secret()),
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="webhook.test",
        payload={"type": "webhook.test", "data": {}},
        status=DeliveryStatus.DELIVERED,
        attempts=1,
        response_code=200,
    )
