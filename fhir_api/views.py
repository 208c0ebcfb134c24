"""The FHIR R4 API under /fhir/r4/: read, search, the CapabilityStatement and bulk export.

The organization, the API key or member and the scopes come from TenantMiddleware exactly as for
/api/v1/. Every answer is `application/fhir+json`; every refusal an OperationOutcome (another
organization's id, or a 42 CFR Part 2 record without the grant, is the same 404 as an id that
does not exist).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from fhir_api import capability, resources, selectors, services
from fhir_api.models import ExportLevel, ExportStatus, FhirExport, FhirExportFile
from fhir_api.search import FhirError, Search, parse_instant, parse_search
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_record
from rcm.tenancy.selectors import organization_now

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
EXPORT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
EXPORT_PARAMS = ("_type", "_since", "_outputFormat")

# The model each PHI resource type reads, for the audit trail (Practitioner and Organization
# are no patient's record and are not audited as reads).
AUDITED: dict[str, str] = {
    "Patient": "patients.patient",
    "Coverage": "patients.coverage",
    "Claim": "claims.claim",
    "ClaimResponse": "denials.remittanceclaim",
    "ExplanationOfBenefit": "denials.remittanceclaim",
}


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type=FHIR_JSON
    )


def outcome(status: int, diagnostics: str, *, code: str = "invalid", expression: str = "") -> Any:
    body = resources.operation_outcome(diagnostics, code=code, expression=expression)
    return fhir_response(body, status=status)


def _not_found(what: str) -> HttpResponse:
    """404, naming the kind of thing only (the id is in the URL; echoing it adds nothing)."""
    return outcome(404, f"No such {what}.", code="not-found")


def fhir_endpoint(*, authenticated: bool = True) -> Callable[[Any], Any]:
    """Wraps a view: FhirError -> its OperationOutcome; without an organization (no API key, or
    a session that named none with X-Organization) -> 401."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if authenticated and getattr(request, "organization", None) is None:
                response = outcome(
                    401,
                    "Send an API key (Authorization: Bearer <key>), or name the organization "
                    "with X-Organization when signed in.",
                    code="login",
                )
                response["WWW-Authenticate"] = 'Bearer realm="parity"'
                return response
            try:
                return view(request, *args, **kwargs)
            except FhirError as error:
                return outcome(
                    error.status, error.diagnostics, code=error.code, expression=error.expression
                )

        return wrapper

    return decorate


def _scopes(request: HttpRequest) -> frozenset[str]:
    return frozenset(getattr(request, "scopes", frozenset()))


def _require_scope(request: HttpRequest, scope: str) -> None:
    if scope not in _scopes(request):
        raise FhirError(
            f"Your role or API key does not allow this (it needs {scope}).",
            status=403,
            code="forbidden",
        )


def _resource_type(name: str) -> str:
    if name not in selectors.SOURCES:
        raise FhirError(
            f"Unknown resource type {name[:64]!r} (supported: "
            f"{', '.join(selectors.RESOURCE_TYPES)}).",
            status=404,
            code="not-supported",
        )
    return name


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise FhirError(
            f"{request.method} is not supported here (use {' or '.join(allowed)}).",
            status=405,
            code="not-supported",
        )


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/r4/")


def _pairs(request: HttpRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, values in request.GET.lists() for value in values]


@fhir_endpoint(authenticated=False)
def metadata(request: HttpRequest) -> HttpResponse:
    _method(request, "GET", "HEAD")
    return fhir_response(capability.capability_statement(base_url(request)))


def _page_url(request: HttpRequest, resource_type: str, search: Search, offset: int) -> str:
    pairs = [(n, v) for n, v in _pairs(request) if n not in {"_count", "_offset"}]
    pairs += [("_count", str(search.count)), ("_offset", str(offset))]
    return f"{base_url(request)}{resource_type}?{urlencode(pairs)}"


def _audit_rows(resource_type: str, rows: list[Any], *, action: str, object_id: str = "") -> None:
    model = AUDITED.get(resource_type)
    if model is None:
        return
    patient_ids: list[str] = []
    for obj in rows:
        patient = selectors.patient_id_of(resource_type, obj)
        if patient is not None and str(patient) not in patient_ids:
            patient_ids.append(str(patient))
    has_part2 = any(part2.rule_for(type(obj)) is not None and part2.is_part2(obj) for obj in rows)
    audit_record(
        action=action,
        object_type=model,
        object_id=object_id,
        patient_id=uuid.UUID(patient_ids[0]) if len(patient_ids) == 1 else None,
        detail={
            "page": f"fhir:{resource_type}",
            "rows": len(rows),
            "patients": len(patient_ids),
            "patient_ids": patient_ids[:500],
        },
        part2=has_part2,
    )


