"""API of the billing desk: the money on a claim (the same figures as the claim page, from
denials.account) and notes on patients, claims and denials (list, search and create)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from claims.models import Claim
from denials.account import claim_account
from denials.notes import note_add
from patients import selectors as patient_selectors
from patients.models import Note, NoteSubject
from rcm import part2
from rcm.api import Part2HiddenListMixin
from rcm.audit.services import audit_read
from rcm.tenancy.http import scopes_of

MONEY = {"max_digits": 12, "decimal_places": 2}


class AdjustmentOut(serializers.Serializer):
    group = serializers.CharField()
    group_text = serializers.CharField()
    reason = serializers.CharField(help_text="CARC")
    text = serializers.CharField(help_text="The CARC's meaning, in our own words")
    amount = serializers.DecimalField(**MONEY)
    is_denial = serializers.BooleanField()


class PaidByOut(serializers.Serializer):
    position = serializers.IntegerField(help_text="1 primary, 2 secondary, ...")
    amount = serializers.DecimalField(**MONEY)


class MoneyOut(serializers.Serializer):
    billed = serializers.DecimalField(**MONEY)
    allowed = serializers.DecimalField(**MONEY, allow_null=True)
    paid = serializers.DecimalField(**MONEY)
    paid_by = serializers.SerializerMethodField()
    adjusted = serializers.DecimalField(**MONEY)
    denied = serializers.DecimalField(**MONEY)
    adjustments = AdjustmentOut(many=True)
    patient_responsibility = serializers.DecimalField(**MONEY)
    insurance_balance = serializers.DecimalField(**MONEY)
    patient_balance = serializers.DecimalField(**MONEY)
    written_off = serializers.DecimalField(**MONEY)
    unbalanced = serializers.DecimalField(
        **MONEY, help_text="By how much the payer's own figures do not balance (0 when they do)"
    )

    @extend_schema_field(PaidByOut(many=True))  # type: ignore[misc]
    def get_paid_by(self, obj: Any) -> list[dict[str, Any]]:
        return [{"position": k, "amount": v} for k, v in sorted(obj.paid_by.items())]


class LineMoneyOut(MoneyOut):
    line_id = serializers.UUIDField(source="line.pk")
    line_number = serializers.IntegerField(source="line.line_number")
    service_code = serializers.CharField(source="line.service_code")
    date_of_service = serializers.DateField(source="line.date_of_service")


class PayerOut(serializers.Serializer):
    position = serializers.IntegerField()
    label = serializers.CharField()
    name = serializers.CharField()
    claim_id = serializers.UUIDField()
    patient_control_number = serializers.CharField()


class LinkOut(serializers.Serializer):
    id = serializers.UUIDField(source="pk")


class ClaimAccountOut(serializers.Serializer):
    claim_id = serializers.UUIDField(source="claim.pk")
    payers = PayerOut(many=True)
    lines = LineMoneyOut(many=True)
    total = MoneyOut()
    payment_ids = serializers.SerializerMethodField()
    denial_ids = serializers.SerializerMethodField()
    appeal_ids = serializers.SerializerMethodField()
    secondary_claim_ids = serializers.SerializerMethodField()

    def get_payment_ids(self, obj: Any) -> list[str]:
        return [str(p.pk) for p in obj.payments]

    def get_denial_ids(self, obj: Any) -> list[str]:
        return [str(d.pk) for d in obj.denials]

    def get_appeal_ids(self, obj: Any) -> list[str]:
        return [str(a.pk) for a in obj.appeals]

    def get_secondary_claim_ids(self, obj: Any) -> list[str]:
        return [str(c.pk) for c in obj.secondary_claims]


class ClaimAccountViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The money on one claim, by its claim id: per line and in total, billed, allowed, paid by
    each payer (primary, secondary...), adjustments by group and CARC with its meaning, patient
    responsibility, insurance and patient balance (billed = paid + adjusted + balances), and the
    ids of its payments, denials, appeals and secondary claims. The claim page shows the same
    figures. Another organization's claim, or a Part 2 claim without the grant, is 404."""

    audit_phi = "claims.claim"
    scope_area = "claims"
    serializer_class = ClaimAccountOut

    def get_queryset(self) -> Any:
        return part2.visible(
            Claim.objects.select_related("payer", "patient"), scopes_of(self.request)
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        claim = self.get_object()
        audit_read(obj=claim, patient_id=claim.patient_id, part2=claim.is_part2)
        account = claim_account(claim=claim, scopes=scopes_of(request))
        return Response(ClaimAccountOut(account).data)


class NoteOut(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "patient",
            "subject_type",
            "subject_id",
            "body",
            "author",
            "part2",
            "corrects",
            "corrected_at",
            "retracted_at",
            "retraction_reason",
            "is_current",
            "created_at",
        ]
        read_only_fields = fields

    def get_author(self, obj: Note) -> str:
        return obj.author.email if obj.author else ""

    def to_representation(self, instance: Note) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if instance.retracted_at is not None:
            data["body"] = ""  # a retracted note is kept for the audit trail, not shown
        return data


class NoteIn(serializers.Serializer):
    subject_type = serializers.ChoiceField(choices=NoteSubject.choices)
    subject_id = serializers.UUIDField()
    body = serializers.CharField(max_length=5000, allow_blank=True)
    part2_content = serializers.BooleanField(
        default=False, help_text="A patient note holding SUD treatment detail (42 CFR Part 2)"
    )


@extend_schema(
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="Text the note contains"),
        OpenApiParameter("patient", OpenApiTypes.UUID, description="One patient's notes"),
        OpenApiParameter("subject_type", OpenApiTypes.STR, enum=NoteSubject.values),
        OpenApiParameter("subject_id", OpenApiTypes.UUID),
    ]
)
class NoteViewSet(
    Part2HiddenListMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Notes on patients, claims and denials, newest first; `?q=` searches their text,
    `?patient=` one patient's, `?subject_type=&subject_id=` one subject's. Notes are append-only
    (corrections are new notes that name the one they correct). A Part 2 claim's or denial's
    note is left out without the Part 2 grant (`X-Part2-Hidden` says how many). Creating a note
    on a subject the caller cannot see is 404; an empty note is 400 naming `body`."""

    audit_phi = "patients.note"
    scope_area = "claims"
    serializer_class = NoteOut

    def _filters(self) -> dict[str, Any]:
        """The query's filters; a filter given with a value it cannot hold (blank included) is a
        400 naming it, never ignored."""
        params = self.request.query_params
        out: dict[str, Any] = {"query": params.get("q", "")}
        errors: dict[str, str] = {}
        uuids: dict[str, Any] = {}
        for name in ("patient", "subject_id"):
            if name in params:
                try:
                    uuids[name] = serializers.UUIDField().to_internal_value(params[name])
                except serializers.ValidationError:
                    errors[name] = "Must be a valid UUID."
        subject_type = params.get("subject_type")
        if subject_type is not None and subject_type not in NoteSubject.values:
            errors["subject_type"] = (
                f"Unknown subject type; one of {', '.join(NoteSubject.values)}."
            )
        if ("subject_type" in params) != ("subject_id" in params):
            missing = "subject_id" if "subject_type" in params else "subject_type"
            errors.setdefault(missing, "Give subject_type and subject_id together.")
        if errors:
            raise serializers.ValidationError(errors)
        if "patient" in uuids:
            out["patient_id"] = uuids["patient"]
        if subject_type is not None:
            out["subjects"] = [(subject_type, uuids["subject_id"])]
        return out

    def get_queryset(self) -> Any:
        return patient_selectors.notes_search(scopes=scopes_of(self.request), **self._filters())

    def part2_hidden(self) -> int:
        filters = self._filters()
        filters.pop("query", None)
        return patient_selectors.notes_hidden(scopes=scopes_of(self.request), **filters)

    @extend_schema(request=NoteIn, responses={201: NoteOut})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            note = note_add(author=request.user, scopes=scopes_of(request), **data.validated_data)
        except LookupError as exc:
            raise NotFound("No such subject.") from exc
        return Response(NoteOut(note).data, status=201)


def register(router: Any) -> None:
    router.register("claim-accounts", ClaimAccountViewSet, basename="claim-account")
    router.register("notes", NoteViewSet, basename="note")
