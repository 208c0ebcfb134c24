"""Credentialing pages: provider roster and page, credentials, enrollments, the credentialing
matrix, the enrollment pipeline, service facilities and payer rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_today
from rcm.tenancy.templatetags.org_urls import org_reverse

READ, WRITE = "credentialing:read", "credentialing:write"


def org_today(request: OrgRequest) -> date:
    return request_today(request)


def _data(form: Any) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in form.Meta.fields}


def _provider_url(request: OrgRequest, provider_id: object) -> str:
    return org_reverse(request, "credentialing:provider", pk=provider_id)


@require_scope(READ)
def roster(request: OrgRequest) -> HttpResponse:
    form = RosterFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    providers = selectors.provider_roster(
        q=data.get("q", ""),
        provider_type=data.get("provider_type", ""),
        show=data.get("show") or "active",
        today=org_today(request),
    )
    page = Paginator(providers, 50).get_page(request.GET.get("page"))
    return render(request, "credentialing/roster.html", {"form": form, "page": page})


@require_scope(READ, post=WRITE)
def provider_create(request: OrgRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda _: services.provider_create(**_data(form)),
        success_url=lambda provider: _provider_url(request, provider.pk),
        success_message=lambda provider: f"{provider} added.",
        template="credentialing/form.html",
        context={"title": "New provider"},
    )


@require_scope(READ)
def provider_detail(request: OrgRequest, pk: str) -> HttpResponse:
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
def provider_edit(request: OrgRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = ProviderForm(request.POST or None, instance=provider)
    return handle_form(
        request,
        form,
        action=lambda _: services.provider_update(provider=provider, data=_data(form)),
        success_url=_provider_url(request, pk),
        success_message="Provider saved.",
        template="credentialing/form.html",
        context={"title": f"Edit {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def credential_create(request: OrgRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = CredentialForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda _: services.credential_create(provider=provider, **_data(form)),
        success_url=_provider_url(request, pk),
        success_message="Credential recorded.",
        template="credentialing/form.html",
        context={"title": f"New credential for {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def credential_edit(request: OrgRequest, pk: str) -> HttpResponse:
    credential = get_object_or_404(Credential.objects.select_related("provider"), pk=pk)
    form = CredentialForm(request.POST or None, instance=credential)
    title = f"{credential.get_kind_display()} of {credential.provider}"
    return handle_form(
        request,
        form,
        action=lambda _: services.credential_update(credential=credential, data=_data(form)),
        success_url=_provider_url(request, credential.provider_id),
        success_message="Credential saved.",
        template="credentialing/form.html",
        context={"title": title, "provider": credential.provider},
    )


@require_scope(READ, post=WRITE)
def enrollment_create(request: OrgRequest, pk: str) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    form = EnrollmentForm(request.POST or None, initial={"payer": request.GET.get("payer")})
    return handle_form(
        request,
        form,
        action=lambda _: services.enrollment_create(
            provider=provider, user=request.user, today=org_today(request), **_data(form)
        ),
        success_url=_provider_url(request, pk),
        success_message="Enrollment recorded.",
        template="credentialing/form.html",
        context={"title": f"New enrollment for {provider}", "provider": provider},
    )


@require_scope(READ, post=WRITE)
def enrollment_edit(request: OrgRequest, pk: str) -> HttpResponse:
    enrollment = get_object_or_404(
        PayerEnrollment.objects.select_related("provider", "payer", "service_facility"), pk=pk
    )
    form = EnrollmentEditForm(request.POST or None, instance=enrollment)
    history = selectors.enrollment_history(enrollment=enrollment)
    return handle_form(
        request,
        form,
        action=lambda _: services.enrollment_update(
            enrollment=enrollment,
            data=_data(form),
            user=request.user,
            today=org_today(request),
            note=form.cleaned_data["note"],
        ),
        success_url=_provider_url(request, enrollment.provider_id),
        success_message="Enrollment saved.",
        template="credentialing/enrollment.html",
        context={"enrollment": enrollment, "history": history},
    )


@require_scope(READ)
def matrix(request: OrgRequest) -> HttpResponse:
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
        "today": today,
    }
    return render(request, "credentialing/matrix.html", context)


@require_scope(READ)
def pipeline(request: OrgRequest) -> HttpResponse:
    form = PipelineFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    enrollments = selectors.enrollment_pipeline(
        status=data.get("status", ""), payer_id=getattr(data.get("payer"), "pk", None)
    )
    page = Paginator(enrollments, 100).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "today": org_today(request)}
    return render(request, "credentialing/pipeline.html", context)


@require_scope(READ, post=WRITE)
def facility_list(request: OrgRequest) -> HttpResponse:
    form = FacilityForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda _: services.facility_create(**_data(form)),
        success_url=org_reverse(request, "credentialing:facilities"),
        success_message=lambda facility: f"{facility} added.",
        template="credentialing/facilities.html",
        context={"facilities": selectors.facility_list()},
    )


@require_scope(READ, post=WRITE)
def facility_edit(request: OrgRequest, pk: str) -> HttpResponse:
    facility = get_object_or_404(ServiceFacility, pk=pk)
    form = FacilityForm(request.POST or None, instance=facility)
    return handle_form(
        request,
        form,
        action=lambda _: services.facility_update(facility=facility, data=_data(form)),
        success_url=org_reverse(request, "credentialing:facilities"),
        success_message="Facility saved.",
        template="credentialing/form.html",
        context={"title": f"Edit {facility}"},
    )


@require_scope(READ, post=WRITE)
def payer_rules(request: OrgRequest) -> HttpResponse:
    form = PayerRuleForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda _: services.payer_rule_create(**_data(form)),
        success_url=org_reverse(request, "credentialing:payer_rules"),
        success_message="Payer rule added.",
        template="credentialing/payer_rules.html",
        context={"rules": selectors.payer_rule_list()},
    )


@require_POST
@require_scope(WRITE)
def payer_rule_delete(request: OrgRequest, pk: str) -> HttpResponse:
    rule = get_object_or_404(PayerProviderRule, pk=pk)
    services.payer_rule_delete(rule=rule)
    messages.success(request, "Payer rule removed.")
    return redirect(org_reverse(request, "credentialing:payer_rules"))
