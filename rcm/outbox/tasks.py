"""Celery tasks for the outbox: deliver one message; relay what is still pending."""

from __future__ import annotations

from celery import shared_task

from rcm.outbox.services import outbox_pending, outbox_process, outbox_send
from rcm.tenancy.context import tenant_context
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization
from rcm.tenancy.selectors import organization_now


@shared_task(name="rcm.outbox.tasks.outbox_deliver")
def outbox_deliver(organization_id: str, message_id: str) -> bool:
    with tenant_context(organization_id):
        now = organization_now(organization_id)
    return outbox_process(message_id=message_id, now=now, organization_id=organization_id)


@shared_task(name="rcm.outbox.tasks.outbox_relay")
def outbox_relay() -> int:
    """Re-send pending messages, organization by organization (each inside its own tenant, so
    row-level security holds for the relay too). Returns how many were re-sent."""

    def relay(turn: OrganizationTurn) -> int:
        # Sent from inside the organization's (read-only) transaction so that one organization
        # failing later does not hold back what the others have pending.
        pending = outbox_pending(now=turn.now)
        for message_id, topic in pending:
            outbox_send(turn.organization.pk, message_id, topic=topic)
        return len(pending)

    return sum(sent for _organization, sent in for_each_organization(relay, name="outbox_relay"))
