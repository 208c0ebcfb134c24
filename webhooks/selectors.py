from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet

from rcm import part2
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list(*, search: str) -> QuerySet[WebhookEndpoint]:
    qs = WebhookEndpoint.objects.order_by("-created_at")
    if search:
        qs = qs.filter(Q(url__icontains=search) | Q(description__icontains=search))
    return qs


def delivery_log(
    *, endpoint: WebhookEndpoint, scopes: Collection[str]
) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first; without the Part 2 grant, none about a Part 2
    record (rcm.part2: the delivery carries the flag of its event)."""
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).order_by(
        "-created_at", "-sequence", "-pk"
    )
    return part2.visible(qs, scopes)
