"""The REST API's shared pieces: authentication, the scope permission, pagination and
RFC 9457 problem+json errors. Tenant resolution itself happens once, in TenantMiddleware."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.apps import apps
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions, parsers, permissions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from rcm import part2
from rcm.errors import DomainError
from rcm.validators import Cleaner, clean_fields

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


# PostgreSQL's bigint: the widest whole number any column or filter takes; INTEGER_MAX is its
# integer (unit counts, minutes), the bound every whole-number input field declares.
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1


class DefaultCursorPagination(CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        """A `page_size` that is not a whole number from 1 to 200 is a 400, not silently ignored."""
        if request.query_params.get(self.page_size_query_param) is None:
            return self.page_size
        return int_query_param(request, self.page_size_query_param, minimum=1, maximum=200)

    def decode_cursor(self, request: Request) -> Any:
        """A cursor this API did not hand out is the client's error (400), not a missing page."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["Invalid cursor."]}
            ) from exc


def uuid_query_param(request: Request, name: str) -> uuid.UUID | None:
    """An id filter from the query string; a malformed (or empty) one is a 400 naming the
    parameter."""
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise exceptions.ValidationError({name: ["Not a valid id."]}) from exc


def int_query_param(
    request: Request, name: str, *, minimum: int = 0, maximum: int = BIGINT_MAX
) -> int | None:
    """A whole-number filter from the query string, within [minimum, maximum]; anything else is
    a 400 naming the parameter (a number past 64 bits must never reach the database or the
    calendar arithmetic)."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.strip().lstrip("-").isdigit() or len(value) > 25:
        raise exceptions.ValidationError({name: ["A whole number."]})
    number = int(value)
    if not minimum <= number <= maximum:
        raise exceptions.ValidationError({name: [f"Between {minimum} and {maximum}."]})
    return number


def choice_query_param(request: Request, name: str, choices: list[str]) -> str:
    """A filter with a fixed set of values (absent: ""); any other value is a 400 naming it."""
    value = request.query_params.get(name)
    if value is None:
        return ""
    if value not in choices:
        raise exceptions.ValidationError({name: [f"One of: {', '.join(choices)}."]})
    return value


def _strict(field_class: Any, accepted: tuple[type, ...]) -> None:
    """DRF's CharField turns a JSON number into text, its UUIDField reads an integer as an id and
    its BooleanField reads 0 and 1; the schema documents strings and booleans, so anything else
    is a 400 naming the field. Patched once
    here, where every API module imports from, rather than in each of the serializers."""
    parse = field_class.to_internal_value

    def to_internal_value(self: Any, data: Any) -> Any:
        if not isinstance(data, accepted):
            self.fail("invalid", value=data)
        return parse(self, data)

    field_class.to_internal_value = to_internal_value


_strict(serializers.CharField, (str,))
_strict(serializers.UUIDField, (str, uuid.UUID))
# JSON booleans, and the words DRF reads ("true", "false") from a query string; not 0 or 1.
_strict(serializers.BooleanField, (bool, str))


class JsonObjectParser(parsers.JSONParser):
    """JSON bodies: every write takes an object, so `false`, `[]` or `"x"` is a 400 here rather
    than an AttributeError in a view, and JSON nested too deep for the parser is a 400 rather
    than a RecursionError."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        if not isinstance(data, dict):
            raise exceptions.ParseError("The request body must be a JSON object.")
        return data


