"""Celery tasks of credentialing: the daily alert scan."""

from __future__ import annotations

import zoneinfo

from celery import shared_task
from django.utils import timezone

from credentialing.services import credentialing_alerts_scan
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import active_organization_ids


@shared_task(name="credentialing.tasks.credentialing_scan")
def credentialing_scan() -> int:
    """Raise the day's credentialing alerts, organization by organization (each on its own
    local date). Safe to run twice: alerts are deduplicated. Returns how many were raised."""
    raised = 0
    for org_id in active_organization_ids():
        org_tz = Organization.objects.values_list("time_zone", flat=True).get(pk=org_id)
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(org_tz))
        with tenant_context(org_id):
            raised += len(credentialing_alerts_scan(today=today))
    return raised
