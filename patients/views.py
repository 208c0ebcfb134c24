"""Billing staff's patient screens: list and search, the patient page (coverage in COB order,
verifications, episodes on a level-of-care timeline, diagnoses, consents) and every form.

42 CFR Part 2 is decided by the selectors and services with the member's scopes (rcm.part2):
a restricted episode shows only that it exists, and its forms are 404."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme

from patients import selectors, services
from patients.forms import (
    ConsentForm,
    ConsentRevokeForm,
    CoverageForm,
    DiagnosisForm,
    DischargeForm,
    EpisodeOpenForm,
    ImportForm,
    PatientForm,
    PatientSearchForm,
    PayerForm,
    TransitionForm,
    VerificationForm,
)
from patients.importer import COLUMNS, patients_import_csv, template_rows
from patients.models import Coverage, EpisodeOfCare, Patient, Payer
from rcm import csv_export, part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ, WRITE = "patients:read", "patients:write"


def _patient_url(request: OrgRequest, patient_id: object) -> str:
    return org_reverse(request, "patients:detail", pk=patient_id)


def _next(request: OrgRequest) -> str:
    """The page that sent the user to an edit form (`next`, such as the claim being fixed), if
    it is a path inside this organization; else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    organization_prefix = org_reverse(request, "patients:list").removesuffix("patients/")
    if target.startswith(organization_prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return ""


@require_scope(READ)
@audit_phi("patients.patient")
def patient_list(request: OrgRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    patients = selectors.patient_search(query=data.get("q", ""), status=data.get("status", ""))
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    return render(
        request,
        template,
        {"form": form, "page": page, "searched": bool(data.get("q"))},
    )


@require_scope(READ, post=WRITE)
def patient_create(request: OrgRequest) -> HttpResponse:
    return handle_form(
        request,
        PatientForm(request.POST or None),
        action=lambda data: services.patient_create(today=request_today(request), **data),
        check=lambda data: services.patient_check(
            patient=None, data=data, today=request_today(request)
        ),
        success_url=lambda p: _patient_url(request, p.pk),
        success_message=lambda p: f"Patient {p.display_name} ({p.mrn}) created.",
        template="patients/form.html",
        context={"title": "New patient"},
    )


@require_scope(READ)
@audit_phi("patients.patient")
def patient_detail(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient = selectors.patient_detail(pk=patient.pk)
    today, scopes = request_today(request), scopes_of(request)
    episodes = selectors.episode_cards(patient, scopes=scopes, today=today)
    consents = selectors.patient_consents(patient, scopes=scopes, today=today)
    # A page that shows Part 2 detail (an SUD episode, a consent) is a Part 2 read in the trail.
    shown_part2 = any(part2.is_part2(c.episode) and not c.restricted for c in episodes)
    audit_read(obj=patient, patient_id=patient.pk, part2=shown_part2 or bool(consents))
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "coverages": selectors.cob_order(list(patient.coverages.all()), today=today),
            "episodes": episodes,
            "consents": consents,
            "today": today,
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.patient")
def patient_edit(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = PatientForm(request.POST or None, instance=Patient.objects.get(pk=pk))
    return handle_form(
        request,
        form,
        action=lambda data: services.patient_update(
            patient=patient, data=data, today=request_today(request)
        ),
        check=lambda data: services.patient_check(
            patient=patient, data=data, today=request_today(request)
        ),
        success_url=_next(request) or _patient_url(request, patient.pk),
        success_message="Patient saved.",
        template="patients/form.html",
        context={
            "title": f"Edit {patient.display_name}",
            "patient": patient,
            "next": _next(request),
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.coverage")
def coverage_create(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    return handle_form(
        request,
        CoverageForm(request.POST or None),
        action=lambda data: services.coverage_create(patient=patient, **data),
        success_url=_patient_url(request, patient.pk),
        success_message=lambda c: f"Coverage with {c.payer} added.",
        template="patients/form.html",
        context={"title": "Add coverage", "patient": patient},
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.coverage")
def coverage_edit(request: OrgRequest, pk: str) -> HttpResponse:
    coverage = get_object_or_404(Coverage.objects.select_related("patient"), pk=pk)
    return handle_form(
        request,
        CoverageForm(request.POST or None, instance=Coverage.objects.get(pk=pk)),
        action=lambda data: services.coverage_update(coverage=coverage, data=data),
        success_url=_next(request) or _patient_url(request, coverage.patient_id),
        success_message="Coverage saved.",
        template="patients/form.html",
        context={
            "title": f"Edit coverage: {coverage.payer}",
            "patient": coverage.patient,
            "next": _next(request),
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.coverage")
def coverage_verify(request: OrgRequest, pk: str) -> HttpResponse:
    coverage = get_object_or_404(Coverage.objects.select_related("patient", "payer"), pk=pk)
    form = VerificationForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.coverage_verify(
            coverage=coverage, verified_by=request.user, **form.service_kwargs()
        ),
        success_url=_patient_url(request, coverage.patient_id),
        success_message="Benefit verification recorded.",
        template="patients/form.html",
        context={
            "title": f"Verify benefits: {coverage.payer} {coverage.member_id}",
            "patient": coverage.patient,
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.episodeofcare")
def episode_open(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)

    scopes = scopes_of(request)
    form = EpisodeOpenForm(
        request.POST or None,
        initial={"admission_date": request_today(request)},
        program_types=selectors.program_type_choices(scopes=scopes),
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.episode_open(
            today=request_today(request),
            patient=patient,
            recorded_by=request.user,
            scopes=scopes,
            **data,
        ),
        success_url=_patient_url(request, patient.pk),
        success_message="Episode opened.",
        template="patients/form.html",
        context={"title": f"Admit {patient.display_name}", "patient": patient},
    )


def _episode(request: OrgRequest, pk: str) -> EpisodeOfCare:
    return selectors.episode_get(pk=pk, scopes=scopes_of(request))


@require_scope(READ, post=WRITE)
@audit_phi("patients.episodeofcare")
def episode_transition(request: OrgRequest, pk: str) -> HttpResponse:
    episode = _episode(request, pk)
    current = episode.stays.filter(end_date__isnull=True).first()
    return handle_form(
        request,
        TransitionForm(request.POST or None, initial={"on_date": request_today(request)}),
        action=lambda data: services.episode_transition_level(
            today=request_today(request), episode=episode, recorded_by=request.user, **data
        ),
        success_url=_patient_url(request, episode.patient_id),
        success_message=lambda stay: (
            f"{stay.get_transition_display()} to {stay.get_level_display()} from {stay.start_date}."
        ),
        template="patients/transition.html",
        context={
            "title": "Step down / step up",
            "patient": episode.patient,
            "episode": episode,
            "current": current,
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.episodeofcare")
def episode_discharge(request: OrgRequest, pk: str) -> HttpResponse:
    episode = _episode(request, pk)
    return handle_form(
        request,
        DischargeForm(request.POST or None, initial={"discharge_date": request_today(request)}),
        action=lambda data: services.episode_discharge(episode=episode, **data),
        success_url=_patient_url(request, episode.patient_id),
        success_message="Episode discharged.",
        template="patients/form.html",
        context={"title": "Discharge", "patient": episode.patient},
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.episodediagnosis")
def diagnosis_add(request: OrgRequest, pk: str) -> HttpResponse:
    episode = _episode(request, pk)
    return handle_form(
        request,
        DiagnosisForm(request.POST or None),
        action=lambda data: services.diagnosis_add(episode=episode, **data),
        success_url=_patient_url(request, episode.patient_id),
        success_message=lambda d: f"Diagnosis {d.code} {d.description} added.",
        template="patients/form.html",
        context={"title": "Add diagnosis", "patient": episode.patient},
    )


@require_scope(READ, post=WRITE)
@audit_phi("patients.episodediagnosis")
def diagnosis_end(request: OrgRequest, pk: str) -> HttpResponse:
    diagnosis = selectors.diagnosis_get(pk=pk, scopes=scopes_of(request))
    form = DischargeForm(request.POST or None, initial={"discharge_date": request_today(request)})
    form.fields["discharge_date"].label = "Last day the diagnosis applies"
    return handle_form(
        request,
        form,
        action=lambda data: services.diagnosis_end(
            diagnosis=diagnosis, effective_to=data["discharge_date"]
        ),
        success_url=_patient_url(request, diagnosis.episode.patient_id),
        success_message=f"Diagnosis {diagnosis.code} ended.",
        template="patients/form.html",
        context={"title": f"End diagnosis {diagnosis.code}", "patient": diagnosis.episode.patient},
    )


@part2.require_grant
@require_scope(READ, post=WRITE)
@audit_phi("patients.consent")
def consent_create(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    initial = {"disclosing_party": request.organization.name, "signed_on": request_today(request)}
    return handle_form(
        request,
        ConsentForm(request.POST or None, initial=initial),
        action=lambda data: services.consent_create(patient=patient, **data),
        success_url=_patient_url(request, patient.pk),
        success_message="Part 2 consent recorded.",
        template="patients/form.html",
        context={"title": "Record a 42 CFR Part 2 consent", "patient": patient},
    )


@part2.require_grant
@require_scope(READ, post=WRITE)
@audit_phi("patients.consent")
def consent_revoke(request: OrgRequest, pk: str) -> HttpResponse:
    consent = get_object_or_404(
        selectors.consent_list(scopes=scopes_of(request)).select_related("patient"), pk=pk
    )
    return handle_form(
        request,
        ConsentRevokeForm(request.POST or None),
        action=lambda data: services.consent_revoke(consent=consent, **data),
        success_url=_patient_url(request, consent.patient_id),
        success_message="Consent revoked: no further disclosures under it.",
        template="patients/form.html",
        context={"title": "Revoke consent", "patient": consent.patient},
    )


@require_scope(READ)
def payer_list(request: OrgRequest) -> HttpResponse:
    return render(request, "patients/payers.html", {"payers": selectors.payer_list()})


@require_scope(READ, post=WRITE)
def payer_create(request: OrgRequest) -> HttpResponse:
    form = PayerForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.payer_create(**form.service_data()),
        success_url=org_reverse(request, "patients:payers"),
        success_message=lambda p: f"Payer {p.name} added.",
        template="patients/form.html",
        context={"title": "New payer"},
    )


@require_scope(READ, post=WRITE)
def payer_edit(request: OrgRequest, pk: str) -> HttpResponse:
    payer = get_object_or_404(Payer, pk=pk)
    form = PayerForm(request.POST or None, instance=Payer.objects.get(pk=pk))
    return handle_form(
        request,
        form,
        action=lambda data: services.payer_update(payer=payer, data=form.service_data()),
        success_url=org_reverse(request, "patients:payers"),
        success_message=f"Payer {payer.name} saved.",
        template="patients/form.html",
        context={"title": f"Edit payer {payer.name}"},
    )


@require_scope(READ)
def patient_import_template(request: OrgRequest) -> HttpResponse:
    """The CSV import template: the columns and one example row."""
    return csv_export.csv_response("patients-import-template.csv", template_rows())


@require_scope(READ, post=WRITE)
def patient_import(request: OrgRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text; save it as CSV UTF-8.")
        else:
            report = patients_import_csv(text=text, today=request_today(request))
    # A refused file is a 400, so a script posting it sees the failure without reading the page.
    refused = request.method == "POST" and (form.errors or (report and report.problems))
    return render(
        request,
        "patients/import.html",
        {"form": form, "report": report, "columns": COLUMNS},
        status=400 if refused else 200,
    )
