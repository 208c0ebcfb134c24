"""Alert emails: one message per assignee listing their new alerts (alerts.services.alerts_email)."""

from __future__ import annotations

from alerts.services import alerts_email
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler


@outbox_handler("alerts.email")
def send_alert_emails(message: OutboxMessage) -> None:
    alerts_email(alert_ids=message.payload["alert_ids"])
