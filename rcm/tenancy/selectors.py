"""Reads for tenancy screens and for the middleware that resolves the tenant."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rcm.tenancy.models import ApiKey, Membership


def membership_for_user(*, user: Any, slug: str) -> Membership | None:
    """The user's active membership in the organization with this slug, or None."""
    # Bypass: this runs before any organization is in context; it is how the tenant is chosen.
    return (
        Membership.all_tenants.select_related("organization", "user")
        .filter(user=user, organization__slug=slug, organization__is_active=True, is_active=True)
        .first()
    )


def memberships_of_user(*, user: Any) -> list[Membership]:
    """Every organization the user may switch to (the organization switcher)."""
    # Bypass: the switcher lists the user's own memberships across organizations by design.
    return list(
        Membership.all_tenants.select_related("organization")
        .filter(user=user, is_active=True, organization__is_active=True)
        .order_by("organization__name")
    )


def membership_list() -> QuerySet[Membership]:
    return Membership.objects.select_related("user").order_by("-is_active", "user__email")


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def active_organization_ids() -> list[Any]:
    """Organizations that scans visit one by one (each in its own tenant context)."""
    from rcm.tenancy.models import Organization

    return list(
        Organization.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def _organization_zone(organization: Any) -> zoneinfo.ZoneInfo:
    from rcm.tenancy.models import Organization

    if isinstance(organization, Organization):
        return zoneinfo.ZoneInfo(organization.time_zone)
    zone = Organization.objects.values_list("time_zone", flat=True).get(pk=organization)
    return zoneinfo.ZoneInfo(zone)


def organization_now(organization: Any) -> datetime:
    """Now, as an aware datetime in the organization's time zone.

    This and `organization_today` are Parity's one clock: only the edges (views, API views,
    Celery tasks, outbox consumers, management commands) call them, once per request or run, and
    pass the result down; rules, services and selectors take `today`/`now` as arguments.
    `organization` is an Organization (no query) or its id (one query).
    """
    return timezone.now().astimezone(_organization_zone(organization))


def organization_today(organization: Any) -> date:
    """Today in the organization's time zone (see `organization_now`)."""
    return organization_now(organization).date()
