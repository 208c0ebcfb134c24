"""Reads for tenancy screens and for the middleware that resolves the tenant."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rcm.errors import DomainError
from rcm.tenancy.models import ApiKey, Invitation, Membership, User
from rcm.tenancy.permissions import roles_with_scope


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


def invitation_list() -> QuerySet[Invitation]:
    """The organization's invitations not yet accepted (pending, expired or revoked), newest first."""
    return Invitation.objects.filter(accepted_at=None).select_related("invited_by")


def locked_out_emails(emails: list[str], *, now: datetime) -> set[str]:
    """Which of these (lower-case) emails django-axes locks out of sign-in at `now`."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models.functions import Lower

    attempts = AccessAttempt.objects.annotate(name=Lower("username")).filter(
        name__in=emails, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    return set(attempts.values_list("name", flat=True))


def members_with_scope(scope: str) -> QuerySet[User]:
    """The users an item in `scope`'s area may be assigned to: an active membership here whose
    role grants `scope`, by email (the assignee pickers and their checks share this)."""
    members = Membership.objects.filter(is_active=True, role__in=roles_with_scope(scope))
    return User.objects.filter(pk__in=members.values("user_id")).order_by("email")


def member_with_scope(user: Any, *, scope: str, field: str = "assignee") -> User:
    """`user` (a User or its id) when an active member here whose role grants `scope`; otherwise
    a DomainError on `field`. Every assignee check (work items, authorizations) goes through it."""
    user_id = getattr(user, "pk", user)
    found = members_with_scope(scope).filter(pk=user_id).first()
    if found is None:
        raise DomainError(
            f"The assignee is not an active member of this organization with {scope}.",
            field=field,
        )
    return found


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


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
