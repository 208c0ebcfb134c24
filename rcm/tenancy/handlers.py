"""Outbox handlers of the tenancy app."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from rcm.outbox.models import OutboxMessage
from rcm.outbox.registry import outbox_handler
from rcm.tenancy.models import Membership


@outbox_handler("tenancy.welcome_email")
def send_welcome_email(message: OutboxMessage) -> None:
    membership = Membership.objects.select_related("user", "organization").get(
        pk=message.payload["membership_id"]
    )
    org = membership.organization
    sign_in = settings.SITE_URL.rstrip("/") + reverse("login")
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
