"""Outbox consumers: build a queued 837 batch (the batch row shows its progress); send a queued
276 claim status file; check eligibility for all active episodes (the eligibility batch's counts
are its progress)."""

from __future__ import annotations

from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SUBMISSIONS, outbox_handler
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import organization_now, organization_today
from submissions.services import (
    BATCH_BUILD_TOPIC,
    CLAIM_STATUS_SEND_TOPIC,
    ELIGIBILITY_BATCH_TOPIC,
    batch_build,
    claim_status_send,
    eligibility_batch_check_item,
    eligibility_batch_finish,
    eligibility_batch_pending,
)


@outbox_handler(BATCH_BUILD_TOPIC, long_running=True, queue=SUBMISSIONS)
def build_batch(message: OutboxMessage) -> None:
    """Long-running: the build commits its progress as it goes, so it runs outside the claim's
    transaction under a lease. A second delivery for a released batch changes nothing; one for a
    batch whose worker died (still `building`) builds it again with the same control numbers."""
    batch_build(organization_id=message.organization_id, batch_id=message.payload["batch_id"])


@outbox_handler(CLAIM_STATUS_SEND_TOPIC, queue=SUBMISSIONS)
def send_claim_status_request(message: OutboxMessage) -> None:
    """A second delivery finds the request sent already and changes nothing."""
    claim_status_send(
        request_id=message.payload["request_id"], now=organization_now(message.organization_id)
    )


@outbox_handler(ELIGIBILITY_BATCH_TOPIC, long_running=True, queue=SUBMISSIONS)
def check_eligibility_batch(message: OutboxMessage) -> None:
    """Long-running: one real-time check per coverage, each recorded as it ends (the progress
    page polls the counts). A re-delivery continues with the items still pending."""
    org_id, batch_id = message.organization_id, message.payload["batch_id"]
    with tenant_context(org_id):
        for item_id in eligibility_batch_pending(batch_id=batch_id):
            eligibility_batch_check_item(
                item_id=item_id, now=organization_now(org_id), today=organization_today(org_id)
            )
        eligibility_batch_finish(batch_id=batch_id, now=organization_now(org_id))
