"""Outbox consumers: post an uploaded 835 (the job row shows its progress), then build the
secondary claims its postings moved balances to."""

from __future__ import annotations

from denials.services import remittance_post, secondary_claims_build
from rcm import part2
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler
from rcm.tenancy.selectors import organization_today


@outbox_handler("denials.remittance_post")
def post_remittance(message: OutboxMessage) -> None:
    remittance_post(
        import_id=message.payload["import_id"],
        today=organization_today(message.organization_id),
    )


@outbox_handler("denials.secondary_claims_build")
def build_secondary_claims(message: OutboxMessage) -> None:
    secondary_claims_build(
        import_id=message.payload["import_id"],
        today=organization_today(message.organization_id),
        scopes=part2.ORGANIZATION,  # the organization's own job: every balance the import moved
    )
