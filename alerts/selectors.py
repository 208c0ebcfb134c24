"""Reads for the alerts inbox and the count in the navigation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Case, F, Q, QuerySet, Value, When

from alerts.models import Alert, Area


def readable_areas(scopes: Iterable[str]) -> list[str]:
    return [area for area in Area.values if f"{area}:read" in scopes]


def alert_inbox(
    *,
    scopes: Iterable[str],
    now: datetime,
    show: str = "open",
    area: str = "",
    severity: str = "",
    assignee_id: object | None = None,
) -> QuerySet[Alert]:
    """Alerts the member may read. `show`: open (not acknowledged, not snoozed), snoozed,
    acknowledged, or all; a snooze ends at `until` <= `now`."""
    qs = Alert.objects.filter(area__in=readable_areas(scopes)).select_related("assignee")
    if show == "open":
        qs = qs.filter(acknowledged_at__isnull=True).filter(
            Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
        )
    elif show == "snoozed":
        qs = qs.filter(acknowledged_at__isnull=True, snoozed_until__gt=now)
    elif show == "acknowledged":
        qs = qs.filter(acknowledged_at__isnull=False)
    if area:
        qs = qs.filter(area=area)
    if severity:
        qs = qs.filter(severity=severity)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    rank = Case(
        When(severity="critical", then=Value(0)),
        When(severity="warning", then=Value(1)),
        default=Value(2),
    )
    return qs.annotate(severity_rank=rank).order_by(
        "severity_rank", F("due_on").asc(nulls_last=True), "-created_at"
    )


def alert_open_count(*, scopes: Iterable[str], now: datetime) -> int:
    return alert_inbox(scopes=scopes, now=now).count()
