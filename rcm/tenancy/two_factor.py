"""Second factor: TOTP apps with single-use recovery codes (django-otp's otp_totp and otp_static).

Who must have one is each organization's `two_factor_policy`; a user is required when any of
their active organizations requires them. Anyone with a confirmed device is asked for a code at
sign-in, required or not. docs/tenancy.md "Two-factor sign-in" has the whole flow.

The session carries the outcome of sign-in under SESSION_STATE (set when the user signs in, and
when they enrol or turn the second factor off), so `TwoFactorMiddleware` decides each request
without a query: OK, ENROL (required, no device yet: only the security page and sign-out) or
VERIFY (a device, but the session did not pass the second step: sign in again).
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcm.audit.models import Outcome
from rcm.audit.receivers import audit_user_event
from rcm.errors import DomainError
from rcm.tenancy.models import Membership, TwoFactorPolicy
from rcm.tenancy.permissions import Role

SESSION_STATE = "two_factor"
OK, ENROL, VERIFY = "ok", "enrol", "verify"
DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def two_factor_required(user: Any) -> bool:
    """Whether any of the user's active organizations requires them to use a second factor."""
    # Bypass: the policy of every organization the user belongs to decides; only flags are read.
    memberships = list(
        Membership.all_tenants.filter(
            user=user, is_active=True, organization__is_active=True
        ).values_list("role", "organization__two_factor_policy")
    )
    billing_company = len(memberships) > 1
    for role, policy in memberships:
        if policy == TwoFactorPolicy.EVERYONE:
            return True
        if policy == TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY and (
            role == Role.OWNER or billing_company
        ):
            return True
    return False


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_state(user: Any, *, verified: bool) -> str:
    """The state a freshly signed-in session starts in (see the module docstring)."""
    if has_second_factor(user):
        return OK if verified else VERIFY
    return ENROL if two_factor_required(user) else OK


@receiver(user_logged_in)
def _session_state_on_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Every sign-in (the code page, the admin's own sign-in, a test client's force_login) starts
    the session's state; only the code page signs in with a device (`user.otp_device`)."""
    if request is not None and hasattr(request, "session"):
        verified = getattr(user, "otp_device", None) is not None
        request.session[SESSION_STATE] = session_state(user, verified=verified)


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed device of an enrolment in progress (the same key on every visit until it
    is confirmed, so a reload does not invalidate the app the user already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def manual_key(device: TOTPDevice) -> str:
    """The base32 key, in groups of four, for typing into an app that cannot scan."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code, drawn here (no external service, no script)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    return image.to_string(encoding="unicode")


def _normalize(code: str) -> str:
    return "".join(code.split()).lower()


def _issue_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def enrolment_confirm(
    *, user: Any, device: TOTPDevice, code: str, request: HttpRequest | None
) -> list[str]:
    """Confirm the pending device with a code from the app; returns the recovery codes (shown
    once). A wrong code is a DomainError on `code`."""
    if device.user_id != user.pk or device.confirmed:
        raise DomainError("Start the set-up again.", field="code")
    if not device.verify_token(_normalize(code)):
        raise DomainError("That code is not right. Check the app and try again.", field="code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _issue_recovery_codes(user)
    audit_user_event(user, request, "auth.two_factor_enrolled", Outcome.SUCCESS, {})
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: Any, request: HttpRequest | None) -> list[str]:
    if not has_second_factor(user):
        raise DomainError("Set up two-factor sign-in first.")
    codes = _issue_recovery_codes(user)
    audit_user_event(user, request, "auth.recovery_codes_regenerated", Outcome.SUCCESS, {})
    return codes


def remaining_recovery_codes(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def two_factor_disable(*, user: Any, request: HttpRequest | None) -> None:
    """Remove the app and the recovery codes; refused while a policy requires the user."""
    if two_factor_required(user):
        raise DomainError(
            "An organization you belong to requires two-factor sign-in for you; it cannot be "
            "turned off."
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_user_event(user, request, "auth.two_factor_disabled", Outcome.SUCCESS, {})


def second_factor_verify(*, user: Any, code: str, request: HttpRequest | None) -> Any | None:
    """The device that accepts `code` (the app's current code, or an unused recovery code, which
    is spent), or None. A recovery code's use is audited; a failure is the caller's to record
    (it also counts towards the sign-in lockout)."""
    token = _normalize(code)
    if not token:
        return None
    totp = confirmed_device(user)
    if totp is not None and token.isdigit() and totp.verify_token(token):
        return totp
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            audit_user_event(
                user,
                request,
                "auth.recovery_code_used",
                Outcome.SUCCESS,
                {"remaining": device.token_set.count()},
            )
            return device
    return None
