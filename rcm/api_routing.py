"""API routing, schema and viewset pieces that import DRF's views (kept out of rcm.api, which the
DRF settings name and which must therefore not import rest_framework.views at module level)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import mixins, viewsets
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
    401 and 403 everywhere, 404 where the path has an id, 409 on writes, 415 where there is a
    request body. The API has no throttling, so no 429."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["400", "401", "403"]
            if "{" in path:
                codes.append("404")
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
