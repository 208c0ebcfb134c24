"""Celery tasks of the claims app."""

from __future__ import annotations

import zoneinfo

from celery import shared_task
from django.utils import timezone

from claims.services import claims_unbillable_scan
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import active_organization_ids


@shared_task(name="claims.tasks.claims_unbillable_scan_all")
def claims_unbillable_scan_all() -> int:
    """Daily: alert on recorded charges a provider cannot bill, organization by organization."""
    raised = 0
    for org_id in active_organization_ids():
        org_tz = Organization.objects.values_list("time_zone", flat=True).get(pk=org_id)
        with tenant_context(org_id):
            raised += len(
                claims_unbillable_scan(today=timezone.localdate(timezone=zoneinfo.ZoneInfo(org_tz)))
            )
    return raised
