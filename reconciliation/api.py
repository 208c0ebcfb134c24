"""Reconciliation on the API (`denials:read` / `denials:write`, the remittance scopes): bank
accounts, deposits and the statement import, matches (list, create, undo with a reason), and
the three queues."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from denials.models import Payment
from rcm.api import JsonObjectParser, Part2HiddenListMixin, choice_query_param
from rcm.errors import DomainError
from rcm.tenancy.http import request_now, request_today, scopes_of
from reconciliation import selectors, services
from reconciliation.models import (
    BankAccount,
    Deposit,
    Match,
    StatementImport,
    UnderpaymentItem,
    UnderpaymentOutcome,
)


def _actor(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) else None


def _search(request: Request) -> str:
    return (request.query_params.get("search") or "").strip()[:100]


class BankAccountSerializer(serializers.ModelSerializer):
    account_last4 = serializers.CharField(read_only=True)

    class Meta:
        model = BankAccount
        fields = [
            "id",
            "name",
            "bank_name",
            "account_last4",
            "csv_date_column",
            "csv_date_format",
            "csv_amount_column",
            "csv_type_column",
            "csv_reference_column",
            "created_at",
        ]
        read_only_fields = fields


class BankAccountInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    bank_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    account_number = serializers.CharField(
        max_length=40, help_text="As the bank's BAI2 files give it (03 record)."
    )
    csv_date_column = serializers.CharField(max_length=60, required=False, default="Date")
    csv_date_format = serializers.CharField(
        max_length=20, required=False, default="%m/%d/%Y", help_text="strftime, e.g. %m/%d/%Y"
    )
    csv_amount_column = serializers.CharField(max_length=60, required=False, default="Amount")
    csv_type_column = serializers.CharField(
        max_length=60, required=False, default="Type", allow_blank=True
    )
    csv_reference_column = serializers.CharField(
        max_length=60, required=False, default="Description", allow_blank=True
    )


class BankAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The organization's bank accounts and their CSV column mappings."""

    serializer_class = BankAccountSerializer
    scope_area = "denials"

    def get_queryset(self) -> Any:
        return selectors.bank_accounts()

    @extend_schema(request=BankAccountInputSerializer, responses={201: BankAccountSerializer})
    def create(self, request: Request) -> Response:
        data = BankAccountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.bank_account_create(**data.validated_data)
        return Response(BankAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class DepositSerializer(serializers.ModelSerializer):
    matched = serializers.BooleanField(read_only=True)
    match = serializers.UUIDField(read_only=True, source="match_id", allow_null=True)

    class Meta:
        model = Deposit
        fields = [
            "id",
            "bank_account",
            "statement_import",
            "deposit_date",
            "amount",
            "kind",
            "type_code",
            "trace_number",
            "payer_identifier",
            "reference",
            "bank_reference",
            "matched",
            "match",
            "created_at",
        ]
        read_only_fields = fields


class QueueDepositSerializer(serializers.ModelSerializer):
    has_suggestion = serializers.BooleanField(
        read_only=True, help_text="An unmatched ERA of the same amount is dated nearby."
    )

    class Meta:
        model = Deposit
        fields = [
            "id",
            "bank_account",
            "deposit_date",
            "amount",
            "kind",
            "trace_number",
            "reference",
            "has_suggestion",
        ]
        read_only_fields = fields


class MismatchSerializer(serializers.ModelSerializer):
    era_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The unmatched ERA with the same trace (another amount).",
    )
    match = serializers.UUIDField(read_only=True, source="match_id", allow_null=True)
    match_deposit_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    match_payment_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    match_reason = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Deposit
        fields = [
            "id",
            "deposit_date",
            "amount",
            "trace_number",
            "era_amount",
            "match",
            "match_deposit_total",
            "match_payment_total",
            "match_reason",
        ]
        read_only_fields = fields


class StatementImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementImport
        fields = [
            "id",
            "bank_account",
            "file_name",
            "format",
            "deposits_created",
            "deposits_skipped",
            "debits_ignored",
            "auto_matched",
            "created_at",
        ]
        read_only_fields = fields


class ImportResultSerializer(serializers.Serializer):
    duplicate = serializers.BooleanField(
        help_text="The same file was imported before: nothing was imported now."
    )
    statement_import = StatementImportSerializer()


class DepositImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The BAI2 or CSV file (multipart)")
    file_name = serializers.CharField(required=False, max_length=200)
    content = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=20 * 1024 * 1024,
        help_text="Or the file's text (JSON)",
    )
    bank_account = serializers.UUIDField(
        required=False, allow_null=True, help_text="Required for a CSV (its column mapping)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("file") and not attrs.get("content"):
            raise serializers.ValidationError("Send the statement as `file` or as `content`.")
        return attrs


class DepositViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deposits read from bank statements, newest first. POST `import/` a BAI2 file or a CSV
    (with its bank account): all or nothing; a malformed file answers 400 naming its line."""

    serializer_class = DepositSerializer
    scope_area = "denials"
    parser_classes = [MultiPartParser, FormParser, JsonObjectParser]

    def get_queryset(self) -> Any:
        state = choice_query_param(self.request, "status", ["matched", "unmatched"])
        return selectors.deposits_list(search=_search(self.request), status=state)

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Trace, bank text or amount."),
            OpenApiParameter("status", str, enum=["matched", "unmatched"]),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=DepositImportSerializer,
        responses={201: ImportResultSerializer, 200: ImportResultSerializer},
        description="201: imported. 200: the same file was imported before; nothing imported.",
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_statement(self, request: Request) -> Response:
        data = DepositImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        outcome = services.statement_import(
            file_name=upload.name if upload else data.validated_data.get("file_name", "api"),
            content=upload.read() if upload else data.validated_data["content"],
            bank_account_id=data.validated_data.get("bank_account"),
            uploaded_by=_actor(request),
            now=request_now(request),
        )
        body = {
            "duplicate": outcome.duplicate,
            "statement_import": StatementImportSerializer(outcome.statement).data,
        }
        return Response(body, status=status.HTTP_200_OK if outcome.duplicate else 201)


class MatchSerializer(serializers.ModelSerializer):
    deposits = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()
    difference = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Match
        fields = [
            "id",
            "method",
            "deposits",
            "payments",
            "deposit_total",
            "payment_total",
            "difference",
            "reason",
            "matched_at",
            "active",
            "unmatch_reason",
            "unmatched_at",
        ]
        read_only_fields = fields

    def get_deposits(self, obj: Match) -> list[str]:
        return [str(link.deposit_id) for link in obj.deposit_links.all()]

    def get_payments(self, obj: Match) -> list[str]:
        return [str(link.payment_id) for link in obj.payment_links.all()]


class MatchInputSerializer(serializers.Serializer):
    deposits = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=100)
    payments = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=100, help_text="ERA (payment) ids."
    )
    reason = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=1000,
        help_text="Required when the totals differ.",
    )


class UnmatchInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class MatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Deposit ↔ ERA matches. Create one by hand (several of each allowed; totals must agree
    unless a reason is given); DELETE undoes one, with a `reason` (required)."""

    serializer_class = MatchSerializer
    scope_area = "denials"

    def get_queryset(self) -> Any:
        active = choice_query_param(self.request, "active", ["true", "false"])
        return selectors.matches_list(active=active)

    @extend_schema(parameters=[OpenApiParameter("active", str, enum=["true", "false"])])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MatchInputSerializer, responses={201: MatchSerializer})
    def create(self, request: Request) -> Response:
        data = MatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        match = services.match_create(
            deposit_ids=data.validated_data["deposits"],
            payment_ids=data.validated_data["payments"],
            reason=data.validated_data["reason"],
            actor=_actor(request),
            now=request_now(request),
        )
        fresh = selectors.matches_list(active="").get(pk=match.pk)
        return Response(MatchSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("reason", str, required=True, description="Why the match is undone.")
        ],
        responses={200: MatchSerializer},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        match = self.get_object()
        data = UnmatchInputSerializer(data={"reason": request.query_params.get("reason") or ""})
        if not data.is_valid():
            raise DomainError("Say why this match is undone.", field="reason")
        services.match_delete(
            match_id=match.pk,
            reason=data.validated_data["reason"],
            actor=_actor(request),
            now=request_now(request),
        )
        fresh = selectors.matches_list(active="").get(pk=match.pk)
        return Response(MatchSerializer(fresh).data)


class QueuePaymentSerializer(serializers.ModelSerializer):
    dated = serializers.DateField(read_only=True, help_text="Payment date (or arrival date).")

    class Meta:
        model = Payment
        fields = [
            "id",
            "payer_name",
            "payer_identifier",
            "trace_number",
            "method",
            "amount",
            "payment_date",
            "dated",
            "remittance_import",
        ]
        read_only_fields = fields


SEARCH = OpenApiParameter("search", OpenApiTypes.STR, description="Trace, payer/text or amount.")


