"""Sign-in, failed sign-in and sign-out become audit events in every organization the user
belongs to, so each organization's auditor sees its own users' sessions. A failed sign-in for an
unknown email is a platform event (no organization)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from rcm.audit.context import acting_as
from rcm.audit.middleware import actor_for_request
from rcm.audit.models import Outcome
from rcm.audit.services import audit_record
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership


def audit_user_event(
    user: Any, request: HttpRequest | None, action: str, outcome: str, detail: dict[str, Any]
) -> None:
    """An event about a person's own sign-in (signing in and out, two-factor, a password reset):
    in each of their organizations, or a platform event when they have none."""
    actor = actor_for_request(request) if request is not None else None
    if actor is not None and user is not None:
        actor = replace(actor, user_id=user.pk, label=user.email)
    org_ids = []
    if user is not None:
        # Bypass: the memberships of a user span organizations by definition; only ids are read.
        org_ids = list(
            Membership.all_tenants.filter(user=user, is_active=True).values_list(
                "organization_id", flat=True
            )
        )
    with acting_as(actor) if actor is not None else nullcontext():
        if not org_ids:
            audit_record(action=action, outcome=outcome, detail=detail, platform=True)
        for org_id in org_ids:
            with tenant_context(org_id):
                audit_record(action=action, outcome=outcome, detail=detail)


@receiver(user_logged_in)
def on_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_user_event(user, request, "auth.sign_in", Outcome.SUCCESS, {})


@receiver(user_logged_out)
def on_sign_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "logout_reason", "user")
        audit_user_event(user, request, "auth.sign_out", Outcome.SUCCESS, {"reason": reason})


@receiver(user_login_failed)
def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    user = get_user_model().objects.filter(email__iexact=email).first() if email else None
    # The second step of sign-in reports a wrong code the same way, so Axes counts it too.
    action = (
        "auth.second_factor_failed" if credentials.get("second_factor") else "auth.sign_in_failed"
    )
    audit_user_event(user, request, action, Outcome.FAILURE, {"email": email})
