from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest

from rcm.tenancy.selectors import memberships_of_user


def _navigation() -> list[tuple[str, str, str]]:
    """The areas of the application, in navigation order: (url name, label, scope needed).
    A domain app adds entries with a `navigation` list on its AppConfig."""
    items = [("org_home", "Home", "")]
    for config in apps.get_app_configs():
        items.extend(getattr(config, "navigation", []))
    return items


ADMIN_NAVIGATION: list[tuple[str, str, str]] = [
    ("audit:list", "Audit trail", "audit:read"),
    ("tenancy:members", "Members", "org:admin"),
    ("tenancy:api_keys", "API keys", "org:admin"),
    ("tenancy:settings", "Settings", "org:admin"),
    ("operations:page", "Operations", "org:admin"),
]


def tenancy(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "pk", None) is None:
        return {}  # Signed out, or a partner system's API key (no memberships to list).
    organization = getattr(request, "organization", None)
    scopes: frozenset[str] = getattr(request, "scopes", frozenset())

    def visible(items: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        return [(name, label) for name, label, scope in items if not scope or scope in scopes]

    return {
        "my_memberships": memberships_of_user(user=user),
        "current_organization": organization,
        "current_membership": getattr(request, "membership", None),
        "nav_items": visible(_navigation()) if organization else [],
        "admin_nav_items": visible(ADMIN_NAVIGATION) if organization else [],
    }
