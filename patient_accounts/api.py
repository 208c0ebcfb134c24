"""Patient accounts on the API (`patient_accounts:read` / `patient_accounts:write`; approving a
refund needs `patient_accounts:approve`): guarantors, the ledger (read), charge balances,
patient payments (created with an Idempotency-Key header, so a payment processor or a patient
portal can retry safely) and refunds. Ids are UUIDs; another organization's records are 404s.
42 CFR Part 2: lists are narrowed by rcm.part2 and say how many rows were kept back
(`X-Part2-Hidden`); the balance is withheld (null) from a caller who cannot see every entry."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from patient_accounts import selectors, services
from patient_accounts import statements as statement_services
from patient_accounts.models import (
    ChargeBalance,
    CollectionPlacement,
    Guarantor,
    LedgerEntry,
    PatientPayment,
    PatientRefund,
    PaymentMethod,
    Relationship,
    Statement,
)
from patients.models import Patient
from rcm import part2
from rcm.api import Conflict, Part2HiddenListMixin, uuid_query_param
from rcm.audit.services import audit_read
from rcm.errors import DomainError
from rcm.tenancy.http import org_request, request_now, request_today, scopes_of

CRUD = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)
APPROVE = "patient_accounts:approve"
MONEY_FIELD = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}
PATIENT_PARAM = OpenApiParameter("patient", str, description="A patient's id.")


def _patient_filter(request: Request, qs: Any) -> Any:
    patient = uuid_query_param(request, "patient")
    return qs.filter(patient_id=patient) if patient else qs


# --- Guarantors --------------------------------------------------------------------------------


class GuarantorSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField(
        help_text="Null when none is recorded: the patient is their own guarantor."
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Guarantor
        fields = [
            "id",
            "patient",
            "relationship",
            "first_name",
            "last_name",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "updated_at",
        ]
        read_only_fields = fields

    def get_id(self, obj: Guarantor) -> uuid.UUID | None:
        return None if obj._state.adding else obj.pk


class GuarantorInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects)
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    first_name = serializers.CharField(max_length=35, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=55, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=55, required=False, allow_blank=True)
    city = serializers.CharField(max_length=30, required=False, allow_blank=True)
    state = serializers.CharField(max_length=2, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class GuarantorViewSet(*CRUD):  # type: ignore[misc]
    """Guarantors recorded (a patient without one is their own guarantor). POST sets a
    patient's guarantor (self, or another person with name and mailing address)."""

    audit_phi = "patient_accounts.guarantor"
    scope_area = "patient_accounts"
    serializer_class = GuarantorSerializer

    def get_queryset(self) -> Any:
        return _patient_filter(self.request, Guarantor.objects.order_by("-updated_at", "pk"))

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=GuarantorInputSerializer, responses={200: GuarantorSerializer})
    def create(self, request: Request) -> Response:
        data = GuarantorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        patient = values.pop("patient")
        guarantor = services.guarantor_set(patient=patient, data=values)
        return Response(GuarantorSerializer(guarantor).data)


# --- Ledger ------------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    charge = serializers.UUIDField(source="charge_balance_id", read_only=True, allow_null=True)
    balance_after = serializers.SerializerMethodField(
        help_text="The account's patient balance after this entry; null when withheld (Part 2)."
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "patient",
            "charge",
            "kind",
            "posted_on",
            "patient_amount",
            "insurance_amount",
            "balance_after",
            "description",
            "payment",
            "refund",
            "write_off",
        ]
        read_only_fields = fields

    def get_balance_after(self, obj: LedgerEntry) -> str | None:
        withheld = self.context.get("withheld", False)
        return None if withheld else str(obj.balance_after)


