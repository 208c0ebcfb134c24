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
