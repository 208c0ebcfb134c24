"""The project's URLs plus two probe views that need claims:write, for permission-map tests
(the claims pages do not exist yet; the map and its enforcement do)."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from rcm.tenancy.decorators import require_scope
from rcm.urls import urlpatterns as project_urlpatterns


@require_scope("claims:read", post="claims:write")
def claims_probe(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


class ClaimsProbeApi(APIView):
    scope_area = "claims"

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})

    def post(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True}, status=201)


urlpatterns = [
    path("o/<slug:org_slug>/probe/claims/", claims_probe, name="claims_probe"),
    path("api/v1/probe/claims", ClaimsProbeApi.as_view(), name="claims_probe_api"),
    *project_urlpatterns,
]
