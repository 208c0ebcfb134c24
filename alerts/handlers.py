"""Alert emails: one message per assignee listing their new alerts (alerts.services.alerts_email)."""

from __future__ import annotations

from alerts.models import Area, Severity
from alerts.services import AlertSpec, alerts_email, alerts_raise
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import NOTIFICATIONS, outbox_handler


@outbox_handler("alerts.email", queue=NOTIFICATIONS)
def send_alert_emails(message: OutboxMessage) -> None:
    alerts_email(alert_ids=message.payload["alert_ids"])


@outbox_handler("operations.job_failed", queue=NOTIFICATIONS)
def job_failed_for_good(message: OutboxMessage) -> None:
    """A background job (an outbox message or a scheduled scan run) failed for good: one alert
    for the organization's owners, keyed by the job (a second failure of it raises nothing)."""
    payload = message.payload
    attempts = payload.get("attempts", 0)
    alerts_raise(
        specs=[
            AlertSpec(
                area=Area.OPERATIONS,
                kind="operations.job_failed",
                severity=Severity.CRITICAL,
                dedupe_key=f"job-failed:{payload['subject_id']}",
                title=payload["title"],
                message=f"After {attempts} attempt(s): {payload.get('error', '')}. Retry or "
                "cancel it on the operations page.",
                subject_type="operations.job",
                subject_id=payload["subject_id"],
                link_path="operations/",
            )
        ]
    )
