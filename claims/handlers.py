"""Consumers of other apps' events."""

from __future__ import annotations

from datetime import date, time

from authorizations.services import COVERAGE_CHANGED_TOPIC
from claims.selectors import unsent_claim_ids_of_coverage, unsubmitted_claim_ids
from claims.services.care_management import care_month_rollup, previous_month
from claims.services.scans import claims_unbillable_scan
from claims.services.scrubbing import claims_scrub
from patients.services import COVERAGE_ENDED_TOPIC
from rcm.operations.scans import scheduled_scan
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SCANS, outbox_handler
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.selectors import organization_now, organization_today


@outbox_handler(COVERAGE_CHANGED_TOPIC, queue=SCANS)
def authorization_coverage_changed(message: OutboxMessage) -> None:
    """An authorization was approved or its dates, units, level or codes changed: scrub again
    the episode's claims to that payer not yet submitted. The scrubber matches every line to the
    covering authorization itself, so the lines and the claim's authorization number follow and a
    'missing authorization' finding goes without re-entry (or comes, when coverage shrank)."""
    claim_ids = unsubmitted_claim_ids(
        episode_id=message.payload["episode_id"], payer_id=message.payload["payer_id"]
    )
    if claim_ids:
        claims_scrub(claim_ids=claim_ids, today=organization_today(message.organization_id))


@scheduled_scan("claims.unbillable", label="Unbillable charges scan", starts_at=time(1, 30))
def unbillable_scan(today: date) -> dict[str, int]:
    """Daily: alert on recorded charges a provider cannot bill (rcm.operations records it)."""
    return {"alerts_created": len(claims_unbillable_scan(today=today))}


@scheduled_scan(
    "claims.care_month_rollup", label="Care-management month roll-up", starts_at=time(2, 0)
)
def care_month_rollup_scan(today: date) -> dict[str, int]:
    """Daily: close the last calendar month of care management (collaborative care, BHI) and
    propose its charges; a month rolled up once is left alone, so only the first run of a month
    proposes anything (rcm.operations records each day's run)."""
    now = organization_now(require_organization_id())
    return {"months_proposed": len(care_month_rollup(month=previous_month(today), now=now))}


@outbox_handler(COVERAGE_ENDED_TOPIC, queue=SCANS)
def coverage_ended(message: OutboxMessage) -> None:
    """A 271 ended a coverage: scrub again its claims not yet sent, so a claim for a date after
    the end shows the "coverage ended" finding and cannot go out."""
    claim_ids = unsent_claim_ids_of_coverage(coverage_id=message.payload["coverage_id"])
    if claim_ids:
        claims_scrub(claim_ids=claim_ids, today=organization_today(message.organization_id))