def for_type(view: Callable[..., HttpResponse], resource_type: str) -> Callable[..., Any]:
    """`view` for one resource type (its own route), marked for the PHI read audit when the type
    is a patient's record."""

    def typed(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return view(request, resource_type=resource_type, **kwargs)

    typed.__name__ = f"{view.__name__}_{resource_type}"
    if resource_type in AUDITED:
        return audit_phi(AUDITED[resource_type])(typed)
    return typed


@fhir_endpoint()
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    _method(request, "GET")
    resource_type = _resource_type(resource_type)
    _require_scope(request, selectors.READ_SCOPES[resource_type])
    query = parse_search(resource_type, _pairs(request))
    org = request.organization  # type: ignore[attr-defined]
    today = organization_now(org).date()
    page = selectors.fhir_search(search=query, org=org, scopes=_scopes(request), today=today)
    base = base_url(request)
    links = [{"relation": "self", "url": _page_url(request, resource_type, query, query.offset)}]
    if page.has_next:
        next_offset = query.offset + query.count
        links.append(
            {"relation": "next", "url": _page_url(request, resource_type, query, next_offset)}
        )
    if query.offset > 0:
        previous = max(0, query.offset - query.count)
        links.append(
            {"relation": "previous", "url": _page_url(request, resource_type, query, previous)}
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in page.resources
        ],
    }
    _audit_rows(resource_type, page.rows, action="search" if query.criteria else "view")
    response = fhir_response(bundle)
    response[part2.HIDDEN_HEADER] = str(page.hidden)
    return response


@fhir_endpoint()
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    _method(request, "GET")
    resource_type = _resource_type(resource_type)
    _require_scope(request, selectors.READ_SCOPES[resource_type])
    try:
        pk = uuid.UUID(resource_id)
    except ValueError:
        return _not_found(resource_type)
    org = request.organization  # type: ignore[attr-defined]
    found = selectors.fhir_read(
        resource_type=resource_type,
        pk=pk,
        org=org,
        scopes=_scopes(request),
        today=organization_now(org).date(),
    )
    if found is None:
        return _not_found(resource_type)
    resource, obj = found
    _audit_rows(resource_type, [obj], action="view", object_id=str(pk))
    return fhir_response(resource)


def _requester(request: HttpRequest) -> services.Requester:
    api_key = getattr(request, "api_key", None)
    return services.Requester(
        user=None if api_key is not None else request.user,
        api_key=api_key,
        scopes=_scopes(request),
    )


def _export_params(request: HttpRequest, level: str) -> tuple[list[str], Any]:
    """(_type, _since) of a kick-off request; anything we do not support is a FhirError."""
    types: list[str] = []
    since = None
    base = (
        selectors.PATIENT_COMPARTMENT if level == ExportLevel.PATIENT else selectors.RESOURCE_TYPES
    )
    for name, value in _pairs(request):
        if "\x00" in name or "\x00" in value:
            raise FhirError("A parameter must not contain a NUL character.")
        if name not in EXPORT_PARAMS:
            raise FhirError(
                f"Unknown $export parameter {name[:64]!r} (supported: {', '.join(EXPORT_PARAMS)}).",
                code="not-supported",
                expression=name[:64],
            )
        if name == "_outputFormat" and value not in EXPORT_FORMATS:
            raise FhirError(
                f"_outputFormat: only {', '.join(EXPORT_FORMATS)}.",
                code="not-supported",
                expression=name,
            )
        if name == "_since":
            since = parse_instant(value, name)
        if name == "_type":
            for resource_type in value.split(","):
                if resource_type not in base:
                    raise FhirError(
                        f"_type: {resource_type[:64]!r} is not exported here "
                        f"(one of {', '.join(base)}).",
                        expression=name,
                    )
                types.append(resource_type)
    return types, since


def _status_url(request: HttpRequest, export: FhirExport) -> str:
    return f"{base_url(request)}$export-status/{export.pk}"


