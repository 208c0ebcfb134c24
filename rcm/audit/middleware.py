"""Sets the audit actor for the request: a request id, the client address and the signed-in user."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from rcm.audit.context import Actor, acting_as


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy we trust (BEHIND_PROXY), the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and settings.SECURE_PROXY_SSL_HEADER:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def actor_for_request(request: HttpRequest, **extra: Any) -> Actor:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
    return Actor(
        user_id=user.pk if signed_in else None,  # type: ignore[union-attr]
        label=user.email if signed_in else "",  # type: ignore[union-attr]
        request_id=request_id,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        **extra,
    )


class RequestContextMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = actor_for_request(request)
        request.request_id = actor.request_id  # type: ignore[attr-defined]
        with acting_as(actor):
            response = self.get_response(request)
        response["X-Request-ID"] = actor.request_id
        return response
