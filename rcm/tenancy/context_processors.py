from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rcm.tenancy.selectors import memberships_of_user

# The areas of the application, in navigation order: (url name, label, scope needed). Each app
# adds its entry when its pages exist.
NAVIGATION: list[tuple[str, str, str]] = [
    ("org_home", "Home", ""),
]
ADMIN_NAVIGATION: list[tuple[str, str, str]] = [
    ("audit:list", "Audit trail", "audit:read"),
    ("tenancy:members", "Members", "org:admin"),
    ("tenancy:api_keys", "API keys", "org:admin"),
    ("tenancy:settings", "Settings", "org:admin"),
]


def tenancy(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "pk", None) is None:
        return {}  # Signed out, or a partner system's API key (no memberships to list).
    organization = getattr(request, "organization", None)
    scopes = getattr(request, "scopes", frozenset())

    def visible(items: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        return [(name, label) for name, label, scope in items if not scope or scope in scopes]

    return {
        "my_memberships": memberships_of_user(user=user),
        "current_organization": organization,
        "current_membership": getattr(request, "membership", None),
        "nav_items": visible(NAVIGATION) if organization else [],
        "admin_nav_items": visible(ADMIN_NAVIGATION) if organization else [],
    }
