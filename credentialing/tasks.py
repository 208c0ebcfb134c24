"""Celery tasks of credentialing: the daily alert scan."""

from __future__ import annotations

from celery import shared_task

from credentialing.services import credentialing_alerts_scan
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import active_organization_ids, organization_today


@shared_task(name="credentialing.tasks.credentialing_scan")
def credentialing_scan() -> int:
    """Raise the day's credentialing alerts, organization by organization (each on its own
    local date). Safe to run twice: alerts are deduplicated. Returns how many were raised."""
    raised = 0
    for org_id in active_organization_ids():
        today = organization_today(org_id)
        with tenant_context(org_id):
            raised += len(credentialing_alerts_scan(today=today))
    return raised