class LedgerEntryViewSet(Part2HiddenListMixin, *CRUD):  # type: ignore[misc]
    """The ledger's entries, in posting order; `?patient=` for one account. Running balances are
    null for a caller from whom 42 CFR Part 2 entries of that account are hidden."""

    audit_phi = "patient_accounts.ledgerentry"
    scope_area = "patient_accounts"
    serializer_class = LedgerEntrySerializer

    def _base(self) -> Any:
        return _patient_filter(self.request, LedgerEntry.objects.all())

    def get_queryset(self) -> Any:
        return part2.visible(self._base(), scopes_of(self.request)).order_by("patient", "sequence")

    def part2_hidden(self) -> int:
        return part2.hidden_count(self._base(), scopes_of(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["withheld"] = self.part2_hidden() > 0
        return context

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class LedgerSummarySerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    balance = serializers.DecimalField(allow_null=True, **MONEY_FIELD)
    credit = serializers.DecimalField(**MONEY_FIELD)
    withheld = serializers.BooleanField(
        help_text="True when 42 CFR Part 2 entries are hidden from the caller: balance and "
        "aging are then null."
    )
    hidden = serializers.IntegerField()
    aging = serializers.DictField(
        child=serializers.DecimalField(**MONEY_FIELD),
        allow_null=True,
        help_text='Open balance by days since the first statement: "0-30", "31-60", "61-90", '
        '"over 90".',
    )
    guarantor = GuarantorSerializer()


class LedgerViewSet(viewsets.GenericViewSet):
    """A patient's account in sum: balance, unapplied credit, aging, guarantor (by patient id)."""

    audit_phi = "patient_accounts.ledgerentry"
    scope_area = "patient_accounts"
    serializer_class = LedgerSummarySerializer

    def get_queryset(self) -> Any:
        return Patient.objects.all()

    def retrieve(self, request: Request, pk: str) -> Response:
        patient = get_object_or_404(self.get_queryset(), pk=pk)
        ledger = selectors.patient_ledger(
            patient=patient, scopes=scopes_of(request), today=request_today(request)
        )
        body = {
            "patient": patient.pk,
            "balance": ledger.balance,
            "credit": ledger.credit,
            "withheld": ledger.withheld,
            "hidden": ledger.hidden,
            "aging": ledger.aging,
            "guarantor": ledger.guarantor,
        }
        return Response(LedgerSummarySerializer(body).data)


class ChargeBalanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargeBalance
        fields = [
            "id",
            "patient",
            "claim",
            "date_of_service",
            "procedure_code",
            "billed",
            "insurance_paid",
            "adjusted",
            "patient_responsibility",
            "patient_paid",
            "written_off",
            "balance",
            "responsible_since",
            "first_statement_on",
        ]
        read_only_fields = fields


class ChargeBalanceViewSet(Part2HiddenListMixin, *CRUD):  # type: ignore[misc]
    """The patient's side of each charge (what a payment's `allocations` name); `?patient=`."""

    audit_phi = "patient_accounts.chargebalance"
    scope_area = "patient_accounts"
    serializer_class = ChargeBalanceSerializer

    def _base(self) -> Any:
        return _patient_filter(self.request, ChargeBalance.objects.all())

    def get_queryset(self) -> Any:
        qs = part2.visible(self._base(), scopes_of(self.request))
        return qs.order_by("date_of_service", "pk")

    def part2_hidden(self) -> int:
        return part2.hidden_count(self._base(), scopes_of(self.request))

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


# --- Payments ----------------------------------------------------------------------------------


class PatientPaymentAllocationInputSerializer(serializers.Serializer):
    charge = serializers.UUIDField(help_text="A charge balance's id.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))


class PatientPaymentInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    received_on = serializers.DateField()
    check_number = serializers.CharField(
        max_length=30, required=False, default="", allow_blank=True
    )
    processor_reference = serializers.CharField(
        max_length=80, required=False, default="", allow_blank=True
    )
    card_last_four = serializers.CharField(
        max_length=4,
        required=False,
        default="",
        allow_blank=True,
        help_text="The last four digits only: Parity refuses anything like a card number.",
    )
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    placement = serializers.PrimaryKeyRelatedField(
        queryset=CollectionPlacement.objects, required=False, allow_null=True, default=None
    )
    allocations = PatientPaymentAllocationInputSerializer(
        many=True,
        required=False,
        max_length=100,
        help_text="Charges to apply the payment to; without them, the oldest open balances.",
    )


class PatientPaymentAllocationSerializer(serializers.ModelSerializer):
    charge = serializers.UUIDField(source="charge_balance_id", read_only=True, allow_null=True)
    amount = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["charge", "amount"]
        read_only_fields = fields

    def get_amount(self, obj: LedgerEntry) -> str:
        return str(-obj.patient_amount)


class PatientPaymentSerializer(serializers.ModelSerializer):
    allocations = serializers.SerializerMethodField(
        help_text="Where the payment went: a charge each, or null for unapplied credit."
    )

    class Meta:
        model = PatientPayment
        fields = [
            "id",
            "patient",
            "method",
            "amount",
            "received_on",
            "check_number",
            "processor_reference",
            "card_last_four",
            "placement",
            "note",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PatientPaymentAllocationSerializer(many=True))
    def get_allocations(self, obj: PatientPayment) -> list[dict[str, Any]]:
        scopes = self.context.get("scopes", frozenset())
        rows = selectors.payment_allocations(payment=obj, scopes=scopes)
        return PatientPaymentAllocationSerializer(rows, many=True).data  # type: ignore[return-value]


class PaymentViewSet(Part2HiddenListMixin, *CRUD):  # type: ignore[misc]
    """Patient payments, newest first; `?patient=`. Create needs an `Idempotency-Key` header:
    the same key with the same body answers the first payment (200, `Idempotent-Replayed:
    true`); with another body, 409."""

    audit_phi = "patient_accounts.patientpayment"
    scope_area = "patient_accounts"
    serializer_class = PatientPaymentSerializer

    def get_queryset(self) -> Any:
        return _patient_filter(self.request, selectors.payment_list())

    def part2_hidden(self) -> int:
        return 0  # payments are the account's, not a Part 2 record's; allocations are narrowed

    def get_serializer_context(self) -> dict[str, Any]:
        return super().get_serializer_context() | {"scopes": scopes_of(self.request)}

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=PatientPaymentInputSerializer,
        responses={201: PatientPaymentSerializer, 200: PatientPaymentSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                location=OpenApiParameter.HEADER,
                required=True,
                description="A unique key per payment (up to 100 characters), e.g. the "
                "processor's transaction id.",
            )
        ],
    )
    def create(self, request: Request) -> Response:
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 100:
            raise DomainError(
                "Send an Idempotency-Key header of 1 to 100 characters.", field="Idempotency-Key"
            )
        data = PatientPaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        allocations = [
            services.Allocation(a["charge"], a["amount"]) for a in values.pop("allocations", [])
        ]
        digest = services.request_digest(request.data if isinstance(request.data, dict) else {})
        try:
            result = services.payment_record(
                scopes=scopes_of(request),
                today=request_today(request),
                allocations=allocations,
                idempotency_key=key,
                digest=digest,
                recorded_by=request.user if getattr(request.user, "pk", None) else None,
                **values,
            )
        except DomainError as exc:
            if exc.code == "idempotency_conflict":
                raise Conflict(exc.message) from exc
            raise
        body = PatientPaymentSerializer(result.payment, context=self.get_serializer_context()).data
        response = Response(body, status=201 if result.created else 200)
        if not result.created:
            response["Idempotent-Replayed"] = "true"
        return response


# --- Refunds -----------------------------------------------------------------------------------


class PatientRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatientRefund
        fields = [
            "id",
            "patient",
            "amount",
            "reason",
            "status",
            "approved_at",
            "recorded_on",
            "reference",
            "created_at",
        ]
        read_only_fields = fields


class PatientRefundInputSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=200)


