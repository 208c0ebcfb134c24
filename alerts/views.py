"""The alerts inbox, shared by authorizations and credentialing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from alerts import selectors, services
from alerts.forms import AlertFilterForm
from alerts.models import Alert, area_scope
from rcm.audit.reads import audit_phi
from rcm.tenancy.http import OrgRequest, request_now
from rcm.tenancy.templatetags.org_urls import org_reverse

SNOOZE_CHOICES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}


@audit_phi("alerts.alert")
def inbox(request: OrgRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    criteria: dict[str, Any] = {
        "scopes": request.scopes,
        "now": request_now(request),
        "show": data.get("show") or "open",
        "area": data.get("area") or "",
        "severity": data.get("severity") or "",
        "assignee_id": request.user.pk if data.get("mine") else None,
    }
    page = Paginator(selectors.alert_inbox(**criteria), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/inbox.html",
        {
            "form": form,
            "page": page,
            "part2_hidden": selectors.alert_inbox_hidden(**criteria),
        },
    )


def _writable(request: OrgRequest, pk: str) -> Alert:
    alert = get_object_or_404(selectors.alerts_readable(scopes=request.scopes), pk=pk)
    needed = area_scope(alert.area, "write")
    if needed not in request.scopes:
        raise PermissionDenied(f"Your role does not allow this ({needed}).")
    return alert


def _after_action(request: OrgRequest, alert: Alert, note: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, "alerts/_row.html", {"alert": alert, "note": note})
    messages.success(request, note)
    return redirect(org_reverse(request, "alerts:inbox"))


@require_POST
def acknowledge(request: OrgRequest, pk: str) -> HttpResponse:
    alert = services.alert_acknowledge(alert=_writable(request, pk), user=request.user)
    return _after_action(request, alert, f"Acknowledged: {alert.title}")


@require_POST
def snooze(request: OrgRequest, pk: str) -> HttpResponse:
    alert = _writable(request, pk)
    delta = SNOOZE_CHOICES.get(request.POST.get("for", ""), SNOOZE_CHOICES["1d"])
    now = request_now(request)
    alert = services.alert_snooze(alert=alert, until=now + delta, now=now)
    return _after_action(
        request,
        alert,
        f"Snoozed until {timezone.localtime(alert.snoozed_until):%Y-%m-%d %H:%M}: {alert.title}",
    )
