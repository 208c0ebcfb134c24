"""Named claims-list filters a user saves."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rcm.errors import DomainError


def saved_filter_save(*, user: Any, name: str, query: str) -> Any:
    """Save (or overwrite) a named set of claims-list filters for this user."""
    from claims.models import SavedClaimFilter

    if not name.strip():
        raise DomainError("Name the filters.", field="name")
    with transaction.atomic():
        saved, _ = SavedClaimFilter.objects.update_or_create(
            user=user, name=name.strip(), defaults={"query": query[:500]}
        )
    return saved
