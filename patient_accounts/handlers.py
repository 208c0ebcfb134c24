"""Outbox subscribers: after an 835 is posted, the patient ledgers of its claims catch up with
what the claims' money now says (in the posting handler's transaction: all or nothing)."""

from __future__ import annotations

from denials.models import RemittanceClaim
from patient_accounts.services import ledger_sync_claim
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_subscriber
from rcm.tenancy.selectors import organization_today


@outbox_subscriber("denials.remittance_post")
def remittance_posted(message: OutboxMessage) -> None:
    claim_ids = (
        RemittanceClaim.objects.filter(
            payment__remittance_import_id=message.payload["import_id"], claim__isnull=False
        )
        .values_list("claim_id", flat=True)
        .distinct()
    )
    today = organization_today(message.organization_id)
    for claim_id in sorted(set(claim_ids), key=str):
        ledger_sync_claim(claim_id=claim_id, today=today)
