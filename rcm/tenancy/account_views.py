"""Pages outside any organization about one's own account: accepting an invitation, and
resetting a forgotten password (Django's views, with a rate limit and an audit record)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from rcm.audit.middleware import client_ip
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy import services
from rcm.tenancy.forms import AcceptInvitationForm
from rcm.tenancy.models import InvitationStatus
from rcm.tenancy.ratelimit import over_limit


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link. A signed-in person with the invited address accepts with one button; a
    person without an account sets their name and password; someone with an account signs in
    first. Links that are forged, superseded, expired, revoked or used change nothing."""
    # Outside any organization there is no organization clock: the edge reads the time here.
    now = timezone.now()
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return render(
            request,
            "registration/invitation_refused.html",
            {
                "reason": "This invitation link is not valid. It may have been replaced by a newer "
                "one: use the most recent invitation email."
            },
            status=404,
        )
    status = invitation.status_at(now)
    if status != InvitationStatus.PENDING:
        return render(
            request,
            "registration/invitation_refused.html",
            {"reason": services.INVITATION_REFUSALS[status], "invitation": invitation},
            status=410,
        )
    user: Any = request.user
    signed_in = user.is_authenticated
    if signed_in:
        if request.method == "POST":
            try:
                membership = services.invitation_accept(token=token, user=user, now=now)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                return _welcome(request, membership)
        return render(
            request,
            "registration/invitation_accept.html",
            {
                "invitation": invitation,
                "wrong_account": user.email.lower() != invitation.email.lower(),
            },
        )
    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    form = AcceptInvitationForm(request.POST or None) if not has_account else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept_new_user(
                token=token,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
                now=now,
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _welcome(request, membership)
    sign_in = f"{reverse('login')}?{urlencode({'next': request.path})}"
    return render(
        request,
        "registration/invitation_accept.html",
        {"invitation": invitation, "form": form, "sign_in_url": sign_in},
    )


def _welcome(request: HttpRequest, membership: Any) -> HttpResponse:
    org = membership.organization
    messages.success(request, f"Welcome to {org.name}. You are a {membership.get_role_display()}.")
    return redirect("org_home", org_slug=org.slug)


class PasswordResetView(auth_views.PasswordResetView):
    """ "Forgot your password?": the same answer for every address, known or not, and nothing is
    sent beyond PASSWORD_RESET_LIMIT_PER_IP / _PER_EMAIL requests an hour."""

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        by_ip = over_limit(
            "password-reset-ip",
            client_ip(self.request) or "unknown",
            limit=settings.PASSWORD_RESET_LIMIT_PER_IP,
        )
        by_email = over_limit(
            "password-reset-email", email, limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL
        )
        if by_ip or by_email:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting the new password also lifts a sign-in lockout, and is audited. A link that is not
    valid (expired, used, mangled) answers 404 with its explanation."""

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if not context.get("validlink"):
            kwargs["status"] = 404
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_reset_completed(user=form.user)
        return response
