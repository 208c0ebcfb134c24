from __future__ import annotations

from django.db.models import Q, QuerySet

from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list(*, search: str) -> QuerySet[WebhookEndpoint]:
    qs = WebhookEndpoint.objects.order_by("-created_at")
    if search:
        qs = qs.filter(Q(url__icontains=search) | Q(description__icontains=search))
    return qs


def delivery_log(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
