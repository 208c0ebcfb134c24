"""Alert emails: one message per assignee listing their new alerts. The email names no patient
(it leaves the system); the link opens the inbox, where access is checked."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler


@outbox_handler("alerts.email")
def send_alert_emails(message: OutboxMessage) -> None:
    alerts = list(
        Alert.objects.select_related("assignee", "organization").filter(
            pk__in=message.payload["alert_ids"], emailed_at__isnull=True, assignee__isnull=False
        )
    )
    by_assignee: dict[object, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_assignee[alert.assignee].append(alert)
    for assignee, items in by_assignee.items():
        org = items[0].organization
        inbox = settings.SITE_URL.rstrip("/") + reverse(
            "alerts:inbox", kwargs={"org_slug": org.slug}
        )
        lines = [
            f"- [{a.get_severity_display()}] {a.kind}" + (f" (due {a.due_on})" if a.due_on else "")
            for a in items
        ]
        send_mail(
            subject=f"Parity: {len(items)} new alert{'s' if len(items) != 1 else ''} at {org.name}",
            message="New alerts need your attention:\n"
            + "\n".join(lines)
            + f"\n\nOpen your inbox: {inbox}\n",
            from_email=None,
            recipient_list=[assignee.email],  # type: ignore[attr-defined]
        )
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(emailed_at=timezone.now())
