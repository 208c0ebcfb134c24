"""The auditor's page: filter the trail, page through it, export it as CSV. Rows come through
the selectors with the caller's scopes (42 CFR Part 2 rows redacted without the grant)."""

from __future__ import annotations

import uuid
import zoneinfo

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from rcm.audit.forms import AuditFilterForm
from rcm.audit.reads import audit_phi
from rcm.audit.selectors import AuditFilter, audit_event_list, audit_rows
from rcm.audit.services import audit_record
from rcm.csv_export import csv_response
from rcm.csv_export import writer as csv_writer
from rcm.replica import reads_from_replica
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now

CSV_COLUMNS = [
    "occurred_at",
    "actor_label",
    "actor_id",
    "role",
    "api_key_id",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "outcome",
    "ip_address",
    "user_agent",
    "request_id",
    "detail",
]


def _filters(request: OrgRequest) -> tuple[AuditFilterForm, AuditFilter]:
    form = AuditFilterForm(request.GET or None)
    if not form.is_valid():
        return form, AuditFilter()
    data = form.cleaned_data
    return form, AuditFilter(
        actor_id=uuid.UUID(data["actor"]) if data.get("actor") else None,
        patient_id=data.get("patient"),
        action=data.get("action") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


@require_scope("audit:read")
@audit_phi("audit.auditevent")
def audit_list(request: OrgRequest) -> HttpResponse:
    form, filters = _filters(request)
    tz = zoneinfo.ZoneInfo(request.organization.time_zone)
    scopes = request.scopes
    events = audit_event_list(filters=filters, scopes=scopes, tz=tz)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = list(audit_rows(page.object_list, scopes))
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "tz": tz},
    )


@require_scope("audit:read")
@audit_phi("audit.auditevent")
@reads_from_replica
def audit_export(request: OrgRequest) -> HttpResponse:
    _, filters = _filters(request)
    tz = zoneinfo.ZoneInfo(request.organization.time_zone)
    scopes = request.scopes
    events = audit_event_list(filters=filters, scopes=scopes, tz=tz)
    stamp = request_now(request).strftime("%Y%m%d-%H%M%S")
    response = csv_response(f"audit-{stamp}.csv", header=CSV_COLUMNS)
    writer = csv_writer(response)
    count = 0
    for event in audit_rows(events.iterator(chunk_size=2000), scopes):
        writer.writerow(
            [
                getattr(event, c) if c != "occurred_at" else event.occurred_at.isoformat()
                for c in CSV_COLUMNS
            ]
        )
        count += 1
    audit_record(action="audit.export", detail={"rows": count, "filters": request.GET.dict()})
    return response
