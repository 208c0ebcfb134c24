"""Outbox consumers: once an 835 has posted, match its ERAs to deposits already imported (the
posting's own handler is denials'; reconciliation listens to it and does its work in a message
of its own, so a failure here never holds up a posting)."""

from __future__ import annotations

from denials.models import ImportStatus, Payment, RemittanceImport
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import IMPORTS, outbox_handler, outbox_subscriber
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.selectors import organization_now, organization_today
from reconciliation.services import auto_match, underpayments_check

AUTO_MATCH_TOPIC = "reconciliation.auto_match"


@outbox_subscriber("denials.remittance_post")
def remittance_posted(message: OutboxMessage) -> None:
    import_id = message.payload["import_id"]
    if RemittanceImport.objects.filter(pk=import_id, status=ImportStatus.POSTED).exists():
        outbox_enqueue(
            topic=AUTO_MATCH_TOPIC,
            payload={"import_id": str(import_id)},
            idempotency_key=f"reconciliation-auto-match:{import_id}",
        )


@outbox_subscriber("denials.remittance_post")
def check_underpayments(message: OutboxMessage) -> None:
    """In the posting's transaction: the posted lines against their contract rates."""
    import_id = message.payload["import_id"]
    if RemittanceImport.objects.filter(pk=import_id, status=ImportStatus.POSTED).exists():
        underpayments_check(import_id=import_id, today=organization_today(message.organization_id))


@outbox_handler(AUTO_MATCH_TOPIC, queue=IMPORTS)
def match_posted_remittance(message: OutboxMessage) -> None:
    payment_ids = list(
        Payment.objects.filter(remittance_import_id=message.payload["import_id"]).values_list(
            "pk", flat=True
        )
    )
    auto_match(
        deposit_ids=(), payment_ids=payment_ids, now=organization_now(message.organization_id)
    )
