"""The patients app's scheduled scans (imported by PatientsConfig.ready())."""

from __future__ import annotations

from datetime import date, time

from patients.services import eligibility_raw_purge
from rcm.operations.scans import scheduled_scan
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_now


@scheduled_scan(
    "patients.eligibility_raw_purge", label="Raw eligibility texts purge", starts_at=time(3, 0)
)
def eligibility_raw_purge_scan(today: date) -> dict[str, int]:
    """Daily: delete the raw 270/271 texts older than the organization's retention setting
    (safe to run twice: purged requests are marked)."""
    org_id = require_organization_id()
    days = Organization.objects.values_list("eligibility_raw_retention_days", flat=True).get(
        pk=org_id
    )
    return {
        "requests_purged": eligibility_raw_purge(now=organization_now(org_id), retention_days=days)
    }
