"""Billing staff's claims screens: charge entry with a live code suggestion, the ready-to-bill
queue grouped by fix, the claims list with saved filters, the claim page, and fee schedules."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from claims import selectors, services
from claims.forms import (
    CareMinutesForm,
    CareMonthConfirmForm,
    ChargeForm,
    ChargeMasterForm,
    ClaimFilterForm,
    ClaimLineDeleteForm,
    ClaimLineForm,
    ClaimRescrubForm,
    ContractRateForm,
    PayerBillingRuleForm,
    SavedFilterForm,
)
from claims.models import (
    CareMonthStatus,
    ChargeMasterItem,
    Claim,
    ClaimLine,
    ClaimStatus,
    ContractRate,
    Frequency,
    PayerBillingRule,
)
from credentialing.services import provider_can_bill
from patients.models import Patient
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError, form_add_domain_error
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ, WRITE = "claims:read", "claims:write"


def _tz(request: OrgRequest) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(request.organization.time_zone)


def _charge_patient(request: OrgRequest) -> Patient:
    patient = get_object_or_404(
        Patient, pk=request.GET.get("patient") or request.POST.get("patient")
    )
    return patient


@require_scope(READ, post=WRITE)
@audit_phi("claims.serviceentry")
def charge_list(request: OrgRequest) -> HttpResponse:
    scopes = scopes_of(request)
    page = Paginator(selectors.open_charges(scopes=scopes), 50).get_page(request.GET.get("page"))
    context = {"page": page, "part2_hidden": selectors.open_charges_hidden(scopes=scopes)}
    return render(request, "claims/charges.html", context)


@require_scope(WRITE)
@audit_phi("claims.serviceentry")
def charge_create(request: OrgRequest) -> HttpResponse:
    patient = _charge_patient(request)
    today = request_today(request)
    form = ChargeForm(
        request.POST or None,
        patient=patient,
        scopes=scopes_of(request),
        initial={"date_of_service": today, "kind": "psychotherapy"},
    )
    return handle_form(
        request,
        form,
        action=lambda _: services.service_entry_create(
            patient=patient,
            created_by=request.user,
            today=today,
            scopes=scopes_of(request),
            **form.service_kwargs(_tz(request)),
        ),
        success_url=lambda entry: org_reverse(request, "claims:charges"),
        success_message=lambda entry: (
            f"Charge recorded: {entry.service_code} x{entry.units} on {entry.date_of_service}, ${entry.charge}."
        ),
        template="claims/charge_form.html",
        context={"patient": patient},
    )


@require_scope(WRITE)
@audit_phi("claims.serviceentry")
def charge_preview(request: OrgRequest) -> HttpResponse:
    """The live suggestion beside the charge form (htmx, no writes)."""
    patient = _charge_patient(request)
    form = ChargeForm(request.GET, patient=patient, scopes=scopes_of(request))
    form.is_valid()
    data = form.cleaned_data
    preview, error = None, ""
    if data.get("date_of_service") and data.get("kind"):
        kwargs = form.service_kwargs(_tz(request)) if not form.errors else {}
        try:
            preview = services.charge_preview(
                patient=patient,
                rendering_provider=data.get("rendering_provider"),
                date_of_service=data["date_of_service"],
                kind=data["kind"],
                service_code=data.get("service_code", ""),
                start_at=kwargs.get("start_at"),
                end_at=kwargs.get("end_at"),
                telehealth=data.get("telehealth", ""),
                place_of_service=data.get("place_of_service", ""),
                modifiers=kwargs.get("modifiers", ()),
            )
        except DomainError as exc:
            error = exc.message
    return render(
        request, "claims/_preview.html", {"preview": preview, "error": error, "form": form}
    )


@require_POST
@require_scope(WRITE)
def claims_build(request: OrgRequest) -> HttpResponse:
    report = services.claims_build(
        today=request_today(request), actor=request.user, scopes=scopes_of(request)
    )
    ready = Claim.objects.filter(
        pk__in=[c.pk for c in report.claims], status=ClaimStatus.READY
    ).count()
    messages.success(
        request,
        f"Built {len(report.claims)} claim(s): {ready} ready, {len(report.claims) - ready} need fixes.",
    )
    for reason in sorted(set(report.skipped.values())):
        messages.warning(request, f"Not billed: {reason}")
    if report.part2_hidden:
        n = report.part2_hidden
        messages.info(
            request,
            f"{n} restricted charge{pluralize(n)} not billed (42 CFR Part 2: needs the Part 2 grant).",
        )
    return redirect(org_reverse(request, "claims:ready_queue"))


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def ready_queue(request: OrgRequest) -> HttpResponse:
    if request.method == "POST":
        ids = selectors.unsent_claim_ids(scopes=scopes_of(request))
        services.claims_scrub(claim_ids=ids, today=request_today(request), actor=request.user)
        messages.success(request, f"Re-scrubbed {len(ids)} claim(s).")
        return redirect(org_reverse(request, "claims:ready_queue"))
    queue = selectors.ready_queue(scopes=scopes_of(request))
    context = {
        "groups": queue.groups,
        "drafts": queue.drafts,
        "ready": queue.ready,
        "part2_hidden": queue.part2_hidden,
    }
    return render(request, "claims/ready_queue.html", context)


@require_scope(READ, post=READ)
@audit_phi("claims.claim")
def claim_list(request: OrgRequest) -> HttpResponse:
    if request.method == "POST":
        save = SavedFilterForm(request.POST)
        if save.is_valid():
            services.saved_filter_save(
                user=request.user,
                name=save.cleaned_data["name"],
                query=request.POST.get("query", ""),
            )
            messages.success(request, f"Filters saved as “{save.cleaned_data['name']}”.")
        return redirect(org_reverse(request, "claims:list") + "?" + request.POST.get("query", ""))
    form = ClaimFilterForm(request.GET or None)
    filters = selectors.ClaimFilters(**(form.cleaned_data if form.is_valid() else {}))
    today, scopes = request_today(request), scopes_of(request)
    claims = selectors.claim_list(filters=filters, scopes=scopes, today=today)
    page = Paginator(claims, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "claims/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "saved": selectors.saved_filters(user=request.user),
            "save_form": SavedFilterForm(),
            "today": today,
            "part2_hidden": selectors.claim_list_hidden(
                filters=filters, scopes=scopes, today=today
            ),
        },
    )


@require_scope(READ)
@audit_phi("claims.claim")
def claim_detail(request: OrgRequest, pk: str) -> HttpResponse:
    claim = _claim(request, pk)
    audit_read(obj=claim, patient_id=claim.patient_id)
    enrollment = provider_can_bill(claim.rendering_provider, claim.payer, claim.statement_from)
    expected, unpriced = selectors.expected_reimbursement(claim)
    legal = sorted(s for s in services.TRANSITIONS[claim.status] if s != ClaimStatus.DRAFT)
    today = request_today(request)
    return render(
        request,
        "claims/detail.html",
        {
            "claim": claim,
            "authorizations": selectors.claim_authorizations(claim),
            "enrollment": enrollment,
            "expected": expected,
            "unpriced": unpriced,
            "transitions": [
                (s, ClaimStatus(s).label)
                for s in legal
                if s != ClaimStatus.SUBMITTED or claim.status == ClaimStatus.READY
            ],
            "editable": services.claim_editable(claim),
            "corrections": selectors.claim_corrections(claim, scopes=scopes_of(request)),
            "replacement_refusal": services.correction_refusal(
                claim, frequency=Frequency.REPLACEMENT, today=today
            ),
            "void_refusal": services.correction_refusal(
                claim, frequency=Frequency.VOID, today=today
            ),
        },
    )


def _edit_context(claim: Claim) -> dict[str, Any]:
    return {
        "claim": claim,
        "editable": services.claim_editable(claim),
        "rejections": claim.rejections.filter(resolved_at__isnull=True).order_by("-created_at"),  # type: ignore[attr-defined]
    }


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def claim_edit(request: OrgRequest, pk: str) -> HttpResponse:
    """A claim the payer does not have, opened to be fixed: why it was rejected, what the
    scrubber found, its lines with edit and delete, and a re-scrub after a fix made elsewhere."""
    claim = _claim(request, pk)
    audit_read(obj=claim, patient_id=claim.patient_id, what="claim edit")
    form = ClaimRescrubForm(request.POST or None, prefix="rescrub")
    if claim.status != ClaimStatus.REJECTED:
        form.fields["reason"].required = False
    return handle_form(
        request,
        form,
        action=lambda data: services.claim_rescrub(
            claim=claim, today=request_today(request), actor=request.user, reason=data["reason"]
        ),
        success_url=lambda c: org_reverse(request, "claims:edit", pk=c.pk),
        success_message=lambda c: (
            f"Re-scrubbed: claim {c.patient_control_number} is {c.get_status_display().lower()}."
        ),
        template="claims/edit.html",
        context={**_edit_context(claim), "rescrub_form": form},
    )


def _line(claim: Claim, line_pk: str) -> ClaimLine:
    return get_object_or_404(ClaimLine, pk=line_pk, claim=claim)


def _line_form(
    request: OrgRequest,
    claim: Claim,
    line: ClaimLine,
    form: Any,
    *,
    action: Any,
    done: str,
    deleting: bool,
) -> HttpResponse:
    """A line's edit or delete form: a page of its own, or (htmx) a panel in the claim's edit
    view that shows its errors in place and reloads the edit view once saved."""
    response = handle_form(
        request,
        form,
        action=action,
        success_url=lambda c: org_reverse(request, "claims:edit", pk=c.pk),
        success_message=lambda c: (
            f"Line {line.line_number} {done} and the claim re-scrubbed: "
            f"{c.get_status_display().lower()}."
        ),
        template="claims/_line_form.html" if request.htmx else "claims/line_form.html",
        context={**_edit_context(claim), "line": line, "deleting": deleting},
    )
    if request.htmx and response.status_code == 302:
        return HttpResponseClientRedirect(response["Location"])
    return response


@require_scope(WRITE)
@audit_phi("claims.claim")
def claim_line_edit(request: OrgRequest, pk: str, line_pk: str) -> HttpResponse:
    claim = _claim(request, pk)
    line = _line(claim, line_pk)
    form = ClaimLineForm(request.POST or None, initial=ClaimLineForm.initial_for(line))
    return _line_form(
        request,
        claim,
        line,
        form,
        action=lambda data: services.claim_line_update(
            line=line, today=request_today(request), actor=request.user, **data
        ),
        done="saved",
        deleting=False,
    )


@require_scope(WRITE)
@audit_phi("claims.claim")
def claim_line_delete(request: OrgRequest, pk: str, line_pk: str) -> HttpResponse:
    claim = _claim(request, pk)
    line = _line(claim, line_pk)
    form = ClaimLineDeleteForm(request.POST or None)
    return _line_form(
        request,
        claim,
        line,
        form,
        action=lambda data: services.claim_line_delete(
            line=line, today=request_today(request), actor=request.user, **data
        ),
        done="deleted",
        deleting=True,
    )


def _claim(request: OrgRequest, pk: str) -> Claim:
    try:
        return selectors.claim_detail(pk=pk, scopes=scopes_of(request))
    except Claim.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@require_scope(WRITE)
def claim_action(request: OrgRequest, pk: str) -> HttpResponse:
    claim = _claim(request, pk)
    action = request.POST.get("action", "")
    try:
        if action == "scrub":
            services.claims_scrub(
                claim_ids=[claim.pk], today=request_today(request), actor=request.user
            )
            claim.refresh_from_db()
            messages.success(request, f"Scrubbed: {claim.get_status_display()}.")
        elif action == "transition":
            claim = services.claim_transition(
                claim=claim,
                to_status=request.POST.get("to_status", ""),
                actor=request.user,
                note=request.POST.get("note", ""),
            )
            messages.success(request, f"Claim is now {claim.get_status_display().lower()}.")
        elif action in {"correct", "void_with_payer"}:
            func = services.claim_correct if action == "correct" else services.claim_void_with_payer
            copy = func(claim=claim, today=request_today(request), actor=request.user)
            messages.success(
                request,
                f"Created {copy.get_frequency_display().lower()} claim {copy.patient_control_number}.",
            )
            return redirect(org_reverse(request, "claims:detail", pk=copy.pk))
        else:
            messages.error(request, "Unknown action.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(org_reverse(request, "claims:detail", pk=claim.pk))


@require_scope(READ, post=WRITE)
def fee_schedule(request: OrgRequest) -> HttpResponse:
    kind = request.POST.get("form", "")
    forms = {
        "charge": ChargeMasterForm(request.POST if kind == "charge" else None, prefix="charge"),
        "rate": ContractRateForm(request.POST if kind == "rate" else None, prefix="rate"),
        "rule": PayerBillingRuleForm(request.POST if kind == "rule" else None, prefix="rule"),
    }
    actions: dict[str, Any] = {
        "charge": services.charge_master_set,
        "rate": services.contract_rate_set,
        "rule": services.payer_billing_rule_create,
    }
    if request.method == "POST" and kind in forms:
        return handle_form(
            request,
            forms[kind],
            action=lambda data: actions[kind](**data),
            success_url=org_reverse(request, "claims:fee_schedule"),
            success_message="Saved.",
            template="claims/fee_schedule.html",
            context={"forms": forms, **_fee_lists()},
        )
    return render(request, "claims/fee_schedule.html", {"forms": forms, **_fee_lists()})


def _fee_lists() -> dict[str, Any]:
    return {
        "charges": ChargeMasterItem.objects.order_by("service_code", "modifier", "-effective_from"),
        "rates": ContractRate.objects.select_related("payer").order_by(
            "payer__name", "service_code"
        ),
        "rules": PayerBillingRule.objects.select_related("payer").order_by(
            "payer__name", "rule_type"
        ),
    }


# --- Monthly care management (collaborative care, BHI) -------------------------------------------


@require_scope(READ, post=WRITE)
@audit_phi("claims.caremonth")
def care_months(request: OrgRequest) -> HttpResponse:
    """Care-management months: staff minutes are added here; at month end the roll-up proposes
    the charges the month's minutes support and a biller confirms them."""
    scopes = scopes_of(request)
    form = CareMinutesForm(request.POST or None, scopes=scopes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.care_minutes_add(
                patient=data["episode"].patient,
                episode=data["episode"],
                program=data["program"],
                staff_name=data["staff_name"],
                performed_on=data["performed_on"],
                minutes=data["minutes"],
                activity=data["activity"],
                recorded_by=request.user,
                today=request_today(request),
                scopes=scopes,
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, f"{entry.minutes} minutes recorded for {entry.performed_on:%B %Y}."
            )
            return redirect(org_reverse(request, "claims:care_months"))
    q, status = request.GET.get("q", ""), request.GET.get("status", "")
    page = Paginator(selectors.care_months(scopes=scopes, q=q, status=status), 50).get_page(
        request.GET.get("page")
    )
    recent = selectors.care_minutes(scopes=scopes)[:20]
    context = {
        "form": form,
        "page": page,
        "recent": recent,
        "q": q,
        "status": status,
        "statuses": CareMonthStatus.choices,
        "confirm_form": CareMonthConfirmForm(),
        "part2_hidden": selectors.care_months_hidden(scopes=scopes, q=q, status=status),
    }
    return render(request, "claims/care_months.html", context)


@require_POST
@require_scope(WRITE)
def care_month_confirm(request: OrgRequest, pk: Any) -> HttpResponse:
    month = get_object_or_404(selectors.care_months(scopes=scopes_of(request)), pk=pk)
    form = CareMonthConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the billing practitioner.")
        return redirect(org_reverse(request, "claims:care_months"))
    try:
        confirmed = services.care_month_confirm(
            care_month=month,
            rendering_provider=form.cleaned_data["rendering_provider"],
            actor=request.user,
            now=request_now(request),
            today=request_today(request),
            scopes=scopes_of(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        codes = " + ".join(f"{x['code']} x{x['units']}" for x in confirmed.proposed_lines)
        messages.success(request, f"Charges recorded for {confirmed.month:%B %Y}: {codes}.")
    return redirect(org_reverse(request, "claims:care_months"))
