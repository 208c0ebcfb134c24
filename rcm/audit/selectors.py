"""Reading the audit trail for the auditor's page and its CSV export.

42 CFR Part 2: the auditor sees every row, but without the grant a Part 2 row's patient, record
id and detail are redacted (`rcm.part2.redact_audit_row`), and a filter by patient leaves Part 2
rows out (finding them under a patient's id would say that patient has Part 2 records)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from django.db.models import QuerySet
from django.utils import timezone

from rcm import part2
from rcm.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_event_list(
    *, filters: AuditFilter, scopes: Collection[str], tz: tzinfo | None = None
) -> QuerySet[AuditEvent]:
    """Events of the organization in context, newest first. Dates are in the organization's zone.
    Rows come unredacted: show them through `audit_rows`."""
    tz = tz or timezone.get_current_timezone()
    qs = AuditEvent.objects.all()
    if filters.actor_id:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.patient_id:
        qs = part2.visible(qs.filter(patient_id=filters.patient_id), scopes)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(occurred_at__lte=datetime.combine(filters.date_to, time.max, tzinfo=tz))
    return qs.order_by("-occurred_at", "-id")


def audit_rows(events: Iterable[AuditEvent], scopes: Collection[str]) -> Iterator[AuditEvent]:
    """The events as the caller may read them (Part 2 rows redacted without the grant)."""
    for event in events:
        yield part2.redact_audit_row(event, scopes)
