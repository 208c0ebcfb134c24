"""The HL7 exceptions queue, for owners and billers: charges held for an unknown patient or
provider, each with its message; retry once the patient or provider exists, or dismiss with a
reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from interfaces import selectors, services
from interfaces.forms import DismissForm, HeldFilterForm
from interfaces.models import HeldMessage, HeldStatus
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse

SCOPE = "claims:write"


def _held(request: OrgRequest, pk: str) -> HeldMessage:
    held = get_object_or_404(HeldMessage.objects.select_related("message"), pk=pk)
    if part2.restricted(held, scopes_of(request)):
        raise Http404
    return held


@audit_phi("interfaces.heldmessage")
@require_scope(SCOPE)
def held_list(request: OrgRequest) -> HttpResponse:
    form = HeldFilterForm(request.GET or {"status": HeldStatus.OPEN})
    status = (form.cleaned_data.get("status") or "") if form.is_valid() else HeldStatus.OPEN
    scopes = scopes_of(request)
    page = Paginator(selectors.held_list(status=status, scopes=scopes), 25).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "status": status,
        "part2_hidden": selectors.held_hidden(status=status, scopes=scopes),
    }
    return render(request, "interfaces/held_list.html", context)


def _detail(
    request: OrgRequest, held: HeldMessage, form: DismissForm, status: int = 200
) -> HttpResponse:
    raw, ack = services.message_text(held.message)
    context = {
        "held": held,
        "segments": raw.split("\r"),
        "ack": ack.strip().split("\r"),
        "form": form,
    }
    return render(request, "interfaces/held_detail.html", context, status=status)


@audit_phi("interfaces.heldmessage")
@require_scope(SCOPE)
def held_detail(request: OrgRequest, pk: str) -> HttpResponse:
    return _detail(request, _held(request, pk), DismissForm())


@require_POST
@require_scope(SCOPE)
def held_retry(request: OrgRequest, pk: str) -> HttpResponse:
    held = _held(request, pk)
    try:
        held = services.held_retry(
            held=held,
            scopes=scopes_of(request),
            today=request_today(request),
            now=request_now(request),
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, f"Not charged: {exc.message}")
    else:
        if held.status == HeldStatus.RESOLVED:
            messages.success(request, "Charged: the message is processed.")
        else:
            messages.error(request, f"Still held: {held.detail}.")
    return redirect(org_reverse(request, "interfaces:held_detail", pk=held.pk))


@require_POST
@require_scope(SCOPE)
def held_dismiss(request: OrgRequest, pk: str) -> HttpResponse:
    held = _held(request, pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.held_dismiss(
                held=held,
                reason=form.cleaned_data["reason"],
                scopes=scopes_of(request),
                now=request_now(request),
                user=request.user,
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Dismissed.")
            return redirect(org_reverse(request, "interfaces:held"))
    return _detail(request, held, form, status=400)
