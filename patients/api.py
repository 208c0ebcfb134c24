"""The patients API: payers, patients, coverages, verifications, episodes (with level-of-care
transitions), diagnoses and Part 2 consents. 42 CFR Part 2 detail only for callers with the
Part 2 grant (decided by the selectors through rcm.part2); every such read is recorded in the
audit trail."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from patients import models, selectors, services
from patients.levels import LevelOfCare
from rcm import part2
from rcm.api import CleanedFieldsMixin, ServiceUpdateViewSet, ServiceViewSet, uuid_query_param
from rcm.audit.services import audit_read, audit_record
from rcm.tenancy.http import request_now, request_today, scopes_of
from rcm.validators import PATIENT_CLEANERS, PAYER_CLEANERS, SUBSCRIBER_NAME_CLEANERS

CRUD = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)


# --- Payers -----------------------------------------------------------------------------------


class PayerSerializer(CleanedFieldsMixin, serializers.ModelSerializer):
    cleaners = PAYER_CLEANERS

    class Meta:
        model = models.Payer
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at"]


class PayerViewSet(ServiceUpdateViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin, *CRUD):  # type: ignore[misc]
    """Payers and their billing rules (claim form by level, filing and appeal windows, prior
    authorization lists, telehealth conventions)."""

    scope_area = "patients"
    serializer_class = input_serializer_class = PayerSerializer

    def get_queryset(self) -> Any:
        return selectors.payer_list()

    def perform_service_create(self, data: dict[str, Any]) -> models.Payer:
        return services.payer_create(**data)

    def perform_service_update(self, obj: models.Payer, data: dict[str, Any]) -> models.Payer:
        return services.payer_update(payer=obj, data=data)


# --- Patients ---------------------------------------------------------------------------------


class PatientSerializer(CleanedFieldsMixin, serializers.ModelSerializer):
    cleaners = PATIENT_CLEANERS

    class Meta:
        model = models.Patient
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at"]


class PatientViewSet(ServiceUpdateViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin, *CRUD):  # type: ignore[misc]
    """Patients. `?q=` searches name, MRN, date of birth or member id; `?status=` filters."""

    audit_phi = "patients.patient"
    scope_area = "patients"
    serializer_class = input_serializer_class = PatientSerializer

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("status", str)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)  # type: ignore[misc]

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return selectors.patient_search(query=params.get("q", ""), status=params.get("status", ""))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        audit_read(obj=patient, patient_id=patient.pk, channel="api")
        return Response(self.get_serializer(patient).data)

    def perform_service_create(self, data: dict[str, Any]) -> models.Patient:
        return services.patient_create(today=request_today(self.request), **data)

    def perform_service_update(self, obj: models.Patient, data: dict[str, Any]) -> models.Patient:
        return services.patient_update(patient=obj, data=data, today=request_today(self.request))


# --- Coverage and verifications ---------------------------------------------------------------


class CoverageSerializer(CleanedFieldsMixin, serializers.ModelSerializer):
    cleaners = SUBSCRIBER_NAME_CLEANERS

    patient = serializers.PrimaryKeyRelatedField(queryset=models.Patient.objects)
    payer = serializers.PrimaryKeyRelatedField(queryset=models.Payer.objects)

    class Meta:
        model = models.Coverage
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at"]


class CoverageUpdateSerializer(CoverageSerializer):
    class Meta(CoverageSerializer.Meta):
        read_only_fields = ["id", "created_at", "updated_at", "patient"]


class CoverageViewSet(
    ServiceUpdateViewSet,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    *CRUD,  # type: ignore[misc]
):
    """Coverage in coordination-of-benefits order (`priority`). `?patient=` filters."""

    audit_phi = "patients.coverage"
    scope_area = "patients"
    serializer_class = input_serializer_class = CoverageSerializer
    update_serializer_class = CoverageUpdateSerializer

    def get_queryset(self) -> Any:
        qs = models.Coverage.objects.select_related("payer")
        if patient := uuid_query_param(self.request, "patient"):
            qs = qs.filter(patient_id=patient)
        return qs

    def perform_service_create(self, data: dict[str, Any]) -> models.Coverage:
        return services.coverage_create(**data)

    def perform_service_update(self, obj: models.Coverage, data: dict[str, Any]) -> models.Coverage:
        return services.coverage_update(coverage=obj, data=data)


class VerificationSerializer(serializers.ModelSerializer):
    coverage = serializers.PrimaryKeyRelatedField(queryset=models.Coverage.objects)
    benefits = serializers.DictField(
        required=False,
        write_only=True,
        help_text="Benefit fields of the coverage confirmed by this verification",
    )
    verified_at = serializers.DateTimeField(required=False)

    class Meta:
        model = models.BenefitVerification
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at", "verified_by", "changes"]


class VerificationViewSet(ServiceViewSet, mixins.CreateModelMixin, *CRUD):  # type: ignore[misc]
    """Benefit verifications (phone, portal, 271). `?coverage=` filters."""

    audit_phi = "patients.benefitverification"
    scope_area = "patients"
    serializer_class = input_serializer_class = VerificationSerializer

    def get_queryset(self) -> Any:
        qs = models.BenefitVerification.objects.all()
        if coverage := uuid_query_param(self.request, "coverage"):
            qs = qs.filter(coverage_id=coverage)
        return qs

    def perform_service_create(self, data: dict[str, Any]) -> models.BenefitVerification:
        user = self.request.user if getattr(self.request.user, "pk", None) else None
        return services.coverage_verify(verified_by=user, **data)


# --- Episodes, stays, diagnoses (42 CFR Part 2 aware) ------------------------------------------


class StaySerializer(serializers.ModelSerializer):
    class Meta:
        model = models.LevelOfCareStay
        fields = [
            "id",
            "episode",
            "level",
            "start_date",
            "end_date",
            "transition",
            "reason",
            "clinical_justification",
            "created_at",
        ]


class DiagnosisSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.EpisodeDiagnosis
        fields = [
            "id",
            "episode",
            "code",
            "description",
            "rank",
            "is_primary",
            "effective_from",
            "effective_to",
            "created_at",
        ]


class EpisodeSerializer(serializers.ModelSerializer):
    stays = StaySerializer(many=True, read_only=True)
    diagnoses = DiagnosisSerializer(many=True, read_only=True)
    is_part2 = serializers.BooleanField(read_only=True)

    class Meta:
        model = models.EpisodeOfCare
        exclude = ["organization"]


class EpisodeOpenSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=models.Patient.objects)
    program_type = serializers.ChoiceField(choices=models.ProgramType.choices)
    admission_date = serializers.DateField()
    level = serializers.ChoiceField(choices=LevelOfCare.choices)
    referral_source = serializers.CharField(required=False, allow_blank=True, default="")
    clinical_justification = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LevelOfCare.choices)
    on_date = serializers.DateField()
    clinical_justification = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    end_current_on = serializers.DateField(required=False, allow_null=True, default=None)
    allow_gap = serializers.BooleanField(required=False, default=False)
    allow_overlap = serializers.BooleanField(required=False, default=False)


class DischargeSerializer(serializers.Serializer):
    discharge_date = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


def _record_part2_reads(episodes: list[models.EpisodeOfCare]) -> None:
    """Each patient's Part 2 episodes sent in full: a disclosure in the audit trail."""
    by_patient: dict[Any, list[str]] = {}
    for episode in episodes:
        if part2.is_part2(episode):
            by_patient.setdefault(episode.patient_id, []).append(str(episode.pk))
    for patient_id, ids in by_patient.items():
        audit_record(
            action="part2.api_read",
            object_type="patients.episodeofcare",
            patient_id=patient_id,
            detail={"episode_ids": ids},
            part2=True,
        )


