"""Submission on the API: create batches from ready claims, follow their status, fetch the
file, upload 999 / 277CA acknowledgments, list the rejections queue.

42 CFR Part 2: a key or member without the Part 2 grant batches only the claims it may see, gets
404 for the file of a batch holding a Part 2 claim, and no Part 2 rejection in the queue (the
`X-Part2-Hidden` header says how many were left out)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from patients.models import Coverage, EligibilityRequest
from rcm.api import JsonObjectParser, Part2HiddenListMixin
from rcm.errors import DomainError
from rcm.tenancy.http import request_now, request_today, scopes_of
from submissions import selectors, services
from submissions.models import (
    Acknowledgment,
    ClaimRejection,
    Clearinghouse,
    EligibilityBatch,
    SubmissionBatch,
)


class BatchSerializer(serializers.ModelSerializer):
    clearinghouse = serializers.PrimaryKeyRelatedField(read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    error = serializers.SerializerMethodField(
        help_text="Why the file was not released (reasons about claims the caller may not see "
        "are left out: 42 CFR Part 2)"
    )

    def get_error(self, obj: SubmissionBatch) -> str:
        request = self.context.get("request")
        scopes = scopes_of(request) if request is not None else frozenset()
        return selectors.batch_error(obj, scopes=scopes)

    class Meta:
        model = SubmissionBatch
        fields = [
            "id", "clearinghouse", "claim_form", "status", "interchange_control_number",
            "group_control_number", "transaction_control_number", "file_name", "sha256",
            "claim_count", "total_charge", "progress_done", "progress_total",
            "progress_percent", "error", "transport_detail", "released_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    clearinghouse = serializers.PrimaryKeyRelatedField(queryset=Clearinghouse.objects)
    claim_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_empty=False,
        help_text="Ready claims to send; all ready claims (that the caller may see) when left out",
    )


class AcknowledgmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Acknowledgment
        fields = ["id", "kind", "batch", "file_name", "source", "summary", "accepted_count",
                  "rejected_count", "created_at"]  # fmt: skip
        read_only_fields = fields


class AcknowledgmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="Multipart upload of the X12 file")
    content = serializers.CharField(required=False, trim_whitespace=False,
                                    help_text="Or the X12 text itself")  # fmt: skip
    file_name = serializers.CharField(required=False, default="", allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("content")):
            raise serializers.ValidationError("Send either a file or content.")
        return attrs


class RejectionSerializer(serializers.ModelSerializer):
    patient_control_number = serializers.CharField(source="claim.patient_control_number")

    class Meta:
        model = ClaimRejection
        fields = ["id", "claim", "patient_control_number", "batch", "acknowledgment", "source",
                  "reason", "codes", "resolved_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Submission batches. Creating one queues its build; poll it until `released` (or
    `failed`, with `error` saying why), then fetch `file/`."""

    audit_phi = "submissions.submissionbatch"
    serializer_class = BatchSerializer
    scope_area = "claims"
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        return selectors.batch_list(status=self.request.query_params.get("status", ""))

    @extend_schema(request=BatchCreateSerializer, responses={201: BatchSerializer(many=True)})
    def create(self, request: Request) -> Response:
        data = BatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The build of each batch is an outbox message written with the batch (sent on commit,
        # re-sent by the relay if the broker is down): the answer never waits for Redis.
        batches = services.batches_create(
            clearinghouse=data.validated_data["clearinghouse"],
            claim_ids=data.validated_data.get("claim_ids"),
            actor=request.user if getattr(request.user, "pk", None) else None,
            scopes=scopes_of(request),
        )
        context = self.get_serializer_context()
        return Response(BatchSerializer(batches, many=True, context=context).data, status=201)

    @extend_schema(
        responses={(200, "application/edi-x12"): OpenApiResponse(description="The X12 file")}
    )
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str) -> HttpResponse:
        from rcm.audit.services import audit_read

        try:
            found = selectors.batch_file(pk=self.get_object().pk, scopes=scopes_of(request))
        except SubmissionBatch.DoesNotExist as missing:
            raise Http404("No such batch.") from missing
        batch = found.batch
        if not batch.content:
            return Response({"detail": "This batch has no file (it was not released)."}, status=409)  # type: ignore[return-value]
        audit_read(obj=batch, patient_id=None, part2=found.part2, what="837 file download")
        response = HttpResponse(batch.content, content_type="application/edi-x12")
        response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
        return response


class AcknowledgmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """999 and 277CA files applied to our batches. POST a file (multipart) or its text; the same
    file again answers 200 and changes nothing."""

    audit_phi = "submissions.acknowledgment"
    serializer_class = AcknowledgmentSerializer
    scope_area = "claims"
    lookup_field = "pk"
    parser_classes = [JsonObjectParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return Acknowledgment.objects.defer("content").order_by("-created_at")

    @extend_schema(
        request=AcknowledgmentUploadSerializer,
        responses={201: AcknowledgmentSerializer, 200: AcknowledgmentSerializer},
    )
    def create(self, request: Request) -> Response:
        data = AcknowledgmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        content = upload.read() if upload else data.validated_data["content"]
        name = data.validated_data.get("file_name") or (upload.name if upload else "")
        ack, applied = services.acknowledgment_import(
            content=content, file_name=name, source="api",
            actor=request.user if getattr(request.user, "pk", None) else None,
        )  # fmt: skip
        return Response(AcknowledgmentSerializer(ack).data, status=201 if applied else 200)


class RejectionViewSet(Part2HiddenListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The rejections queue: claims refused at the front door, with the reason in words.
    `?show=all` includes resolved ones."""

    audit_phi = "submissions.claimrejection"
    serializer_class = RejectionSerializer
    scope_area = "claims"

    def _filters(self) -> dict[str, str]:
        params = self.request.query_params
        return {"q": params.get("q", ""), "show": params.get("show", "open")}

    def get_queryset(self) -> Any:
        return selectors.rejection_queue(**self._filters(), scopes=scopes_of(self.request))

    def part2_hidden(self) -> int:
        return selectors.rejection_queue_hidden(**self._filters(), scopes=scopes_of(self.request))


class EligibilityRequestSerializer(serializers.ModelSerializer):
    coverage = serializers.PrimaryKeyRelatedField(read_only=True)
    verification = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    is_active_coverage = serializers.SerializerMethodField(
        help_text="What the 271 said (null without an applied answer)"
    )
    deductible_remaining = serializers.SerializerMethodField(
        help_text="In-network individual deductible left for mental health, as verified"
    )
    mental_health_copay = serializers.SerializerMethodField(
        help_text="In-network copay for mental health (MH), as verified"
    )
    changes = serializers.SerializerMethodField(
        help_text="Differences from the last verification; `highlight` marks a new deductible, "
        "coverage ended or authorization now required"
    )
    raw_request = serializers.CharField(
        read_only=True, help_text="The 270 sent (empty once purged after the retention)"
    )
    raw_response = serializers.CharField(
        read_only=True, help_text="The 271 or answer received (empty once purged)"
    )

    class Meta:
        model = EligibilityRequest
        fields = [
            "id", "coverage", "trace_number", "status", "sent_at", "answered_at", "error",
            "verification", "is_active_coverage", "deductible_remaining", "mental_health_copay",
            "changes", "raw_request", "raw_response",
        ]  # fmt: skip
        read_only_fields = fields

    def get_is_active_coverage(self, obj: EligibilityRequest) -> bool | None:
        return obj.verification.is_active_coverage if obj.verification else None

    def get_deductible_remaining(self, obj: EligibilityRequest) -> str | None:
        c = obj.coverage
        if not obj.verification or c.deductible is None:
            return None
        return str(c.deductible - (c.deductible_met or 0))

    def get_mental_health_copay(self, obj: EligibilityRequest) -> str | None:
        copay = obj.coverage.copay
        return str(copay) if obj.verification and copay is not None else None

    def get_changes(self, obj: EligibilityRequest) -> list[dict[str, Any]]:
        return list(obj.verification.changes) if obj.verification else []


class EligibilityCheckSerializer(serializers.Serializer):
    coverage = serializers.PrimaryKeyRelatedField(queryset=Coverage.objects)
    clearinghouse = serializers.PrimaryKeyRelatedField(
        queryset=Clearinghouse.objects,
        required=False,
        help_text="One with a real-time (CAQH CORE) transport; the first active one when left out",
    )


class EligibilityCheckViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Real-time eligibility checks (270/271). POST runs one now, synchronously (the
    clearinghouse's short timeout and retries), and answers with the request: `answered` (the
    benefit verification applied), `rejected` (AAA), `no_answer` (timeout; try again) or
    `error`. `?coverage=` filters the list."""

    audit_phi = "patients.eligibilityrequest"
    serializer_class = EligibilityRequestSerializer
    scope_area = "patients"
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        qs = EligibilityRequest.objects.select_related("coverage", "verification")
        coverage = self.request.query_params.get("coverage", "")
        if coverage:
            try:
                qs = qs.filter(coverage_id=serializers.UUIDField().to_internal_value(coverage))
            except serializers.ValidationError:
                return qs.none()
        return qs

    @extend_schema(
        request=EligibilityCheckSerializer, responses={201: EligibilityRequestSerializer}
    )
    def create(self, request: Request) -> Response:
        data = EligibilityCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clearinghouse = data.validated_data.get("clearinghouse") or (
            Clearinghouse.objects.filter(is_active=True, realtime_transport="core_mime")
            .order_by("name")
            .first()
        )
        if clearinghouse is None:
            raise DomainError(
                "No active clearinghouse has a real-time (CAQH CORE) transport.",
                field="clearinghouse",
            )
        result = services.eligibility_check(
            coverage=data.validated_data["coverage"],
            clearinghouse=clearinghouse,
            now=request_now(request),
            today=request_today(request),
            user=request.user if getattr(request.user, "pk", None) else None,
        )
        result = self.get_queryset().get(pk=result.pk)
        return Response(self.get_serializer(result).data, status=201)


class EligibilityBatchSerializer(serializers.ModelSerializer):
    clearinghouse = serializers.PrimaryKeyRelatedField(read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="Share of coverages checked")

    class Meta:
        model = EligibilityBatch
        fields = [
            "id", "clearinghouse", "status", "started_at", "finished_at", "total", "checked",
            "answered", "failed", "percent",
        ]  # fmt: skip
        read_only_fields = fields


class EligibilityBatchStartSerializer(serializers.Serializer):
    clearinghouse = serializers.PrimaryKeyRelatedField(
        queryset=Clearinghouse.objects,
        required=False,
        help_text="One with a real-time (CAQH CORE) transport; the first active one when left out",
    )


class EligibilityBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """ "Check eligibility for all active episodes": POST starts a batch (one real-time 270 per
    primary coverage in force of the active episodes, run in the background) and answers 202
    with it; while one is queued or running, POST answers 200 with that one and starts nothing.
    GET reads its progress (`checked` of `total`, `answered`, `failed`); `status` becomes `done`
    when every coverage was checked. Each result is an eligibility check (`/eligibility-checks/`)."""

    serializer_class = EligibilityBatchSerializer
    scope_area = "patients"
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        return selectors.eligibility_batches()

    @extend_schema(
        request=EligibilityBatchStartSerializer,
        responses={202: EligibilityBatchSerializer, 200: EligibilityBatchSerializer},
    )
    def create(self, request: Request) -> Response:
        data = EligibilityBatchStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clearinghouse = data.validated_data.get("clearinghouse") or (
            Clearinghouse.objects.filter(is_active=True, realtime_transport="core_mime")
            .order_by("name")
            .first()
        )
        if clearinghouse is None:
            raise DomainError(
                "No active clearinghouse has a real-time (CAQH CORE) transport.",
                field="clearinghouse",
            )
        batch, started = services.eligibility_batch_start(
            clearinghouse=clearinghouse,
            now=request_now(request),
            today=request_today(request),
            user=request.user if getattr(request.user, "pk", None) else None,
        )
        return Response(self.get_serializer(batch).data, status=202 if started else 200)


def register(router: Any) -> None:
    router.register("eligibility-batches", EligibilityBatchViewSet, basename="eligibility-batch")
    router.register("eligibility-checks", EligibilityCheckViewSet, basename="eligibility-check")
    router.register("claim-batches", BatchViewSet, basename="claim-batch")
    router.register("claim-acknowledgments", AcknowledgmentViewSet, basename="claim-acknowledgment")
    router.register("claim-rejections", RejectionViewSet, basename="claim-rejection")
