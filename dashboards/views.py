"""Clinic managers' dashboard (with CSV and PDF exports and drill-down lists) and the
billing-company portfolio page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from dashboards import selectors
from dashboards.charts import bars
from dashboards.forms import DashboardFilterForm
from dashboards.rules import FORMULAS
from dashboards.tables import TABLES, table_rows
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_record
from rcm.csv_export import csv_response
from rcm.replica import reads_from_replica
from rcm.tenancy.context import tenant_context
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_today
from rcm.tenancy.permissions import scopes_for_role
from rcm.tenancy.selectors import memberships_of_user, organization_today


def _context(request: OrgRequest, today: date) -> dict[str, Any]:
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters(today=today)
    figures = selectors.dashboard_figures(
        filters=filters,
        today=today,
        scopes=request.scopes,
    )
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


def _invalid_filters(request: OrgRequest) -> HttpResponse | None:
    """The dashboard with its filter errors beside their fields, no figures, when the filters
    (a date range that ends before it starts...) are wrong: never a silently replaced period."""
    form = DashboardFilterForm(request.GET or None)
    if not form.is_bound or form.is_valid():
        return None
    return render(request, "dashboards/dashboard.html", {"form": form, "d": None}, status=400)


@require_scope("dashboards:read")
@reads_from_replica
def dashboard(request: OrgRequest) -> HttpResponse:
    if (invalid := _invalid_filters(request)) is not None:
        return invalid
    today = request_today(request)
    context = _context(request, today)
    export = request.GET.get("export", "")
    if export:
        if export not in TABLES:
            raise Http404("No such table.")
        response = csv_response(f"{export}.csv", table_rows(export, context["d"]))
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
    "clean": "Claims accepted on first pass, submitted in the period",
    "answered": "Claims accepted or rejected at the front door, submitted in the period",
    "denied": "Claims with a denial, adjudicated in the period",
    "adjudicated": "Claims adjudicated in the period",
    "ar": "Claims with an open balance",
    "collected": "Claims paid (or reversed) in the period",
}


@require_scope("dashboards:read")
@audit_phi("patients.episodeofcare")
@reads_from_replica
def unbilled_days(request: OrgRequest) -> HttpResponse:
    """The census days behind 'unbilled per-diem days': episode and date with no charge."""
    if (invalid := _invalid_filters(request)) is not None:
        return invalid
    today = request_today(request)
    filters = DashboardFilterForm(request.GET or None).filters(today=today)
    scopes = request.scopes
    unbilled = selectors.unbilled_per_diem_days(filters, today=today, scopes=scopes)
    days = unbilled.days
    episodes = selectors.episodes_by_id({episode_id for episode_id, _ in days}, scopes=scopes)
    page = Paginator(sorted(days, key=lambda pair: (pair[1], str(pair[0]))), 100).get_page(
        request.GET.get("page")
    )
    rows = [(episodes[e], d) for e, d in page]
    return render(
        request,
        "dashboards/unbilled.html",
        {"page": page, "rows": rows, "part2_hidden": unbilled.part2_hidden},
    )


@require_scope("dashboards:read")
@audit_phi("claims.claim")
@reads_from_replica
def drilldown(request: OrgRequest) -> HttpResponse:
    """The claims behind a number (same selectors, same filters)."""
    kind = request.GET.get("kind", "")
    if kind not in DRILLDOWNS:
        raise Http404("No such list.")
    if (invalid := _invalid_filters(request)) is not None:
        return invalid
    today = request_today(request)
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters(today=today)
    category = request.GET.get("category", "")
    month = request.GET.get("month", "")
    year_month = None
    if month:
        try:
            year, number = (int(part) for part in month.split("-"))
        except ValueError as exc:
            raise Http404("Month is YYYY-MM.") from exc
        year_month = (year, number)
    drill = selectors.drilldown_claims(
        kind,
        filters,
        today=today,
        scopes=request.scopes,
        category=category,
        bucket=request.GET.get("bucket", ""),
        month=year_month,
    )
    claims = drill.claims.select_related("patient", "payer", "rendering_provider").order_by(
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
            "part2_hidden": drill.part2_hidden,
            "amount_label": drill.amount_label,
            "amount_total": drill.amount_total,
        },
    )


@login_required
def portfolio(request: OrgRequest) -> HttpResponse:
    """A billing company's view: headline KPIs of each organization the user belongs to, each
    computed inside that organization's own tenant context over what that membership may see
    (its role's scopes and its own Part 2 grant)."""
    rows = []
    starts: list[date] = []
    for membership in memberships_of_user(user=request.user):
        scopes = scopes_for_role(membership.role, part2_access=membership.part2_access)
        if "dashboards:read" not in scopes:
            continue
        # Each organization's own day (clinics may sit in different time zones).
        today = organization_today(membership.organization)
        date_from = today - timedelta(days=89)
        with tenant_context(membership.organization_id):
            figures = selectors.headline_figures(
                date_from=date_from, date_to=today, today=today, scopes=scopes
            )
        rows.append({"organization": membership.organization, "figures": figures})
        starts.append(date_from)
    if not rows:
        raise PermissionDenied("None of your organizations lets you read dashboards.")
    return render(
        request,
        "dashboards/portfolio.html",
        {"rows": rows, "formulas": FORMULAS, "date_from": min(starts)},
    )
