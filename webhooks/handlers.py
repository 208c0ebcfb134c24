"""Outbox consumers: one delivery attempt per `webhooks.deliver` message, and the events this app
turns other apps' committed work into (subscribed to their topics, run in the same transaction
as their handler)."""

from __future__ import annotations

from denials.models import RemittanceImport
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import NOTIFICATIONS, outbox_handler, outbox_subscriber
from rcm.tenancy.selectors import organization_now
from webhooks.events import REMITTANCE_POSTED
from webhooks.services import DELIVER_TOPIC, delivery_attempt, event_emit


@outbox_handler(DELIVER_TOPIC, queue=NOTIFICATIONS)
def deliver(message: OutboxMessage) -> None:
    delivery_attempt(
        delivery_id=message.payload["delivery_id"], now=organization_now(message.organization_id)
    )


@outbox_subscriber("denials.remittance_post")
def remittance_posted(message: OutboxMessage) -> None:
    imp = RemittanceImport.objects.filter(pk=message.payload["import_id"]).first()
    if imp is None:
        return
    # Ids, the outcome and counts only: an 835 spans many patients, so no claim or patient
    # detail (and so no 42 CFR Part 2 detail) goes out; the receiver reads it through the API.
    event_emit(
        event_type=REMITTANCE_POSTED,
        data={
            "remittance_import_id": str(imp.pk),
            "status": imp.status,
            "claims": imp.total_claims,
            "rows_posted": int((imp.summary or {}).get("rows_posted", 0)),
        },
        now=organization_now(message.organization_id),
    )