class QueueViewSet(viewsets.GenericViewSet):
    """The reconciliation queues: ERAs without a deposit after the organization's N days,
    deposits without an ERA, and amount mismatches."""

    scope_area = "denials"
    serializer_class = QueueDepositSerializer

    def get_queryset(self) -> Any:  # the actions choose their own
        return selectors.deposits_without_era(search="", window=0)

    def _page(self, qs: Any, serializer: type[serializers.Serializer]) -> Response:
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(serializer(page, many=True).data)

    @extend_schema(parameters=[SEARCH], responses=QueuePaymentSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="eras-without-deposit")
    def eras_without_deposit(self, request: Request) -> Response:
        config = selectors.reconciliation_settings()
        qs = selectors.eras_without_deposit(
            today=request_today(request),
            days=config.era_without_deposit_days,
            search=_search(request),
        )
        return self._page(qs, QueuePaymentSerializer)

    @extend_schema(parameters=[SEARCH], responses=QueueDepositSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="deposits-without-era")
    def deposits_without_era(self, request: Request) -> Response:
        config = selectors.reconciliation_settings()
        qs = selectors.deposits_without_era(
            search=_search(request), window=config.suggestion_window_days
        )
        return self._page(qs, QueueDepositSerializer)

    @extend_schema(parameters=[SEARCH], responses=MismatchSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="amount-mismatches")
    def amount_mismatches(self, request: Request) -> Response:
        return self._page(selectors.amount_mismatches(search=_search(request)), MismatchSerializer)


class UnderpaymentSerializer(serializers.ModelSerializer):
    payer_name = serializers.CharField(source="payer.name", read_only=True)
    patient_control_number = serializers.CharField(
        source="claim.patient_control_number", read_only=True
    )
    contract = serializers.SerializerMethodField()

    class Meta:
        model = UnderpaymentItem
        fields = [
            "id",
            "claim",
            "patient_control_number",
            "payer",
            "payer_name",
            "service_code",
            "date_of_service",
            "remittance_date",
            "units",
            "contracted_allowed",
            "allowed",
            "patient_responsibility",
            "expected",
            "paid",
            "variance",
            "contract",
            "outcome",
            "recovered_amount",
            "resolution_reason",
            "resolved_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "service_code": {"type": "string"},
                "modifier": {"type": "string"},
                "education_level": {"type": "string"},
                "allowed": {"type": "string", "format": "decimal"},
                "effective_from": {"type": "string", "format": "date"},
            },
        }
    )
    def get_contract(self, obj: UnderpaymentItem) -> dict[str, Any]:
        rate = obj.contract_rate
        return {
            "id": str(rate.pk),
            "service_code": rate.service_code,
            "modifier": rate.modifier,
            "education_level": rate.education_level,
            "allowed": str(rate.allowed),
            "effective_from": rate.effective_from.isoformat(),
        }


class UnderpaymentResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[c for c in UnderpaymentOutcome.choices if c[0] != UnderpaymentOutcome.OPEN]
    )
    reason = serializers.CharField(max_length=1000)
    recovered_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Required (more than 0, at most the variance) when the outcome is recovered.",
    )


UNDERPAYMENT_FILTERS = [
    OpenApiParameter(
        "outcome", str, enum=list(UnderpaymentOutcome.values), description="Default: all."
    ),
    OpenApiParameter("search", str, description="Code, payer, claim number, last name or amount."),
]


class UnderpaymentViewSet(
    Part2HiddenListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Underpayments: 835 lines paid under their contract rate by more than the tolerance.
    `X-Part2-Hidden` says how many the caller's list left out (42 CFR Part 2); a Part 2 item
    answers 404 without the grant. `resolve` closes one with its outcome and a reason."""

    audit_phi = "reconciliation.underpayment"
    serializer_class = UnderpaymentSerializer
    scope_area = "denials"

    def _outcome(self) -> str:
        return choice_query_param(self.request, "outcome", list(UnderpaymentOutcome.values))

    def get_queryset(self) -> Any:
        return selectors.underpayments_list(
            scopes=scopes_of(self.request), search=_search(self.request), outcome=self._outcome()
        )

    def part2_hidden(self) -> int:
        return selectors.underpayments_hidden(
            scopes=scopes_of(self.request), search=_search(self.request), outcome=self._outcome()
        )

    @extend_schema(parameters=UNDERPAYMENT_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=UnderpaymentResolveSerializer, responses=UnderpaymentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        data = UnderpaymentResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.underpayment_resolve(
            scopes=scopes_of(request),
            item_id=item.pk,
            outcome=data.validated_data["outcome"],
            reason=data.validated_data["reason"],
            recovered_amount=data.validated_data["recovered_amount"],
            actor=_actor(request),
            now=request_now(request),
        )
        fresh = selectors.underpayment_detail(item.pk, scopes=scopes_of(request))
        return Response(UnderpaymentSerializer(fresh).data)


def register(router: Any) -> None:
    router.register("bank-accounts", BankAccountViewSet, basename="bank-account")
    router.register("deposits", DepositViewSet, basename="deposit")
    router.register("reconciliation-matches", MatchViewSet, basename="reconciliation-match")
    router.register("reconciliation-queues", QueueViewSet, basename="reconciliation-queue")
    router.register("underpayments", UnderpaymentViewSet, basename="underpayment")
