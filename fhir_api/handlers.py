"""Outbox consumer: run a queued bulk export (the export row shows its progress)."""

from __future__ import annotations

from fhir_api.services import EXPORT_TOPIC, export_run
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SUBMISSIONS, outbox_handler
from rcm.tenancy.selectors import organization_now


@outbox_handler(EXPORT_TOPIC, long_running=True, queue=SUBMISSIONS)
def run_export(message: OutboxMessage) -> None:
    """Long-running: each resource type commits on its own, so it runs outside the message's
    transaction under a lease. A second delivery for a finished export changes nothing."""
    now = organization_now(message.organization_id)
    export_run(
        organization_id=message.organization_id,
        export_id=message.payload["export_id"],
        today=now.date(),
        now=now,
    )
