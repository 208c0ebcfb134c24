"""Celery beat's entry for scheduled scans: every few minutes, each organization's due scans are
recorded and started (or caught up), and jobs that failed for good raise their alert."""

from __future__ import annotations

from celery import shared_task

from rcm.operations.services import job_failures_alert, scan_runs_catch_up
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization


@shared_task(name="rcm.operations.tasks.scan_runs_catch_up")
def scan_runs_catch_up_all() -> dict[str, int]:
    """Organization by organization, on its own calendar; safe to run twice (the second run
    sends nothing). Returns how many scan runs were sent and failure alerts raised."""

    def catch_up(turn: OrganizationTurn) -> tuple[int, int]:
        sent = scan_runs_catch_up(now=turn.now)
        return len(sent), job_failures_alert(today=turn.today)

    results = for_each_organization(catch_up, name="scan_runs_catch_up")
    return {
        "organizations": len(results),
        "scan_runs_sent": sum(sent for _org, (sent, _alerts) in results),
        "alerts_raised": sum(alerts for _org, (_sent, alerts) in results),
    }
