"""Small helpers the services of several apps share."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model

from rcm.audit.services import changed_fields
from rcm.errors import DomainError
from rcm.tenancy.context import require_organization_id


def validate_model(instance: Model) -> None:
    """Model field validation as a DomainError naming every field at fault, each with its first
    message (constraints and uniqueness are the services' and the database's business)."""
    try:
        instance.full_clean(
            exclude=["organization"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        raise DomainError.combine(
            [
                DomainError(messages[0], field=None if field == "__all__" else field)
                for field, messages in exc.message_dict.items()
            ]
        ) from exc


def apply_fields(instance: Model, data: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """Set the given fields (refusing any the caller may not set); returns the names changed."""
    unknown = set(data) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"{name} cannot be set here.", field=name)
    before = {k: getattr(instance, k, None) for k in data}
    for key, value in data.items():
        setattr(instance, key, value)
    return changed_fields(before, data)


def tenant_advisory_lock(name: str) -> None:
    """A transaction-level PostgreSQL advisory lock on (organization in context, `name`): two
    uploads of one file at once import it once. A no-op on SQLite (one writer anyway)."""
    digest = hashlib.sha256(f"{require_organization_id()}:{name}".encode()).digest()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
            )
