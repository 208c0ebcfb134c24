"""The daily credentialing scan, recorded once per organization and day (rcm.operations)."""

from __future__ import annotations

from datetime import date, time

from credentialing.services import credentialing_alerts_scan
from rcm.operations.scans import scheduled_scan


@scheduled_scan("credentialing.daily", label="Credentialing scan", starts_at=time(1, 15))
def daily_scan(today: date) -> dict[str, int]:
    return {"alerts_created": len(credentialing_alerts_scan(today=today))}
