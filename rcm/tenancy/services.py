"""Every change to organizations, memberships, invitations, sign-in locks and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rcm.audit.models import Outcome
from rcm.audit.receivers import audit_user_event
from rcm.audit.services import audit_record, changed_fields
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import (
    MAILING_ADDRESS_FIELDS,
    ApiKey,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
)
from rcm.tenancy.permissions import API_KEY_SCOPES, Role
from rcm.tenancy.rules import billing_identity_errors

KEY_PREFIX = "prt"

ORGANIZATION_SETTINGS_FIELDS = (
    "name",
    "time_zone",
    "group_npi",
    "tax_id",
    "taxonomy_code",
    *MAILING_ADDRESS_FIELDS,
    "phone",
    "pay_to_address_line1",
    "pay_to_address_line2",
    "pay_to_city",
    "pay_to_state",
    "pay_to_postal_code",
    "two_factor_policy",
    "eligibility_raw_retention_days",
)


def organization_update(*, organization: Organization, data: dict[str, Any]) -> Organization:
    """Change the organization's settings; only the fields of ORGANIZATION_SETTINGS_FIELDS."""
    unknown = set(data) - set(ORGANIZATION_SETTINGS_FIELDS)
    if unknown:
        raise DomainError(f"Unknown setting: {sorted(unknown)[0]}", field=sorted(unknown)[0])
    for field, message in billing_identity_errors(data):
        raise DomainError(message, field=field)
    with transaction.atomic():
        before = {f: getattr(organization, f) for f in data}
        for field, value in data.items():
            setattr(organization, field, value)
        organization.full_clean()
        organization.save(update_fields=list(data))
        audit_record(
            action="organization.update",
            obj=organization,
            detail={"fields": changed_fields(before, data)},
        )
    return organization


