"""The daily authorization scan (Celery beat) and its on-demand form for one organization."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from authorizations.services import authorization_scan
from rcm.tenancy.context import tenant_context
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization
from rcm.tenancy.selectors import organization_today


def _scan(today: date) -> dict[str, int]:
    result = authorization_scan(today=today)
    return {"expired": result.expired, "alerts_created": result.alerts_created}


@shared_task(name="authorizations.tasks.authorization_scan_all")
def authorization_scan_all() -> dict[str, int]:
    """Every active organization, each in its own tenant context; safe to run twice."""

    def scan(turn: OrganizationTurn) -> dict[str, int]:
        return _scan(turn.today)

    totals = {"organizations": 0, "expired": 0, "alerts_created": 0}
    for _organization, result in for_each_organization(scan, name="authorization_scan_all"):
        totals["organizations"] += 1
        totals["expired"] += result["expired"]
        totals["alerts_created"] += result["alerts_created"]
    return totals


@shared_task(name="authorizations.tasks.authorization_scan_organization")
def authorization_scan_organization(organization_id: str) -> dict[str, int]:
    """The scan for one organization, run on demand by a biller."""
    today = organization_today(organization_id)
    with tenant_context(organization_id):
        return _scan(today)
