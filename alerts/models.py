"""Alerts: things a person must act on before money is lost (an authorization about to expire, a
licence lapsing). Raised by the daily scans of the authorizations and credentialing apps; one
row per condition, thanks to `dedupe_key`, so a scan can run any number of times."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rcm.tenancy.models import TenantModel


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Area(models.TextChoices):
    """Which part of the product an alert belongs to; reading it needs `<area>:read`, acting on
    it `<area>:write` (`area_scope`), except operations: background jobs that failed for good,
    for the organization's owners (`org:admin`)."""

    AUTHORIZATIONS = "authorizations", "Authorizations"
    CREDENTIALING = "credentialing", "Credentialing"
    PATIENTS = "patients", "Patients"
    CLAIMS = "claims", "Claims"
    DENIALS = "denials", "Denials"
    OPERATIONS = "operations", "Operations"


def area_scope(area: str, access: str) -> str:
    """The scope that reads (`access="read"`) or acts on (`"write"`) an area's alerts."""
    if area == Area.OPERATIONS:
        return "org:admin"
    return f"{area}:{access}"


class Alert(TenantModel):
    area = models.CharField(max_length=20, choices=Area.choices)
    kind = models.CharField(max_length=60, help_text="e.g. authorization.expiring")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    # What the alert is about; `link_path` is relative to the organization's root (/o/<slug>/).
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    patient_id = models.UUIDField(null=True, blank=True)
    link_path = models.CharField(max_length=300, blank=True)
    due_on = models.DateField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # 42 CFR Part 2: the subject is a Part 2 record (set by the scan that raises the alert), so
    # rcm.part2 keeps the alert from members without the grant.
    part2 = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="alert_org_dedupe_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "acknowledged_at", "area"], name="alert_org_open_idx"
            ),
            models.Index(fields=["organization", "subject_id"], name="alert_org_subject_idx"),
        ]

    def __str__(self) -> str:
        return self.title
