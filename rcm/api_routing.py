"""API routing, schema and viewset pieces that import DRF's views (kept out of rcm.api, which the
DRF settings name and which must therefore not import rest_framework.views at module level)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter


class UuidRouter(SimpleRouter):
    """Routes with `<uuid:pk>` lookups: every id in the API is a UUID, and a malformed one is a
    plain 404 before any view runs."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=True, use_regex_path=False)
        self._default_value_pattern = "uuid"


class ListCreatePatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and change with PATCH (no PUT, no DELETE)."""

    http_method_names = ["get", "post", "patch", "head", "options"]


class ParityAutoSchema(AutoSchema):
    """The API's schema class (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS). A read-only choice field
    of a model field that may be blank answers "" for "not set"; DRF does not mark such a field
    allow_blank, so drf-spectacular would leave "" out of its enum."""

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and _model_field_may_be_blank(field)
        ):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _model_field_may_be_blank(field: Any) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except Exception:  # not a model field (a property or method): nothing to add
        return False


class SingleObjectSchema(ParityAutoSchema):
    """For a ViewSet whose `list` answers one object (a report, not rows): drf-spectacular would
    otherwise document its response as an array."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "rcm.api.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization API key: prt_<prefix>_<secret>",
        }


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error, RFC 9457 (rcm.api.problem_exception_handler).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["field", "message", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

PROBLEM_RESPONSES = {
    "400": "The request is malformed: a parameter or field is invalid (`errors` names it).",
    "401": "No valid API key or session.",
    "403": "The key or role lacks the scope, or no organization was named.",
    "404": "No such record in the caller's organization (or hidden by 42 CFR Part 2).",
    "409": "The change conflicts with an existing record (a unique field, `errors` names it).",
    "415": "The request body's content type is not one this operation reads.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def document_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the problem+json errors it
    can answer with (rcm.api.problem_exception_handler and rcm.api.reject_nul_in_query): 400,
    401, 403 and 404 everywhere, 409 on writes, 415 where there is a request body. The API has
    no throttling, so no 429. Decimal inputs are documented as DRF reads them: a decimal string
    or a JSON number."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in components.items():
        if name.endswith("Request"):
            _decimals_accept_numbers(component)
    components["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            # 404 everywhere: an id in the path, the body or a filter may name a record the caller's
            # organization does not have (or Part 2 hides).
            codes = ["400", "401", "403", "404"]
            if method in WRITE_METHODS:
                codes.append("409")
            if "requestBody" in operation:
                codes.append("415")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": PROBLEM_RESPONSES[code],
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result


def _decimals_accept_numbers(schema: Any) -> None:
    """DRF's DecimalField reads `"12.50"` and `12.5` alike; drf-spectacular documents only the
    string, so a request sending a number would look schema-breaking while it is accepted."""
    if isinstance(schema, list):
        for item in schema:
            _decimals_accept_numbers(item)
        return
    if not isinstance(schema, dict):
        return
    for key, value in list(schema.get("properties", {}).items()):
        if isinstance(value, dict) and value.get("format") == "decimal":
            string = {k: v for k, v in value.items() if k not in {"nullable", "description"}}
            number = {"type": "number"}
            replaced: dict[str, Any] = {"oneOf": [string, number]}
            for kept in ("nullable", "description"):
                if kept in value:
                    replaced[kept] = value[kept]
            schema["properties"][key] = replaced
        else:
            _decimals_accept_numbers(value)
    for key in ("items", "oneOf", "anyOf", "allOf"):
        if key in schema:
            _decimals_accept_numbers(schema[key])
