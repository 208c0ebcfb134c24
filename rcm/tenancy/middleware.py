"""Resolving the tenant (one place for the whole app) and signing out idle sessions.

Pages live under `/o/<org-slug>/`: the signed-in user must hold an active membership there, or
the answer is 404 (the organization's existence is not confirmed to outsiders). The API under
`/api/v1/` takes the organization from the API key; a browser session may call it with an
`X-Organization: <slug>` header. The request then runs inside `tenant_context(org)`: one
transaction whose `app.current_org` setting row-level security reads.
"""

from __future__ import annotations

import json
import re
import time
import zoneinfo
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from rcm.audit.context import update_actor
from rcm.tenancy import selectors
from rcm.tenancy.context import tenant_context
from rcm.tenancy.http import TenantRequest
from rcm.tenancy.permissions import scopes_for_role
from rcm.tenancy.services import api_key_authenticate

ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")
API_PREFIX = "/api/v1/"
# The FHIR R4 API (fhir_api) takes its organization the same way as the REST API.
FHIR_PREFIX = "/fhir/r4/"
API_PREFIXES = (API_PREFIX, FHIR_PREFIX)


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/problem+json"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="parity"'
    return response


def _raw_api_key(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.META.get("HTTP_X_API_KEY", "").strip()


class TenantMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        request.api_key = None
        request.scopes = frozenset()
        path = request.path_info
        match = ORG_PATH.match(path)
        if match:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = selectors.membership_for_user(user=request.user, slug=match["slug"])
            if membership is None:
                raise Http404("No such organization.")
            return self._run_as_member(request, membership)
        if path.startswith(API_PREFIXES):
            raw = _raw_api_key(request)
            if raw:
                # The instant of the request: no organization is known before its key is, and
                # an instant is the same in every organization's zone.
                key = api_key_authenticate(raw=raw, now=timezone.now())
                if key is None:
                    return _problem(
                        401, "Unauthorized", "The API key is unknown, revoked or expired."
                    )
                request.api_key = key
                request.organization = key.organization
                request.scopes = frozenset(key.scopes)
                update_actor(api_key_id=key.pk, label=f"api-key:{key.prefix}", role="api")
                return self._run(request, key.organization)
            slug = request.headers.get("X-Organization", "")
            if slug and request.user.is_authenticated:
                membership = selectors.membership_for_user(user=request.user, slug=slug)
                if membership is None:
                    return _problem(404, "Not Found", "No such organization.")
                return self._run_as_member(request, membership)
        return self.get_response(request)

    def _run_as_member(self, request: TenantRequest, membership: Any) -> HttpResponse:
        request.membership = membership
        request.organization = membership.organization
        request.scopes = scopes_for_role(membership.role, part2_access=membership.part2_access)
        update_actor(role=membership.role)
        return self._run(request, membership.organization)

    def _run(self, request: HttpRequest, organization: Any) -> HttpResponse:
        # Times on pages are shown in the organization's zone.
        timezone.activate(zoneinfo.ZoneInfo(organization.time_zone))
        try:
            with tenant_context(organization.pk):
                return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        # Views read the organization from request.organization, never from the URL.
        view_kwargs.pop("org_slug", None)


class IdleTimeoutMiddleware:
    """Signs out a session idle for SESSION_IDLE_TIMEOUT_MINUTES (a HIPAA workstation safeguard)."""

    # Refresh the activity stamp at most this often, so a busy page does not save the session on
    # every request.
    TOUCH_EVERY_SECONDS = 30

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get("last_activity")
            limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - float(last) > limit:
                request.logout_reason = "idle_timeout"  # type: ignore[attr-defined]
                logout(request)
                if request.path_info.startswith(API_PREFIXES):
                    return _problem(401, "Unauthorized", "The session timed out.")
                login = (
                    reverse("login")
                    + "?"
                    + urlencode({"next": request.get_full_path(), "idle": "1"})
                )
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login
                    return response
                return HttpResponseRedirect(login)
            if last is None or now - float(last) > self.TOUCH_EVERY_SECONDS:
                request.session["last_activity"] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """Holds a signed-in session to its two-factor state (rcm.tenancy.two_factor): a user whose
    organization requires a second factor and who has none reaches only the Security page and
    sign-out (pages redirect there; session API calls get 403); a session that skipped the
    second step of a user with a device (another sign-in form) is signed out. Requests with an
    API key are the key's business, not the session's."""

    OPEN_PREFIXES = ("/accounts/", "/healthz")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.open_prefixes = (*self.OPEN_PREFIXES, "/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        path = request.path_info
        if path.startswith(API_PREFIXES) and _raw_api_key(request):
            return self.get_response(request)
        from rcm.tenancy import two_factor

        state = request.session.get(two_factor.SESSION_STATE)
        if state is None:  # a session from before two-factor sign-in existed
            verified = bool(getattr(user, "is_verified", lambda: False)())
            state = two_factor.session_state(user, verified=verified)
            request.session[two_factor.SESSION_STATE] = state
        if state == two_factor.OK:
            return self.get_response(request)
        if state == two_factor.VERIFY:  # not even the Security page: it shows recovery codes
            request.logout_reason = "second_factor_missing"  # type: ignore[attr-defined]
            logout(request)
            if path.startswith(API_PREFIXES):
                return _problem(401, "Unauthorized", "Sign in again with your second factor.")
            target = reverse("login") + "?" + urlencode({"next": request.get_full_path()})
        elif path.startswith(self.open_prefixes):
            return self.get_response(request)
        else:
            if path.startswith(API_PREFIXES):
                return _problem(
                    403, "Forbidden", "Set up two-factor sign-in: your organization requires it."
                )
            target = reverse("security")
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
