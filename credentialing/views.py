"""Credentialing pages: provider roster and page, credentials, enrollments, the credentialing
matrix, the enrollment pipeline, service facilities and payer rules."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from credentialing import selectors, services
from credentialing.forms import (
    BillabilityForm,
    CredentialForm,
    EnrollmentEditForm,
    EnrollmentForm,
    FacilityForm,
    MatrixFilterForm,
    PayerRuleForm,
    PipelineFilterForm,
    ProviderForm,
    RosterFilterForm,
)
from credentialing.models import (
    Credential,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ServiceFacility,
)
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.templatetags.org_urls import org_reverse

READ, WRITE = "credentialing:read", "credentialing:write"


def org_today(request: HttpRequest) -> date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(request.organization.time_zone))  # type: ignore[attr-defined]


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _data(form: Any) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in form.Meta.fields}


def _provider_url(request: HttpRequest, provider_id: object) -> str:
    return org_reverse(request, "credentialing:provider", pk=provider_id)


@require_scope(READ)
def roster(request: HttpRequest) -> HttpResponse:
    form = RosterFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    providers = selectors.provider_roster(
        q=data.get("q", ""),
        provider_type=data.get("provider_type", ""),
        show=data.get("show") or "active",
        today=org_today(request),
    )
    page = Paginator(providers, 50).get_page(request.GET.get("page"))
    return render(
        request, "credentialing/roster.html", {"form": form, "page": page, "query": _query(request)}
    )


@require_scope(READ, post=WRITE)
def provider_create(request: HttpRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.provider_create(**_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{provider} added.")
            return redirect(_provider_url(request, provider.pk))
    return render(request, "credentialing/form.html", {"form": form, "title": "New provider"})


@require_scope(READ)
def provider_detail(request: HttpRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(selectors.provider_page_queryset(), pk=pk)
    today = org_today(request)
    context = selectors.provider_page_context(provider=provider, today=today)
    check_form = BillabilityForm(request.GET or None, initial={"date_of_service": today})
    if request.GET and check_form.is_valid():
        d = check_form.cleaned_data
        context["check"] = services.provider_can_bill(
            provider, d["payer"], d["date_of_service"], d["service_code"]
        )
    return render(request, "credentialing/provider.html", {**context, "check_form": check_form})


@require_scope(READ, post=WRITE)
def provider_edit(request: HttpRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = ProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        try:
            services.provider_update(provider=provider, data=_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Provider saved.")
            return redirect(_provider_url(request, pk))
    return render(
        request,
        "credentialing/form.html",
        {"form": form, "title": f"Edit {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def credential_create(request: HttpRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = CredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_create(provider=provider, **_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Credential recorded.")
            return redirect(_provider_url(request, pk))
    return render(
        request,
        "credentialing/form.html",
        {"form": form, "title": f"New credential for {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def credential_edit(request: HttpRequest, pk: str) -> HttpResponse:
    credential = get_object_or_404(Credential.objects.select_related("provider"), pk=pk)
    form = CredentialForm(request.POST or None, instance=credential)
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_update(credential=credential, data=_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Credential saved.")
            return redirect(_provider_url(request, credential.provider_id))
    title = f"{credential.get_kind_display()} of {credential.provider}"
    return render(
        request,
        "credentialing/form.html",
        {"form": form, "title": title, "provider": credential.provider},
    )


@require_scope(READ, post=WRITE)
def enrollment_create(request: HttpRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = EnrollmentForm(request.POST or None, initial={"payer": request.GET.get("payer")})
    if request.method == "POST" and form.is_valid():
        data = _data(form)
        try:
            services.enrollment_create(
                provider=provider,
                payer=data.pop("payer"),
                user=request.user,
                today=org_today(request),
                **data,
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Enrollment recorded.")
            return redirect(_provider_url(request, pk))
    return render(
        request,
        "credentialing/form.html",
        {"form": form, "title": f"New enrollment for {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def enrollment_edit(request: HttpRequest, pk: str) -> HttpResponse:
    enrollment = get_object_or_404(
        PayerEnrollment.objects.select_related("provider", "payer", "service_facility"), pk=pk
    )
    form = EnrollmentEditForm(request.POST or None, instance=enrollment)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_update(
                enrollment=enrollment,
                data=_data(form),
                user=request.user,
                today=org_today(request),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Enrollment saved.")
            return redirect(_provider_url(request, enrollment.provider_id))
    history = selectors.enrollment_history(enrollment=enrollment)
    return render(
        request,
        "credentialing/enrollment.html",
        {"form": form, "enrollment": enrollment, "history": history},
    )


@require_scope(READ)
def matrix(request: HttpRequest) -> HttpResponse:
    form = MatrixFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    today = org_today(request)
    result = selectors.enrollment_matrix(
        today=today,
        status=data.get("status", ""),
        provider_type=data.get("provider_type", ""),
        q=data.get("q", ""),
    )
    page = Paginator(result.rows, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "matrix": result,
        "page": page,
        "query": _query(request),
        "today": today,
    }
    return render(request, "credentialing/matrix.html", context)


@require_scope(READ)
def pipeline(request: HttpRequest) -> HttpResponse:
    form = PipelineFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    enrollments = selectors.enrollment_pipeline(
        status=data.get("status", ""), payer_id=getattr(data.get("payer"), "pk", None)
    )
    page = Paginator(enrollments, 100).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "query": _query(request), "today": org_today(request)}
    return render(request, "credentialing/pipeline.html", context)


@require_scope(READ, post=WRITE)
def facility_list(request: HttpRequest) -> HttpResponse:
    form = FacilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            facility = services.facility_create(**_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{facility} added.")
            return redirect(org_reverse(request, "credentialing:facilities"))
    return render(
        request,
        "credentialing/facilities.html",
        {"form": form, "facilities": selectors.facility_list()},
    )


@require_scope(READ, post=WRITE)
def facility_edit(request: HttpRequest, pk: str) -> HttpResponse:
    facility = get_object_or_404(ServiceFacility, pk=pk)
    form = FacilityForm(request.POST or None, instance=facility)
    if request.method == "POST" and form.is_valid():
        try:
            services.facility_update(facility=facility, data=_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Facility saved.")
            return redirect(org_reverse(request, "credentialing:facilities"))
    return render(request, "credentialing/form.html", {"form": form, "title": f"Edit {facility}"})


@require_scope(READ, post=WRITE)
def payer_rules(request: HttpRequest) -> HttpResponse:
    form = PayerRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_rule_create(**_data(form))
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Payer rule added.")
            return redirect(org_reverse(request, "credentialing:payer_rules"))
    return render(
        request,
        "credentialing/payer_rules.html",
        {"form": form, "rules": selectors.payer_rule_list()},
    )


@require_POST
@require_scope(WRITE)
def payer_rule_delete(request: HttpRequest, pk: str) -> HttpResponse:
    rule = get_object_or_404(PayerProviderRule, pk=pk)
    services.payer_rule_delete(rule=rule)
    messages.success(request, "Payer rule removed.")
    return redirect(org_reverse(request, "credentialing:payer_rules"))
