"""Outbox consumer: build a queued 837 batch (the batch row shows its progress)."""

from __future__ import annotations

from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import SUBMISSIONS, outbox_handler
from submissions.services import BATCH_BUILD_TOPIC, batch_build


@outbox_handler(BATCH_BUILD_TOPIC, long_running=True, queue=SUBMISSIONS)
def build_batch(message: OutboxMessage) -> None:
    """Long-running: the build commits its progress as it goes, so it runs outside the claim's
    transaction under a lease. A second delivery for a released batch changes nothing; one for a
    batch whose worker died (still `building`) builds it again with the same control numbers."""
    batch_build(organization_id=message.organization_id, batch_id=message.payload["batch_id"])
