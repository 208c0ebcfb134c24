"""Alerts on the API: list (filtered to the areas the caller may read), acknowledge, snooze."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import selectors, services
from alerts.models import Alert, area_scope
from rcm.tenancy.http import request_now, scopes_of


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "area",
            "kind",
            "severity",
            "title",
            "message",
            "subject_type",
            "subject_id",
            "patient_id",
            "due_on",
            "assignee",
            "acknowledged_at",
            "snoozed_until",
            "created_at",
        ]
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateTimeField(help_text="Hide the alert until this time (in the future).")


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts raised by the daily scans. `?show=open|snoozed|acknowledged|all`, `?area=`.
    Alerts about 42 CFR Part 2 records are absent (404 by id) without the Part 2 grant."""

    audit_phi = "alerts.alert"
    serializer_class = AlertSerializer
    lookup_field = "pk"
    scope_area = None  # Each alert is filtered by its own area's read scope.

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return selectors.alert_inbox(
            scopes=scopes_of(self.request),
            now=request_now(self.request),
            show=params.get("show", "open"),
            area=params.get("area", ""),
            severity=params.get("severity", ""),
        )

    def _writable(self, pk: str) -> Alert:
        scopes = scopes_of(self.request)
        alert = get_object_or_404(selectors.alerts_readable(scopes=scopes), pk=pk)
        if area_scope(alert.area, "write") not in scopes:
            raise PermissionDenied(f"Needs {area_scope(alert.area, 'write')}.")
        return alert

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        alert = services.alert_acknowledge(
            alert=self._writable(pk), user=getattr(request.user, "pk", None) and request.user
        )
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=SnoozeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str) -> Response:
        alert = self._writable(pk)
        data = SnoozeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.alert_snooze(
            alert=alert,
            until=data.validated_data["until"],
            now=request_now(request),
        )
        return Response(AlertSerializer(alert).data)


def register(router: Any) -> None:
    router.register("alerts", AlertViewSet, basename="alert")
