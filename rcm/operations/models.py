"""Scan runs: each scheduled scan recorded once per organization and calendar day, so a run lost
to a broker or worker outage is caught up, and a scan never runs twice for one day
(docs/operations.md, "Scheduled scans")."""

from __future__ import annotations

from django.db import models

from rcm.tenancy.models import TenantModel


class ScanRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ScanRun(TenantModel):
    scan = models.CharField(max_length=60, help_text="The registered scan's name (scans.py).")
    day = models.DateField(help_text="The organization's calendar day the run is for.")
    status = models.CharField(
        max_length=10, choices=ScanRunStatus.choices, default=ScanRunStatus.PENDING
    )
    # How many times the run was handed to a worker (the catch-up's, then each retry).
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scan", "day"], name="scanrun_org_scan_day_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "day"], name="scanrun_org_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.scan} {self.day} [{self.status}]"
