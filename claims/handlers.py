"""Consumers of other apps' events."""

from __future__ import annotations

from authorizations.services import COVERAGE_CHANGED_TOPIC
from claims.selectors import unsubmitted_claim_ids
from claims.services.scrubbing import claims_scrub
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler
from rcm.tenancy.selectors import organization_today


@outbox_handler(COVERAGE_CHANGED_TOPIC)
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
