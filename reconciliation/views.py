"""Reconciliation pages: the queues (tabs, search, CSV), deposits and the statement upload, one
deposit with its match and suggestions, matching by hand, matches and unmatching, bank
accounts, the settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from rcm import csv_export
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read, audit_record
from rcm.errors import DomainError, form_add_domain_error
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse
from reconciliation import forms, selectors, services
from reconciliation.models import BankAccount, Deposit

READ = "denials:read"
WRITE = "denials:write"
PAGE = 25


def _search(request: OrgRequest) -> tuple[forms.SearchForm, str]:
    form = forms.SearchForm(request.GET or None)
    return form, (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""


def _queue_rows(tab: str, qs: Any) -> tuple[list[str], Any]:
    if tab == "eras":
        header = ["ERA date", "Payer", "Trace (TRN02)", "Method", "Amount", "835 file"]
        rows = (
            [
                p.dated,
                p.payer_name,
                p.trace_number,
                p.method,
                p.amount,
                p.remittance_import.file_name,
            ]
            for p in qs
        )
    elif tab == "deposits":
        header = ["Deposit date", "Account", "Kind", "Trace", "Reference", "Amount", "Suggestion"]
        rows = (
            [
                d.deposit_date,
                d.bank_account.name,
                d.get_kind_display(),
                d.trace_number,
                d.reference,
                d.amount,
                "yes" if d.has_suggestion else "",
            ]
            for d in qs
        )
    else:
        header = ["Deposit date", "Trace", "Deposit amount", "ERA amount", "Difference", "Reason"]
        rows = (
            [
                d.deposit_date,
                d.trace_number,
                d.match_deposit_total if d.mismatched_match else d.amount,
                d.match_payment_total if d.mismatched_match else d.era_amount,
                (d.match_deposit_total - d.match_payment_total)
                if d.mismatched_match
                else d.amount - d.era_amount,
                d.match_reason or "",
            ]
            for d in qs
        )
    return header, rows


def _queue(tab: str, *, search: str, request: OrgRequest) -> Any:
    config = selectors.reconciliation_settings()
    if tab == "eras":
        return selectors.eras_without_deposit(
            today=request_today(request), days=config.era_without_deposit_days, search=search
        )
    if tab == "deposits":
        return selectors.deposits_without_era(search=search, window=config.suggestion_window_days)
    return selectors.amount_mismatches(search=search)


@require_scope(READ)
def queues(request: OrgRequest) -> HttpResponse:
    tab = request.GET.get("tab") or "eras"
    if tab not in selectors.QUEUES:
        raise Http404("No such queue.")
    form, search = _search(request)
    qs = _queue(tab, search=search, request=request)
    if request.GET.get("export") == "csv":
        header, rows = _queue_rows(tab, qs)
        return csv_export.csv_response(f"reconciliation-{tab}.csv", rows, header=header)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reconciliation/queues.html",
        {
            "tab": tab,
            "tabs": selectors.QUEUES,
            "tab_label": selectors.QUEUES[tab],
            "form": form,
            "search": search,
            "page": page,
            "config": selectors.reconciliation_settings(),
        },
    )


@require_scope(READ, post=WRITE)
def deposits(request: OrgRequest) -> HttpResponse:
    accounts = selectors.bank_accounts()
    upload = forms.StatementUploadForm(
        request.POST or None, request.FILES or None, accounts=accounts
    )
    if request.method == "POST" and upload.is_valid():
        file = upload.cleaned_data["file"]
        account = upload.cleaned_data.get("bank_account")
        try:
            outcome = services.statement_import(
                file_name=file.name,
                content=file.read(),
                bank_account_id=account.pk if account else None,
                uploaded_by=request.user,
                now=request_now(request),
            )
        except DomainError as exc:
            form_add_domain_error(upload, exc)
        else:
            imp = outcome.statement
            if outcome.duplicate:
                messages.warning(
                    request,
                    f"This file was imported on {imp.created_at:%Y-%m-%d} ({imp.file_name}); "
                    "nothing was imported again.",
                )
            else:
                messages.success(
                    request,
                    f"{imp.deposits_created} deposit(s) imported, {imp.deposits_skipped} already "
                    f"known, {imp.debits_ignored} debit(s) ignored; {imp.auto_matched} matched "
                    "to ERAs by trace.",
                )
            return redirect(org_reverse(request, "reconciliation:deposits"))
    form, search = _search(request)
    status = request.GET.get("status") or ""
    if status not in {"", "matched", "unmatched"}:
        status = ""
    page = Paginator(selectors.deposits_list(search=search, status=status), PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reconciliation/deposits.html",
        {
            "upload": upload,
            "form": form,
            "search": search,
            "status": status,
            "page": page,
            "accounts": accounts,
            "imports": selectors.statement_imports()[:5],
        },
    )


@require_scope(READ)
def deposit_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    try:
        deposit = selectors.deposit_detail(pk)
    except Deposit.DoesNotExist:
        raise Http404("No such deposit.") from None
    match_id = getattr(deposit, "match_id", None)  # annotated by the selector
    match = selectors.matches_list(active="").filter(pk=match_id).first() if match_id else None
    suggestions = (
        []
        if match
        else selectors.suggestions_for_deposit(
            deposit, window=selectors.reconciliation_settings().suggestion_window_days
        )
    )
    return render(
        request,
        "reconciliation/deposit.html",
        {"deposit": deposit, "match": match, "suggestions": suggestions},
    )


@require_scope(READ, post=WRITE)
def match_new(request: OrgRequest) -> HttpResponse:
    deposit_search = (request.GET.get("qd") or "").strip()[:100]
    payment_search = (request.GET.get("qp") or "").strip()[:100]
    initial = {
        "deposits": request.GET.getlist("deposit"),
        "payments": request.GET.getlist("payment"),
    }
    chosen = [*initial["deposits"], *initial["payments"]]
    chosen += [*request.POST.getlist("deposits"), *request.POST.getlist("payments")]
    deposits_found, payments_found = selectors.match_candidates(
        deposit_search=deposit_search, payment_search=payment_search, include=chosen
    )
    form = forms.MatchForm(
        request.POST or None,
        initial=initial,
        deposits=deposits_found,
        payments=payments_found,
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.match_create(
            deposit_ids=data["deposits"],
            payment_ids=data["payments"],
            reason=data["reason"],
            actor=request.user,
            now=request_now(request),
        ),
        success_url=lambda match: org_reverse(request, "reconciliation:match", pk=match.pk),
        success_message="Matched.",
        template="reconciliation/match_new.html",
        context={
            "deposits_found": deposits_found,
            "payments_found": payments_found,
            "selected": set(chosen),
            "qd": deposit_search,
            "qp": payment_search,
        },
    )


@require_scope(READ)
def matches(request: OrgRequest) -> HttpResponse:
    active = request.GET.get("active", "true")
    if active not in {"", "true", "false"}:
        active = "true"
    page = Paginator(selectors.matches_list(active=active), PAGE).get_page(request.GET.get("page"))
    return render(request, "reconciliation/matches.html", {"page": page, "active": active})


@require_scope(READ, post=WRITE)
def match_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    match = get_object_or_404(selectors.matches_list(active=""), pk=pk)
    form = forms.UnmatchForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.match_delete(
            match_id=match.pk, reason=data["reason"], actor=request.user, now=request_now(request)
        ),
        success_url=lambda m: org_reverse(request, "reconciliation:match", pk=m.pk),
        success_message="Unmatched: its deposits and ERAs are back in the queues.",
        template="reconciliation/match.html",
        context={"match": match},
    )


@require_scope(READ)
def bank_accounts(request: OrgRequest) -> HttpResponse:
    page = Paginator(selectors.bank_accounts(), PAGE).get_page(request.GET.get("page"))
    return render(request, "reconciliation/bank_accounts.html", {"page": page})


_ACCOUNT_FIELDS = forms.BankAccountForm.Meta.fields


@require_scope(WRITE)
def bank_account_add(request: OrgRequest) -> HttpResponse:
    form = forms.BankAccountForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.bank_account_create(**{f: data[f] for f in _ACCOUNT_FIELDS}),
        success_url=org_reverse(request, "reconciliation:bank_accounts"),
        success_message=lambda a: f"Bank account {a.name} added.",
        template="reconciliation/bank_account_form.html",
        context={"adding": True},
    )


@require_scope(WRITE)
def bank_account_edit(request: OrgRequest, pk: Any) -> HttpResponse:
    account = get_object_or_404(BankAccount, pk=pk)
    form = forms.BankAccountForm(request.POST or None, instance=account)
    return handle_form(
        request,
        form,
        action=lambda data: services.bank_account_update(
            account_id=account.pk, **{f: data[f] for f in _ACCOUNT_FIELDS}
        ),
        success_url=org_reverse(request, "reconciliation:bank_accounts"),
        success_message=lambda a: f"Bank account {a.name} saved.",
        template="reconciliation/bank_account_form.html",
        context={"adding": False, "account": account},
    )


@require_scope(READ, post="org:admin")
def settings_view(request: OrgRequest) -> HttpResponse:
    config = selectors.reconciliation_settings()
    form = forms.SettingsForm(
        request.POST or None,
        initial={
            "era_without_deposit_days": config.era_without_deposit_days,
            "suggestion_window_days": config.suggestion_window_days,
        },
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.reconciliation_settings_update(**data),
        success_url=org_reverse(request, "reconciliation:settings"),
        success_message="Reconciliation settings saved.",
        template="reconciliation/settings.html",
    )


@require_scope(READ, post="org:admin")
def tolerance_view(request: OrgRequest) -> HttpResponse:
    config = selectors.reconciliation_settings()
    form = forms.ToleranceForm(
        request.POST or None,
        initial={
            "underpayment_tolerance_amount": config.underpayment_tolerance_amount,
            "underpayment_tolerance_percent": config.underpayment_tolerance_percent,
        },
    )
    return handle_form(
        request,
        form,
        action=lambda data: services.underpayment_tolerance_update(
            amount=data["underpayment_tolerance_amount"],
            percent=data["underpayment_tolerance_percent"],
        ),
        success_url=org_reverse(request, "reconciliation:tolerance"),
        success_message="Underpayment tolerance saved.",
        template="reconciliation/tolerance.html",
    )


# --- Underpayments ----------------------------------------------------------------------------

UNDERPAYMENT_HEADER = [
    "Remittance date",
    "Payer",
    "Claim",
    "Patient",
    "Code",
    "Date of service",
    "Units",
    "Contract rate",
    "Patient responsibility",
    "Expected",
    "Paid",
    "Variance",
    "Outcome",
    "Recovered",
]


@audit_phi("reconciliation.underpayment")
@require_scope(READ)
def underpayments(request: OrgRequest) -> HttpResponse:
    """The underpayment queue (search, outcome, pages, CSV) and the variance by payer and month."""
    form = forms.UnderpaymentSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    search, outcome = (data.get("q") or "").strip(), data.get("outcome") or ""
    scopes = scopes_of(request)
    qs = selectors.underpayments_list(scopes=scopes, search=search, outcome=outcome)
    if request.GET.get("export") == "csv":
        rows = [
            [
                i.remittance_date,
                i.payer.name,
                i.claim.patient_control_number,
                f"{i.claim.patient.last_name}, {i.claim.patient.first_name}",
                i.service_code,
                i.date_of_service,
                i.units,
                i.contracted_allowed,
                i.patient_responsibility,
                i.expected,
                i.paid,
                i.variance,
                i.get_outcome_display(),
                i.recovered_amount,
            ]
            for i in qs
        ]
        audit_record(action="underpayment.export", detail={"rows": len(rows)})
        return csv_export.csv_response("underpayments.csv", rows, header=UNDERPAYMENT_HEADER)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reconciliation/underpayments.html",
        {
            "form": form,
            "search": search,
            "outcome": outcome,
            "page": page,
            "hidden": selectors.underpayments_hidden(scopes=scopes, search=search, outcome=outcome),
            "variance": selectors.variance_by_payer_month(scopes=scopes),
            "config": selectors.reconciliation_settings(),
        },
    )


@audit_phi("reconciliation.underpayment")
@require_scope(READ, post=WRITE)
def underpayment_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    scopes = scopes_of(request)
    item = get_object_or_404(
        selectors.underpayments_list(scopes=scopes, search="", outcome=""), pk=pk
    )
    if request.method == "GET":
        audit_read(obj=item, patient_id=item.claim.patient_id)
    form = forms.UnderpaymentResolveForm(request.POST or None)
    return handle_form(
        request,
        form,
        action=lambda data: services.underpayment_resolve(
            scopes=scopes,
            item_id=item.pk,
            outcome=data["outcome"],
            reason=data["reason"],
            recovered_amount=data["recovered_amount"],
            actor=request.user,
            now=request_now(request),
        ),
        success_url=lambda i: org_reverse(request, "reconciliation:underpayment", pk=i.pk),
        success_message="Underpayment closed.",
        template="reconciliation/underpayment.html",
        context={"item": item},
    )
