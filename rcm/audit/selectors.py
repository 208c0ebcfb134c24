"""Reading the audit trail for the auditor's page and its CSV export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from django.db.models import QuerySet
from django.utils import timezone

from rcm.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_event_list(*, filters: AuditFilter, tz: tzinfo | None = None) -> QuerySet[AuditEvent]:
    """Events of the organization in context, newest first. Dates are in the organization's zone."""
    tz = tz or timezone.get_current_timezone()
    qs = AuditEvent.objects.all()
    if filters.actor_id:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.patient_id:
        qs = qs.filter(patient_id=filters.patient_id)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(occurred_at__lte=datetime.combine(filters.date_to, time.max, tzinfo=tz))
    return qs.order_by("-occurred_at", "-id")