def _active_owner_count(exclude: Membership | None = None) -> int:
    qs = Membership.objects.filter(role=Role.OWNER, is_active=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


def membership_add(
    *,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    part2_access: bool = False,
    password: str | None = None,
) -> Membership:
    """Add a person to the organization in context: an existing user by email, or a new one
    (who then needs an initial password). Sends a welcome email through the outbox."""
    if role not in Role.values:
        raise DomainError(f"Unknown role: {role}", field="role")
    email = email.strip().lower()
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(email__iexact=email).first()
        created_user = user is None
        if user is None:
            if not password:
                raise DomainError("A new user needs an initial password.", field="password")
            user = user_model(email=email, first_name=first_name, last_name=last_name)
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise DomainError(" ".join(exc.messages), field="password") from exc
            user.set_password(password)
            user.save()
        if Membership.objects.filter(user=user).exists():
            raise DomainError(f"{email} is already a member of this organization.", field="email")
        membership = Membership.objects.create(user=user, role=role, part2_access=part2_access)
        audit_record(
            action="membership.create",
            obj=membership,
            detail={"role": role, "part2_access": part2_access, "new_user": created_user},
        )
        outbox_enqueue(
            topic="tenancy.welcome_email",
            payload={"membership_id": str(membership.pk)},
            idempotency_key=f"welcome:{membership.pk}",
        )
    return membership


def membership_update(
    *, membership: Membership, role: str, part2_access: bool, is_active: bool
) -> Membership:
    """Change a member's role, Part 2 grant or access; the last active owner cannot be removed."""
    if role not in Role.values:
        raise DomainError(f"Unknown role: {role}", field="role")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        losing_owner = (
            membership.role == Role.OWNER
            and membership.is_active
            and (role != Role.OWNER or not is_active)
        )
        if losing_owner and _active_owner_count(exclude=membership) == 0:
            raise DomainError(
                "An organization needs at least one active owner; make someone else owner first.",
                field="role",
            )
        before = {
            "role": membership.role,
            "part2_access": membership.part2_access,
            "is_active": membership.is_active,
        }
        after = {"role": role, "part2_access": part2_access, "is_active": is_active}
        membership.role, membership.part2_access, membership.is_active = (
            role,
            part2_access,
            is_active,
        )
        membership.save(update_fields=["role", "part2_access", "is_active", "updated_at"])
        audit_record(
            action="membership.update",
            obj=membership,
            detail={"fields": changed_fields(before, after), **after},
        )
    return membership


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scopes: Iterable[str],
    created_by: Any,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for the organization in context. The full key is returned once, never stored.
    An expiry must come after `now`."""
    scopes = sorted(set(scopes))
    if not name.strip():
        raise DomainError("Give the key a name that says which system uses it.", field="name")
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    bad = [s for s in scopes if s not in API_KEY_SCOPES]
    if bad:
        raise DomainError(f"Scope not allowed for an API key: {bad[0]}", field="scopes")
    if expires_at is not None and expires_at <= now:
        raise DomainError("The expiry must be in the future.", field="expires_at")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    raw = f"{KEY_PREFIX}_{prefix}_{secret}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            prefix=prefix,
            key_hash=_hash_key(raw),
            scopes=scopes,
            created_by=created_by,
            expires_at=expires_at,
        )
        audit_record(action="api_key.create", obj=key, detail={"scopes": scopes, "prefix": prefix})
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice changes nothing."""
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        key.refresh_from_db()
        if updated:
            audit_record(action="api_key.revoke", obj=key, detail={"prefix": key.prefix})
    return key


def api_key_authenticate(*, raw: str, now: datetime) -> ApiKey | None:
    """The key this raw value belongs to if usable at `now`, or None. Records when it was last
    used (`now`)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    # Bypass: the key is how the organization is found, so no organization is in context yet.
    key = ApiKey.all_tenants.select_related("organization").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash_key(raw)):
        return None
    if not key.is_usable_at(now) or not key.organization.is_active:
        return None
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        # Bypass, as above; one write a minute at most per key.
        ApiKey.all_tenants.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- Invitations ---------------------------------------------------------------------------------

INVITATION_SALT = "parity.tenancy.invitation"


def invitation_lifetime() -> timedelta:
    return timedelta(days=settings.INVITATION_VALID_DAYS)


def invitation_token(invitation: Invitation) -> str:
    """The token of the invitation's current link: signed over organization, invitation and
    nonce, so it cannot be forged and stops working when the nonce changes."""
    return signing.dumps(
        {"o": str(invitation.organization_id), "i": str(invitation.pk), "n": invitation.nonce},
        salt=INVITATION_SALT,
    )


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link points at (whatever its state), or None for a forged, mangled or
    superseded link. Reads in the invitation's own organization; runs outside any."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT)
        org_id, invitation_id, nonce = str(data["o"]), str(data["i"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    with tenant_context(org_id):
        invitation = (
            Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
        )
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        return None
    return invitation


def _send_invitation(invitation: Invitation) -> None:
    outbox_enqueue(
        topic="tenancy.invitation_email",
        payload={"invitation_id": str(invitation.pk)},
        idempotency_key=f"invitation:{invitation.pk}:{invitation.nonce}",
    )


def invitation_create(
    *, email: str, role: str, part2_access: bool, invited_by: Any, now: datetime
) -> Invitation:
    """Invite `email` to the organization in context and email them a link valid for
    INVITATION_VALID_DAYS. Whether the address has a Parity account is neither checked nor told:
    the membership is made only when the person accepts."""
    if role not in Role.values:
        raise DomainError(f"Unknown role: {role}", field="role")
    email = email.strip().lower()
    with transaction.atomic():
        if Membership.objects.filter(user__email__iexact=email).exists():
            raise DomainError(f"{email} is already a member of this organization.", field="email")
        pending = [
            i
            for i in Invitation.objects.filter(email=email, accepted_at=None, revoked_at=None)
            if i.status_at(now) == InvitationStatus.PENDING
        ]
        if pending:
            raise DomainError(
                f"An invitation to {email} is already pending: resend it from the list below.",
                field="email",
            )
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            part2_access=part2_access,
            invited_by=invited_by,
            nonce=secrets.token_hex(16),
            sent_at=now,
            expires_at=now + invitation_lifetime(),
        )
        audit_record(
            action="invitation.create",
            obj=invitation,
            detail={"email": email, "role": role, "part2_access": part2_access},
        )
        _send_invitation(invitation)
    return invitation


def invitation_resend(*, invitation: Invitation, now: datetime) -> Invitation:
    """Send a fresh link (valid INVITATION_VALID_DAYS from `now`); earlier links stop working.
    An accepted or revoked invitation cannot be resent; an expired one can."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise DomainError(
                f"The invitation to {invitation.email} was already "
                f"{invitation.status_at(now).label.lower()}; invite them again instead."
            )
        invitation.nonce = secrets.token_hex(16)
        invitation.sent_at = now
        invitation.expires_at = now + invitation_lifetime()
        invitation.save(update_fields=["nonce", "sent_at", "expires_at", "updated_at"])
        audit_record(action="invitation.resend", obj=invitation, detail={"email": invitation.email})
        _send_invitation(invitation)
    return invitation


def invitation_revoke(*, invitation: Invitation, now: datetime) -> Invitation:
    """Withdraw a pending (or expired) invitation: its link then says it was withdrawn (the nonce
    stays, so the link is still recognised). Revoking twice, or an accepted invitation, changes
    nothing."""
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        invitation.refresh_from_db()
        if updated:
            audit_record(
                action="invitation.revoke", obj=invitation, detail={"email": invitation.email}
            )
    return invitation


def _usable_invitation(token: str, now: datetime) -> Invitation:
    invitation = invitation_from_token(token)
    if invitation is None:
        raise DomainError("This invitation link is not valid.")
    status = invitation.status_at(now)
    if status != InvitationStatus.PENDING:
        raise DomainError(INVITATION_REFUSALS[status])
    return invitation


