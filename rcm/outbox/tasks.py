"""Celery tasks for the outbox: deliver one message; relay what is still pending."""

from __future__ import annotations

from celery import shared_task

from rcm.outbox.services import outbox_pending_ids, outbox_process
from rcm.tenancy.context import tenant_context
from rcm.tenancy.selectors import active_organization_ids, organization_now


@shared_task(name="rcm.outbox.tasks.outbox_deliver")
def outbox_deliver(organization_id: str, message_id: str) -> bool:
    with tenant_context(organization_id):
        return outbox_process(message_id=message_id, now=organization_now(organization_id))


@shared_task(name="rcm.outbox.tasks.outbox_relay")
def outbox_relay() -> int:
    """Re-send pending messages, organization by organization (each inside its own tenant, so
    row-level security holds for the relay too). Returns how many were re-sent."""
    sent = 0
    for org_id in active_organization_ids():
        with tenant_context(org_id):
            ids = outbox_pending_ids(now=organization_now(org_id))
        for message_id in ids:
            outbox_deliver.delay(str(org_id), str(message_id))
            sent += 1
    return sent
