"""Celery tasks of the claims app: the daily unbillable-charges scan. Building submission
batches and picking up acknowledgments are submissions/tasks.py."""

from __future__ import annotations

from celery import shared_task

from claims.services.scans import claims_unbillable_scan
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization


@shared_task(name="claims.tasks.claims_unbillable_scan_all")
def claims_unbillable_scan_all() -> int:
    """Daily: alert on recorded charges a provider cannot bill, organization by organization."""

    def scan(turn: OrganizationTurn) -> int:
        return len(claims_unbillable_scan(today=turn.today))

    return sum(raised for _, raised in for_each_organization(scan, name="claims_unbillable_scan"))
