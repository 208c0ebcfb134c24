"""API endpoints of the tenancy app."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcm.tenancy.http import org_request, scopes_of


class MeView(APIView):
    """Who is calling: the organization the key (or session) belongs to, and its scopes."""

    scope_area = None

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "organization": inline_serializer(
                    "MeOrganization",
                    {
                        "id": serializers.UUIDField(),
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                    },
                ),
                "auth": serializers.ChoiceField(choices=["api_key", "session"]),
                "api_key": serializers.CharField(allow_null=True),
                "scopes": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        org = org_request(request).organization
        key = request._request.api_key
        return Response(
            {
                "organization": {"id": str(org.pk), "name": org.name, "slug": org.slug},
                "auth": "api_key" if key else "session",
                "api_key": f"{key.name} ({key.prefix})" if key else None,
                "scopes": sorted(scopes_of(request)),
            }
        )
