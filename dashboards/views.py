"""Clinic managers' dashboard (with CSV and PDF exports and drill-down lists) and the
billing-company portfolio page."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from dashboards import selectors
from dashboards.charts import bars
from dashboards.forms import DashboardFilterForm
from dashboards.rules import FORMULAS
from dashboards.tables import TABLES, table_rows
from rcm.audit.services import audit_record
from rcm.tenancy.context import tenant_context
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.permissions import scopes_for_role
from rcm.tenancy.selectors import memberships_of_user, organization_today


def _today(request: HttpRequest) -> date:
    return organization_today(request.organization)  # type: ignore[attr-defined]


def _context(request: HttpRequest, today: date) -> dict[str, Any]:
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters(today=today)
    figures = selectors.dashboard_figures(filters=filters, today=today)
    return {
        "form": form,
        "d": figures,
        "formulas": FORMULAS,
        "charts": {
            "denial_trend": bars([(b.label, b.rate) for b in figures.denial_by_month], unit="%"),
            "aging": bars(
                [
                    (bucket, v["insurance"] + v["patient"])
                    for bucket, v in figures.ar_buckets.items()
                ],
                unit="$",
            ),
            "cash": bars(
                [(week.strftime("%m-%d"), amount) for week, amount in figures.cash_by_week],
                unit="$",
            ),
        },
    }


@require_scope("dashboards:read")
def dashboard(request: HttpRequest) -> HttpResponse:
    today = _today(request)
    context = _context(request, today)
    export = request.GET.get("export", "")
    if export:
        if export not in TABLES:
            raise Http404("No such table.")
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{export}.csv"'
        writer = csv.writer(response)
        for row in table_rows(export, context["d"]):
            writer.writerow(row)
        audit_record(action="dashboard.export", detail={"table": export})
        return response
    if request.GET.get("format") == "pdf":
        from weasyprint import HTML

        html = render_to_string(
            "dashboards/dashboard_pdf.html", {**context, "request": request}, request=request
        )
        pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="dashboard-{today}.pdf"'
        audit_record(action="dashboard.export", detail={"format": "pdf"})
        return response
    return render(request, "dashboards/dashboard.html", context)


DRILLDOWNS = {
    "denied": "Claims with a denial, adjudicated in the period",
    "adjudicated": "Claims adjudicated in the period",
    "ar": "Claims with an open balance",
}


@require_scope("dashboards:read")
def unbilled_days(request: HttpRequest) -> HttpResponse:
    """The census days behind 'unbilled per-diem days': episode and date with no charge."""
    today = _today(request)
    filters = DashboardFilterForm(request.GET or None).filters(today=today)
    days = selectors.unbilled_per_diem_days(filters, today=today)
    episodes = selectors.episodes_by_id({episode_id for episode_id, _ in days})
    if "part2:read" not in request.scopes:  # type: ignore[attr-defined]
        days = [(e, d) for e, d in days if not episodes[e].is_part2]
    page = Paginator(sorted(days, key=lambda pair: (pair[1], str(pair[0]))), 100).get_page(
        request.GET.get("page")
    )
    rows = [(episodes[e], d) for e, d in page]
    return render(
        request,
        "dashboards/unbilled.html",
        {"page": page, "rows": rows},
    )


@require_scope("dashboards:read")
def drilldown(request: HttpRequest) -> HttpResponse:
    """The claims behind a number (same selectors, same filters)."""
    kind = request.GET.get("kind", "")
    if kind not in DRILLDOWNS:
        raise Http404("No such list.")
    today = _today(request)
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters(today=today)
    category = request.GET.get("category", "")
    if kind == "denied":
        claims = selectors.denied_claims(filters, category=category)
    elif kind == "adjudicated":
        claims = selectors.adjudicated_claims(filters)
    else:
        claims = selectors.ar_claims(filters, bucket=request.GET.get("bucket", ""), today=today)
    month = request.GET.get("month", "")
    if month:
        try:
            year, number = (int(part) for part in month.split("-"))
        except ValueError as exc:
            raise Http404("Month is YYYY-MM.") from exc
        claims = claims.filter(statement_from__year=year, statement_from__month=number)
    if "part2:read" not in request.scopes:  # type: ignore[attr-defined]
        claims = claims.exclude(is_part2=True)
    claims = claims.select_related("patient", "payer", "rendering_provider").order_by(
        "-statement_from"
    )
    page = Paginator(claims, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/drilldown.html",
        {
            "title": DRILLDOWNS[kind],
            "page": page,
            "category": category,
            "bucket": request.GET.get("bucket", ""),
            "month": month,
        },
    )


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    """A billing company's view: headline KPIs of each organization the user belongs to, each
    computed inside that organization's own tenant context."""
    rows = []
    starts: list[date] = []
    for membership in memberships_of_user(user=request.user):
        if "dashboards:read" not in scopes_for_role(membership.role):
            continue
        # Each organization's own day (clinics may sit in different time zones).
        today = organization_today(membership.organization)
        date_from = today - timedelta(days=89)
        with tenant_context(membership.organization_id):
            figures = selectors.headline_figures(date_from=date_from, date_to=today, today=today)
        rows.append({"organization": membership.organization, "figures": figures})
        starts.append(date_from)
    if not rows:
        raise PermissionDenied("None of your organizations lets you read dashboards.")
    return render(
        request,
        "dashboards/portfolio.html",
        {"rows": rows, "formulas": FORMULAS, "date_from": min(starts)},
    )
