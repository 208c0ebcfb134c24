"""The operations page: background jobs and scheduled scan runs, for the organization's owners,
with Retry and Cancel for what failed for good."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rcm.errors import DomainError, form_add_domain_error
from rcm.operations import selectors, services
from rcm.operations.forms import CancelForm, OperationsFilterForm
from rcm.operations.models import ScanRun
from rcm.operations.scans import scan_label
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now
from rcm.tenancy.templatetags.org_urls import org_reverse


@require_scope("org:admin")
def operations_page(request: OrgRequest) -> HttpResponse:
    form = OperationsFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    status, search = data.get("status") or "failed", data.get("q") or ""
    jobs = Paginator(selectors.job_list(status=status, search=search), 25).get_page(
        request.GET.get("page")
    )
    for job in jobs:
        job.label = services.job_label(job)  # type: ignore[attr-defined]
    runs = Paginator(selectors.scan_run_list(status=status, search=search), 25).get_page(
        request.GET.get("runs_page")
    )
    for run in runs:
        run.label = scan_label(run.scan)  # type: ignore[attr-defined]
    return render(
        request,
        "operations/page.html",
        {"form": form, "jobs": jobs, "runs": runs, "status": status},
    )


def _back(request: OrgRequest) -> HttpResponse:
    return redirect(org_reverse(request, "operations:page") + "?status=all")


@require_POST
@require_scope("org:admin")
def job_retry(request: OrgRequest, pk: str) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.outbox_message_retry(message=message, now=request_now(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{services.job_label(message)} will run again shortly.")
    return _back(request)


@require_POST
@require_scope("org:admin")
def scan_run_retry(request: OrgRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(ScanRun, pk=pk)
    try:
        services.scan_run_retry(run=run)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{scan_label(run.scan)} for {run.day} will run again shortly.")
    return _back(request)


@require_scope("org:admin")
def job_cancel(request: OrgRequest, pk: str) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    label = services.job_label(message)
    return _cancel(
        request,
        label,
        lambda reason: services.outbox_message_cancel(message=message, reason=reason),
    )


@require_scope("org:admin")
def scan_run_cancel(request: OrgRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(ScanRun, pk=pk)
    label = f"{scan_label(run.scan)} for {run.day}"
    return _cancel(request, label, lambda reason: services.scan_run_cancel(run=run, reason=reason))


def _cancel(request: OrgRequest, label: str, cancel: Callable[[str], object]) -> HttpResponse:
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancel(form.cleaned_data["reason"])
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{label} is cancelled.")
            return _back(request)
    return render(request, "operations/cancel.html", {"form": form, "label": label})
