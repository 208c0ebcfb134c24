"""Outbox handlers of the tenancy app: the emails of memberships, invitations and resets."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import NOTIFICATIONS, outbox_handler
from rcm.tenancy.models import Invitation, InvitationStatus, Membership
from rcm.tenancy.services import invitation_token


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@outbox_handler("tenancy.welcome_email", queue=NOTIFICATIONS)
def send_welcome_email(message: OutboxMessage) -> None:
    membership = Membership.objects.select_related("user", "organization").get(
        pk=message.payload["membership_id"]
    )
    org = membership.organization
    sign_in = _site_url(reverse("login"))
    send_mail(
        subject=f"You have been added to {org.name} on Parity",
        message=(
            f"Hello {membership.user.get_full_name() or membership.user.email},\n\n"
            f"You are now a member of {org.name} on Parity as {membership.get_role_display()}.\n"
            f"Sign in at {sign_in} with this email address.\n"
        ),
        from_email=None,
        recipient_list=[membership.user.email],
    )


@outbox_handler("tenancy.invitation_email", queue=NOTIFICATIONS)
def send_invitation_email(message: OutboxMessage) -> None:
    invitation = Invitation.objects.select_related("organization", "invited_by").get(
        pk=message.payload["invitation_id"]
    )
    if invitation.status_at(invitation.sent_at) != InvitationStatus.PENDING:
        return  # revoked (or accepted) before the email went out
    if message.idempotency_key != f"invitation:{invitation.pk}:{invitation.nonce}":
        return  # resent since: the newer message carries the working link
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "link": _site_url(reverse("invitation_accept", args=[invitation_token(invitation)])),
    }
    send_mail(
        subject=f"You are invited to join {invitation.organization.name} on Parity",
        message=render_to_string("registration/invitation_email.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@outbox_handler("tenancy.password_reset_email", queue=NOTIFICATIONS)
def send_password_reset_email(message: OutboxMessage) -> None:
    """The reset link an owner's forced reset sends (the same email as "Forgot your password?")."""
    user = get_user_model().objects.get(pk=message.payload["user_id"])
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "user": user,
        "domain": site.netloc,
        "site_name": "Parity",
        "protocol": site.scheme or "https",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "forced": bool(message.payload.get("forced")),
    }
    subject = render_to_string("registration/password_reset_subject.txt", context)
    send_mail(
        subject="".join(subject.splitlines()),
        message=render_to_string("registration/password_reset_email.html", context),
        from_email=None,
        recipient_list=[user.email],
    )
