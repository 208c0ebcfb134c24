"""Celery tasks of the claims app: the daily unbillable-charges scan. Building submission
batches and picking up acknowledgments are submissions/tasks.py."""

from __future__ import annotations

from celery import shared_task

from claims.services.scans import claims_unbillable_scan
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import active_organization_ids, organization_today


@shared_task(name="claims.tasks.claims_unbillable_scan_all")
def claims_unbillable_scan_all() -> int:
    """Daily: alert on recorded charges a provider cannot bill, organization by organization."""
    raised = 0
    for org_id in active_organization_ids():
        today = organization_today(org_id)
        with tenant_context(org_id):
            raised += len(claims_unbillable_scan(today=today))
    return raised
