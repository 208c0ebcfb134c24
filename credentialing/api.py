"""Credentialing on the API: providers, credentials, facilities, enrollments (with history),
payer rules, the billability check and the matrix as JSON. Serializers validate input and call
the same services as the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from credentialing import selectors, services
from credentialing.models import (
    Credential,
    CredentialKind,
    EnrollmentEvent,
    EnrollmentStatus,
    OigResult,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ProviderType,
    ServiceFacility,
)
from patients.models import Payer
from rcm.api import uuid_query_param
from rcm.api_routing import ListCreatePatchViewSet
from rcm.tenancy.http import request_today
from rcm.tenancy.models import User


@extend_schema_field(OpenApiTypes.UUID)
class TenantPK(serializers.PrimaryKeyRelatedField):
    """A related id looked up in the organization in context (another tenant's id is invalid)."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.all()


# --- Providers --------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = [
            "id",
            *services.PROVIDER_FIELDS,
            "display_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProviderInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=60)
    last_name = serializers.CharField(max_length=60)
    credentials_suffix = serializers.CharField(max_length=30, required=False, allow_blank=True)
    npi = serializers.CharField(max_length=10)
    taxonomy_code = serializers.CharField(max_length=10)
    provider_type = serializers.ChoiceField(choices=ProviderType.choices)
    supervising_provider = TenantPK(Provider, required=False, allow_null=True)
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    active_from = serializers.DateField()
    active_until = serializers.DateField(required=False, allow_null=True)


class ProviderViewSet(ListCreatePatchViewSet):
    """Individual providers (NPI type 1). `?q=` searches name and NPI, `?provider_type=`."""

    scope_area = "credentialing"
    serializer_class = ProviderSerializer

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return selectors.provider_roster(
            q=params.get("q", ""),
            provider_type=params.get("provider_type", ""),
            show=params.get("show", "all"),
            today=request_today(self.request),
        )

    @extend_schema(request=ProviderInputSerializer, responses={201: ProviderSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProviderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        provider = services.provider_create(**data.validated_data)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProviderInputSerializer, responses=ProviderSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        provider = self.get_object()
        data = ProviderInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        provider = services.provider_update(provider=provider, data=dict(data.validated_data))
        return Response(ProviderSerializer(provider).data)


# --- Credentials ------------------------------------------------------------------------------


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = [
            "id",
            "provider",
            *services.CREDENTIAL_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CredentialInputSerializer(serializers.Serializer):
    provider = TenantPK(Provider)
    kind = serializers.ChoiceField(choices=CredentialKind.choices)
    number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    state = serializers.CharField(max_length=2, required=False, allow_blank=True)
    issuer = serializers.CharField(max_length=120, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    verified_on = serializers.DateField(required=False, allow_null=True)
    attested_on = serializers.DateField(required=False, allow_null=True)
    result = serializers.ChoiceField(choices=OigResult.choices, required=False, allow_blank=True)


class CredentialViewSet(ListCreatePatchViewSet):
    """Licences, DEA, board certification, malpractice, CAQH and OIG checks. `?provider=`."""

    scope_area = "credentialing"
    serializer_class = CredentialSerializer

    def get_queryset(self) -> Any:
        qs = Credential.objects.all()
        provider = uuid_query_param(self.request, "provider")
        return qs.filter(provider_id=provider) if provider else qs

    @extend_schema(request=CredentialInputSerializer, responses={201: CredentialSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CredentialInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_create(**data.validated_data)
        return Response(CredentialSerializer(credential).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CredentialInputSerializer, responses=CredentialSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        credential = self.get_object()
        data = CredentialInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "provider"}
        credential = services.credential_update(credential=credential, data=changes)
        return Response(CredentialSerializer(credential).data)


# --- Service facilities -----------------------------------------------------------------------


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceFacility
        fields = ["id", *services.FACILITY_FIELDS]
        read_only_fields = ["id"]

    def validate_name(self, value: str) -> str:
        return value  # Uniqueness is checked by the service, with a clearer message.


class FacilityViewSet(ListCreatePatchViewSet):
    scope_area = "credentialing"
    serializer_class = FacilitySerializer

    def get_queryset(self) -> Any:
        return selectors.facility_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.facility_create(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.facility_update(
            facility=serializer.instance, data=dict(serializer.validated_data)
        )


# --- Enrollments ------------------------------------------------------------------------------


class EnrollmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PayerEnrollment
        fields = [
            "id",
            "provider",
            "payer",
            *services.ENROLLMENT_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EnrollmentInputSerializer(serializers.Serializer):
    provider = TenantPK(Provider)
    payer = TenantPK(Payer)
    service_facility = TenantPK(ServiceFacility, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices, required=False)
    submitted_on = serializers.DateField(required=False, allow_null=True)
    in_process_on = serializers.DateField(required=False, allow_null=True)
    approved_on = serializers.DateField(required=False, allow_null=True)
    denied_on = serializers.DateField(required=False, allow_null=True)
    effective_date = serializers.DateField(required=False, allow_null=True)
    termination_date = serializers.DateField(required=False, allow_null=True)
    payer_provider_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    recredentialing_due_on = serializers.DateField(required=False, allow_null=True)
    bill_under_supervisor = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class EnrollmentUpdateSerializer(EnrollmentInputSerializer):
    provider = None  # type: ignore[assignment]
    payer = None  # type: ignore[assignment]
    service_facility = None  # type: ignore[assignment]
    note = serializers.CharField(required=False, allow_blank=True, help_text="Kept in the history.")


class EnrollmentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = EnrollmentEvent
        fields = [
            "id",
            "enrollment",
            "from_status",
            "to_status",
            "occurred_on",
            "changed_by",
            "actor_label",
            "fields_changed",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class EnrollmentViewSet(ListCreatePatchViewSet):
    """Payer enrollments. `?provider=`, `?payer=`, `?status=`. Every change is kept in
    `/history/`."""

    scope_area = "credentialing"
    serializer_class = EnrollmentSerializer

    def get_queryset(self) -> Any:
        qs = PayerEnrollment.objects.all()
        for param in ("provider", "payer"):
            if value := uuid_query_param(self.request, param):
                qs = qs.filter(**{f"{param}_id": value})
        if status := self.request.query_params.get("status"):
            qs = qs.filter(status=status)
        return qs

    def _user(self) -> Any:
        user = self.request.user
        return user if isinstance(user, User) else None

    @extend_schema(request=EnrollmentInputSerializer, responses={201: EnrollmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EnrollmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = services.enrollment_create(
            user=self._user(), today=request_today(request), **data.validated_data
        )
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EnrollmentUpdateSerializer, responses=EnrollmentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrollment = self.get_object()
        data = EnrollmentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        note = changes.pop("note", "")
        enrollment = services.enrollment_update(
            enrollment=enrollment,
            data=changes,
            user=self._user(),
            today=request_today(request),
            note=note,
        )
        return Response(EnrollmentSerializer(enrollment).data)

    @extend_schema(responses=EnrollmentEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request: Request, pk: str) -> Response:
        enrollment = self.get_object()
        events = selectors.enrollment_history(enrollment=enrollment)
        return Response(EnrollmentEventSerializer(events, many=True).data)


# --- Payer rules ------------------------------------------------------------------------------


class PayerRuleSerializer(serializers.ModelSerializer):
    payer = TenantPK(Payer)

    class Meta:
        model = PayerProviderRule
        fields = ["id", *services.PAYER_RULE_FIELDS]
        read_only_fields = ["id"]
        validators: list[Any] = []  # The service reports a duplicate rule.


class PayerRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Which provider types each payer accepts (for all codes or one code)."""

    scope_area = "credentialing"
    serializer_class = PayerRuleSerializer

    def get_queryset(self) -> Any:
        return selectors.payer_rule_list()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.payer_rule_create(**serializer.validated_data)

    def perform_destroy(self, instance: PayerProviderRule) -> None:
        services.payer_rule_delete(rule=instance)


# --- Billability and the matrix ---------------------------------------------------------------


class BillabilityQuerySerializer(serializers.Serializer):
    provider = TenantPK(Provider)
    payer = TenantPK(Payer)
    date_of_service = serializers.DateField()
    service_code = serializers.CharField(
        max_length=10, required=False, allow_blank=True, default=""
    )
    service_facility = TenantPK(ServiceFacility, required=False, allow_null=True, default=None)


class BillabilitySerializer(serializers.Serializer):
    billable = serializers.BooleanField()
    code = serializers.CharField(help_text="enrolled, under_supervisor, not_enrolled, pending, ...")
    reason = serializers.CharField()
    under_supervisor = serializers.UUIDField(allow_null=True)


class BillabilityViewSet(viewsets.ViewSet):
    """May this provider bill this payer for this service on this date, and under whom?"""

    scope_area = "credentialing"

    @extend_schema(
        parameters=[
            OpenApiParameter("provider", str, required=True),
            OpenApiParameter("payer", str, required=True),
            OpenApiParameter("date_of_service", date, required=True),
            OpenApiParameter("service_code", str),
            OpenApiParameter("service_facility", str),
        ],
        responses=BillabilitySerializer,
    )
    def list(self, request: Request) -> Response:
        query = BillabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        d = query.validated_data
        result = services.provider_can_bill(
            d["provider"],
            d["payer"],
            d["date_of_service"],
            d["service_code"],
            service_facility=d["service_facility"],
        )
        return Response(
            {
                "billable": result.billable,
                "code": result.code,
                "reason": result.reason,
                "under_supervisor": result.under_supervisor.pk if result.under_supervisor else None,
            }
        )


class MatrixViewSet(viewsets.ViewSet):
    """The credentialing matrix: providers x active payers with each cell's standing today.
    `?status=gaps|none|not_started|submitted|in_process|approved|denied|terminated`."""

    scope_area = "credentialing"

    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("provider_type", str)],
        responses={200: dict},
    )
    def list(self, request: Request) -> Response:
        today = request_today(request)
        params = request.query_params
        matrix = selectors.enrollment_matrix(
            today=today,
            status=params.get("status", ""),
            provider_type=params.get("provider_type", ""),
            q=params.get("q", ""),
        )
        return Response(
            {
                "as_of": today,
                "payers": [{"id": p.pk, "name": p.name} for p in matrix.payers],
                "rows": [
                    {
                        "provider": {"id": r.provider.pk, "name": r.provider.display_name},
                        "cells": [
                            {
                                "payer": c.payer_id,
                                "state": c.state,
                                "label": c.label,
                                "effective_date": c.effective_date,
                                "termination_date": c.termination_date,
                                "enrollment": c.enrollment_id,
                                "locations": c.locations,
                                "matches": c.matches,
                            }
                            for c in r.cells
                        ],
                    }
                    for r in matrix.rows
                ],
            }
        )


def register(router: Any) -> None:
    router.register("credentialing/providers", ProviderViewSet, basename="credentialing-provider")
    router.register(
        "credentialing/credentials", CredentialViewSet, basename="credentialing-credential"
    )
    router.register("credentialing/facilities", FacilityViewSet, basename="credentialing-facility")
    router.register(
        "credentialing/enrollments", EnrollmentViewSet, basename="credentialing-enrollment"
    )
    router.register(
        "credentialing/payer-rules", PayerRuleViewSet, basename="credentialing-payer-rule"
    )
    router.register(
        "credentialing/billability", BillabilityViewSet, basename="credentialing-billability"
    )
    router.register("credentialing/matrix", MatrixViewSet, basename="credentialing-matrix")
