"""`@require_scope("patients:read", post="patients:write")` for HTML views: the same permission
map (rcm.tenancy.permissions) the API's HasScope uses, keyed by method the same way."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from rcm.tenancy.http import TenantRequest

View = Callable[..., HttpResponse]


def require_scope(scope: str, *, post: str | None = None) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            needed = post if (post and request.method == "POST") else scope
            if getattr(request, "organization", None) is None or needed not in request.scopes:
                raise PermissionDenied(f"Your role does not allow this ({needed}).")
            return view(request, *args, **kwargs)

        wrapped.required_scopes = {"GET": scope, "POST": post or scope}  # type: ignore[attr-defined]
        return wrapped

    return decorator
