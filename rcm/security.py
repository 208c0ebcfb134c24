"""Production safety that is not a Django setting: PHI must not stay in a browser's or a proxy's
cache. (The security headers themselves are settings: rcm/settings.py, "Production hardening".)"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"


def carries_phi(request: HttpRequest) -> bool:
    """A signed-in person's page, any organization page, or the API: all may show PHI."""
    user = getattr(request, "user", None)
    return (
        request.path.startswith(API_PREFIX)
        or getattr(request, "organization", None) is not None
        or bool(user is not None and user.is_authenticated)
    )


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with `private, no-cache, must-revalidate, max-age=0`) on every
    response that may carry PHI, so the back button, a shared workstation's disk cache or a
    proxy never keeps a copy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if carries_phi(request):
            add_never_cache_headers(response)
            response["Cache-Control"] = f"{response['Cache-Control']}, private"
        return response
