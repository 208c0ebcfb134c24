"""API of claim status (276/277): ask payers about claims and read their answers, one row per
claim asked about. POST asks about one claim or a selection (one 276 per payer); a clearinghouse
with real-time claim status answers at once, otherwise the row waits for the 277 ("sent")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from claims.models import Claim
from denials.claimstatus import (
    claim_status_check,
    claim_status_inquiries,
    claim_status_inquiries_hidden,
)
from rcm import part2
from rcm.api import Part2HiddenListMixin
from rcm.tenancy.http import request_now, request_today, scopes_of
from submissions.models import ClaimStatusInquiry, ClaimStatusTransport

MONEY = {"max_digits": 12, "decimal_places": 2}


class ClaimStatusOut(serializers.ModelSerializer):
    claim = serializers.PrimaryKeyRelatedField(read_only=True)
    patient_control_number = serializers.CharField(source="claim.patient_control_number")
    payer = serializers.CharField(source="request.payer.name")
    request_reference = serializers.CharField(source="request.reference", help_text="276 BHT03")
    transport = serializers.CharField(source="request.transport")
    request_status = serializers.CharField(
        source="request.status", help_text="queued, sent (waiting), answered, no_answer, error"
    )
    request_error = serializers.CharField(source="request.error")
    requested_at = serializers.DateTimeField(source="request.requested_at")
    total_charge = serializers.DecimalField(**MONEY, allow_null=True)
    payment_amount = serializers.DecimalField(**MONEY, allow_null=True)

    class Meta:
        model = ClaimStatusInquiry
        fields = [
            "id", "claim", "patient_control_number", "payer", "trace_number",
            "request_reference", "transport", "request_status", "request_error", "requested_at",
            "answered_at", "category_code", "status_code", "entity_code", "action",
            "status_text", "codes", "payer_claim_control_number", "adjudication_date",
            "paid_date", "total_charge", "payment_amount", "check_number", "message",
            "superseded", "outcome",
        ]  # fmt: skip
        read_only_fields = fields


class ClaimStatusCheckIn(serializers.Serializer):
    claims = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=100,
        help_text="Ids of submitted or accepted claims (1 to 100)",
    )  # fmt: skip
    transport = serializers.ChoiceField(
        choices=ClaimStatusTransport.choices,
        default=ClaimStatusTransport.REALTIME,
        help_text="Preferred: real time when the clearinghouse supports it, else batch",
    )


class ClaimStatusViewSet(
    Part2HiddenListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Claim status: each claim asked about (276) with the payer's answer (277): category and
    status codes with their text, the payer's claim number, adjudication and paid dates,
    amounts, and what Parity did (a denial or follow-up work item). `?claim=` keeps one claim's.
    Another organization's claim, or a Part 2 claim without the grant, is 404."""

    audit_phi = "claims.claim"
    scope_area = "claims"
    serializer_class = ClaimStatusOut

    def _claim_id(self) -> Any:
        raw = self.request.query_params.get("claim", "")
        if not raw:
            return None
        try:
            return serializers.UUIDField().to_internal_value(raw)
        except serializers.ValidationError:
            raise NotFound("No such claim.") from None

    def get_queryset(self) -> Any:
        return claim_status_inquiries(scopes=scopes_of(self.request), claim_id=self._claim_id())

    def part2_hidden(self) -> int:
        return claim_status_inquiries_hidden(
            scopes=scopes_of(self.request), claim_id=self._claim_id()
        )

    @extend_schema(
        parameters=[OpenApiParameter("claim", OpenApiTypes.UUID, required=False)],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ClaimStatusCheckIn, responses={201: ClaimStatusOut(many=True)})
    def create(self, request: Request) -> Response:
        data = ClaimStatusCheckIn(data=request.data)
        data.is_valid(raise_exception=True)
        ids = set(data.validated_data["claims"])
        scopes = scopes_of(request)
        claims = list(part2.visible(Claim.objects.filter(pk__in=ids), scopes))
        if len(claims) != len(ids):
            raise NotFound("One of the claims was not found.")
        made = claim_status_check(
            claims=claims,
            now=request_now(request),
            today=request_today(request),
            source="api",
            actor=request.user if getattr(request.user, "pk", None) else None,
            prefer=data.validated_data["transport"],
        )
        rows = claim_status_inquiries(scopes=scopes).filter(request__in=made)
        return Response(ClaimStatusOut(rows, many=True).data, status=201)


def register(router: Any) -> None:
    router.register("claim-statuses", ClaimStatusViewSet, basename="claim-status")
