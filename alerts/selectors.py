"""Reads for the alerts inbox and the count in the navigation.

Alerts the member may read: those of the areas their role reads, without the ones about 42 CFR
Part 2 records when they lack the grant (rcm.part2; the inbox says how many it leaves out)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TypedDict, Unpack

from django.db.models import Case, F, Q, QuerySet, Value, When

from alerts.models import Alert, Area, area_scope
from rcm import part2


def readable_areas(scopes: Iterable[str]) -> list[str]:
    return [area for area in Area.values if area_scope(area, "read") in scopes]


def alerts_readable(*, scopes: Collection[str]) -> QuerySet[Alert]:
    """Every alert the caller may see (by id too: the one to acknowledge or snooze)."""
    return part2.visible(Alert.objects.filter(area__in=readable_areas(scopes)), scopes)


class InboxFilters(TypedDict, total=False):
    """What the inbox is narrowed to: `show` is open (not acknowledged, not snoozed; the
    default), snoozed, acknowledged, or all; `area`, `severity` and `assignee_id` when given."""

    show: str
    area: str
    severity: str
    assignee_id: object | None


def _inbox_filtered(
    *,
    scopes: Collection[str],
    now: datetime,
    show: str = "open",
    area: str = "",
    severity: str = "",
    assignee_id: object | None = None,
) -> QuerySet[Alert]:
    qs = Alert.objects.filter(area__in=readable_areas(scopes))
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
    return qs


def alert_inbox(
    *, scopes: Collection[str], now: datetime, **filters: Unpack[InboxFilters]
) -> QuerySet[Alert]:
    """Alerts the member may read, narrowed by `filters` (InboxFilters); a snooze ends at
    `until` <= `now`."""
    qs = _inbox_filtered(scopes=scopes, now=now, **filters)
    qs = part2.visible(qs.select_related("assignee"), scopes)
    rank = Case(
        When(severity="critical", then=Value(0)),
        When(severity="warning", then=Value(1)),
        default=Value(2),
    )
    return qs.annotate(severity_rank=rank).order_by(
        "severity_rank", F("due_on").asc(nulls_last=True), "-created_at"
    )


def alert_inbox_hidden(
    *, scopes: Collection[str], now: datetime, **filters: Unpack[InboxFilters]
) -> int:
    """How many alerts of the same inbox Part 2 keeps from the caller (one COUNT)."""
    qs = _inbox_filtered(scopes=scopes, now=now, **filters)
    return part2.hidden_count(qs, scopes)


def alert_open_count(*, scopes: Collection[str], now: datetime) -> int:
    """The count beside "Alerts" in the navigation: only alerts the member may see."""
    return alert_inbox(scopes=scopes, now=now).count()
