"""Denials on the API: upload an 835 and poll its job, payments, adjustments, remittance
exceptions (match, resolve), denials, work items (assign, update status), appeals with their
letters (PDF), parity flags.

42 CFR Part 2: every queryset comes from a selector narrowed by the caller's scopes, so a key or
member without the Part 2 grant gets no Part 2 row in a list, and 404 (as for a row that does
not exist) on one's detail or action. Lists say how many rows they left out in the
`X-Part2-Hidden` response header (0 when none)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from claims.models import Claim, ClaimLine
from denials import desk_api, selectors, services, status_api
from denials.letters import letter_pdf
from denials.models import (
    Appeal,
    AppealLevel,
    Denial,
    ExceptionKind,
    Payment,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceException,
    RemittanceImport,
    RemittanceLine,
    SecondaryClaim,
    WorkItem,
    WorkStatus,
)
from denials.posting import progress_get
from patients.selectors import notes_search
from rcm import part2
from rcm.api import (
    JsonObjectParser,
    Part2HiddenListMixin,
    choice_query_param,
    uuid_query_param,
)
from rcm.audit.services import audit_read
from rcm.errors import DomainError
from rcm.tenancy.http import request_today, scopes_of


def _actor(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) else None


class RemittanceImportSerializer(serializers.ModelSerializer):
    processed_claims = serializers.SerializerMethodField()

    class Meta:
        model = RemittanceImport
        fields = [
            "id",
            "file_name",
            "source",
            "status",
            "total_claims",
            "processed_claims",
            "summary",
            "error",
            "error_position",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_processed_claims(self, obj: RemittanceImport) -> int:
        return progress_get(obj)


class RemittanceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The 835 file (multipart)")
    file_name = serializers.CharField(required=False, max_length=200)
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="Or the 835 text (JSON)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("file") and not attrs.get("content"):
            raise serializers.ValidationError("Send the 835 as `file` or as `content`.")
        return attrs


class RemittanceImportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """835 imports. POST a file to import it; GET one to poll its progress and summary. A file
    that is not a balanced 835 answers 400 naming the segment position; nothing is posted."""

    audit_phi = "denials.remittanceimport"
    serializer_class = RemittanceImportSerializer
    scope_area = "denials"
    parser_classes = [MultiPartParser, FormParser, JsonObjectParser]

    def get_queryset(self) -> Any:
        return selectors.imports_list()

    @extend_schema(request=RemittanceUploadSerializer, responses={201: RemittanceImportSerializer})
    def create(self, request: Request) -> Response:
        data = RemittanceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        imp = services.remittance_import_create(
            file_name=upload.name if upload else data.validated_data.get("file_name", "api.835"),
            content=upload.read() if upload else data.validated_data["content"],
            source="api",
            uploaded_by=_actor(request),
        )
        if imp.status == "rejected":
            where = f" (segment {imp.error_position})" if imp.error_position else ""
            raise DomainError(f"{imp.error}{where}", field="file", code="rejected_835")
        return Response(RemittanceImportSerializer(imp).data, status=status.HTTP_201_CREATED)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "remittance_import",
            "payer",
            "payer_name",
            "payer_identifier",
            "trace_number",
            "amount",
            "credit_debit",
            "method",
            "payment_date",
            "provider_adjustment_total",
            "created_at",
        ]
        read_only_fields = fields


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    audit_phi = "denials.payment"
    serializer_class = PaymentSerializer
    scope_area = "denials"

    def get_queryset(self) -> Any:
        return Payment.objects.select_related("payer").order_by("-created_at")


class AdjustmentSerializer(serializers.ModelSerializer):
    payment = serializers.UUIDField(source="remittance_claim.payment_id", read_only=True)
    claim = serializers.UUIDField(source="remittance_claim.claim_id", read_only=True)
    claim_line = serializers.UUIDField(
        source="remittance_line.claim_line_id", read_only=True, allow_null=True
    )

    class Meta:
        model = RemittanceAdjustment
        fields = [
            "id",
            "payment",
            "claim",
            "claim_line",
            "group_code",
            "reason_code",
            "amount",
            "quantity",
        ]
        read_only_fields = fields


class AdjustmentViewSet(Part2HiddenListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """CAS adjustments; `?payment=<id>` for one payment's. `X-Part2-Hidden`: how many were left
    out (42 CFR Part 2)."""

    audit_phi = "denials.remittanceadjustment"
    serializer_class = AdjustmentSerializer
    scope_area = "denials"

    def get_queryset(self) -> Any:
        return selectors.adjustments_list(
            payment_id=uuid_query_param(self.request, "payment"), scopes=scopes_of(self.request)
        )

    def part2_hidden(self) -> int:
        return selectors.adjustments_hidden(
            payment_id=uuid_query_param(self.request, "payment"), scopes=scopes_of(self.request)
        )


class DenialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Denial
        fields = [
            "id",
            "claim",
            "claim_line",
            "payer",
            "group_code",
            "carc",
            "rarcs",
            "category",
            "amount",
            "fully_denied",
            "remittance_date",
            "appeal_deadline",
            "recoverable",
            "created_at",
        ]
        read_only_fields = fields


class DenialViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Denials; `?category=`, `?payer=`. `X-Part2-Hidden`: how many were left out (42 CFR
    Part 2); a Part 2 denial's detail answers 404 without the grant."""

    audit_phi = "denials.denial"
    serializer_class = DenialSerializer
    scope_area = "denials"

    def _filters(self) -> selectors.DenialFilter:
        return selectors.DenialFilter(
            category=self.request.query_params.get("category", ""),
            payer_id=uuid_query_param(self.request, "payer"),
        )

    def get_queryset(self) -> Any:
        return selectors.denials_list(self._filters(), scopes=scopes_of(self.request))

    def part2_hidden(self) -> int:
        return selectors.denials_hidden(self._filters(), scopes=scopes_of(self.request))


class WorkItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkItem
        fields = [
            "id",
            "kind",
            "source_id",
            "claim",
            "payer",
            "title",
            "category",
            "amount",
            "deadline",
            "priority_score",
            "status",
            "assignee",
            "next_follow_up",
            "is_due",
            "notes",
            "opened_on",
        ]
        read_only_fields = fields


class WorkItemDetailSerializer(WorkItemSerializer):
    record_notes = serializers.SerializerMethodField(
        help_text="Notes on the item's claim and denial (patients.Note), newest first"
    )

    class Meta(WorkItemSerializer.Meta):
        fields = [*WorkItemSerializer.Meta.fields, "record_notes"]
        read_only_fields = fields

    @extend_schema_field(desk_api.NoteOut(many=True))
    def get_record_notes(self, obj: WorkItem) -> Any:
        subjects = []
        if obj.claim_id:
            subjects.append(("claim", obj.claim_id))
        if obj.kind == "denial":
            subjects.append(("denial", obj.source_id))
        if not subjects:
            return []
        notes = notes_search(scopes=self.context["scopes"], subjects=subjects)
        return desk_api.NoteOut(notes, many=True).data


class AssignSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
    assignee = serializers.UUIDField(allow_null=True, help_text="A member's user id, or null")


class WorkItemUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WorkStatus.choices, required=False)
    next_follow_up = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class WorkItemViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The work queue, highest priority first. Filters: `?category=`, `?payer=`, `?assignee=`
    (a user id or `none`), `?age=` (days open at least), `?status=` (`all` or one status).
    `X-Part2-Hidden`: how many items of the filtered queue were left out (42 CFR Part 2)."""

    audit_phi = "denials.workitem"
    serializer_class = WorkItemSerializer
    scope_area = "denials"

    @extend_schema(responses=WorkItemDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One work item, with the notes on its claim and denial."""
        item = self.get_object()
        context = {"scopes": scopes_of(request)}
        return Response(WorkItemDetailSerializer(item, context=context).data)

    def get_queryset(self) -> Any:
        return selectors.work_queue(
            filters=self._filters(),
            today=request_today(self.request),
            scopes=scopes_of(self.request),
        )

    def part2_hidden(self) -> int:
        return selectors.work_queue_hidden(
            filters=self._filters(),
            today=request_today(self.request),
            scopes=scopes_of(self.request),
        )

    def _filters(self) -> selectors.QueueFilter:
        p = self.request.query_params
        assignee = p.get("assignee", "")
        age = p.get("age", "")
        return selectors.QueueFilter(
            category=p.get("category", ""),
            payer_id=uuid_query_param(self.request, "payer"),
            assignee_id=None
            if assignee in ("", "none")
            else uuid_query_param(self.request, "assignee"),
            unassigned=assignee == "none",
            min_age_days=int(age) if age.isdigit() else None,
            status=p.get("status", ""),
            kind=p.get("kind", ""),
        )

    @extend_schema(request=AssignSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def assign(self, request: Request) -> Response:
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.work_items_assign(
            item_ids=data.validated_data["items"],
            assignee=data.validated_data["assignee"],
            actor=_actor(request),
            scopes=scopes_of(request),
        )
        return Response({"assigned": count})

    @extend_schema(request=WorkItemUpdateSerializer, responses=WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def update_status(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        data = WorkItemUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.work_item_update(
            item=item, actor=_actor(request), today=request_today(request), **data.validated_data
        )
        return Response(WorkItemSerializer(item).data)


class AppealSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appeal
        fields = [
            "id",
            "denial",
            "level",
            "deadline",
            "submitted_on",
            "method",
            "outcome",
            "decided_on",
            "recovered_amount",
            "letter_body",
            "letter_updated_at",
        ]
        read_only_fields = fields


class AppealCreateSerializer(serializers.Serializer):
    denial = serializers.UUIDField()
    level = serializers.ChoiceField(choices=AppealLevel.choices)


class LetterSerializer(serializers.Serializer):
    letter_body = serializers.CharField(trim_whitespace=False)


class AppealSubmitSerializer(serializers.Serializer):
    submitted_on = serializers.DateField()
    method = serializers.CharField(max_length=20)


class AppealDecideSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="overturned, partial or upheld")
    decided_on = serializers.DateField()
    recovered_amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class AppealViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Appeals with their letters. A Part 2 appeal is left out of the list (`X-Part2-Hidden`
    says how many) and answers 404, its letter and actions too, without the grant; creating one
    for a Part 2 denial answers as for a denial that does not exist."""

    audit_phi = "denials.appeal"
    serializer_class = AppealSerializer
    scope_area = "denials"

    def get_queryset(self) -> Any:
        return selectors.appeals(scopes=scopes_of(self.request))

    def part2_hidden(self) -> int:
        return selectors.appeals_hidden(scopes=scopes_of(self.request))

    @extend_schema(request=AppealCreateSerializer, responses={201: AppealSerializer})
    def create(self, request: Request) -> Response:
        data = AppealCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        denial = (
            selectors.denials(scopes=scopes_of(request))
            .filter(pk=data.validated_data["denial"])
            .first()
        )
        if denial is None:
            raise serializers.ValidationError({"denial": ["Not found in this organization."]})
        appeal = services.appeal_create(
            denial=denial,
            level=data.validated_data["level"],
            today=request_today(request),
            actor=_actor(request),
        )
        return Response(
            AppealSerializer(appeal, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=LetterSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def letter(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        data = LetterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_letter_save(
            appeal=appeal, body=data.validated_data["letter_body"], actor=_actor(request)
        )
        return Response(AppealSerializer(appeal, context={"request": request}).data)

    @extend_schema(
        request=None, responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    @action(detail=True, methods=["get"], url_path="letter.pdf")
    def letter_pdf(self, request: Request, pk: str) -> HttpResponse:
        appeal = self.get_object()
        audit_read(
            obj=appeal,
            patient_id=appeal.denial.claim.patient_id,
            export="appeal_letter_pdf",
            part2=appeal.denial.claim.is_part2,
        )
        return HttpResponse(letter_pdf(appeal), content_type="application/pdf")

    @extend_schema(request=AppealSubmitSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        data = AppealSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_submit(
            appeal=appeal,
            actor=_actor(request),
            today=request_today(request),
            **data.validated_data,
        )
        return Response(AppealSerializer(appeal, context={"request": request}).data)

    @extend_schema(request=AppealDecideSerializer, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        data = AppealDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_decide(
            appeal=appeal,
            actor=_actor(request),
            today=request_today(request),
            **data.validated_data,
        )
        return Response(AppealSerializer(appeal, context={"request": request}).data)


class ExceptionPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "payer", "payer_name", "trace_number", "payment_date", "amount"]
        read_only_fields = fields


class ExceptionClaimSerializer(serializers.ModelSerializer):
    """The CLP; `claim` is our claim once matched."""

    class Meta:
        model = RemittanceClaim
        fields = [
            "id",
            "claim",
            "patient_control_number",
            "status_code",
            "charge",
            "paid",
            "patient_responsibility",
            "payer_claim_number",
            "remark_codes",
        ]
        read_only_fields = fields


class ExceptionAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemittanceAdjustment
        fields = ["group_code", "reason_code", "amount", "quantity"]
        read_only_fields = fields


class ExceptionLineSerializer(serializers.ModelSerializer):
    """The SVC; `claim_line` is our claim line once matched."""

    adjustments = ExceptionAdjustmentSerializer(many=True, read_only=True)

    class Meta:
        model = RemittanceLine
        fields = [
            "id",
            "claim_line",
            "service_code",
            "original_service_code",
            "line_control_number",
            "service_date",
            "charge",
            "paid",
            "allowed",
            "units",
            "remark_codes",
            "adjustments",
        ]
        read_only_fields = fields


class RemittanceExceptionSerializer(serializers.ModelSerializer):
    payment = ExceptionPaymentSerializer(source="remittance_claim.payment", read_only=True)
    remittance_claim = ExceptionClaimSerializer(read_only=True)
    remittance_line = ExceptionLineSerializer(read_only=True, allow_null=True)
    is_matched = serializers.BooleanField(
        read_only=True, help_text="Resolved by posting it to our claim (not dismissed)"
    )

    class Meta:
        model = RemittanceException
        fields = [
            "id",
            "kind",
            "message",
            "amount",
            "resolved",
            "is_matched",
            "resolution_note",
            "resolved_at",
            "remittance_import",
            "payment",
            "remittance_claim",
            "remittance_line",
            "created_at",
        ]
        read_only_fields = fields


class ExceptionMatchSerializer(serializers.Serializer):
    claim_line = serializers.UUIDField(
        required=False, help_text="For an unmatched line: a line of the claim the CLP matched"
    )
    claim = serializers.UUIDField(
        required=False, help_text="For an unmatched claim: the claim it is for"
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Post to a line that already has a payment from this same remittance claim",
    )

    def validate_claim_line(self, value: Any) -> ClaimLine:
        scopes = scopes_of(self.context["request"])
        line = selectors.matchable_claim_lines(scopes=scopes).filter(pk=value).first()
        if line is None:
            raise serializers.ValidationError("Not found in this organization.")
        return line

    def validate_claim(self, value: Any) -> Claim:
        scopes = scopes_of(self.context["request"])
        claim = selectors.matchable_claims(scopes=scopes).filter(pk=value).first()
        if claim is None:
            raise serializers.ValidationError("Not found in this organization.")
        return claim


class ExceptionResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, help_text="Why it is not ours")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "resolved", "all"], default="open"),
            OpenApiParameter("kind", str, enum=ExceptionKind.values),
        ]
    )
)
class RemittanceExceptionViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """CLPs and SVCs of 835s that matched none of our claims or lines. `?status=` (`open`, the
    default; `resolved`, `all`), `?kind=` (`unmatched_claim`, `unmatched_line`). `match` posts
    one to our claim line or claim exactly as the import would have; `resolve` closes one that
    is not ours. An exception whose CLP matched a Part 2 claim is left out (`X-Part2-Hidden` says
    how many) and answers 404 without the grant; unmatched ones are listed for everyone."""

    audit_phi = "denials.remittanceexception"
    serializer_class = RemittanceExceptionSerializer
    scope_area = "denials"

    def _filters(self) -> selectors.ExceptionFilter:
        return selectors.ExceptionFilter(
            status=choice_query_param(self.request, "status", ["open", "resolved", "all"])
            if self.action == "list"
            else "all",
            kind=choice_query_param(self.request, "kind", ExceptionKind.values),
        )

    def get_queryset(self) -> Any:
        return selectors.exceptions_list(
            self._filters(), scopes=scopes_of(self.request)
        ).prefetch_related("remittance_line__adjustments")

    def part2_hidden(self) -> int:
        return selectors.exceptions_hidden(self._filters(), scopes=scopes_of(self.request))

    def _answer(self, pk: Any) -> Response:
        return Response(RemittanceExceptionSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=ExceptionMatchSerializer, responses=RemittanceExceptionSerializer)
    @action(detail=True, methods=["post"])
    def match(self, request: Request, pk: str) -> Response:
        exception = self.get_object()
        data = ExceptionMatchSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.remittance_exception_match(
            exception=exception,
            actor=_actor(request),
            today=request_today(request),
            **data.validated_data,
        )
        return self._answer(exception.pk)

    @extend_schema(request=ExceptionResolveSerializer, responses=RemittanceExceptionSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        exception = self.get_object()
        data = ExceptionResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.remittance_exception_resolve(
            exception=exception,
            note=data.validated_data["note"],
            today=request_today(request),
            actor=_actor(request),
        )
        return self._answer(exception.pk)


class SecondaryClaimSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecondaryClaim
        fields = [
            "id",
            "primary_claim",
            "coverage",
            "payer",
            "amount",
            "primary_paid",
            "status",
            "claim",
            "created_at",
        ]
        read_only_fields = fields


class SecondaryClaimViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Balances moved to a secondary coverage after the primary paid; `?status=to_bill`,
    `crossed_over` or `billed` (its claim built). `build` builds the claim now (it is also built
    automatically after the 835 posts). Without the Part 2 grant a Part 2 balance is left out
    (`X-Part2-Hidden` says how many) and answers 404, `build` too."""

    audit_phi = "denials.secondaryclaim"
    serializer_class = SecondaryClaimSerializer
    scope_area = "claims"

    def get_queryset(self) -> Any:
        return selectors.secondaries_list(
            status=self.request.query_params.get("status", ""), scopes=scopes_of(self.request)
        )

    def part2_hidden(self) -> int:
        return selectors.secondaries_hidden(
            status=self.request.query_params.get("status", ""), scopes=scopes_of(self.request)
        )

    @extend_schema(request=None, responses=SecondaryClaimSerializer)
    @action(detail=True, methods=["post"])
    def build(self, request: Request, pk: str) -> Response:
        secondary = services.secondary_claim_build(
            secondary=self.get_object(), today=request_today(request), actor=_actor(request)
        )
        return Response(SecondaryClaimSerializer(secondary, context={"request": request}).data)


class ParityFlagSerializer(serializers.Serializer):
    kind = serializers.CharField()
    payer_id = serializers.UUIDField()
    payer_name = serializers.CharField()
    evidence = serializers.CharField()
    denial_id = serializers.UUIDField(allow_null=True)


class ParityFlagViewSet(viewsets.GenericViewSet):
    """Parity review flags over the last 12 months, with the evidence in words, computed over
    the rows the caller may see; `X-Part2-Hidden` says how many Part 2 claims and reviews were
    left out (42 CFR Part 2)."""

    serializer_class = ParityFlagSerializer
    scope_area = "denials"
    pagination_class = None

    def get_queryset(self) -> Any:
        return Denial.objects.none()

    @extend_schema(responses=ParityFlagSerializer(many=True))
    def list(self, request: Request) -> Response:
        review = selectors.parity_review(today=request_today(request), scopes=scopes_of(request))
        response = Response(
            ParityFlagSerializer([f.__dict__ for f in review.flags], many=True).data
        )
        response[part2.HIDDEN_HEADER] = str(review.part2_hidden)
        return response


def register(router: Any) -> None:
    router.register("remittances", RemittanceImportViewSet, basename="remittance")
    router.register("payments", PaymentViewSet, basename="payment")
    router.register("adjustments", AdjustmentViewSet, basename="adjustment")
    router.register(
        "remittance-exceptions", RemittanceExceptionViewSet, basename="remittance-exception"
    )
    router.register("denials", DenialViewSet, basename="denial")
    router.register("work-items", WorkItemViewSet, basename="work-item")
    router.register("appeals", AppealViewSet, basename="appeal")
    router.register("parity-flags", ParityFlagViewSet, basename="parity-flag")
    router.register("secondary-claims", SecondaryClaimViewSet, basename="secondary-claim")
    desk_api.register(router)
    status_api.register(router)
