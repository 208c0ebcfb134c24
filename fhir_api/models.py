"""Bulk exports (FHIR `$export`): one row per request, the NDJSON files it produced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from rcm.tenancy.models import ApiKey, TenantModel


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportLevel(models.TextChoices):
    SYSTEM = "system", "Every patient (system level)"
    PATIENT = "patient", "Patient compartment (Patient/$export)"


class FhirExport(TenantModel):
    """A `$export` request: who asked (a member or an API key: only they may read its files),
    what (level, resource types, `_since`) and with which scopes (the Part 2 decision is the
    requester's, taken when it was asked)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=10, choices=ExportLevel.choices)
    resource_types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list)
    # Who asked and what: a second identical request while one runs answers the running one.
    fingerprint = models.CharField(max_length=64)
    request_url = models.CharField(max_length=2000)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"],
                condition=Q(status__in=["queued", "running"]),
                name="fhirexport_org_active_fingerprint_uniq",
            ),
            models.CheckConstraint(
                condition=Q(requested_by__isnull=True) | Q(api_key__isnull=True),
                name="fhirexport_one_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"$export {self.level} ({self.status})"


class FhirExportFile(TenantModel):
    """One NDJSON file of an export: every resource of one type, one JSON object a line."""

    export = models.ForeignKey(FhirExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True)
    # The patients whose records the file holds (the audit event of each download names them).
    patient_ids = models.JSONField(default=list)
    has_part2 = models.BooleanField(default=False)

    class Meta:
        ordering = ["export", "resource_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "export", "resource_type"],
                name="fhirexportfile_org_export_type_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson ({self.count})"
