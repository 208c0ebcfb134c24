"""Outbox subscribers: after an 835 is posted, the patient ledgers of its claims catch up with
what the claims' money now says (in the posting handler's transaction: all or nothing)."""

from __future__ import annotations

from denials.models import RemittanceClaim
from patient_accounts.services import ledger_sync_claim
from patient_accounts.statements import RUN_TOPIC, statement_run_execute
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SUBMISSIONS, outbox_handler, outbox_subscriber
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import organization_now, organization_today


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


@outbox_handler(RUN_TOPIC, long_running=True, queue=SUBMISSIONS)
def statement_run(message: OutboxMessage) -> None:
    """Make a statement run's statements (its own transactions: the run page shows progress)."""
    with tenant_context(message.organization_id):
        statement_run_execute(
            run_id=message.payload["run_id"], now=organization_now(message.organization_id)
        )
