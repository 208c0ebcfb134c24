"""The transactional outbox: background work recorded in the same transaction as the change that
needs it, so a broker outage costs latency, never work (DESIGN.md, Background work)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rcm.tenancy.models import TenantModel


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # Given up on by an owner, with a reason (rcm.operations.services.outbox_message_cancel).
    CANCELLED = "cancelled", "Cancelled"


class OutboxMessage(TenantModel):
    topic = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="outbox_org_idempotency_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "available_at"], name="outbox_org_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} [{self.status}]"
