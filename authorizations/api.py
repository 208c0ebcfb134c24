"""Authorizations on the API: CRUD for authorizations and reviews, `?expiring_within=7`, the
payer decision, usage, utilization, and the coverage check partners call ("is this service
covered on this date?"). Alerts list/acknowledge live in the alerts app's API.

42 CFR Part 2: every lookup goes through the selectors with the caller's scopes, so a Part 2
authorization, review or episode is 404 (or "not found" for an id in the body) without the grant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from authorizations import selectors, services
from authorizations.models import (
    Authorization,
    AuthorizationStatus,
    ConcurrentReview,
    ReviewOutcome,
    ReviewType,
    UnitType,
    UsageSource,
)
from patients.levels import LevelOfCare
from patients.models import Coverage, Payer
from rcm.api import INTEGER_MAX, int_query_param, uuid_query_param
from rcm.api_routing import ListCreatePatchViewSet
from rcm.audit.services import audit_read
from rcm.tenancy.http import request_now, request_today, scopes_of
from rcm.tenancy.selectors import member_with_scope


def _tenant_object(model_or_queryset: Any, pk: Any, field: str) -> Any:
    """The row of this organization (and, given a selector's queryset, one the caller may see)."""
    qs = getattr(model_or_queryset, "objects", model_or_queryset)
    found = qs.filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({field: ["Not found in this organization."]})
    return found


class AuthorizationSerializer(serializers.ModelSerializer):
    units_remaining = serializers.IntegerField(read_only=True)

    class Meta:
        model = Authorization
        fields = [
            "id",
            "episode",
            "coverage",
            "payer",
            "stay",
            *services.AUTH_FORM_FIELDS,
            "units_used",
            "units_remaining",
            "status",
            "next_review_on",
            "assigned_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class _AuthorizationFields(serializers.Serializer):
    coverage = serializers.UUIDField()
    level = serializers.ChoiceField(choices=LevelOfCare.choices)
    service_codes = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False
    )
    unit_type = serializers.ChoiceField(choices=UnitType.choices)
    units_requested = serializers.IntegerField(max_value=INTEGER_MAX, min_value=1)
    units_approved = serializers.IntegerField(
        max_value=INTEGER_MAX, min_value=0, required=False, allow_null=True
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    auth_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    requested_on = serializers.DateField(required=False)
    decided_on = serializers.DateField(required=False, allow_null=True)
    payer_contact = serializers.CharField(max_length=120, required=False, allow_blank=True)
    reference_notes = serializers.CharField(required=False, allow_blank=True)
    approval_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    overlap_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    assigned_to = serializers.UUIDField(required=False, allow_null=True)

    def resolve(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if "coverage" in data:
            data["coverage"] = _tenant_object(Coverage, data["coverage"], "coverage")
        if data.get("assigned_to"):
            data["assigned_to"] = member_with_scope(
                data["assigned_to"], scope="authorizations:write", field="assigned_to"
            )
        return data


class AuthorizationCreateSerializer(_AuthorizationFields):
    episode = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=[s for s in AuthorizationStatus.choices if s[0] not in {"expired", "cancelled"}],
        default=AuthorizationStatus.REQUESTED,
    )
    next_review_on = serializers.DateField(required=False, allow_null=True)


class AuthorizationUpdateSerializer(_AuthorizationFields):
    pass


class DecisionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved", "partial", "denied", "pending"])
    decided_on = serializers.DateField()
    units_approved = serializers.IntegerField(
        max_value=INTEGER_MAX, min_value=0, required=False, allow_null=True
    )
    auth_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    approval_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    overlap_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class UsageSerializer(serializers.Serializer):
    date_of_service = serializers.DateField()
    units = serializers.IntegerField(max_value=INTEGER_MAX, min_value=1)
    unit_type = serializers.ChoiceField(choices=UnitType.choices)
    service_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=UsageSource.choices, default=UsageSource.MANUAL)
    source_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class CoverageCheckSerializer(serializers.Serializer):
    episode = serializers.UUIDField()
    payer = serializers.UUIDField()
    level = serializers.ChoiceField(choices=LevelOfCare.choices)
    service_code = serializers.CharField(max_length=10)
    date_of_service = serializers.DateField()
    units = serializers.IntegerField(max_value=INTEGER_MAX, min_value=1, default=1)


COVERAGE_RESULT = inline_serializer(
    "CoverageCheckResult",
    {
        "covered": serializers.BooleanField(),
        "reason": serializers.ChoiceField(
            choices=[
                "covered",
                "none",
                "not_approved",
                "expired",
                "exhausted",
                "wrong_level",
                "code_not_covered",
            ]
        ),
        "message": serializers.CharField(),
        "authorization": serializers.UUIDField(allow_null=True),
        "auth_number": serializers.CharField(allow_blank=True),
        "units_remaining": serializers.IntegerField(allow_null=True),
    },
)

UTILIZATION_RESULT = inline_serializer(
    "Utilization",
    {
        "units_approved": serializers.IntegerField(),
        "units_used": serializers.IntegerField(),
        "units_remaining": serializers.IntegerField(),
        "daily_pace": serializers.DecimalField(max_digits=8, decimal_places=2),
        "days_left": serializers.IntegerField(allow_null=True),
        "exhaustion_date": serializers.DateField(allow_null=True),
        "end_date": serializers.DateField(),
        "runs_out_before_end": serializers.BooleanField(),
    },
)


class AuthorizationViewSet(ListCreatePatchViewSet):
    """Prior authorizations. Filters: `expiring_within` (days), `status`, `payer`, `level`,
    `episode`."""

    audit_phi = "authorizations.authorization"
    scope_area = "authorizations"
    serializer_class = AuthorizationSerializer
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        params = self.request.query_params
        # Ten years of days at most: the calendar ends at year 9999.
        expiring = int_query_param(self.request, "expiring_within", maximum=3660)
        qs = selectors.authorization_list(
            filters=selectors.AuthorizationFilter(
                expiring_within=expiring,
                payer_id=uuid_query_param(self.request, "payer"),
                level=params.get("level", ""),
                status=params.get("status", ""),
            ),
            today=request_today(self.request),
            scopes=scopes_of(self.request),
        )
        episode = uuid_query_param(self.request, "episode")
        return qs.filter(episode_id=episode) if episode else qs

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "expiring_within", OpenApiTypes.INT, description="Approved, ending within N days"
            ),
            OpenApiParameter("status", OpenApiTypes.STR),
            OpenApiParameter("payer", OpenApiTypes.UUID),
            OpenApiParameter("level", OpenApiTypes.STR),
            OpenApiParameter("episode", OpenApiTypes.UUID),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        auth = self.get_object()
        audit_read(obj=auth, patient_id=auth.episode.patient_id, via="api")
        return Response(AuthorizationSerializer(auth).data)

    @extend_schema(request=AuthorizationCreateSerializer, responses={201: AuthorizationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AuthorizationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.resolve(data.validated_data)
        values["episode"] = _tenant_object(
            selectors.episode_choices(scopes=scopes_of(request), active_only=False),
            values["episode"],
            "episode",
        )
        auth = services.authorization_create(**values, today=request_today(request))
        return Response(AuthorizationSerializer(auth).data, status=201)

    @extend_schema(request=AuthorizationUpdateSerializer, responses=AuthorizationSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        auth = self.get_object()
        data = AuthorizationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        auth = services.authorization_update(
            authorization=auth, data=data.resolve(data.validated_data)
        )
        return Response(AuthorizationSerializer(auth).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=DecisionSerializer, responses=AuthorizationSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        auth = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        auth = services.authorization_decide(authorization=auth, **data.validated_data)
        return Response(AuthorizationSerializer(auth).data)

    @extend_schema(request=CancelSerializer, responses=AuthorizationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        auth = self.get_object()
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        auth = services.authorization_cancel(authorization=auth, **data.validated_data)
        return Response(AuthorizationSerializer(auth).data)

    @extend_schema(
        request=UsageSerializer,
        responses={
            201: inline_serializer(
                "UsageRecorded",
                {"id": serializers.UUIDField(), "units_used": serializers.IntegerField()},
            )
        },
    )
    @action(detail=True, methods=["post"])
    def usage(self, request: Request, pk: str) -> Response:
        auth = self.get_object()
        data = UsageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        usage = services.authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level=auth.level,
            authorization=auth,
            **data.validated_data,
        )
        auth.refresh_from_db(fields=["units_used"])
        return Response({"id": str(usage.pk), "units_used": auth.units_used}, status=201)

    @extend_schema(responses=UTILIZATION_RESULT)
    @action(detail=True, methods=["get"])
    def utilization(self, request: Request, pk: str) -> Response:
        auth = self.get_object()
        f = selectors.authorization_forecast(authorization=auth, today=request_today(request))
        return Response(
            {
                "units_approved": f.units_approved,
                "units_used": f.units_used,
                "units_remaining": f.units_remaining,
                "daily_pace": str(f.daily_pace),
                "days_left": f.days_left,
                "exhaustion_date": f.exhaustion_date,
                "end_date": f.end_date,
                "runs_out_before_end": f.runs_out_before_end,
            }
        )

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "ScanStarted",
                {
                    "status": serializers.ChoiceField(choices=["done", "queued"]),
                    "alerts_created": serializers.IntegerField(allow_null=True),
                    "detail": serializers.CharField(),
                },
            )
        },
        description="Queue the authorization alert scan for this organization (the daily scan "
        "runs anyway). Answers 202 `queued` at once, even while the task broker is down; the new "
        "alerts reach the inbox when a worker has run it. Safe to call twice: a scan creates no "
        "alert twice.",
    )
    @action(detail=False, methods=["post"], url_path="scan")
    def scan(self, request: Request) -> Response:
        # An outbox message, sent after the commit (re-sent by the relay if the broker is
        # down): the answer never waits for, nor fails with, the broker.
        services.authorization_scan_request(now=request_now(request))
        return Response(
            {"status": "queued", "alerts_created": None, "detail": services.SCAN_STARTED},
            status=202,
        )

    @extend_schema(
        parameters=[CoverageCheckSerializer],
        responses=COVERAGE_RESULT,
        description="Is this service covered on this date? The covering authorization, or the "
        "precise reason: none, not_approved, expired, exhausted, wrong_level, code_not_covered.",
    )
    @action(detail=False, methods=["get"], url_path="coverage-check")
    def coverage_check(self, request: Request) -> Response:
        data = CoverageCheckSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        episode = _tenant_object(
            selectors.episode_choices(scopes=scopes_of(request), active_only=False),
            v["episode"],
            "episode",
        )
        payer = _tenant_object(Payer, v["payer"], "payer")
        decision = services.authorization_covering(
            episode=episode,
            payer=payer,
            level=v["level"],
            service_code=v["service_code"],
            date_of_service=v["date_of_service"],
            units=v["units"],
        )
        auth = decision.authorization
        return Response(
            {
                "covered": decision.covered,
                "reason": decision.code,
                "message": decision.message,
                "authorization": str(auth.pk) if auth else None,
                "auth_number": getattr(auth, "auth_number", "") if auth else "",
                "units_remaining": max((auth.units_approved or 0) - auth.units_used, 0)
                if auth
                else None,
            }
        )


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConcurrentReview
        fields = [
            "id",
            "authorization",
            "review_type",
            "scheduled_on",
            "completed_on",
            "outcome",
            "new_end_date",
            "added_units",
            "reviewer",
            "summary",
            "created_at",
        ]
        read_only_fields = fields


class ReviewCreateSerializer(serializers.Serializer):
    authorization = serializers.UUIDField()
    review_type = serializers.ChoiceField(choices=ReviewType.choices)
    scheduled_on = serializers.DateField()
    reviewer = serializers.CharField(max_length=120, required=False, allow_blank=True)


class ReviewCompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    completed_on = serializers.DateField()
    new_end_date = serializers.DateField(required=False, allow_null=True)
    added_units = serializers.IntegerField(
        max_value=INTEGER_MAX, min_value=1, required=False, allow_null=True
    )
    reviewer = serializers.CharField(max_length=120, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    next_review_on = serializers.DateField(required=False, allow_null=True)


class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Concurrent reviews. Filters: `authorization`, `open=1`, `due_within` (days)."""

    audit_phi = "authorizations.concurrentreview"
    scope_area = "authorizations"
    serializer_class = ReviewSerializer
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        params = self.request.query_params
        qs = selectors.review_list(scopes=scopes_of(self.request))
        auth = uuid_query_param(self.request, "authorization")
        if auth:
            qs = qs.filter(authorization_id=auth)
        if params.get("open") == "1":
            qs = qs.filter(completed_on__isnull=True)
        due = params.get("due_within")
        if due and due.isdigit():
            qs = qs.filter(scheduled_on__lte=request_today(self.request) + timedelta(days=int(due)))
        return qs

    @extend_schema(request=ReviewCreateSerializer, responses={201: ReviewSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ReviewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["authorization"] = _tenant_object(
            selectors.authorizations_visible(scopes=scopes_of(request)),
            values["authorization"],
            "authorization",
        )
        review = services.review_schedule(**values)
        return Response(ReviewSerializer(review).data, status=201)

    @extend_schema(request=ReviewCompleteSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        review = self.get_object()
        data = ReviewCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if getattr(request.user, "pk", None) else None
        review = services.review_complete(review=review, completed_by=user, **data.validated_data)
        return Response(ReviewSerializer(review).data)


def register(router: Any) -> None:
    router.register("authorizations", AuthorizationViewSet, basename="authorization")
    router.register("authorization-reviews", ReviewViewSet, basename="authorization-review")