class EpisodeViewSet(ServiceViewSet, mixins.CreateModelMixin, *CRUD):  # type: ignore[misc]
    """Episodes of care with their level-of-care stays and diagnoses. Substance use and
    co-occurring episodes are 42 CFR Part 2: without the grant they are left out of the list (the
    `X-Part2-Hidden` header says how many), and reading or acting on one is 404."""

    audit_phi = "patients.episodeofcare"
    scope_area = "patients"
    serializer_class = EpisodeSerializer
    input_serializer_class = EpisodeOpenSerializer

    def _all(self) -> Any:
        qs = models.EpisodeOfCare.objects.prefetch_related("stays", "diagnoses")
        if patient := uuid_query_param(self.request, "patient"):
            qs = qs.filter(patient_id=patient)
        return qs

    def get_queryset(self) -> Any:
        return part2.visible(self._all(), scopes_of(self.request))

    def _serialize(self, episodes: list[models.EpisodeOfCare]) -> list[dict[str, Any]]:
        _record_part2_reads(episodes)
        return [EpisodeSerializer(e).data for e in episodes]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        response = self.get_paginated_response(self._serialize(list(page or [])))
        response[part2.HIDDEN_HEADER] = str(part2.hidden_count(self._all(), scopes_of(request)))
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._serialize([self.get_object()])[0])

    def _writable(self) -> models.EpisodeOfCare:
        """The episode to act on: 404 when Part 2 keeps it from the caller."""
        return selectors.episode_get(pk=self.kwargs["pk"], scopes=scopes_of(self.request))

    def perform_service_create(self, data: dict[str, Any]) -> models.EpisodeOfCare:
        return services.episode_open(
            today=request_today(self.request), scopes=scopes_of(self.request), **data
        )

    @extend_schema(request=TransitionSerializer, responses={201: StaySerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Step down / step up: close the current stay and open the next level."""
        episode = self._writable()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stay = services.episode_transition_level(
            episode=episode, today=request_today(request), **data.validated_data
        )
        return Response(StaySerializer(stay).data, status=201)

    @extend_schema(request=DischargeSerializer, responses=EpisodeSerializer)
    @action(detail=True, methods=["post"])
    def discharge(self, request: Request, pk: str) -> Response:
        episode = self._writable()
        data = DischargeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            EpisodeSerializer(
                services.episode_discharge(episode=episode, **data.validated_data)
            ).data
        )


class StayViewSet(*CRUD):  # type: ignore[misc]
    """Level-of-care stays (the transitions history). `?episode=` filters."""

    audit_phi = "patients.levelofcarestay"
    scope_area = "patients"
    serializer_class = StaySerializer

    def get_queryset(self) -> Any:
        qs = selectors.stays_visible(scopes=scopes_of(self.request))
        if episode := uuid_query_param(self.request, "episode"):
            qs = qs.filter(episode_id=episode)
        return qs


class _VisibleEpisodeField(serializers.PrimaryKeyRelatedField):
    """An episode the caller may act on (42 CFR Part 2: a restricted one is "does not exist")."""

    def get_queryset(self) -> Any:
        return selectors.episodes_visible(scopes=scopes_of(self.context["request"]))


class DiagnosisInputSerializer(serializers.Serializer):
    episode = _VisibleEpisodeField()
    code = serializers.CharField(max_length=8)
    is_primary = serializers.BooleanField(required=False, default=False)
    effective_from = serializers.DateField(required=False, allow_null=True, default=None)


class DiagnosisEndSerializer(serializers.Serializer):
    effective_to = serializers.DateField()


class DiagnosisViewSet(ServiceViewSet, mixins.CreateModelMixin, *CRUD):  # type: ignore[misc]
    """ICD-10-CM diagnoses of episodes (validated against the code set). `?episode=` filters."""

    audit_phi = "patients.episodediagnosis"
    scope_area = "patients"
    serializer_class = DiagnosisSerializer
    input_serializer_class = DiagnosisInputSerializer

    def get_queryset(self) -> Any:
        qs = selectors.diagnoses_visible(scopes=scopes_of(self.request))
        if episode := uuid_query_param(self.request, "episode"):
            qs = qs.filter(episode_id=episode)
        return qs

    def perform_service_create(self, data: dict[str, Any]) -> models.EpisodeDiagnosis:
        return services.diagnosis_add(**data)

    @extend_schema(request=DiagnosisEndSerializer, responses=DiagnosisSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        diagnosis = self.get_object()
        data = DiagnosisEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            DiagnosisSerializer(
                services.diagnosis_end(diagnosis=diagnosis, **data.validated_data)
            ).data
        )


# --- 42 CFR Part 2 consents --------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=models.Patient.objects)
    recipient_payer = serializers.PrimaryKeyRelatedField(
        queryset=models.Payer.objects, required=False, allow_null=True
    )
    status = serializers.SerializerMethodField()

    class Meta:
        model = models.Consent
        exclude = ["organization"]
        read_only_fields = ["id", "created_at", "updated_at", "revoked_at", "revocation_note"]

    def get_status(self, obj: models.Consent) -> str:
        # The view puts the organization's date in the context once per request.
        return selectors.consent_status(obj, today=self.context["today"]).label


class ConsentRevokeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class ConsentViewSet(ServiceViewSet, mixins.CreateModelMixin, *CRUD):  # type: ignore[misc]
    """Part 2 consents (reading needs the Part 2 grant; recording also `patients:write`)."""

    audit_phi = "patients.consent"
    required_scopes = {
        "GET": part2.GRANT,
        "HEAD": part2.GRANT,
        "OPTIONS": part2.GRANT,
        "POST": "patients:write",
    }
    serializer_class = input_serializer_class = ConsentSerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        selectors.consents_readable(scopes=scopes_of(request))  # recording one too (403)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": request_today(self.request)}  # type: ignore[misc]

    def get_queryset(self) -> Any:
        return selectors.consent_list(
            scopes=scopes_of(self.request), patient_id=uuid_query_param(self.request, "patient")
        )

    def perform_service_create(self, data: dict[str, Any]) -> models.Consent:
        return services.consent_create(**data)

    @extend_schema(request=ConsentRevokeSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        data = ConsentRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_revoke(
            consent=self.get_object(), note=data.validated_data.get("note", "")
        )
        return Response(ConsentSerializer(consent, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("patient", str, required=True),
            OpenApiParameter("payer", str, required=True),
            OpenApiParameter("purpose", str, enum=models.ConsentPurpose.values),
            OpenApiParameter("date", str),
        ],
        responses=inline_serializer(
            "ConsentCheck",
            {
                "covered": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "consent": serializers.UUIDField(allow_null=True),
            },
        ),
    )
    @action(detail=False, methods=["get"])
    def check(self, request: Request) -> Response:
        """Does a consent cover disclosing this patient's Part 2 records to this payer?"""
        params = CheckSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        patient: models.Patient = get_object_or_404(models.Patient.objects, pk=data["patient"])
        payer: models.Payer = get_object_or_404(models.Payer.objects, pk=data["payer"])
        decision = services.consent_covers(
            patient=patient,
            payer=payer,
            purpose=data["purpose"],
            on_date=data.get("date") or request_today(request),
            now=request_now(request),
        )
        return Response(
            {
                "covered": decision.covered,
                "reason": decision.reason,
                "consent": getattr(decision.consent, "pk", None),
            }
        )


class CheckSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    payer = serializers.UUIDField()
    purpose = serializers.ChoiceField(
        choices=models.ConsentPurpose.choices, default=models.ConsentPurpose.PAYMENT
    )
    date = serializers.DateField(required=False)


def register(router: Any) -> None:
    router.register("payers", PayerViewSet, basename="payer")
    router.register("patients", PatientViewSet, basename="patient")
    router.register("coverages", CoverageViewSet, basename="coverage")
    router.register("verifications", VerificationViewSet, basename="verification")
    router.register("episodes", EpisodeViewSet, basename="episode")
    router.register("level-of-care-stays", StayViewSet, basename="stay")
    router.register("diagnoses", DiagnosisViewSet, basename="diagnosis")
    router.register("consents", ConsentViewSet, basename="consent")
