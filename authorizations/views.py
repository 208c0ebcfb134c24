"""Authorization pages: the list, the review calendar, one authorization with its utilization
bar, reviews and history, and the forms that change them (each through a service).

Every read goes through the selectors with the member's scopes (42 CFR Part 2 is decided in
rcm.part2): a Part 2 authorization is 404 for a member without the grant, whatever the page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from authorizations import selectors, services
from authorizations.forms import (
    AuthorizationFilterForm,
    AuthorizationForm,
    CancelForm,
    DecideForm,
    NewAuthorizationForm,
    ReviewCompleteForm,
    ReviewScheduleForm,
    SettingsForm,
    UsageForm,
)
from authorizations.models import Authorization
from patients.models import EpisodeOfCare
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ = "authorizations:read"
WRITE = "authorizations:write"


def _detail_url(request: OrgRequest, pk: Any) -> str:
    return org_reverse(request, "authorizations:detail", pk=pk)


def _auth_or_404(request: OrgRequest, pk: Any) -> Authorization:
    return get_object_or_404(selectors.authorizations_visible(scopes=scopes_of(request)), pk=pk)


def _episode_param(request: OrgRequest, raw: str | None) -> EpisodeOfCare | None:
    try:
        pk = uuid.UUID(raw) if raw else None
    except ValueError:
        return None
    if pk is None:
        return None
    return selectors.episode_choices(scopes=scopes_of(request)).filter(pk=pk).first()


@require_scope(READ)
@audit_phi("authorizations.authorization")
def authorization_list(request: OrgRequest) -> HttpResponse:
    form = AuthorizationFilterForm(request.GET or None, payers=selectors.payer_choices())
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.AuthorizationFilter(
        expiring_within=data.get("expiring_within"),
        payer_id=data.get("payer") or None,
        level=data.get("level") or "",
        status=data.get("status") or "",
        search=data.get("q") or "",
    )
    today = request_today(request)
    scopes = scopes_of(request)
    qs = selectors.authorization_list(filters=filters, today=today, scopes=scopes)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    hidden = selectors.authorization_list_hidden(filters=filters, today=today, scopes=scopes)
    return render(
        request,
        "authorizations/list.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "part2_hidden": hidden,
        },
    )


@require_scope(READ)
@audit_phi("authorizations.concurrentreview")
def review_calendar(request: OrgRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    today, scopes = request_today(request), scopes_of(request)
    assignee_id = request.user.pk if mine else None
    calendar = selectors.review_calendar(today=today, scopes=scopes, assignee_id=assignee_id)
    hidden = selectors.review_calendar_hidden(today=today, scopes=scopes, assignee_id=assignee_id)
    return render(
        request,
        "authorizations/calendar.html",
        {"calendar": calendar, "mine": mine, "part2_hidden": hidden},
    )


@require_scope(READ)
@audit_phi("authorizations.authorization")
def authorization_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    try:
        auth = selectors.authorization_detail(pk=pk, scopes=scopes_of(request))
    except Authorization.DoesNotExist as exc:
        raise Http404 from exc
    today = request_today(request)
    audit_read(obj=auth, patient_id=auth.episode.patient_id)
    context = {
        "auth": auth,
        "forecast": selectors.authorization_forecast(authorization=auth, today=today),
        "diagnoses": selectors.episode_diagnoses(authorization=auth, scopes=scopes_of(request)),
        "usage_form": UsageForm(initial={"date_of_service": today, "unit_type": auth.unit_type}),
        "review_form": ReviewScheduleForm(initial={"review_type": "concurrent"}),
        "today": today,
    }
    return render(request, "authorizations/detail.html", context)


@require_scope(READ, post=WRITE)
@audit_phi("authorizations.authorization")
def authorization_new(request: OrgRequest) -> HttpResponse:
    episode = _episode_param(request, request.GET.get("episode") or request.POST.get("episode"))
    today = request_today(request)
    form = NewAuthorizationForm(
        request.POST or None,
        initial={"episode": episode, "requested_on": today},
        patient_id=episode.patient_id if episode else None,
        episodes=selectors.episode_choices(scopes=scopes_of(request)),
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.authorization_create(**data, today=today),
        success_url=lambda auth: _detail_url(request, auth.pk),
        success_message="Authorization recorded.",
        template="authorizations/form.html",
        context={"auth": None},
    )


@require_scope(READ, post=WRITE)
@audit_phi("authorizations.authorization")
def authorization_edit(request: OrgRequest, pk: Any) -> HttpResponse:
    auth = _auth_or_404(request, pk)
    form = AuthorizationForm(
        request.POST or None, instance=auth, patient_id=auth.episode.patient_id
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.authorization_update(authorization=auth, data=dict(data)),
        success_url=_detail_url(request, auth.pk),
        success_message="Authorization saved.",
        template="authorizations/form.html",
        context={"auth": auth},
    )


@require_scope(READ, post=WRITE)
@audit_phi("authorizations.authorization")
def authorization_decide(request: OrgRequest, pk: Any) -> HttpResponse:
    auth = _auth_or_404(request, pk)
    form = DecideForm(
        request.POST or None,
        initial={"decided_on": request_today(request), "units_approved": auth.units_requested},
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.authorization_decide(authorization=auth, **data),
        success_url=_detail_url(request, auth.pk),
        success_message="Payer decision recorded.",
        template="authorizations/action.html",
        context={
            "auth": auth,
            "title": "Record the payer's decision",
            "button": "Save decision",
        },
    )


@require_scope(READ, post=WRITE)
@audit_phi("authorizations.authorization")
def authorization_cancel(request: OrgRequest, pk: Any) -> HttpResponse:
    auth = _auth_or_404(request, pk)
    form = CancelForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.authorization_cancel(authorization=auth, **data),
        success_url=_detail_url(request, auth.pk),
        success_message="Authorization cancelled.",
        template="authorizations/action.html",
        context={
            "auth": auth,
            "title": "Cancel the authorization",
            "button": "Cancel authorization",
        },
    )


@require_POST
@require_scope(WRITE)
@audit_phi("authorizations.concurrentreview")
def review_schedule(request: OrgRequest, pk: Any) -> HttpResponse:
    auth = _auth_or_404(request, pk)
    form = ReviewScheduleForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("Choose a review type and a date.", field="scheduled_on")
        services.review_schedule(authorization=auth, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Review scheduled.")
    return redirect(_detail_url(request, auth.pk))


@require_scope(READ, post=WRITE)
@audit_phi("authorizations.concurrentreview")
def review_complete(request: OrgRequest, pk: Any) -> HttpResponse:
    review = get_object_or_404(selectors.review_list(scopes=scopes_of(request)), pk=pk)
    form = ReviewCompleteForm(
        request.POST or None,
        initial={"completed_on": request_today(request), "reviewer": review.reviewer},
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.review_complete(
            review=review, completed_by=request.user, **data
        ),
        success_url=_detail_url(request, review.authorization_id),
        success_message="Review completed; the authorization is updated.",
        template="authorizations/action.html",
        context={
            "auth": review.authorization,
            "review": review,
            "title": f"Complete the {review.get_review_type_display().lower()} review of {review.scheduled_on}",
            "button": "Complete review",
        },
    )


@require_POST
@require_scope(WRITE)
@audit_phi("authorizations.authorization")
def usage_record(request: OrgRequest, pk: Any) -> HttpResponse:
    auth = _auth_or_404(request, pk)
    form = UsageForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("Give the date of service, the units and their type.", field="units")
        services.authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level=auth.level,
            authorization=auth,
            recorded_by=request.user,
            **form.cleaned_data,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Usage recorded.")
    return redirect(_detail_url(request, auth.pk))


@require_POST
@require_scope(WRITE)
def scan_run(request: OrgRequest) -> HttpResponse:
    # An outbox message, sent after the commit (re-sent by the relay if the broker is down).
    services.authorization_scan_request(now=request_now(request))
    messages.info(request, services.SCAN_STARTED)
    return redirect(org_reverse(request, "alerts:inbox"))


@require_scope(READ, post=WRITE)
def authorization_settings(request: OrgRequest) -> HttpResponse:
    current = services.authorization_settings_get()
    form = SettingsForm(
        request.POST or None,
        initial={
            "expiry_alert_days": ", ".join(str(d) for d in current.thresholds),
            "low_units_percent": current.low_units_percent,
            "default_assignee": current.default_assignee,
        },
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.authorization_settings_update(**data),
        success_url=org_reverse(request, "authorizations:settings"),
        success_message="Alert settings saved.",
        template="authorizations/settings.html",
    )