@fhir_endpoint()
def export_kickoff(request: HttpRequest, level: str = ExportLevel.SYSTEM) -> HttpResponse:
    """`GET [base]/$export` or `[base]/Patient/$export` with `Prefer: respond-async`: 202 and the
    status URL in Content-Location (the running one, when the same export is already running)."""
    _method(request, "GET")
    _require_scope(request, "fhir:export")
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError("Bulk export is asynchronous: send Prefer: respond-async.")
    requested, since = _export_params(request, level)
    scopes = _scopes(request)
    for resource_type in requested:
        _require_scope(request, selectors.READ_SCOPES[resource_type])
    types = services.export_types(level=level, requested=requested, scopes=scopes)
    if not types:
        raise FhirError(
            "Your role or API key may read none of the exported resource types.",
            status=403,
            code="forbidden",
        )
    export, _ = services.export_start(
        requester=_requester(request),
        level=level,
        resource_types=types,
        since=since,
        request_url=request.build_absolute_uri(),
        now=organization_now(request.organization),  # type: ignore[attr-defined]
    )
    response = HttpResponse(status=202, content_type=FHIR_JSON)
    response.content = json.dumps(
        resources.operation_outcome(
            f"Export {export.pk} accepted.", code="informational", severity="information"
        )
    )
    response["Content-Location"] = _status_url(request, export)
    return response


def _own_export(request: HttpRequest, export_id: str) -> FhirExport | None:
    try:
        pk = uuid.UUID(export_id)
    except ValueError:
        return None
    export = FhirExport.objects.filter(pk=pk).first()
    if export is None or not _requester(request).owns(export):
        return None
    return export


def _csrf_refused(request: HttpRequest) -> HttpResponse | None:
    """A signed-in browser's DELETE needs its CSRF token; an API key's does not."""
    if getattr(request, "api_key", None) is not None:
        return None
    # Checked as for a view that is not csrf_exempt (the status view is, for API keys).
    refused = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, metadata, (), {})
    if refused is None:
        return None
    return outcome(403, "CSRF check failed.", code="forbidden")


def _manifest(request: HttpRequest, export: FhirExport) -> dict[str, Any]:
    files = list(FhirExportFile.objects.filter(export=export).only("id", "resource_type", "count"))
    return {
        "transactionTime": resources.instant(export.requested_at),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": f"{base_url(request)}$export-file/{f.pk}",
                "count": f.count,
            }
            for f in files
        ],
        "error": [],
    }


@csrf_exempt
@fhir_endpoint()
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    """Poll (202 with X-Progress while it runs; 200 with the manifest when done) or DELETE
    (cancel; a finished export's files are discarded). Only its requester sees it."""
    _method(request, "GET", "DELETE")
    export = _own_export(request, export_id)
    if export is None:
        return _not_found("export")
    if request.method == "DELETE":
        refused = _csrf_refused(request)
        if refused is not None:
            return refused
        services.export_cancel(
            export=export,
            now=organization_now(request.organization),  # type: ignore[attr-defined]
        )
        return fhir_response(
            resources.operation_outcome(
                "The export is cancelled and its files deleted.",
                code="informational",
                severity="information",
            ),
            status=202,
        )
    if export.status in {ExportStatus.QUEUED, ExportStatus.RUNNING}:
        response = HttpResponse(status=202)
        response["X-Progress"] = export.progress or "Queued."
        response["Retry-After"] = "5"
        return response
    if export.status == ExportStatus.CANCELLED:
        return _not_found("export (it was cancelled)")
    if export.status == ExportStatus.FAILED:
        return outcome(500, f"The export failed: {export.error}", code="exception")
    return HttpResponse(json.dumps(_manifest(request, export)), content_type="application/json")


@audit_phi("patients.patient")
@fhir_endpoint()
def export_file(request: HttpRequest, file_id: str) -> HttpResponse:
    """One NDJSON file of a finished export, for its requester only (audited as a disclosure)."""
    _method(request, "GET")
    try:
        pk = uuid.UUID(file_id)
    except ValueError:
        return _not_found("export file")
    export_file_row = FhirExportFile.objects.select_related("export").filter(pk=pk).first()
    if (
        export_file_row is None
        or export_file_row.export.status != ExportStatus.DONE
        or not _requester(request).owns(export_file_row.export)
    ):
        return _not_found("export file")
    content = services.export_file_download(export_file=export_file_row)
    return HttpResponse(content, content_type=NDJSON)


@fhir_endpoint(authenticated=False)
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    return outcome(404, f"Nothing at /fhir/r4/{rest[:64]}.", code="not-found")
