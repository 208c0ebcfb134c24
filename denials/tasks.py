"""The hourly follow-up scan (Celery beat) and the daily small-balance rule."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from denials.services import follow_up_scan, small_balances_write_off
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import active_organization_ids, organization_today


@shared_task(name="denials.tasks.follow_up_scan_all")
def follow_up_scan_all() -> dict[str, int]:
    """Every active organization in its own tenant context; safe to run twice."""
    totals: dict[str, int] = {"organizations": 0}
    for org_id in active_organization_ids():
        today = organization_today(org_id)
        with tenant_context(org_id):
            result = follow_up_scan(today=today)
        totals["organizations"] += 1
        for key, value in asdict(result).items():
            totals[key] = totals.get(key, 0) + value
    return totals


@shared_task(name="denials.tasks.small_balances_write_off_all")
def small_balances_write_off_all() -> dict[str, int]:
    totals = {"organizations": 0, "written_off": 0}
    for org_id in active_organization_ids():
        with tenant_context(org_id):
            totals["written_off"] += small_balances_write_off()
        totals["organizations"] += 1
    return totals
