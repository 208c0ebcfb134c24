"""Outbox consumer: post an uploaded 835 (the job row shows its progress)."""

from __future__ import annotations

from denials.services import remittance_post
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler


@outbox_handler("denials.remittance_post")
def post_remittance(message: OutboxMessage) -> None:
    remittance_post(import_id=message.payload["import_id"])
