"""The claims API: charges (with Idempotency-Key), claims (build, scrub, transition, correct,
void with the payer), findings, and the fee schedule.

42 CFR Part 2: every queryset comes from a selector narrowed by the caller's scopes, so a key or
member without the Part 2 grant gets no Part 2 charge, claim or finding in a list, and 404 (as
for a row that does not exist) on one's detail or action; building bills only the charges the
caller may see. Lists say how many rows they left out in the `X-Part2-Hidden` header."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from claims import selectors, services
from claims.models import (
    CARE_PROGRAMS,
    SERVICE_KINDS,
    TELEHEALTH,
    CareMinutes,
    CareMonth,
    ChargeMasterItem,
    Claim,
    ClaimFinding,
    ClaimLine,
    ClaimStatus,
    ContractRate,
    ServiceEntry,
)
from credentialing.models import Provider, ServiceFacility
from patients.models import EpisodeOfCare, Patient, Payer
from rcm import part2
from rcm.api import INTEGER_MAX, Part2HiddenListMixin, ServiceViewSet, uuid_query_param
from rcm.tenancy.http import request_now, request_today, scopes_of


def _actor(request: Request) -> Any:
    """The member calling, or None for an API key (its audit events name the key)."""
    return request.user if getattr(request.user, "pk", None) else None


LIST = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


class ServiceEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceEntry
        exclude = ["organization", "idempotency_key"]


class ServiceEntryInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects)
    # The episodes the caller may see (42 CFR Part 2), set per request in __init__.
    episode = serializers.PrimaryKeyRelatedField(queryset=EpisodeOfCare.objects)
    rendering_provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects)
    supervising_provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects, required=False, allow_null=True
    )
    service_facility = serializers.PrimaryKeyRelatedField(
        queryset=ServiceFacility.objects, required=False, allow_null=True
    )
    date_of_service = serializers.DateField()
    kind = serializers.ChoiceField(choices=SERVICE_KINDS)
    service_code = serializers.CharField(max_length=5, required=False, allow_blank=True, default="")
    units = serializers.IntegerField(
        max_value=INTEGER_MAX, min_value=1, required=False, allow_null=True
    )
    modifiers = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list
    )
    start_at = serializers.DateTimeField(required=False, allow_null=True)
    end_at = serializers.DateTimeField(required=False, allow_null=True)
    telehealth = serializers.ChoiceField(choices=TELEHEALTH, required=False, default="")
    place_of_service = serializers.CharField(
        max_length=2, required=False, allow_blank=True, default=""
    )
    diagnosis_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_null=True
    )
    group_session_id = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    program_minutes = serializers.IntegerField(
        max_value=INTEGER_MAX, min_value=0, required=False, allow_null=True
    )
    services_delivered = serializers.CharField(required=False, allow_blank=True, default="")
    documentation_ref = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default=""
    )
    documentation_signed = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["episode"].queryset = selectors.charge_episodes(  # type: ignore[attr-defined]
            scopes=scopes_of(request) if request is not None else frozenset()
        )


class ServiceEntryViewSet(
    Part2HiddenListMixin,
    ServiceViewSet,
    mixins.CreateModelMixin,
    *LIST,  # type: ignore[misc]
):
    """Charges (`?status=`). Send an `Idempotency-Key` header when creating: a retry with the
    same key returns the charge already recorded (200) instead of recording it twice."""

    audit_phi = "claims.serviceentry"
    scope_area = "claims"
    serializer_class = ServiceEntrySerializer
    input_serializer_class = ServiceEntryInputSerializer

    def get_queryset(self) -> Any:
        return selectors.charges(
            scopes=scopes_of(self.request), status=self.request.query_params.get("status", "")
        )

    def part2_hidden(self) -> int:
        return selectors.charges_hidden(
            scopes=scopes_of(self.request), status=self.request.query_params.get("status", "")
        )

    @extend_schema(parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "")[:120]
        if existing := services.service_entry_replay(
            idempotency_key=key, scopes=scopes_of(request)
        ):
            response = Response(self.get_serializer(existing).data, status=status.HTTP_200_OK)
            response["Idempotent-Replayed"] = "true"
            return response
        self._key = key
        return super().create(request, *args, **kwargs)

    def perform_service_create(self, data: dict[str, Any]) -> ServiceEntry:
        return services.service_entry_create(
            idempotency_key=getattr(self, "_key", ""),
            today=request_today(self.request),
            scopes=scopes_of(self.request),
            **data,
        )


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimLine
        exclude = ["organization", "claim"]


class FindingSerializer(serializers.ModelSerializer):
    line_number = serializers.IntegerField(
        source="line.line_number", allow_null=True, read_only=True
    )

    class Meta:
        model = ClaimFinding
        fields = ["id", "claim", "line_number", "rule", "severity", "field", "message", "fix_hint"]


class ClaimSerializer(serializers.ModelSerializer):
    lines = LineSerializer(many=True, read_only=True)
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = Claim
        exclude = ["organization"]


class ClaimTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ClaimStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


REASON_FIELD = {
    "max_length": 200,
    "help_text": "Why the claim changes: kept in the claim's history (its timeline) and audited",
}


class ClaimLineUpdateSerializer(serializers.Serializer):
    """A line of a claim the payer does not have (draft, ready, rejected at the front door);
    only the fields given change."""

    reason = serializers.CharField(**REASON_FIELD)  # type: ignore[arg-type]
    service_code = serializers.RegexField(r"^[A-Za-z0-9]{5}$", required=False)
    modifiers = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z0-9]{2}$"), max_length=4, required=False
    )
    units = serializers.IntegerField(min_value=1, max_value=9999, required=False)
    charge = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    date_of_service = serializers.DateField(required=False)
    place_of_service = serializers.RegexField(r"^[0-9]{2}$", required=False)
    diagnosis_pointers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=12),
        min_length=1,
        max_length=4,
        required=False,
        help_text="1-based positions in the claim's diagnosis codes",
    )


class ClaimLineDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(**REASON_FIELD)  # type: ignore[arg-type]
    void_charge = serializers.BooleanField(
        default=False,
        help_text="Void the charge behind the line too (else it goes back to the open charges)",
    )


class ClaimRescrubSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="What was fixed (the patient's address...); required for a rejected claim",
    )


LINE_ID = "lines/<uuid:line_id>"


class BuildSerializer(serializers.Serializer):
    charges = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="Default: every open charge"
    )


class ClaimViewSet(Part2HiddenListMixin, *LIST):  # type: ignore[misc]
    """Claims with their lines and scrubber findings. Filters: `status`, `payer`, `provider`,
    `from`, `to` (service dates)."""

    audit_phi = "claims.claim"
    scope_area = "claims"
    serializer_class = ClaimSerializer

    def _filters(self) -> selectors.ClaimFilters:
        p = self.request.query_params
        return selectors.ClaimFilters(
            status=p.get("status", ""),
            payer=uuid_query_param(self.request, "payer"),
            provider=uuid_query_param(self.request, "provider"),
            date_from=p.get("from") or None,
            date_to=p.get("to") or None,
        )

    def get_queryset(self) -> Any:
        return selectors.claim_list(
            filters=self._filters(),
            scopes=scopes_of(self.request),
            today=request_today(self.request),
        ).prefetch_related("lines", "findings__line")

    def part2_hidden(self) -> int:
        return selectors.claim_list_hidden(
            filters=self._filters(),
            scopes=scopes_of(self.request),
            today=request_today(self.request),
        )

    @extend_schema(
        request=BuildSerializer,
        responses={
            201: inline_serializer(
                "BuildResult",
                {
                    "claims": serializers.ListField(child=serializers.UUIDField()),
                    "skipped": serializers.DictField(child=serializers.CharField()),
                    "part2_hidden": serializers.IntegerField(
                        help_text="Open charges left out: the caller may not see them (42 CFR "
                        "Part 2)"
                    ),
                },
            )
        },
    )
    @action(detail=False, methods=["post"])
    def build(self, request: Request) -> Response:
        """Build claims from open charges (the ones given, or all) and scrub them. Charges the
        caller may not see (42 CFR Part 2) are not billed: given ids of them are ignored like
        unknown ones, and building all says how many were left out in `part2_hidden` (and the
        `X-Part2-Hidden` header)."""
        data = BuildSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.claims_build(
            entry_ids=data.validated_data.get("charges"),
            today=request_today(request),
            scopes=scopes_of(request),
        )
        response = Response(
            {
                "claims": [c.pk for c in report.claims],
                "skipped": report.skipped,
                "part2_hidden": report.part2_hidden,
            },
            status=201,
        )
        response[part2.HIDDEN_HEADER] = str(report.part2_hidden)
        return response

    @extend_schema(request=None, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def scrub(self, request: Request, pk: str) -> Response:
        claim = self.get_object()
        services.claims_scrub(claim_ids=[claim.pk], today=request_today(request))
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=ClaimTransitionSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        claim = self.get_object()
        data = ClaimTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.claim_transition(
            claim=claim, to_status=data.validated_data["status"], note=data.validated_data["note"]
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=None, responses={201: ClaimSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str) -> Response:
        """A replacement claim (frequency 7) citing the payer's claim control number (REF*F8).
        400 with the reason for a claim the payer never accepted (no payer claim control
        number), a void claim, a claim with a replacement or void not yet accepted, or past the
        days the payer allows for corrected claims (its `corrected_claim_days` rule)."""
        copy = services.claim_correct(
            claim=self.get_object(), today=request_today(request), actor=_actor(request)
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=copy.pk)).data, status=201)

    @extend_schema(request=None, responses={201: ClaimSerializer})
    @action(detail=True, methods=["post"], url_path="void-with-payer")
    def void_with_payer(self, request: Request, pk: str) -> Response:
        """A void claim (frequency 8) asking the payer to cancel the original; refused as a
        replacement is."""
        copy = services.claim_void_with_payer(
            claim=self.get_object(), today=request_today(request), actor=_actor(request)
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=copy.pk)).data, status=201)

    def _line(self, claim: Claim, line_id: str) -> ClaimLine:
        line = ClaimLine.objects.filter(claim=claim, pk=line_id).first()
        if line is None:
            raise NotFound("No such line on this claim.")
        return line

    @extend_schema(request=ClaimLineUpdateSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["patch"], url_path=LINE_ID)
    def line_update(self, request: Request, pk: str, line_id: str) -> Response:
        """Correct a line of a claim the payer does not have yet (draft, ready, or rejected at
        the front door by a 999 or 277CA), with a reason. The claim is scrubbed again (a
        rejected one goes back to draft, then ready when clean, for the next batch). Any other
        status: 400 naming it (once the payer has it, send a replacement claim instead)."""
        claim = self.get_object()
        line = self._line(claim, line_id)
        data = ClaimLineUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.claim_line_update(
            line=line, today=request_today(request), actor=_actor(request), **data.validated_data
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=ClaimLineDeleteSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], url_path=LINE_ID + "/delete")
    def line_delete(self, request: Request, pk: str, line_id: str) -> Response:
        """Take a line off a claim the payer does not have yet, with a reason; the other lines
        are renumbered and the claim scrubbed again. Its charge goes back to the open charges,
        or is voided with `void_charge`. The only line of a claim cannot be deleted (void the
        claim instead)."""
        claim = self.get_object()
        line = self._line(claim, line_id)
        data = ClaimLineDeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.claim_line_delete(
            line=line, today=request_today(request), actor=_actor(request), **data.validated_data
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)

    @extend_schema(request=ClaimRescrubSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def rescrub(self, request: Request, pk: str) -> Response:
        """Scrub a claim the payer does not have again after a fix made elsewhere (the
        patient's address, the coverage). A rejected claim needs the `reason`: it goes back to
        draft, then to ready when clean, for the next batch."""
        claim = self.get_object()
        data = ClaimRescrubSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.claim_rescrub(
            claim=claim,
            today=request_today(request),
            actor=_actor(request),
            reason=data.validated_data["reason"],
        )
        return Response(ClaimSerializer(self.get_queryset().get(pk=claim.pk)).data)


class FindingViewSet(Part2HiddenListMixin, *LIST):  # type: ignore[misc]
    """Scrubber findings across claims. `?rule=`, `?severity=`."""

    audit_phi = "claims.claimfinding"
    scope_area = "claims"
    serializer_class = FindingSerializer

    def _filters(self) -> dict[str, str]:
        p = self.request.query_params
        return {"rule": p.get("rule", ""), "severity": p.get("severity", "")}

    def get_queryset(self) -> Any:
        return selectors.findings(scopes=scopes_of(self.request), **self._filters())

    def part2_hidden(self) -> int:
        return selectors.findings_hidden(scopes=scopes_of(self.request), **self._filters())


class ChargeMasterSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargeMasterItem
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ChargeMasterViewSet(ServiceViewSet, mixins.CreateModelMixin, *LIST):  # type: ignore[misc]
    """The charge master: code (+ modifier) -> charge, with effective dates."""

    scope_area = "claims"
    serializer_class = input_serializer_class = ChargeMasterSerializer

    def get_queryset(self) -> Any:
        return ChargeMasterItem.objects.all()

    def perform_service_create(self, data: dict[str, Any]) -> ChargeMasterItem:
        return services.charge_master_set(**data)


class ContractRateSerializer(serializers.ModelSerializer):
    payer = serializers.PrimaryKeyRelatedField(queryset=Payer.objects)

    class Meta:
        model = ContractRate
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ContractRateViewSet(ServiceViewSet, mixins.CreateModelMixin, *LIST):  # type: ignore[misc]
    """Contracted allowed amounts per payer, code, modifier and licensure level."""

    scope_area = "claims"
    serializer_class = input_serializer_class = ContractRateSerializer

    def get_queryset(self) -> Any:
        return ContractRate.objects.all()

    def perform_service_create(self, data: dict[str, Any]) -> ContractRate:
        return services.contract_rate_set(**data)


class CareMinutesSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareMinutes
        exclude = ["organization", "recorded_by"]


class CareMinutesInputSerializer(serializers.Serializer):
    # The episodes the caller may see (42 CFR Part 2), set per request in __init__.
    episode = serializers.PrimaryKeyRelatedField(queryset=EpisodeOfCare.objects)
    program = serializers.ChoiceField(choices=CARE_PROGRAMS)
    staff_name = serializers.CharField(max_length=120)
    performed_on = serializers.DateField()
    minutes = serializers.IntegerField(min_value=1, max_value=600)
    activity = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["episode"].queryset = selectors.charge_episodes(  # type: ignore[attr-defined]
            scopes=scopes_of(request) if request is not None else frozenset()
        )


class CareMinutesViewSet(
    Part2HiddenListMixin,
    ServiceViewSet,
    mixins.CreateModelMixin,
    *LIST,  # type: ignore[misc]
):
    """Staff minutes of monthly care management (collaborative care, behavioral health
    integration): each entry adds to the patient's calendar month; a month already rolled up
    takes no more minutes (400)."""

    audit_phi = "claims.careminutes"
    scope_area = "claims"
    serializer_class = CareMinutesSerializer
    input_serializer_class = CareMinutesInputSerializer

    def get_queryset(self) -> Any:
        return selectors.care_minutes(scopes=scopes_of(self.request))

    def part2_hidden(self) -> int:
        return selectors.care_minutes_hidden(scopes=scopes_of(self.request))

    def perform_service_create(self, data: dict[str, Any]) -> CareMinutes:
        return services.care_minutes_add(
            patient=data["episode"].patient,  # the audit trail names the key that recorded it
            today=request_today(self.request),
            scopes=scopes_of(self.request),
            **data,
        )


class CareMonthSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareMonth
        exclude = ["organization", "confirmed_by"]


class CareMonthConfirmSerializer(serializers.Serializer):
    rendering_provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects)


class CareMonthViewSet(Part2HiddenListMixin, *LIST):  # type: ignore[misc]
    """Rolled-up care-management months (`?status=proposed|nothing|confirmed`, `?q=` patient):
    the minutes, the charges they support or why none. `confirm` records a proposed month's
    charges once; a month already billed or with nothing to bill answers 400."""

    audit_phi = "claims.caremonth"
    scope_area = "claims"
    serializer_class = CareMonthSerializer

    def get_queryset(self) -> Any:
        p = self.request.query_params
        return selectors.care_months(
            scopes=scopes_of(self.request), q=p.get("q", ""), status=p.get("status", "")
        )

    def part2_hidden(self) -> int:
        p = self.request.query_params
        return selectors.care_months_hidden(
            scopes=scopes_of(self.request), q=p.get("q", ""), status=p.get("status", "")
        )

    @extend_schema(request=CareMonthConfirmSerializer, responses=CareMonthSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        month = self.get_object()
        data = CareMonthConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        confirmed = services.care_month_confirm(
            care_month=month,
            rendering_provider=data.validated_data["rendering_provider"],
            actor=None,  # an API key is no user; the audit trail names the key
            now=request_now(request),
            today=request_today(request),
            scopes=scopes_of(request),
        )
        return Response(CareMonthSerializer(confirmed).data)


def register(router: Any) -> None:
    router.register("charges", ServiceEntryViewSet, basename="charge")
    router.register("claims", ClaimViewSet, basename="claim")
    router.register("claim-findings", FindingViewSet, basename="finding")
    router.register("care-minutes", CareMinutesViewSet, basename="careminutes")
    router.register("care-months", CareMonthViewSet, basename="caremonth")
    router.register("fee-schedule/charges", ChargeMasterViewSet, basename="chargemaster")
    router.register("fee-schedule/contract-rates", ContractRateViewSet, basename="contractrate")
