"""Sign-in with a second factor, and the signed-in user's Security page (enrolment, recovery
codes, turning it off). The rules live in rcm.tenancy.two_factor."""

from __future__ import annotations

import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy import two_factor
from rcm.tenancy.forms import SignInForm

# The password step's result while the second step is pending: who, with which backend, where to.
PENDING = "two_factor_pending"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class SignInView(LoginView):
    """The password step. A user with a second factor is not signed in yet: the session remembers
    the password step for TWO_FACTOR_PENDING_SECONDS and the code page finishes the sign-in."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if two_factor.has_second_factor(user):
            self.request.session[PENDING] = {
                "user": str(user.pk),
                "backend": user.backend,
                "next": self.get_redirect_url(),
                "at": time.time(),
            }
            return redirect("two_factor_verify")
        response = super().form_valid(form)
        if self.request.session.get(two_factor.SESSION_STATE) == two_factor.ENROL:
            messages.info(
                self.request,
                "Your organization requires two-factor sign-in. Set it up to continue.",
            )
            return redirect("security")
        return response


def _pending_user(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else None


@never_cache
@sensitive_post_parameters("code")
def second_step(request: HttpRequest) -> HttpResponse:
    """The code from the authenticator app, or one recovery code. A wrong code is a failed
    sign-in for Axes (the same lockout as wrong passwords) and an audit event."""
    found = _pending_user(request)
    if found is None:
        messages.info(request, "Sign in again.")
        return redirect("login")
    user, pending = found
    credentials = {settings.AXES_USERNAME_FORM_FIELD: user.email, "second_factor": True}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING, None)
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.second_factor_verify(
            user=user, code=form.cleaned_data["code"], request=request
        )
        if device is None:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                request.session.pop(PENDING, None)
            form.add_error("code", "That code is not right.")
        else:
            del request.session[PENDING]
            user.otp_device = device  # django_otp stores it in the session on login
            auth_login(request, user, backend=pending["backend"])
            if device.persistent_id.startswith("otp_static"):
                left = two_factor.remaining_recovery_codes(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Regenerate them on the "
                    "Security page if you are running low.",
                )
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = resolve_url(settings.LOGIN_REDIRECT_URL)
            return redirect(target)
    return render(request, "registration/second_factor.html", {"form": form})


def _show_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    return render(request, "registration/recovery_codes.html", {"codes": codes})


@never_cache
@login_required
@sensitive_post_parameters("code")
def security(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app (QR code or typed key, confirmed by a code), then the
    recovery codes once; later: regenerate them, or turn two-factor sign-in off."""
    user = request.user
    required = two_factor.two_factor_required(user)
    device = two_factor.confirmed_device(user)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if device is not None:
        if action == "regenerate":
            codes = two_factor.recovery_codes_regenerate(user=user, request=request)
            return _show_codes(request, codes)
        if action == "disable":
            try:
                two_factor.two_factor_disable(user=user, request=request)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                request.session.pop(DEVICE_ID_SESSION_KEY, None)
                request.session[two_factor.SESSION_STATE] = two_factor.OK
                messages.success(request, "Two-factor sign-in is off.")
            return redirect("security")
        context = {
            "device": device,
            "required": required,
            "remaining": two_factor.remaining_recovery_codes(user),
        }
        return render(request, "registration/security.html", context)

    pending = two_factor.pending_device(user)
    form = CodeForm(request.POST or None)
    if action == "confirm" and form.is_valid():
        try:
            codes = two_factor.enrolment_confirm(
                user=user, device=pending, code=form.cleaned_data["code"], request=request
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            otp_login(request, pending)
            request.session[two_factor.SESSION_STATE] = two_factor.OK
            return _show_codes(request, codes)
    context = {
        "form": form,
        "required": required,
        "qr_svg": mark_safe(two_factor.qr_svg(pending)),  # noqa: S308  (our own SVG, no user text)
        "manual_key": two_factor.manual_key(pending),
    }
    return render(request, "registration/security.html", context)
