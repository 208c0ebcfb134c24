"""The open-alert count beside "Alerts" in the navigation (listed in settings.TEMPLATES)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from alerts.selectors import alert_open_count
from rcm.tenancy.selectors import organization_now


def open_alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "pk", None) is None:
        return {}  # Signed out, or a partner system's API key.
    organization = getattr(request, "organization", None)
    if organization is None:
        return {"open_alert_count": 0}
    count = alert_open_count(
        scopes=getattr(request, "scopes", frozenset()), now=organization_now(organization)
    )
    return {"open_alert_count": count}
