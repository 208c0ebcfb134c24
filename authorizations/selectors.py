"""Reads shaped for the authorizations screens and API (a fixed number of queries each).

42 CFR Part 2: every read takes the caller's `scopes` and narrows through `rcm.part2`, so an
authorization of a substance use episode (its reviews, usage and history too) is absent for a
member without the grant: lists leave it out (and say how many), a lookup by id is 404, and
nothing can be done to it."""

from __future__ import annotations

from collections.abc import Collection
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
from patients.models import EpisodeDiagnosis, EpisodeOfCare, Payer
from rcm import part2


@dataclass(frozen=True)
class AuthorizationFilter:
    expiring_within: int | None = None
    payer_id: Any = None
    level: str = ""
    status: str = ""
    search: str = ""


def authorizations_visible(*, scopes: Collection[str]) -> QuerySet[Authorization]:
    """The authorizations the caller may see and act on (by id: `.get(pk=...)` or 404)."""
    return part2.visible(Authorization.objects.select_related("episode", "payer"), scopes)


def _filtered(*, filters: AuthorizationFilter, today: date) -> QuerySet[Authorization]:
    qs = Authorization.objects.all()
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
    return qs


def authorization_list(
    *, filters: AuthorizationFilter, today: date, scopes: Collection[str]
) -> QuerySet[Authorization]:
    """The list and the expiring list (`expiring_within`), without what Part 2 hides."""
    qs = _filtered(filters=filters, today=today)
    if filters.search:
        term = filters.search.strip()
        qs = qs.filter(
            Q(auth_number__icontains=term)
            | Q(episode__patient__last_name__icontains=term)
            | Q(episode__patient__mrn__iexact=term)
        )
    return part2.visible(
        qs.select_related("episode__patient", "payer", "assigned_to").order_by(
            "end_date", "start_date", "pk"
        ),
        scopes,
    )


def authorization_list_hidden(
    *, filters: AuthorizationFilter, today: date, scopes: Collection[str]
) -> int:
    """How many authorizations the same filters find that Part 2 keeps from the caller (one
    COUNT). The search term is left out on purpose: counting restricted rows that match a name
    or an MRN would tell whether that patient has a Part 2 authorization."""
    return part2.hidden_count(_filtered(filters=filters, today=today), scopes)


def payer_choices() -> list[tuple[str, str]]:
    return [(str(p.pk), p.name) for p in Payer.objects.order_by("name").only("pk", "name")]


def authorization_detail(*, pk: Any, scopes: Collection[str]) -> Authorization:
    """One authorization with its reviews, history and usage; Authorization.DoesNotExist (the
    caller's 404) when there is none or Part 2 keeps it from the caller."""
    return (
        part2.visible(Authorization.objects.all(), scopes)
        .select_related("episode__patient", "payer", "coverage", "assigned_to", "stay")
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


def episode_diagnoses(*, authorization: Authorization, scopes: Collection[str]) -> list[Any] | None:
    """The episode's current diagnoses, or None when 42 CFR Part 2 hides them from this member."""
    if part2.restricted(authorization.episode, scopes):
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


def _calendar_querysets(
    *, today: date, assignee_id: Any
) -> tuple[QuerySet[ConcurrentReview], QuerySet[Authorization]]:
    horizon = today + timedelta(days=7)
    reviews = ConcurrentReview.objects.filter(
        completed_on__isnull=True, scheduled_on__lte=horizon
    ).exclude(authorization__status__in=["cancelled", "denied"])
    ending = Authorization.objects.filter(
        status__in=APPROVED_STATUSES, end_date__gte=today, end_date__lte=horizon
    )
    if assignee_id:
        reviews = reviews.filter(authorization__assigned_to_id=assignee_id)
        ending = ending.filter(assigned_to_id=assignee_id)
    return reviews, ending


def review_calendar_hidden(*, today: date, scopes: Collection[str], assignee_id: Any = None) -> int:
    """How many calendar lines Part 2 keeps from the caller (none with the grant; two COUNTs)."""
    if part2.may_see(scopes):
        return 0
    reviews, ending = _calendar_querysets(today=today, assignee_id=assignee_id)
    return part2.hidden_count(reviews, scopes) + part2.hidden_count(ending, scopes)


def review_calendar(
    *, today: date, scopes: Collection[str], assignee_id: Any = None
) -> ReviewCalendar:
    """The utilization reviewer's week: open reviews (overdue, today, tomorrow, the rest of the
    next seven days) and approved authorizations ending in those days (two queries)."""
    reviews, ending = _calendar_querysets(today=today, assignee_id=assignee_id)
    reviews = part2.visible(
        reviews.select_related("authorization__episode__patient", "authorization__payer"), scopes
    )
    ending = part2.visible(ending.select_related("episode__patient", "payer"), scopes)
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


def review_list(*, scopes: Collection[str]) -> QuerySet[ConcurrentReview]:
    """Concurrent reviews the caller may see (by id too: the review to complete)."""
    return part2.visible(
        ConcurrentReview.objects.select_related("authorization").order_by("-scheduled_on"), scopes
    )


def episode_choices(
    *, scopes: Collection[str], active_only: bool = True
) -> QuerySet[EpisodeOfCare]:
    """Episodes a new authorization may be for: the form's dropdown, the `?episode=` of a link,
    the API's `episode` id and the coverage check; no Part 2 episode without the grant."""
    qs = EpisodeOfCare.objects.select_related("patient")
    if active_only:
        qs = qs.filter(status="active")
    return part2.visible(qs.order_by("patient__last_name", "-admission_date"), scopes)
