"""The append-only audit trail: who did or saw what, on which record, when, from where.

Rows are never updated or deleted: the application role has INSERT and SELECT only, and a trigger
refuses UPDATE and DELETE for every role (migration 0002). `detail` holds identifiers and field
names, never PHI values.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rcm.tenancy.models import Organization, TenantModel


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEvent(TenantModel):
    # Platform events (a failed sign-in for an unknown email) have no organization.
    organization = models.ForeignKey(  # type: ignore[assignment]
        Organization, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    api_key_id = models.UUIDField(null=True, blank=True)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)
    # 42 CFR Part 2: the event concerns a Part 2 record; set when the row is written (rows are
    # never updated, so events written before this column existed stay False). rcm.part2 redacts
    # such rows for a caller without the grant.
    part2 = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "occurred_at"], name="audit_org_time_idx"),
            models.Index(
                fields=["organization", "patient_id", "occurred_at"], name="audit_org_patient_idx"
            ),
            models.Index(
                fields=["organization", "actor_id", "occurred_at"], name="audit_org_actor_idx"
            ),
            models.Index(
                fields=["organization", "action", "occurred_at"], name="audit_org_action_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
