"""Consumers of other apps' events."""

from __future__ import annotations

from datetime import date, time

from authorizations.services import SCAN_TOPIC, authorization_draft_for_stay, authorization_scan
from rcm.operations.scans import scheduled_scan
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SCANS, outbox_handler
from rcm.tenancy.selectors import organization_today


@outbox_handler("patients.authorization_needed", queue=SCANS)
def authorization_needed(message: OutboxMessage) -> None:
    """A level transition (or admission) the primary payer must authorize: a requested draft for
    the new level and an alert, so no transition goes unauthorized silently."""
    payload = message.payload
    authorization_draft_for_stay(
        stay_id=payload["stay_id"],
        coverage_id=payload["coverage_id"],
        today=date.fromisoformat(payload["recorded_on"])
        if "recorded_on" in payload  # messages queued before the field existed
        else message.created_at.date(),
    )


@outbox_handler(SCAN_TOPIC, queue=SCANS)
def scan(message: OutboxMessage) -> None:
    """A biller's "run now": the daily scan, for this organization, now."""
    authorization_scan(today=organization_today(message.organization_id))


@scheduled_scan("authorizations.daily", label="Authorization scan", starts_at=time(5, 0))
def daily_scan(today: date) -> dict[str, int]:
    """The daily scan, recorded once per organization and day (rcm.operations)."""
    result = authorization_scan(today=today)
    return {"expired": result.expired, "alerts_created": result.alerts_created}
