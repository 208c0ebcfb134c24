"""The outbox consumer of scheduled scan runs (services.scan_runs_catch_up sends them)."""

from __future__ import annotations

from rcm.operations.services import SCAN_RUN_TOPIC, scan_run_execute
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SCANS, outbox_handler
from rcm.tenancy.selectors import organization_now


@outbox_handler(SCAN_RUN_TOPIC, queue=SCANS)
def run_scheduled_scan(message: OutboxMessage) -> None:
    organization_id = message.organization_id
    scan_run_execute(
        run_id=message.payload["run_id"], clock=lambda: organization_now(organization_id)
    )
