"""Reads for the operations page and API: background jobs and scan runs by status."""

from __future__ import annotations

from django.db.models import QuerySet

from rcm.operations.models import ScanRun
from rcm.outbox.models import OutboxMessage

# The page opens on what needs an owner: jobs that failed for good.
STATUS_FILTERS = ["failed", "pending", "done", "cancelled", "all"]


def job_list(*, status: str = "failed", search: str = "") -> QuerySet[OutboxMessage]:
    """Outbox messages of the organization in context, the most recently changed first."""
    qs = OutboxMessage.objects.all()
    if status and status != "all":
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(topic__icontains=search)
    return qs.only(
        "id",
        "topic",
        "payload",
        "status",
        "attempts",
        "created_at",
        "available_at",
        "processed_at",
        "last_error",
        "cancel_reason",
    ).order_by("-created_at", "-pk")


def scan_run_list(*, status: str = "failed", search: str = "") -> QuerySet[ScanRun]:
    """Scan runs of the organization in context, the latest day first."""
    qs = ScanRun.objects.all()
    if status and status != "all":
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(scan__icontains=search)
    return qs.order_by("-day", "scan", "-pk")
