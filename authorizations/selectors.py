"""Reads shaped for the authorizations screens and API (a fixed number of queries each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from authorizations import rules
from authorizations.models import (
    APPROVED_STATUSES,
    Authorization,
    AuthorizationEvent,
    AuthorizationUsage,
    ConcurrentReview,
)
from patients.models import EpisodeDiagnosis, Payer


@dataclass(frozen=True)
class AuthorizationFilter:
    expiring_within: int | None = None
    payer_id: Any = None
    level: str = ""
    status: str = ""
    search: str = ""


def authorization_list(*, filters: AuthorizationFilter, today: date) -> QuerySet[Authorization]:
    qs = Authorization.objects.select_related("episode__patient", "payer", "assigned_to").order_by(
        "end_date", "start_date", "pk"
    )
    if filters.expiring_within is not None:
        qs = qs.filter(
            status__in=APPROVED_STATUSES,
            end_date__gte=today,
            end_date__lte=today + timedelta(days=filters.expiring_within),
        )
    if filters.payer_id:
        qs = qs.filter(payer_id=filters.payer_id)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.search:
        term = filters.search.strip()
        qs = qs.filter(
            Q(auth_number__icontains=term)
            | Q(episode__patient__last_name__icontains=term)
            | Q(episode__patient__mrn__iexact=term)
        )
    return qs


def payer_choices() -> list[tuple[str, str]]:
    return [(str(p.pk), p.name) for p in Payer.objects.order_by("name").only("pk", "name")]


def authorization_detail(*, pk: Any) -> Authorization:
    """One authorization with its reviews, history and usage (Http404 handled by the caller)."""
    return (
        Authorization.objects.select_related(
            "episode__patient", "payer", "coverage", "assigned_to", "stay"
        )
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=ConcurrentReview.objects.select_related("completed_by").order_by(
                    "-scheduled_on"
                ),
            ),
            Prefetch("events", queryset=AuthorizationEvent.objects.order_by("-created_at")),
            Prefetch("usage", queryset=AuthorizationUsage.objects.order_by("-date_of_service")),
        )
        .get(pk=pk)
    )


def authorization_forecast(*, authorization: Authorization, today: date) -> rules.Forecast:
    start = today - timedelta(days=rules.FORECAST_WINDOW_DAYS - 1)
    window = (
        AuthorizationUsage.objects.filter(
            authorization=authorization, date_of_service__gte=start, date_of_service__lte=today
        ).aggregate(total=Sum("units"))["total"]
        or 0
    )
    return rules.burn_down(
        units_approved=authorization.units_approved or 0,
        units_used=authorization.units_used,
        used_in_window=window,
        today=today,
        end_date=authorization.end_date,
    )


def episode_diagnoses(*, authorization: Authorization, scopes: frozenset[str]) -> list[Any] | None:
    """The episode's current diagnoses, or None when 42 CFR Part 2 hides them from this member
    (an SUD episode and no part2:read grant)."""
    if authorization.episode.is_part2 and "part2:read" not in scopes:
        return None
    return list(
        EpisodeDiagnosis.objects.filter(
            episode_id=authorization.episode_id, effective_to__isnull=True
        ).order_by("rank")
    )


@dataclass(frozen=True)
class CalendarEntry:
    """A line of the calendar: a concurrent review due, or an approved authorization's end."""

    on: date
    kind: str  # "review" or "ends"
    authorization: Authorization
    review: ConcurrentReview | None = None


@dataclass(frozen=True)
class ReviewCalendar:
    overdue: list[CalendarEntry]
    today: list[CalendarEntry]
    tomorrow: list[CalendarEntry]
    this_week: list[CalendarEntry]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.tomorrow) + len(self.this_week)


def review_calendar(*, today: date, assignee_id: Any = None) -> ReviewCalendar:
    """The utilization reviewer's week: open reviews (overdue, today, tomorrow, the rest of the
    next seven days) and approved authorizations ending in those days (two queries)."""
    horizon = today + timedelta(days=7)
    reviews = (
        ConcurrentReview.objects.filter(completed_on__isnull=True, scheduled_on__lte=horizon)
        .exclude(authorization__status__in=["cancelled", "denied"])
        .select_related("authorization__episode__patient", "authorization__payer")
    )
    ending = Authorization.objects.filter(
        status__in=APPROVED_STATUSES, end_date__gte=today, end_date__lte=horizon
    ).select_related("episode__patient", "payer")
    if assignee_id:
        reviews = reviews.filter(authorization__assigned_to_id=assignee_id)
        ending = ending.filter(assigned_to_id=assignee_id)
    entries = [CalendarEntry(r.scheduled_on, "review", r.authorization, r) for r in reviews]
    entries += [CalendarEntry(a.end_date, "ends", a) for a in ending]
    entries.sort(key=lambda e: (e.on, e.kind != "ends", str(e.authorization.pk)))
    groups: dict[str, list[CalendarEntry]] = {
        "overdue": [],
        "today": [],
        "tomorrow": [],
        "this_week": [],
    }
    for entry in entries:
        if entry.on < today:
            groups["overdue"].append(entry)
        elif entry.on == today:
            groups["today"].append(entry)
        elif entry.on == today + timedelta(days=1):
            groups["tomorrow"].append(entry)
        else:
            groups["this_week"].append(entry)
    return ReviewCalendar(**groups)


def review_list() -> QuerySet[ConcurrentReview]:
    return ConcurrentReview.objects.select_related("authorization").order_by("-scheduled_on")