def reject_nul_in_query(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """Middleware: an API query parameter holding a NUL character is a 400 naming the parameter.
    PostgreSQL refuses NUL in text, so such a filter would otherwise fail deep in a query."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    field = name.replace("\x00", "\\u0000")
                    message = "Must not contain a NUL character."
                    body = {
                        "type": "about:blank",
                        "title": "Bad Request",
                        "status": 400,
                        "detail": f"{field}: {message}",
                        "instance": request.path,
                        "errors": [{"field": field, "message": message, "code": "null_characters"}],
                    }
                    return HttpResponse(
                        json.dumps(body), status=400, content_type="application/problem+json"
                    )
        return get_response(request)

    return middleware


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "This conflicts with a record that already exists."
    default_code = "conflict"


def _constraint_fields(name: str | None) -> list[str]:
    """The fields of the unique constraint the database named, looked up in the models."""
    if not name:
        return []
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name and isinstance(constraint, models.UniqueConstraint):
                return [f for f in constraint.fields if f != "organization"]
        for field in model._meta.local_fields:
            if field.unique and name.startswith(f"{model._meta.db_table}_{field.column}"):
                return [field.name]
    return []


def _integrity_errors(exc: IntegrityError) -> list[dict[str, Any]]:
    diag = getattr(exc.__cause__, "diag", None)
    fields = _constraint_fields(getattr(diag, "constraint_name", None))
    message = "A record with this value already exists."
    if not fields:
        return [
            {
                "field": None,
                "message": "This conflicts with a record that already exists.",
                "code": "conflict",
            }
        ]
    return [{"field": field, "message": message, "code": "unique"} for field in fields]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as application/problem+json (RFC 9457), naming the field when there is one."""
    # Imported here: rest_framework.views reads these settings, which name this module.
    from rest_framework.views import exception_handler

    errors: list[dict[str, Any]] = []
    if isinstance(exc, DomainError):
        errors = [e.as_dict() for e in exc.errors]
        by_field: dict[str, list[str]] = {}
        for e in exc.errors:
            by_field.setdefault(e.field or "non_field_errors", []).append(e.message)
        exc = exceptions.ValidationError(by_field)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A filter value the database field refuses (a malformed id or date): the client's error.
        exc = exceptions.ValidationError({"query": exc.messages})
    elif isinstance(exc, IntegrityError):
        # A unique constraint (a second payer with the same payer id): 409, naming the fields.
        errors = _integrity_errors(exc)
        exc = Conflict()
    elif isinstance(exc, DataError):
        # A value PostgreSQL cannot store or compare (out of range, NUL in text).
        exc = exceptions.ValidationError(
            {"non_field_errors": ["A value is out of range or not allowed for its field."]}
        )
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
        415: "Unsupported Media Type",
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
    call `perform_service_create(data)`, answer with the output serializer (`serializer_class`).
    A viewset whose rows can be changed uses ServiceUpdateViewSet instead; one without an update
    service offers no PATCH at all (405, and the schema does not document it)."""

    input_serializer_class: Any = None

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.input_serializer_class(data=request.data, context=self.get_serializer_context())  # type: ignore[attr-defined]
        data.is_valid(raise_exception=True)
        obj = self.perform_service_create(data.validated_data)
        return Response(self.get_serializer(obj).data, status=201)  # type: ignore[attr-defined]

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError


class ServiceUpdateViewSet(ServiceViewSet):
    """ServiceViewSet with PATCH: validates with `update_serializer_class` (or the input
    serializer) as a partial update and calls `perform_service_update(obj, data)`."""

    update_serializer_class: Any = None
    http_method_names = ["get", "post", "patch", "head", "options"]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()  # type: ignore[attr-defined]
        serializer_class = self.update_serializer_class or self.input_serializer_class
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        data = serializer_class(data=request.data, partial=True, context=context)
        data.is_valid(raise_exception=True)
        obj = self.perform_service_update(obj, data.validated_data)
        return Response(self.get_serializer(obj).data)  # type: ignore[attr-defined]

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


class CleanedFieldsMixin:
    """A serializer whose text fields named in `cleaners` go through rcm.validators (ZIP, state,
    phone, names an 837 accepts), stored as the cleaner returns them. Every refused value is
    reported with the other field errors, each under its field."""

    cleaners: ClassVar[dict[str, Cleaner]] = {}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # type: ignore[misc]
        errors: dict[str, Any] = {}
        values: Any = None
        try:
            values = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, dict) else {}
            if not errors:
                raise
        raw = {k: data[k] for k in self.cleaners if k in data and k not in errors}
        for field, message in clean_fields(raw, self.cleaners).items():
            errors[field] = [message]
        if errors:
            raise serializers.ValidationError(errors)
        for field, value in raw.items():
            if field in values:
                values[field] = value
        return values
