"""Denials pages: the work queue, 835 imports with progress and summary, payments, exceptions,
one denial with its history, appeals, letter editor and PDF, and the parity review."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from denials import forms, selectors, services
from denials.letters import letter_missing, letter_pdf
from denials.models import (
    Denial,
    ExceptionKind,
    Payment,
    RemittanceException,
    SecondaryStatus,
)
from denials.posting import progress_get
from rcm import csv_export, part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError, form_add_domain_error
from rcm.forms_flow import handle_form
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

READ = "denials:read"
WRITE = "denials:write"


def _denial_url(request: OrgRequest, pk: Any) -> str:
    return org_reverse(request, "denials:denial", pk=pk)


def _queue_filters(data: dict[str, Any]) -> selectors.QueueFilter:
    assignee = data.get("assignee") or ""
    return selectors.QueueFilter(
        category=data.get("category") or "",
        payer_id=data.get("payer") or None,
        assignee_id=None if assignee in ("", "none") else assignee,
        unassigned=assignee == "none",
        min_age_days=data.get("age"),
        status=data.get("status") or "",
        kind=data.get("kind") or "",
        due_only=bool(data.get("due")),
    )


@require_scope(READ, post=WRITE)
@audit_phi("denials.workitem")
def queue(request: OrgRequest) -> HttpResponse:
    form = forms.QueueFilterForm(request.GET or None, payers=selectors.payer_choices())
    data = form.cleaned_data if form.is_valid() else {}
    today = request_today(request)
    filters = _queue_filters(data)
    qs = selectors.work_queue(filters=filters, today=today, scopes=scopes_of(request))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "today": today,
        "assign_form": forms.BulkAssignForm(scopes=scopes_of(request)),
        "part2_hidden": selectors.work_queue_hidden(
            filters=filters, today=today, scopes=scopes_of(request)
        ),
    }
    return render(request, "denials/queue.html", context)


@require_POST
@require_scope(WRITE)
def queue_assign(request: OrgRequest) -> HttpResponse:
    form = forms.BulkAssignForm(request.POST, scopes=scopes_of(request))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(org_reverse(request, "denials:queue"))
    try:
        count = services.work_items_assign(
            item_ids=[i.pk for i in form.cleaned_data["items"]],
            assignee=form.cleaned_data["assignee"],
            actor=request.user,
            scopes=scopes_of(request),
        )
        messages.success(request, f"{count} item(s) assigned.")
    except DomainError as exc:
        messages.error(request, exc.message)
    # The queue's filters as the page had them ({% querystring %}: "" or "?status=...").
    query = request.POST.get("query", "")
    return redirect(
        org_reverse(request, "denials:queue") + (query if query.startswith("?") else "")
    )


@require_POST
@require_scope(WRITE)
def queue_take_next(request: OrgRequest) -> HttpResponse:
    item = services.work_item_claim_next(
        user=request.user, today=request_today(request), scopes=scopes_of(request)
    )
    if item is None:
        messages.info(request, "Nothing is due: the queue is clear.")
        return redirect(org_reverse(request, "denials:queue"))
    return redirect(org_reverse(request, "denials:item", pk=item.pk))


@require_scope(READ, post=WRITE)
@audit_phi("denials.workitem")
def item_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    item = get_object_or_404(selectors.work_items(scopes=scopes_of(request)), pk=pk)
    denial = selectors.work_item_source(item)
    if denial is not None and request.method == "GET":
        return redirect(_denial_url(request, denial.pk))
    form = forms.WorkItemUpdateForm(
        request.POST or None, initial={"status": item.status, "next_follow_up": item.next_follow_up}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.work_item_update(
                item=item, actor=request.user, today=request_today(request), **form.cleaned_data
            )
            return redirect(org_reverse(request, "denials:item", pk=item.pk))
        except DomainError as exc:
            form_add_domain_error(form, exc)
    events = item.events.select_related("actor")
    return render(request, "denials/item.html", {"item": item, "form": form, "events": events})


@require_scope(READ, post=WRITE)
def remittances(request: OrgRequest) -> HttpResponse:
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imp = services.remittance_import_create(
                file_name=upload.name, content=upload.read(), source="ui", uploaded_by=request.user
            )
            return redirect(org_reverse(request, "denials:import", pk=imp.pk))
        except DomainError as exc:
            form_add_domain_error(form, exc)
    page = Paginator(selectors.imports_list(), 25).get_page(request.GET.get("page"))
    exceptions = selectors.unresolved_exception_count(scopes=scopes_of(request))
    return render(
        request,
        "denials/remittances.html",
        {"form": form, "page": page, "exceptions": exceptions},
    )


@require_scope(READ)
@audit_phi("denials.remittanceimport")
def import_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    imp = get_object_or_404(selectors.imports_list(), pk=pk)
    template = "denials/_import_progress.html" if request.htmx else "denials/import.html"
    context = {
        "imp": imp,
        "done": progress_get(imp),
        "payments": selectors.payments_for_import(imp),
    }
    return render(request, template, context)


@require_scope(READ)
@audit_phi("denials.payment")
def payment_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    try:
        detail = selectors.payment_detail(pk, scopes=scopes_of(request))
    except Payment.DoesNotExist:
        raise Http404 from None
    audit_read(obj=detail.payment, patient_id=None, claims=len(detail.claims))
    return render(
        request,
        "denials/payment.html",
        {
            "payment": detail.payment,
            "claims": detail.claims,
            "part2_hidden": detail.part2_hidden,
        },
    )


@require_scope(READ, post="claims:write")
@audit_phi("denials.secondaryclaim")
def secondaries(request: OrgRequest) -> HttpResponse:
    if request.method == "POST":
        ids = None if request.POST.get("all") else request.POST.getlist("secondary")
        if ids == []:
            messages.error(request, "Select the balances to build claims for, or build every one.")
            return redirect(org_reverse(request, "denials:secondaries"))
        built = services.secondary_claims_build(
            secondary_ids=ids,
            today=request_today(request),
            actor=request.user,
            scopes=scopes_of(request),
        )
        if built:
            messages.success(request, f"Built {len(built)} secondary claim(s); each was scrubbed.")
        else:
            messages.info(request, "Nothing to build: every balance already has its claim.")
        return redirect(org_reverse(request, "denials:secondaries") + "?status=billed")
    status = request.GET.get("status", "to_bill")
    rows = selectors.secondaries_list(status=status, scopes=scopes_of(request))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": SecondaryStatus.choices,
        "part2_hidden": selectors.secondaries_hidden(status=status, scopes=scopes_of(request)),
    }
    return render(request, "denials/secondaries.html", context)


@require_scope(READ)
@audit_phi("denials.remittanceexception")
def exceptions(request: OrgRequest) -> HttpResponse:
    form = forms.ExceptionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ExceptionFilter(**data)
    qs = selectors.exceptions_list(filters, scopes=scopes_of(request))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page}
    context["part2_hidden"] = selectors.exceptions_hidden(filters, scopes=scopes_of(request))
    return render(request, "denials/exceptions.html", context)


def _exception(request: OrgRequest, pk: Any) -> RemittanceException:
    qs = selectors.exceptions_list(
        selectors.ExceptionFilter(status="all"), scopes=scopes_of(request)
    )
    return get_object_or_404(qs, pk=pk)


def _exception_page(
    request: OrgRequest,
    exc: RemittanceException,
    *,
    match_form: Any = None,
    resolve_form: Any = None,
) -> HttpResponse:
    """The exception page, or (htmx) only the claim search results."""
    scopes = scopes_of(request)
    query = request.GET.get("q", "")
    search = {"q": query, "rc": exc.remittance_claim, "candidates": []}
    if exc.kind == ExceptionKind.UNMATCHED_CLAIM and not exc.resolved:
        search["candidates"] = selectors.claim_candidates(
            query=query, rc=exc.remittance_claim, scopes=scopes
        )
    if request.htmx and request.method == "GET":
        return render(request, "denials/_exception_claims.html", search)
    context = {**selectors.exception_detail(exc), **search}
    claim = context["claim"]
    audit_read(obj=exc, patient_id=claim.patient_id if claim else None)
    context["match_form"] = match_form or forms.match_form(
        exc, None, lines=context["claim_lines"], claims=selectors.matchable_claims(scopes=scopes)
    )
    context["resolve_form"] = resolve_form or forms.ResolveForm()
    return render(request, "denials/exception.html", context)


@require_scope(READ, post=WRITE)
@audit_phi("denials.remittanceexception")
def exception_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    exc = _exception(request, pk)
    if request.method != "POST":
        return _exception_page(request, exc)
    form = forms.match_form(
        exc,
        request.POST,
        lines=selectors.claim_lines_for_matching(exc.remittance_claim),
        claims=selectors.matchable_claims(scopes=scopes_of(request)),
    )
    if form.is_valid():
        try:
            exc = services.remittance_exception_match(
                exception=exc, actor=request.user, today=request_today(request), **form.cleaned_data
            )
            messages.success(request, exc.resolution_note)
            return redirect(org_reverse(request, "denials:exception", pk=exc.pk))
        except DomainError as error:
            form_add_domain_error(form, error)
    return _exception_page(request, exc, match_form=form)


@require_POST
@require_scope(WRITE)
def exception_resolve(request: OrgRequest, pk: Any) -> HttpResponse:
    exc = _exception(request, pk)
    form = forms.ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.remittance_exception_resolve(
                exception=exc,
                note=form.cleaned_data["note"],
                today=request_today(request),
                actor=request.user,
            )
            messages.success(request, "Marked resolved: nothing was posted.")
            return redirect(org_reverse(request, "denials:exceptions"))
        except DomainError as error:
            form_add_domain_error(form, error)
    return _exception_page(request, exc, resolve_form=form)


@require_scope(READ, post=WRITE)
@audit_phi("denials.denial")
def denial_detail(request: OrgRequest, pk: Any) -> HttpResponse:
    scopes = scopes_of(request)
    try:
        context = selectors.denial_detail(pk, scopes=scopes)
    except Denial.DoesNotExist:
        raise Http404 from None
    item = context["work_item"]
    denial = context["denial"]
    audit_read(obj=denial, patient_id=denial.claim.patient_id, part2=denial.claim.is_part2)
    form = forms.WorkItemUpdateForm(
        request.POST or None,
        initial={
            "status": item.status if item else "new",
            "next_follow_up": item.next_follow_up if item else None,
        },
    )
    if request.method == "POST" and item is not None and form.is_valid():
        try:
            services.work_item_update(
                item=item, actor=request.user, today=request_today(request), **form.cleaned_data
            )
            return redirect(_denial_url(request, pk))
        except DomainError as exc:
            form_add_domain_error(form, exc)
    balance = (
        selectors.line_balances(scopes=scopes).filter(claim_line_id=denial.claim_line_id).first()
    )
    # One submit/decide form per appeal, each with its own element ids (labels point at them).
    for appeal in context["appeals"]:
        appeal.submit_form = forms.AppealSubmitForm(
            initial={"submitted_on": request_today(request)}, auto_id=f"id_{appeal.pk}_%s"
        )
        appeal.decide_form = forms.AppealDecideForm(auto_id=f"id_{appeal.pk}_%s")
    context.update(
        form=form,
        appeal_form=forms.AppealForm(),
        balance=balance,
        write_off_form=forms.WriteOffForm(),
        write_offs=selectors.write_offs(scopes=scopes).filter(claim_line_id=denial.claim_line_id),
    )
    return render(request, "denials/denial.html", context)


def _appeal_action(request: OrgRequest, pk: Any, run: Any) -> HttpResponse:
    try:
        run()
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_denial_url(request, pk))


@require_POST
@require_scope(WRITE)
def appeal_new(request: OrgRequest, pk: Any) -> HttpResponse:
    denial = get_object_or_404(selectors.denials(scopes=scopes_of(request)), pk=pk)
    form = forms.AppealForm(request.POST)
    if not form.is_valid():
        return redirect(_denial_url(request, pk))
    try:
        appeal = services.appeal_create(
            denial=denial,
            level=form.cleaned_data["level"],
            today=request_today(request),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_denial_url(request, pk))
    return redirect(org_reverse(request, "denials:letter", pk=appeal.pk))


@require_scope(READ, post=WRITE)
@audit_phi("denials.appeal")
def letter_edit(request: OrgRequest, pk: Any) -> HttpResponse:
    appeal = get_object_or_404(selectors.appeals(scopes=scopes_of(request)), pk=pk)
    form = forms.LetterForm(request.POST or None, initial={"letter_body": appeal.letter_body})
    return handle_form(
        request,
        form,
        action=lambda data: services.appeal_letter_save(
            appeal=appeal, body=data["letter_body"], actor=request.user
        ),
        success_url=org_reverse(request, "denials:letter", pk=appeal.pk),
        success_message="Letter saved.",
        template="denials/letter.html",
        context={"appeal": appeal, "missing": letter_missing(appeal)},
    )


@require_scope(READ)
@audit_phi("denials.appeal")
def letter_download(request: OrgRequest, pk: Any) -> HttpResponse:
    appeal = get_object_or_404(selectors.appeals(scopes=scopes_of(request)), pk=pk)
    pdf = letter_pdf(appeal)
    # A letter for a Part 2 claim is a disclosure: the export is logged like any other.
    audit_read(
        obj=appeal,
        patient_id=appeal.denial.claim.patient_id,
        export="appeal_letter_pdf",
        part2=appeal.denial.claim.is_part2,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="appeal-{appeal.denial.claim.patient_control_number}.pdf"'
    )
    return response


@require_POST
@require_scope(WRITE)
def appeal_submit(request: OrgRequest, pk: Any) -> HttpResponse:
    appeal = get_object_or_404(selectors.appeals(scopes=scopes_of(request)), pk=pk)
    form = forms.AppealSubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date and the method.")
        return redirect(_denial_url(request, appeal.denial_id))
    return _appeal_action(
        request,
        appeal.denial_id,
        lambda: services.appeal_submit(
            appeal=appeal, actor=request.user, today=request_today(request), **form.cleaned_data
        ),
    )


@require_POST
@require_scope(WRITE)
def appeal_decide(request: OrgRequest, pk: Any) -> HttpResponse:
    appeal = get_object_or_404(selectors.appeals(scopes=scopes_of(request)), pk=pk)
    form = forms.AppealDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the outcome, the date and the amount recovered.")
        return redirect(_denial_url(request, appeal.denial_id))
    return _appeal_action(
        request,
        appeal.denial_id,
        lambda: services.appeal_decide(
            appeal=appeal, actor=request.user, today=request_today(request), **form.cleaned_data
        ),
    )


@require_POST
@require_scope(WRITE)
def denial_correct(request: OrgRequest, pk: Any) -> HttpResponse:
    denial = get_object_or_404(selectors.denials(scopes=scopes_of(request)), pk=pk)
    try:
        copy = services.denial_correct_claim(
            denial=denial, today=request_today(request), actor=request.user
        )
        messages.success(
            request,
            f"Corrected claim {copy.patient_control_number} created: fix its lines, then scrub and submit.",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_denial_url(request, pk))


@require_POST
@require_scope(WRITE)
def write_off_new(request: OrgRequest, pk: Any) -> HttpResponse:
    scopes = scopes_of(request)
    denial = get_object_or_404(selectors.denials(scopes=scopes), pk=pk)
    balance = get_object_or_404(
        selectors.line_balances(scopes=scopes), claim_line_id=denial.claim_line_id
    )
    form = forms.WriteOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an amount and a reason.")
        return redirect(_denial_url(request, pk))
    return _appeal_action(
        request,
        pk,
        lambda: services.write_off_request(
            balance=balance, actor=request.user, **form.cleaned_data
        ),
    )


@require_POST
@require_scope(WRITE)
def write_off_decide(request: OrgRequest, pk: Any) -> HttpResponse:
    scopes = scopes_of(request)
    write_off = get_object_or_404(selectors.write_offs(scopes=scopes), pk=pk)
    denial = selectors.denials(scopes=scopes).filter(claim_line_id=write_off.claim_line_id).first()
    approve = request.POST.get("decision") == "approve"
    try:
        services.write_off_decide(write_off=write_off, approve=approve, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(
        _denial_url(request, denial.pk) if denial else org_reverse(request, "denials:queue")
    )


@require_scope(READ)
def parity(request: OrgRequest) -> HttpResponse:
    review = selectors.parity_review(today=request_today(request), scopes=scopes_of(request))
    return render(
        request,
        "denials/parity.html",
        {"flags": review.flags, "part2_hidden": review.part2_hidden},
    )


@require_scope(READ)
@audit_phi("denials.parity_packet")
def parity_export(request: OrgRequest, fmt: str) -> HttpResponse:
    today = request_today(request)
    packet = selectors.parity_packet(today=today, scopes=scopes_of(request))
    rows = packet.rows
    if fmt == "csv":
        response = csv_export.csv_response("parity-packet.csv")
        # A CSV has no place for a note: the count of Part 2 records left out is a header.
        response[part2.HIDDEN_HEADER] = str(packet.part2_hidden)
        writer = csv_export.dict_writer(
            response, fieldnames=list(rows[0]) if rows else ["flag", "payer", "evidence"]
        )
        writer.writeheader()
        writer.writerows(rows)
        return response
    if fmt != "pdf":
        raise Http404
    from weasyprint import HTML

    organization = request.organization
    html = render_to_string(
        "denials/parity_packet.html",
        {
            "rows": rows,
            "organization": organization,
            "today": today,
            "part2_hidden": packet.part2_hidden,
        },
    )
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="parity-packet.pdf"'
    return response


@require_scope(READ, post=WRITE)
def denial_settings(request: OrgRequest) -> HttpResponse:
    current = services.denial_settings()
    initial = {
        "write_off_approval_threshold": current.write_off_approval_threshold,
        "small_balance_limit": current.small_balance_limit,
    }
    form = forms.SettingsForm(request.POST or None, initial=initial)
    return handle_form(
        request,
        form,
        action=lambda data: services.denial_settings_update(**data),
        success_url=org_reverse(request, "denials:settings"),
        success_message="Settings saved.",
        template="denials/settings.html",
    )
