"""The patient's Account page (ledger with running balance, aging, guarantor, payments,
refunds, collections) and the organization's small-balance and collections pages. Thin: each
view parses input, calls one service or selector and renders; refusals land beside their
fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from patient_accounts import selectors, services
from patient_accounts import statements as statement_services
from patient_accounts.forms import (
    GuarantorForm,
    PaymentForm,
    PlacementForm,
    RefundForm,
    RefundRecordForm,
    SmallBalanceForm,
    StatementRunForm,
    StatementSettingsForm,
)
from patient_accounts.models import (
    CollectionPlacement,
    PatientPayment,
    PatientRefund,
    PatientWriteOff,
    Statement,
    StatementRun,
)
from patients.models import Patient
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.csv_export import csv_response
from rcm.errors import DomainError, form_add_domain_error
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ, WRITE, APPROVE = (
    "patient_accounts:read",
    "patient_accounts:write",
    "patient_accounts:approve",
)
# Service fields of a payment's allocations, as the payment form names them.
ALLOCATION_FIELDS = {
    "allocations": "allocation_amount",
    "allocations[0].amount": "allocation_amount",
    "allocations[0].charge": "charge",
}


def _account_url(request: OrgRequest, patient_id: Any) -> str:
    return org_reverse(request, "patient_accounts:account", pk=patient_id)


def _render_account(
    request: OrgRequest, patient: Patient, status: int = 200, **forms: Any
) -> HttpResponse:
    today, scopes = request_today(request), scopes_of(request)
    ledger = selectors.patient_ledger(patient=patient, scopes=scopes, today=today)
    page = Paginator(ledger.rows, 50).get_page(request.GET.get("page"))
    context = {
        "patient": patient,
        "ledger": ledger,
        "page": page,
        "today": today,
        "payment_form": forms.get("payment_form")
        or PaymentForm(
            initial={"received_on": today}, charges=ledger.open_charges, placement=ledger.placement
        ),
        "refund_form": forms.get("refund_form") or RefundForm(),
        "placement_form": forms.get("placement_form")
        or PlacementForm(initial={"placed_on": today}),
        "record_form": RefundRecordForm(initial={"recorded_on": today}),
    }
    return render(request, "patient_accounts/account.html", context, status=status)


@require_scope(READ)
@audit_phi("patient_accounts.ledgerentry")
def account(request: OrgRequest, pk: str) -> HttpResponse:
    return _render_account(request, get_object_or_404(Patient, pk=pk))


@require_POST
@require_scope(WRITE)
@audit_phi("patient_accounts.ledgerentry")
def payment_create(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    today, scopes = request_today(request), scopes_of(request)
    charges = selectors.open_charges(patient=patient, scopes=scopes)
    placement = selectors.patient_ledger(patient=patient, scopes=scopes, today=today).placement
    form = PaymentForm(request.POST, charges=charges, placement=placement)
    if form.is_valid():
        data = form.cleaned_data
        allocations = []
        if data["charge"]:
            amount = data["allocation_amount"] or data["amount"]
            allocations = [services.Allocation(data["charge"], amount)]
        try:
            result = services.payment_record(
                patient=patient,
                scopes=scopes,
                today=today,
                method=data["method"],
                amount=data["amount"],
                received_on=data["received_on"],
                check_number=data["check_number"],
                processor_reference=data["processor_reference"],
                card_last_four=data["card_last_four"],
                note=data["note"],
                placement=placement if data["placement"] else None,
                allocations=allocations,
                recorded_by=request.user,
            )
        except DomainError as exc:
            for e in exc.errors:
                e.field = ALLOCATION_FIELDS.get(e.field or "", e.field)
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Payment of ${result.payment.amount} recorded.")
            return redirect(_account_url(request, patient.pk))
    return _render_account(request, patient, status=400, payment_form=form)


@require_scope(READ, post=WRITE)
@audit_phi("patient_accounts.guarantor")
def guarantor_edit(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    current = services.guarantor_of(patient=patient)
    initial = {f: getattr(current, f) for f in services.GUARANTOR_FIELDS}
    form = GuarantorForm(request.POST or None, initial=initial)
    return handle_form(
        request,
        form,
        action=lambda data: services.guarantor_set(patient=patient, data=data),
        success_url=_account_url(request, patient.pk),
        success_message="Guarantor saved.",
        template="patient_accounts/guarantor.html",
        context={"patient": patient},
    )


@require_POST
@require_scope(WRITE)
@audit_phi("patient_accounts.patientrefund")
def refund_create(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            services.refund_request(patient=patient, requested_by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Refund requested: it waits for approval.")
            return redirect(_account_url(request, patient.pk))
    return _render_account(request, patient, status=400, refund_form=form)


def _decide_refund(request: OrgRequest, pk: str, decide: Any, done: str) -> HttpResponse:
    refund = get_object_or_404(PatientRefund, pk=pk)
    try:
        decide(refund)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(_account_url(request, refund.patient_id))


@require_POST
@require_scope(APPROVE)
def refund_approve(request: OrgRequest, pk: str) -> HttpResponse:
    now = request_now(request)
    return _decide_refund(
        request,
        pk,
        lambda r: services.refund_approve(refund=r, approver=request.user, now=now),
        "Refund approved.",
    )


@require_POST
@require_scope(APPROVE)
def refund_refuse(request: OrgRequest, pk: str) -> HttpResponse:
    return _decide_refund(
        request,
        pk,
        lambda r: services.refund_refuse(refund=r, approver=request.user),
        "Refund refused.",
    )


@require_POST
@require_scope(WRITE)
def refund_record(request: OrgRequest, pk: str) -> HttpResponse:
    form = RefundRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the day the refund was paid.")
        refund = get_object_or_404(PatientRefund, pk=pk)
        return redirect(_account_url(request, refund.patient_id))
    today = request_today(request)
    return _decide_refund(
        request,
        pk,
        lambda r: services.refund_record(refund=r, today=today, **form.cleaned_data),
        "Refund recorded as paid.",
    )


@require_POST
@require_scope(WRITE)
def sync(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    services.ledger_sync_patient(patient=patient, today=request_today(request))
    # No count: it would include entries of Part 2 claims the member may not see.
    messages.success(request, "Ledger brought up to date with the claims.")
    return redirect(_account_url(request, patient.pk))


@require_POST
@require_scope(WRITE)
def credit_apply(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    try:
        applied = services.credit_apply(
            patient=patient, scopes=scopes_of(request), today=request_today(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"${applied} of credit applied to the oldest balances.")
    return redirect(_account_url(request, patient.pk))


@require_POST
@require_scope(WRITE)
@audit_phi("patient_accounts.collectionplacement")
def placement_create(request: OrgRequest, pk: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = PlacementForm(request.POST)
    if form.is_valid():
        try:
            services.placement_create(
                patient=patient,
                scopes=scopes_of(request),
                today=request_today(request),
                **form.cleaned_data,
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Account placed with the collection agency.")
            return redirect(_account_url(request, patient.pk))
    return _render_account(request, patient, status=400, placement_form=form)


@require_scope(READ)
@audit_phi("patient_accounts.patientpayment")
def receipt(request: OrgRequest, pk: str) -> HttpResponse:
    from weasyprint import HTML

    payment = get_object_or_404(PatientPayment.objects.select_related("patient"), pk=pk)
    allocations = selectors.payment_allocations(payment=payment, scopes=scopes_of(request))
    html = render_to_string(
        "patient_accounts/receipt.html",
        {
            "payment": payment,
            "allocations": [(a.charge_balance, -a.patient_amount) for a in allocations],
            "organization": request.organization,
            "guarantor": services.guarantor_of(patient=payment.patient),
        },
    )
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{payment.pk}.pdf"'
    return response


@require_scope(READ, post=APPROVE)
@audit_phi("patient_accounts.patientwriteoff")
def small_balances(request: OrgRequest) -> HttpResponse:
    settings = services.account_settings()
    form = SmallBalanceForm(
        request.POST if request.POST.get("action") == "limit" else None,
        initial={"small_balance_limit": settings.small_balance_limit},
    )
    if request.method == "POST" and request.POST.get("action") == "propose":
        try:
            services.small_balance_propose()
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Small balances proposed for write-off: approve them below.")
            return redirect(org_reverse(request, "patient_accounts:small_balances"))
    elif request.method == "POST" and form.is_valid():
        try:
            services.small_balance_rule_set(limit=form.cleaned_data["small_balance_limit"])
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Small-balance rule saved.")
            return redirect(org_reverse(request, "patient_accounts:small_balances"))
    pending = selectors.pending_write_offs(scopes=scopes_of(request))
    page = Paginator(pending, 50).get_page(request.GET.get("page"))
    return render(request, "patient_accounts/small_balances.html", {"form": form, "page": page})


@require_POST
@require_scope(APPROVE)
def write_off_decide(request: OrgRequest, pk: str, decision: str) -> HttpResponse:
    write_off = get_object_or_404(
        part2.visible(PatientWriteOff.objects.all(), scopes_of(request)), pk=pk
    )
    try:
        if decision == "approve":
            services.write_off_approve(
                write_off=write_off, approver=request.user, today=request_today(request)
            )
        elif decision == "refuse":
            services.write_off_refuse(write_off=write_off, approver=request.user)
        else:
            raise PermissionDenied("Unknown decision.")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Write-off {decision}d.")
    return redirect(org_reverse(request, "patient_accounts:small_balances"))


@require_scope(READ)
@audit_phi("patient_accounts.collectionplacement")
def placements(request: OrgRequest) -> HttpResponse:
    page = Paginator(selectors.placement_list(), 50).get_page(request.GET.get("page"))
    collected = selectors.placement_collected([p.pk for p in page])
    rows = [(p, collected.get(p.pk)) for p in page]
    return render(request, "patient_accounts/placements.html", {"page": page, "rows": rows})


@require_scope(READ)
@audit_phi("patient_accounts.collectionplacement")
def placements_export(request: OrgRequest) -> HttpResponse:
    placed = list(selectors.placement_list())
    collected = selectors.placement_collected([p.pk for p in placed])
    return csv_response(
        "collection-placements.csv",
        (
            (
                p.patient.mrn,
                p.patient.last_name,
                p.patient.first_name,
                p.patient.date_of_birth.isoformat(),
                p.agency_name,
                p.placed_on.isoformat(),
                p.amount_placed,
                collected.get(p.pk) or 0,
                p.get_status_display(),
            )
            for p in placed
        ),
        header=[
            "MRN",
            "Last name",
            "First name",
            "Date of birth",
            "Agency",
            "Placed on",
            "Amount placed",
            "Collected since",
            "Status",
        ],
    )


@require_POST
@require_scope(WRITE)
def placement_recall(request: OrgRequest, pk: str) -> HttpResponse:
    placement = get_object_or_404(CollectionPlacement, pk=pk)
    try:
        services.placement_recall(placement=placement, recalled_on=request_today(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Placement recalled.")
    return redirect(_account_url(request, placement.patient_id))


# --- Statements -------------------------------------------------------------------------------


@require_scope(READ, post=WRITE)
@audit_phi("patient_accounts.statementrun")
def statements(request: OrgRequest) -> HttpResponse:
    """The statement runs, newest cycle first, and the form that starts one."""
    today = request_today(request)
    form = StatementRunForm(request.POST or None, initial={"cycle": f"{today:%Y-%m}"})
    page = Paginator(selectors.statement_runs(), 25).get_page(request.GET.get("page"))
    return handle_form(
        request,
        form,
        action=lambda data: statement_services.statement_run_create(
            cycle=data["cycle"], today=today, user=request.user
        ),
        success_url=lambda run: org_reverse(request, "patient_accounts:statement_run", pk=run.pk),
        success_message=lambda run: f"Statement run for {run.cycle} started.",
        template="patient_accounts/statements.html",
        context={"page": page, "settings": services.account_settings()},
    )


@require_scope(READ, post=WRITE)
def statement_settings(request: OrgRequest) -> HttpResponse:
    settings = services.account_settings()
    initial = {name: getattr(settings, name) for name in statement_services.SETTINGS_FIELDS}
    form = StatementSettingsForm(request.POST or None, initial=initial)
    return handle_form(
        request,
        form,
        action=lambda data: statement_services.statement_settings_set(data=data),
        success_url=org_reverse(request, "patient_accounts:statements"),
        success_message="Statement settings saved.",
        template="patient_accounts/statement_settings.html",
    )


@require_scope(READ)
@audit_phi("patient_accounts.statement")
def statement_run(request: OrgRequest, pk: str) -> HttpResponse:
    """A run's progress (polled by htmx while it runs) and its statements."""
    run = get_object_or_404(StatementRun, pk=pk)
    scopes = scopes_of(request)
    page = Paginator(selectors.run_statements(run=run, scopes=scopes), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "run": run,
        "page": page,
        "hidden": part2.hidden_count(Statement.objects.filter(run=run), scopes),
    }
    if request.headers.get("HX-Request"):
        return render(request, "patient_accounts/_statement_progress.html", context)
    return render(request, "patient_accounts/statement_run.html", context)


def _pdf_response(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_scope(READ)
@audit_phi("patient_accounts.statement")
def statement_run_pdf(request: OrgRequest, pk: str) -> HttpResponse:
    """The run's statements in one PDF for printing (those the caller may see)."""
    run = get_object_or_404(StatementRun, pk=pk)
    found = list(selectors.run_statements(run=run, scopes=scopes_of(request)))
    if not found:
        raise Http404("This run has no statement to print.")
    pdf = statement_services.statement_pdf(found, organization=request.organization)
    return _pdf_response(pdf, f"statements-{run.cycle}.pdf")


@require_scope(READ)
@audit_phi("patient_accounts.statement")
def statement_pdf(request: OrgRequest, pk: str) -> HttpResponse:
    statement = get_object_or_404(selectors.statements_of(scopes=scopes_of(request)), pk=pk)
    pdf = statement_services.statement_pdf([statement], organization=request.organization)
    return _pdf_response(pdf, f"statement-{statement.statement_date:%Y-%m-%d}-{statement.pk}.pdf")
