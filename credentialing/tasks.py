"""Celery tasks of credentialing: the daily alert scan."""

from __future__ import annotations

from celery import shared_task

from credentialing.services import credentialing_alerts_scan
from rcm.tenancy.fanout import for_each_organization


@shared_task(name="credentialing.tasks.credentialing_scan")
def credentialing_scan() -> int:
    """Raise the day's credentialing alerts, organization by organization (each on its own
    local date). Safe to run twice: alerts are deduplicated. Returns how many were raised."""
    results = for_each_organization(
        lambda turn: len(credentialing_alerts_scan(today=turn.today)), name="credentialing_scan"
    )
    return sum(raised for _organization, raised in results)
