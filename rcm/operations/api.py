"""Operations on the API, for the organization's owners (`org:admin`, which no API key carries):
background jobs and scheduled scan runs, `?status=failed|pending|done|cancelled|all` (default
failed), and Retry / Cancel for what failed for good."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from rcm.api import choice_query_param
from rcm.operations import selectors, services
from rcm.operations.models import ScanRun
from rcm.operations.scans import scan_label
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.http import request_now

OWNERS_ONLY = {"GET": "org:admin", "HEAD": "org:admin", "OPTIONS": "org:admin", "POST": "org:admin"}
STATUS_PARAMETER = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=selectors.STATUS_FILTERS,
    description="Which jobs: failed (the default), pending, done, cancelled or all.",
)


class JobSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "topic",
            "label",
            "status",
            "attempts",
            "created_at",
            "available_at",
            "processed_at",
            "last_error",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_label(self, obj: OutboxMessage) -> str:
        return services.job_label(obj)


class ScanRunSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = ScanRun
        fields = [
            "id",
            "scan",
            "label",
            "day",
            "status",
            "attempts",
            "started_at",
            "finished_at",
            "counts",
            "error",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_label(self, obj: ScanRun) -> str:
        return scan_label(obj.scan)


class JobCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the job will not run again.")


class _OwnersOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_scopes = OWNERS_ONLY

    def _status(self) -> str:
        if self.action != "list":
            return "all"
        return choice_query_param(self.request, "status", selectors.STATUS_FILTERS) or "failed"

    def _reason(self, request: Request) -> str:
        data = JobCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return str(data.validated_data["reason"])


@extend_schema_view(list=extend_schema(parameters=[STATUS_PARAMETER]))
class JobViewSet(_OwnersOnly):
    """Background jobs (outbox messages) of the organization, newest first."""

    serializer_class = JobSerializer

    def get_queryset(self) -> Any:
        return selectors.job_list(status=self._status())

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """Run a failed job again now (its attempts and error are cleared; audited)."""
        message = services.outbox_message_retry(message=self.get_object(), now=request_now(request))
        return Response(JobSerializer(message).data)

    @extend_schema(request=JobCancelSerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Give up on a failed job (final state `cancelled`), saying why (audited)."""
        message = self.get_object()
        message = services.outbox_message_cancel(message=message, reason=self._reason(request))
        return Response(JobSerializer(message).data)


@extend_schema_view(list=extend_schema(parameters=[STATUS_PARAMETER]))
class ScanRunViewSet(_OwnersOnly):
    """Scheduled scan runs: one per scan and organization's calendar day."""

    serializer_class = ScanRunSerializer

    def get_queryset(self) -> Any:
        return selectors.scan_run_list(status=self._status())

    @extend_schema(request=None, responses=ScanRunSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """Run a failed scan run again, for its own day (audited)."""
        run = services.scan_run_retry(run=self.get_object())
        return Response(ScanRunSerializer(run).data)

    @extend_schema(request=JobCancelSerializer, responses=ScanRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Give up on a failed scan run (final state `cancelled`), saying why (audited)."""
        run = self.get_object()
        run = services.scan_run_cancel(run=run, reason=self._reason(request))
        return Response(ScanRunSerializer(run).data)


def register(router: Any) -> None:
    router.register("operations/jobs", JobViewSet, basename="operations-job")
    router.register("operations/scan-runs", ScanRunViewSet, basename="operations-scan-run")
