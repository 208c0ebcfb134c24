"""The billing desk's reads and notes: the money and timeline of one claim (loaded into the claim
page, which lives in a lower layer), and notes on patients, claims and denials."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from claims.models import Claim
from denials import forms
from denials.account import claim_account, claim_timeline
from denials.notes import note_add, note_subject
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import Note, NoteSubject, Patient
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ = "claims:read"
WRITE = "claims:write"


def _tz(request: OrgRequest) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(request.organization.time_zone)


@require_scope(READ)
@audit_phi("claims.claim")
def claim_account_view(request: OrgRequest, pk: Any) -> HttpResponse:
    """The money on a claim and its timeline, with the note form (a partial of the claim page)."""
    scopes = scopes_of(request)
    try:
        claim = part2.visible(Claim.objects.select_related("payer", "patient"), scopes).get(pk=pk)
    except Claim.DoesNotExist:
        raise Http404 from None
    audit_read(obj=claim, patient_id=claim.patient_id, part2=claim.is_part2)
    return render(
        request,
        "denials/_claim_account.html",
        {
            "claim": claim,
            "account": claim_account(claim=claim, scopes=scopes),
            "timeline": claim_timeline(claim=claim, scopes=scopes, tz=_tz(request)),
            "note_form": forms.NoteForm(),
            "subject_type": "claim",
            "subject_id": claim.pk,
            "claim_url": org_reverse(request, "claims:detail", pk=claim.pk),
        },
    )


def _subjects(request: OrgRequest) -> list[tuple[str, Any]]:
    subject_type = request.GET.get("subject_type", "")
    subject_id = request.GET.get("subject_id", "")
    if subject_type and subject_id:
        try:
            subject = note_subject(
                subject_type=subject_type, subject_id=subject_id, scopes=scopes_of(request)
            )
        except LookupError:
            raise Http404 from None
        return [(subject.type, subject.id)]
    return []


@require_scope(READ)
@audit_phi("patients.note")
def notes(request: OrgRequest) -> HttpResponse:
    """Notes, searchable: all of them, or one patient's, or one subject's (the panel on the
    patient and denial pages, loaded with htmx)."""
    scopes = scopes_of(request)
    search = forms.NoteSearchForm(request.GET or None)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    patient_id: Any = None
    if request.GET.get("patient"):
        try:
            patient_id = Patient.objects.only("pk").get(pk=request.GET["patient"]).pk
        except (ValidationError, ValueError, Patient.DoesNotExist):
            raise Http404 from None
    subjects = _subjects(request)
    qs = patient_selectors.notes_search(
        scopes=scopes, query=query, patient_id=patient_id, subjects=subjects
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {
        "page": page,
        "search": search,
        "query": query_string.urlencode(),
        "part2_hidden": patient_selectors.notes_hidden(
            scopes=scopes, patient_id=patient_id, subjects=subjects
        ),
        "subject_type": subjects[0][0] if subjects else "",
        "subject_id": subjects[0][1] if subjects else "",
        "patient_id": patient_id or "",
        "note_form": forms.NoteForm(),
    }
    form_subject = subjects[0] if subjects else ("patient", patient_id) if patient_id else None
    if form_subject is not None:
        context["form_subject_type"], context["form_subject_id"] = form_subject
        url_name = {"claim": "claims:detail", "denial": "denials:denial"}.get(
            form_subject[0], "patients:detail"
        )
        context["form_next"] = org_reverse(request, url_name, pk=form_subject[1])
    if request.headers.get("HX-Request"):
        return render(request, "denials/_notes_panel.html", context)
    return render(request, "denials/notes.html", context)


def _back(request: OrgRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
@require_scope(WRITE)
@audit_phi("patients.note")
def note_create(request: OrgRequest, subject_type: str, subject_id: Any) -> HttpResponse:
    """Add a note; errors come back inline beside the field (the form partial, for htmx)."""
    scopes = scopes_of(request)
    if subject_type not in NoteSubject.values:
        raise Http404
    try:
        subject = note_subject(subject_type=subject_type, subject_id=subject_id, scopes=scopes)
    except LookupError:
        raise Http404 from None
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            note_add(
                subject_type=subject.type,
                subject_id=subject.id,
                body=form.cleaned_data["body"],
                author=request.user,
                scopes=scopes,
                part2_content=form.cleaned_data["part2_content"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Note added.")
            back = _back(request, org_reverse(request, subject.url_name, pk=subject.id))
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = back
                return response
            return redirect(back)
    context = {
        "note_form": form,
        "subject_type": subject.type,
        "subject_id": subject.id,
        "next": request.POST.get("next", ""),
    }
    if request.headers.get("HX-Request"):
        # 422: static/js/parity.js lets htmx swap the form back in with its errors.
        return render(request, "denials/_note_form.html", context, status=422)
    return render(request, "denials/note_new.html", context, status=400)


def _note(request: OrgRequest, pk: Any) -> Note:
    try:
        return part2.visible(Note.objects.select_related("author"), scopes_of(request)).get(pk=pk)
    except (Note.DoesNotExist, ValueError):
        raise Http404 from None


@require_scope(READ, post=WRITE)
@audit_phi("patients.note")
def note_edit(request: OrgRequest, pk: Any) -> HttpResponse:
    """Correct (a new note replaces it) or retract a note: notes are append-only."""
    note = _note(request, pk)
    audit_read(obj=note, patient_id=note.patient_id, part2=note.part2)
    action = request.POST.get("action", "")
    correct = forms.NoteForm(
        request.POST if action == "correct" else None, initial={"body": note.body}
    )
    retract = forms.NoteRetractForm(request.POST if action == "retract" else None)
    subject_url = org_reverse(
        request,
        {"claim": "claims:detail", "denial": "denials:denial", "patient": "patients:detail"}[
            note.subject_type
        ],
        pk=note.subject_id,
    )
    if request.method == "POST":
        form: Any = correct if action == "correct" else retract
        if form.is_valid():
            try:
                if action == "correct":
                    patient_services.note_correct(
                        note=note,
                        body=form.cleaned_data["body"],
                        author=request.user,
                        now=request_now(request),
                    )
                    messages.success(request, "Note corrected; the original is kept.")
                else:
                    patient_services.note_retract(
                        note=note,
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                        now=request_now(request),
                    )
                    messages.success(request, "Note retracted.")
                return redirect(subject_url)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    return render(
        request,
        "denials/note_edit.html",
        {"note": note, "correct": correct, "retract": retract, "subject_url": subject_url},
        status=400 if request.method == "POST" else 200,
    )
