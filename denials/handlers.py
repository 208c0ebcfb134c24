"""Outbox consumers: post an uploaded 835 (the job row shows its progress), then build the
secondary claims its postings moved balances to."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, time

from denials.claimstatus import claim_status_scan
from denials.services import (
    follow_up_scan,
    remittance_post,
    secondary_claims_build,
    small_balances_write_off,
)
from rcm import part2
from rcm.operations.scans import scheduled_scan
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import IMPORTS, SUBMISSIONS, outbox_handler
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.selectors import organization_now, organization_today


@outbox_handler("denials.remittance_post", queue=IMPORTS)
def post_remittance(message: OutboxMessage) -> None:
    remittance_post(
        import_id=message.payload["import_id"],
        today=organization_today(message.organization_id),
    )


@outbox_handler("denials.secondary_claims_build", queue=SUBMISSIONS)
def build_secondary_claims(message: OutboxMessage) -> None:
    secondary_claims_build(
        import_id=message.payload["import_id"],
        today=organization_today(message.organization_id),
        scopes=part2.ORGANIZATION,  # the organization's own job: every balance the import moved
    )


@scheduled_scan("denials.follow_up", label="Follow-up scan", starts_at=time(0, 30))
def daily_follow_up_scan(today: date) -> dict[str, int]:
    """The day's recorded follow-up scan (rcm.operations); beat's hourly run refreshes it."""
    return asdict(follow_up_scan(today=today))


@scheduled_scan("denials.small_balances", label="Small-balance write-offs", starts_at=time(4, 30))
def small_balances(today: date) -> dict[str, int]:
    """The small-balance rule, once per organization and day."""
    return {"written_off": small_balances_write_off()}


@scheduled_scan("denials.claim_status", label="Claim status checks (276)", starts_at=time(3, 0))
def claim_status_checks(today: date) -> dict[str, int]:
    """Daily: ask each payer about its claims accepted long enough ago with no payment or
    denial, one 276 per payer; a claim asked about within its interval is not asked again."""
    result = claim_status_scan(today=today, now=organization_now(require_organization_id()))
    return {"claims": result.claims, "requests": result.requests}
