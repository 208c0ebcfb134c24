"""Raising, acknowledging, snoozing and emailing alerts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, Severity
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id

ModelT = TypeVar("ModelT", bound=models.Model)


@dataclass(frozen=True)
class AlertSpec:
    """One condition a scan found. `dedupe_key` names the condition (and its threshold), so the
    same condition found again raises nothing new. `part2`: the subject is a 42 CFR Part 2
    record, so the alert is kept from members without the grant (rcm.part2); the scan that finds
    the condition knows it."""

    area: str
    kind: str
    dedupe_key: str
    title: str
    message: str = ""
    severity: str = Severity.WARNING
    subject_type: str = ""
    subject_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    link_path: str = ""
    due_on: date | None = None
    assignee_id: uuid.UUID | None = None
    part2: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def rows_inserted(model: type[ModelT], objs: list[ModelT]) -> list[ModelT]:
    """The objects of a `bulk_create(ignore_conflicts=True)` that were really inserted: the
    losers of a conflict keep the key generated in Python (uuid4), which no row has, so the rows
    with their keys are exactly this transaction's inserts (one query, whatever the timing of a
    concurrent insert; PostgreSQL reports no ids for ON CONFLICT DO NOTHING through Django)."""
    if not objs:
        return []
    inserted = set(
        model._default_manager.filter(pk__in=[o.pk for o in objs]).values_list("pk", flat=True)
    )
    return [o for o in objs if o.pk in inserted]


def alerts_raise(*, specs: Iterable[AlertSpec]) -> list[Alert]:
    """Create the alerts that do not exist yet (set-based: three queries whatever the count) and
    email their assignees through the outbox. Returns the alerts this call created — not those a
    concurrent raise of the same condition created first (its count is the rows inserted)."""
    specs = list({s.dedupe_key: s for s in specs}.values())
    if not specs:
        return []
    with transaction.atomic():
        existing = set(
            Alert.objects.filter(dedupe_key__in=[s.dedupe_key for s in specs]).values_list(
                "dedupe_key", flat=True
            )
        )
        new = [
            Alert(
                area=s.area,
                kind=s.kind,
                severity=s.severity,
                title=s.title,
                message=s.message,
                subject_type=s.subject_type,
                subject_id=s.subject_id,
                patient_id=s.patient_id,
                link_path=s.link_path,
                due_on=s.due_on,
                dedupe_key=s.dedupe_key,
                assignee_id=s.assignee_id,
                part2=s.part2,
            )
            for s in specs
            if s.dedupe_key not in existing
        ]
        org_id = require_organization_id()
        for alert in new:
            alert.organization_id = org_id
        # ignore_conflicts: a concurrent scan that raced us created the same rows; nothing doubles.
        Alert.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
        new = rows_inserted(Alert, new)
        to_email = [str(a.pk) for a in new if a.assignee_id]
        if to_email:
            outbox_enqueue(
                topic="alerts.email",
                payload={"alert_ids": to_email},
                idempotency_key=f"alerts-email:{uuid.uuid5(uuid.NAMESPACE_OID, ','.join(sorted(to_email)))}",
            )
    return new


def alert_acknowledge(*, alert: Alert, user: object) -> Alert:
    """Mark the alert handled; acknowledging twice keeps the first acknowledgement."""
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=user
        )
        alert.refresh_from_db()
        if updated:
            audit_record(action="alert.acknowledge", obj=alert, patient_id=alert.patient_id)
    return alert


def alert_snooze(*, alert: Alert, until: datetime, now: datetime) -> Alert:
    """Hide the alert from the inbox until a time after `now`."""
    if until <= now:
        raise DomainError("Snooze until a time in the future.", field="until")
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk).update(snoozed_until=until)
        alert.refresh_from_db()
        audit_record(action="alert.snooze", obj=alert, detail={"until": until.isoformat()})
    return alert


def alerts_email(*, alert_ids: Iterable[object]) -> int:
    """Email each assignee one message listing their new alerts, then stamp them emailed, in one
    transaction; alerts already emailed (a redelivered message) are skipped. Returns the number
    of emails sent. The email names no patient: the link opens the inbox, where access is
    checked."""
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update(of=("self",))
            .select_related("assignee", "organization")
            .filter(pk__in=list(alert_ids), emailed_at__isnull=True, assignee__isnull=False)
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
                f"- [{a.get_severity_display()}] {a.kind}"
                + (f" (due {a.due_on})" if a.due_on else "")
                for a in items
            ]
            send_mail(
                subject=f"Parity: {len(items)} new alert{'s' if len(items) != 1 else ''} "
                f"at {org.name}",
                message="New alerts need your attention:\n"
                + "\n".join(lines)
                + f"\n\nOpen your inbox: {inbox}\n",
                from_email=None,
                recipient_list=[assignee.email],  # type: ignore[attr-defined]
            )
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(emailed_at=timezone.now())
        if alerts:
            audit_record(
                action="alerts.email", detail={"alerts": len(alerts), "emails": len(by_assignee)}
            )
    return len(by_assignee)
