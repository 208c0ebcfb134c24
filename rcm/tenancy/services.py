"""Every change to organizations, memberships and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rcm.audit.services import audit_record, changed_fields
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.models import MAILING_ADDRESS_FIELDS, ApiKey, Membership, Organization
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
