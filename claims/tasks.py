"""Celery tasks of the claims app: the daily unbillable-charges scan. Building submission
batches and picking up acknowledgments are submissions/tasks.py."""

from __future__ import annotations

from celery import shared_task

from claims.services.care_management import care_month_rollup, previous_month
from claims.services.scans import claims_unbillable_scan
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization


@shared_task(name="claims.tasks.claims_unbillable_scan_all")
def claims_unbillable_scan_all() -> int:
    """Daily: alert on recorded charges a provider cannot bill, organization by organization."""

    def scan(turn: OrganizationTurn) -> int:
        return len(claims_unbillable_scan(today=turn.today))

    return sum(raised for _, raised in for_each_organization(scan, name="claims_unbillable_scan"))


@shared_task(name="claims.tasks.care_month_rollup_all")
def care_month_rollup_all() -> int:
    """Daily: close the last calendar month of care management (collaborative care, BHI) in each
    organization's own calendar and propose its charges. Idempotent: a month rolled up once is
    left alone, so the daily run only catches the first day of a month and late organizations."""

    def rollup(turn: OrganizationTurn) -> int:
        return len(care_month_rollup(month=previous_month(turn.today), now=turn.now))

    return sum(made for _, made in for_each_organization(rollup, name="care_month_rollup"))