class PatientRefundRecordSerializer(serializers.Serializer):
    recorded_on = serializers.DateField()
    reference = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)


class RefundViewSet(*CRUD):  # type: ignore[misc]
    """Refunds of an account's unapplied credit: requested (POST), approved by a member or key
    with `patient_accounts:approve` who did not request it, then recorded when paid out."""

    audit_phi = "patient_accounts.patientrefund"
    scope_area = "patient_accounts"
    # Set per action (approve, refuse); the others follow `scope_area`.
    required_scopes: dict[str, str] | None = None
    serializer_class = PatientRefundSerializer

    def get_queryset(self) -> Any:
        return _patient_filter(self.request, selectors.refund_list())

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _user(self) -> Any:
        return self.request.user if getattr(self.request.user, "pk", None) else None

    @extend_schema(request=PatientRefundInputSerializer, responses={201: PatientRefundSerializer})
    def create(self, request: Request) -> Response:
        data = PatientRefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.refund_request(requested_by=self._user(), **data.validated_data)
        return Response(PatientRefundSerializer(refund).data, status=201)

    @extend_schema(request=None, responses=PatientRefundSerializer)
    @action(detail=True, methods=["post"], required_scopes={"POST": APPROVE})
    def approve(self, request: Request, pk: str) -> Response:
        """Approve (needs `patient_accounts:approve`)."""
        refund = self.get_object()
        refund = services.refund_approve(
            refund=refund, approver=self._user(), now=request_now(request)
        )
        return Response(PatientRefundSerializer(refund).data)

    @extend_schema(request=None, responses=PatientRefundSerializer)
    @action(detail=True, methods=["post"], required_scopes={"POST": APPROVE})
    def refuse(self, request: Request, pk: str) -> Response:
        """Refuse (needs `patient_accounts:approve`)."""
        refund = self.get_object()
        refund = services.refund_refuse(refund=refund, approver=self._user())
        return Response(PatientRefundSerializer(refund).data)

    @extend_schema(request=PatientRefundRecordSerializer, responses=PatientRefundSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: str) -> Response:
        """Record an approved refund as paid out: it leaves the account's credit."""
        refund = self.get_object()
        data = PatientRefundRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.refund_record(
            refund=refund, today=request_today(request), **data.validated_data
        )
        return Response(PatientRefundSerializer(refund).data)


