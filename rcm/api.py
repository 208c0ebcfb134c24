"""The REST API's shared pieces: authentication, the scope permission, pagination and
RFC 9457 problem+json errors. Tenant resolution itself happens once, in TenantMiddleware."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from rcm import part2
from rcm.errors import DomainError

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class ApiKeyPrincipal:
    """Stands in for a user when a partner system calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, key: Any) -> None:
        self.key = key
        self.pk = None
        self.email = f"api-key:{key.prefix}"

    def __str__(self) -> str:
        return self.email


class ApiKeyAuthentication(BaseAuthentication):
    """Accepts the API key TenantMiddleware already verified (`Authorization: Bearer <key>`)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        key = getattr(request._request, "api_key", None)
        if key is None:
            return None
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="parity"'


class TenantSessionAuthentication(SessionAuthentication):
    """The browser's session, for requests that named an organization the user belongs to."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if getattr(request._request, "membership", None) is None:
            return None
        return super().authenticate(request)


class HasScope(permissions.BasePermission):
    """Grants a request whose scopes include the one the view asks for.

    A view sets `scope_area = "patients"` (reads need `patients:read`, writes `patients:write`)
    or `required_scopes = {"GET": "...", "POST": "..."}`; the same scopes come from the member's
    role (rcm.tenancy.permissions) or from the API key.
    """

    message = "Your role or API key does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request._request, "organization", None) is None:
            if request.user is None or not request.user.is_authenticated:
                raise exceptions.NotAuthenticated("Send an API key: Authorization: Bearer <key>.")
            raise exceptions.PermissionDenied(
                "Name the organization with an X-Organization header."
            )
        scope = required_scope(view, request.method or "GET")
        return scope is None or scope in request._request.scopes


def required_scope(view: Any, method: str) -> str | None:
    explicit = getattr(view, "required_scopes", None)
    if explicit and method in explicit:
        return explicit[method]
    area = getattr(view, "scope_area", None)
    if area is None:
        return None
    return f"{area}:read" if method in READ_METHODS else f"{area}:write"


class DefaultCursorPagination(CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


def uuid_query_param(request: Request, name: str) -> uuid.UUID | None:
    """An id filter from the query string; a malformed one is a 400 naming the parameter."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise exceptions.ValidationError({name: ["Not a valid id."]}) from exc


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as application/problem+json (RFC 9457), naming the field when there is one."""
    # Imported here: rest_framework.views reads these settings, which name this module.
    from rest_framework.views import exception_handler

    errors: list[dict[str, Any]] = []
    if isinstance(exc, DomainError):
        errors = [exc.as_dict()]
        exc = exceptions.ValidationError({exc.field or "non_field_errors": [exc.message]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A filter value the database field refuses (a malformed id or date): the client's error.
        exc = exceptions.ValidationError({"query": exc.messages})
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError) and not errors:
        errors = list(_flatten(exc.detail))
    status = response.status_code
    title = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        409: "Conflict",
        429: "Too Many Requests",
    }.get(status, "Error")
    if errors:
        detail = "; ".join(
            f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in errors
        )
    else:
        detail = str(getattr(exc, "detail", "")) or title
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    request = context.get("request")
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response.data = body
    response.content_type = "application/problem+json"
    return response


def _flatten(detail: Any, prefix: str = "") -> Any:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if not prefix else f"{prefix}.{key}"
            yield from _flatten(value, "" if key == "non_field_errors" else name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                yield from _flatten(value, f"{prefix}[{index}]" if prefix else str(index))
            else:
                yield {
                    "field": prefix or None,
                    "message": str(value),
                    "code": getattr(value, "code", "invalid"),
                }
    else:
        yield {
            "field": prefix or None,
            "message": str(detail),
            "code": getattr(detail, "code", "invalid"),
        }


class ServiceViewSet:
    """Mixin for viewsets whose writes go through services: validate with `input_serializer_class`,
    call `perform_service_create(data)` / `perform_service_update(obj, data)`, answer with the
    output serializer (`serializer_class`)."""

    input_serializer_class: Any = None
    update_serializer_class: Any = None

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.input_serializer_class(data=request.data, context=self.get_serializer_context())  # type: ignore[attr-defined]
        data.is_valid(raise_exception=True)
        obj = self.perform_service_create(data.validated_data)
        return Response(self.get_serializer(obj).data, status=201)  # type: ignore[attr-defined]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()  # type: ignore[attr-defined]
        serializer_class = self.update_serializer_class or self.input_serializer_class
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        data = serializer_class(data=request.data, partial=True, context=context)
        data.is_valid(raise_exception=True)
        obj = self.perform_service_update(obj, data.validated_data)
        return Response(self.get_serializer(obj).data)  # type: ignore[attr-defined]

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def perform_service_update(self, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError


class Part2HiddenListMixin:
    """A list answers with the `X-Part2-Hidden` header: how many rows of the same filtered list
    42 CFR Part 2 kept from the caller (`part2_hidden()`, from the selector's `*_hidden` twin),
    so the numbers a client shows can say "3 restricted records not shown"."""

    request: Any

    def part2_hidden(self) -> int:
        raise NotImplementedError

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        response[part2.HIDDEN_HEADER] = str(self.part2_hidden())
        return response


def has_scope(request: Request, scope: str) -> bool:
    return scope in getattr(request._request, "scopes", ())
