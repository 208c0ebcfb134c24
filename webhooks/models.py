"""Signed webhooks: an organization's endpoints and the deliveries of events to them
(Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`)."""

from __future__ import annotations

import uuid

from django.db import models

from rcm.tenancy.models import TenantModel

# A PostgreSQL sequence (migration 0003): one number per event delivery, in recording order.
SEQUENCE = "webhooks_delivery_seq"


class WebhookEndpoint(TenantModel):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The event types it receives (webhooks.events.EVENT_TYPES).
    event_types = models.JSONField(default=list)
    # The signing secret ("whsec_" + base64), Fernet-encrypted with settings.WEBHOOK_ENCRYPTION_KEY;
    # shown to the owner once, at creation.
    secret_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failed attempt since the last success: an endpoint failing for
    # WEBHOOK_DISABLE_AFTER_DAYS is disabled and its owners alerted.
    failing_since = models.DateTimeField(null=True, blank=True)
    # 42 CFR Part 2: whether events about Part 2 records may go to this endpoint (an owner's
    # audited choice; off by default). Without it they are withheld (rcm.part2.event_withheld).
    part2_allowed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantModel):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    # The `webhook-id` header: the same on every attempt and redelivery, for the receiver to
    # de-duplicate.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)
    # The object the event is about ("claim:<id>"): one endpoint gets an object's events in
    # order, a later one waiting while an earlier one is pending. "" for none (test events).
    subject = models.CharField(max_length=120, blank=True)
    # The order the events were recorded in (from the database sequence SEQUENCE): the order
    # an object's deliveries go out in. 0 for an event about no object.
    sequence = models.BigIntegerField(default=0)
    # The idempotency key of the outbox message that is to make the next attempt: an older
    # message (superseded when the delivery was queued again) does nothing.
    queue_key = models.CharField(max_length=200, blank=True)
    # 42 CFR Part 2: the event is about a Part 2 record (rcm.part2 keeps it from the delivery
    # log of a member without the grant).
    part2 = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "endpoint", "-created_at"], name="whdelivery_endpoint_idx"
            ),
            models.Index(
                fields=["organization", "endpoint", "subject", "status", "sequence"],
                name="whdelivery_subject_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} [{self.status}]"