# --- Statements --------------------------------------------------------------------------------


class StatementSerializer(serializers.ModelSerializer):
    cycle = serializers.CharField(source="run.cycle", read_only=True)
    run = serializers.UUIDField(source="run_id", read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "run",
            "cycle",
            "patient",
            "statement_date",
            "guarantor_name",
            "previous_balance",
            "insurance_paid",
            "amount_due",
            "aging",
            "message_level",
            "message",
            "lines",
            "charges",
        ]
        read_only_fields = fields


class StatementViewSet(Part2HiddenListMixin, *CRUD):  # type: ignore[misc]
    """The statements sent (the history), newest first; `?patient=` for one account. A
    statement with a 42 CFR Part 2 service is hidden from a caller without the grant (counted in
    `X-Part2-Hidden`). `pdf` is the statement as mailed."""

    audit_phi = "patient_accounts.statement"
    scope_area = "patient_accounts"
    serializer_class = StatementSerializer

    def _base(self) -> Any:
        return _patient_filter(self.request, Statement.objects.all())

    def get_queryset(self) -> Any:
        return (
            part2.visible(self._base(), scopes_of(self.request))
            .select_related("run")
            .order_by("-statement_date", "guarantor_name", "pk")
        )

    def part2_hidden(self) -> int:
        return part2.hidden_count(self._base(), scopes_of(self.request))

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None, responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    @action(detail=True, methods=["get"], url_path="pdf")
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        statement = self.get_object()
        audit_read(
            obj=statement, patient_id=statement.patient_id, export="statement_pdf",
            part2=statement.part2,
        )  # fmt: skip
        pdf = statement_services.statement_pdf(
            [statement], organization=org_request(request).organization
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statement-{statement.pk}.pdf"'
        return response


def register(router: Any) -> None:
    router.register("patient-accounts/guarantors", GuarantorViewSet, basename="pa-guarantor")
    router.register("patient-accounts/ledgers", LedgerViewSet, basename="pa-ledger")
    router.register("patient-accounts/ledger-entries", LedgerEntryViewSet, basename="pa-entry")
    router.register("patient-accounts/charges", ChargeBalanceViewSet, basename="pa-charge")
    router.register("patient-accounts/payments", PaymentViewSet, basename="pa-payment")
    router.register("patient-accounts/refunds", RefundViewSet, basename="pa-refund")
    router.register("patient-accounts/statements", StatementViewSet, basename="pa-statement")