INVITATION_REFUSALS = {
    InvitationStatus.ACCEPTED: "This invitation has already been used.",
    InvitationStatus.REVOKED: "This invitation was withdrawn by the organization.",
    InvitationStatus.EXPIRED: "This invitation has expired. Ask the organization to send a new one.",
}


def _accept(invitation: Invitation, user: Any, now: datetime, *, new_user: bool) -> Membership:
    """Inside the invitation's organization and an open transaction: make the membership."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status_at(now) != InvitationStatus.PENDING or locked.nonce != invitation.nonce:
        raise DomainError(INVITATION_REFUSALS.get(locked.status_at(now), "This link is not valid."))
    if Membership.objects.filter(user=user).exists():
        raise DomainError(f"You are already a member of {invitation.organization.name}.")
    membership = Membership.objects.create(
        user=user, role=locked.role, part2_access=locked.part2_access
    )
    locked.accepted_at, locked.accepted_by = now, user
    locked.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_record(
        action="invitation.accept",
        obj=locked,
        detail={"email": locked.email, "new_user": new_user},
    )
    audit_record(
        action="membership.create",
        obj=membership,
        detail={"role": locked.role, "part2_access": locked.part2_access, "new_user": new_user},
    )
    return membership


def invitation_accept(*, token: str, user: Any, now: datetime) -> Membership:
    """The signed-in `user` accepts: only the account of the invited email may."""
    invitation = _usable_invitation(token, now)
    if user.email.lower() != invitation.email.lower():
        raise DomainError(
            "This invitation was sent to another email address. Sign out, then sign in with the "
            "address the invitation was sent to."
        )
    with transaction.atomic(), tenant_context(invitation.organization_id):
        return _accept(invitation, user, now, new_user=False)


def invitation_accept_new_user(
    *, token: str, first_name: str, last_name: str, password: str, now: datetime
) -> Membership:
    """Someone without an account accepts: their account (the invited email, the name and a
    password that passes the validators) and the membership are made together."""
    invitation = _usable_invitation(token, now)
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError("This address already has an account: sign in to accept.")
        user = user_model(
            email=invitation.email, first_name=first_name.strip(), last_name=last_name.strip()
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password1") from exc
        user.set_password(password)
        user.save()
        with tenant_context(invitation.organization_id):
            return _accept(invitation, user, now, new_user=True)


# --- Sign-in locks and password resets ------------------------------------------------------------


def _axes_usernames(email: str) -> list[str]:
    from axes.models import AccessAttempt

    return list(
        AccessAttempt.objects.filter(username__iexact=email)
        .values_list("username", flat=True)
        .distinct()
    )


def _clear_sign_in_failures(email: str) -> int:
    """Forget the failed sign-ins of `email` (django-axes keys them by the name as typed)."""
    from axes.utils import reset

    return sum(reset(username=name) for name in _axes_usernames(email))


def member_unlock(*, membership: Membership) -> int:
    """Lift a sign-in lockout of a member of the organization in context: their failed sign-ins
    (from every address) are forgotten. Returns how many failure records were cleared."""
    with transaction.atomic():
        cleared = _clear_sign_in_failures(membership.user.email)
        audit_record(
            action="membership.unlock", obj=membership, detail={"records_cleared": cleared}
        )
    return cleared


def member_force_password_reset(*, membership: Membership, actor: Any) -> Membership:
    """The member's password is replaced by a random one nobody knows (so every session of theirs
    ends at its next request: Django checks the password hash with the session), their lockout is
    lifted, and a reset link is emailed to them. Owners use it when an account may be
    compromised. Not for oneself: use "Forgot your password?"."""
    user = membership.user
    if actor is not None and user.pk == actor.pk:
        raise DomainError(
            "You cannot force a reset of your own password; sign out and use "
            "'Forgot your password?' instead."
        )
    with transaction.atomic():
        user.set_password(secrets.token_urlsafe(32))
        user.save(update_fields=["password"])
        cleared = _clear_sign_in_failures(user.email)
        audit_record(
            action="membership.force_password_reset",
            obj=membership,
            detail={"email": user.email, "lock_records_cleared": cleared},
        )
        outbox_enqueue(
            topic="tenancy.password_reset_email",
            payload={"user_id": str(user.pk), "forced": True},
            idempotency_key=f"force-reset:{user.pk}:{secrets.token_hex(8)}",
        )
    return membership


def password_reset_completed(*, user: Any) -> None:
    """After someone set a new password by a reset link: lift their lockout, and record it in
    each organization they belong to."""
    with transaction.atomic():
        cleared = _clear_sign_in_failures(user.email)
        audit_user_event(
            user, None, "auth.password_reset", Outcome.SUCCESS, {"lock_records_cleared": cleared}
        )
