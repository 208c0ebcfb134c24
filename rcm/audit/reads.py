"""Auditing every read of PHI, declaratively: a page or an API view that shows a patient's data
is marked with the kind of record it shows, and `PhiReadAuditMiddleware` writes one audit event
for each successful GET of it (one INSERT, whatever the page lists).

    @audit_phi("claims.claim")               # an HTML view (above or below require_scope)
    @require_scope(READ)
    def claim_list(request): ...

    class ClaimViewSet(...):                 # an API view or viewset: every GET it answers
        audit_phi = "claims.claim"

The event names the record kind (`object_type`), the record id when the URL names one
(`object_id`), the page (`detail.page`), how many rows were shown and the ids of the patients
whose rows were loaded while the response was built (`detail.patient_ids`; `patient_id` when it
is one patient). The ids come from a collector that the models' `post_init` signal fills while a
marked view runs, so no view passes them and no query is added. A search (`?q=` / `?search=`) is
recorded as action "search" with its result count, never its text; a file (CSV, PDF, X12) as
"export". A view that already wrote its own read event (`audit_read`, with a sharper record or
Part 2 flag) is not recorded twice. tests/audit/test_completeness.py walks every route and fails
when a page showing a patient is not marked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from django.apps import apps
from django.db import models
from django.db.models.signals import post_init
from django.http import HttpRequest, HttpResponse

from rcm import part2 as part2_layer

F = TypeVar("F", bound=Callable[..., Any])

SEARCH_PARAMS = ("q", "search")
# Rows kept for the patient ids (a page loads far fewer; a larger one is still one event).
MAX_ROWS = 5000
MAX_PATIENT_IDS = 500
PAGE_TYPES = ("text/html", "application/json", "application/problem+json")


def audit_phi(object_type: str) -> Callable[[F], F]:
    """Mark an HTML view as showing PHI of `object_type` (a model label, "claims.claim")."""

    def decorator(view: F) -> F:
        view.audit_phi = object_type  # type: ignore[attr-defined]
        return view

    return decorator


def marker_of(view_func: Any) -> str | None:
    """The `audit_phi` marker of a resolved view: the function's, or its DRF class's."""
    marker = getattr(view_func, "audit_phi", None)
    if marker is None:
        marker = getattr(getattr(view_func, "cls", None), "audit_phi", None)
    return marker


@dataclass
class _Read:
    marker: str | None = None
    rows: list[models.Model] = field(default_factory=list)
    recorded: bool = False


_current: ContextVar[_Read | None] = ContextVar("parity_phi_read", default=None)


READ_ACTIONS = ("view", "search", "export")


def is_read_action(action: str) -> bool:
    """A read of the whole response ("view", "search", "export", "<area>.export")."""
    return action in READ_ACTIONS or action.endswith(".export")


def note_read_recorded() -> None:
    """Called by audit_record for a read event: the view audited itself."""
    state = _current.get()
    if state is not None:
        state.recorded = True


def _collect(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    state = _current.get()
    if state is not None and state.marker is not None and len(state.rows) < MAX_ROWS:
        state.rows.append(instance)


def _watch(model: type[models.Model]) -> None:
    post_init.connect(_collect, sender=model, weak=False, dispatch_uid=f"phi:{model._meta.label}")


def connect_collectors() -> None:
    """Watch the patient and every model that names one (AuditConfig.ready)."""
    for model in apps.get_models():
        columns = {f.attname for f in model._meta.concrete_fields}
        label = model._meta.label_lower
        if label == "patients.patient" or (
            "patient_id" in columns and label not in NOT_PATIENT_ROWS
        ):
            _watch(model)


@cache
def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


# Rows that name a patient without showing the patient's record: the audit trail itself.
NOT_PATIENT_ROWS = frozenset({"audit.auditevent"})


def _patient_id(obj: models.Model) -> Any:
    label = obj._meta.label_lower
    if label == "patients.patient":
        return obj.pk
    if label in NOT_PATIENT_ROWS:
        return None
    return obj.__dict__.get("patient_id")


def _loaded_part2(obj: models.Model) -> bool:
    """The Part 2 rule of a loaded row, from what is loaded (no query): False when unknown."""
    rule = part2_layer.rule_for(type(obj))
    if rule is None:
        return False
    if isinstance(rule, part2_layer.Flag):
        path, attr = "", rule.field
    elif isinstance(rule, part2_layer.Claim):
        path, attr = rule.path, "is_part2"
    else:
        path, attr = rule.path, "program_type"
    current: Any = obj
    for name in [p for p in path.split("__") if p]:
        relation = current._meta.get_field(name)
        if not relation.is_cached(current):
            return False
        current = relation.get_cached_value(current)
        if current is None:
            return False
    value = current.__dict__.get(attr)
    if attr == "program_type":
        return value in part2_layer.PROGRAM_TYPES
    return bool(value)


def _result_count(response: HttpResponse) -> int | None:
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return len(data["results"])
    if isinstance(data, list):
        return len(data)
    return None


def _object_id(kwargs: dict[str, Any]) -> str:
    ids = [str(v) for k, v in kwargs.items() if k not in {"org_slug", "fmt", "format"}]
    return ids[0] if len(ids) == 1 else ""


def _record(request: HttpRequest, response: HttpResponse, state: _Read) -> None:
    from rcm.audit.services import audit_record

    assert state.marker is not None
    model = _model(state.marker)
    patient_ids: list[str] = []
    seen: set[Any] = set()
    marked_rows: set[Any] = set()
    part2 = False
    for obj in state.rows:
        if model is not None and isinstance(obj, model):
            marked_rows.add(obj.pk)
        pid = _patient_id(obj)
        if pid is not None and pid not in seen:
            seen.add(pid)
            patient_ids.append(str(pid))
        # A Part 2 row loaded (shown, or shown as a placeholder): the event is Part 2, so an
        # auditor without the grant reads its patients as restricted.
        if not part2:
            part2 = _loaded_part2(obj)
    count = _result_count(response)
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    searched = any(request.GET.get(p, "").strip() for p in SEARCH_PARAMS)
    if content_type and content_type not in PAGE_TYPES:
        action = "export"
    elif searched:
        action = "search"
    else:
        action = "view"
    match = request.resolver_match
    detail: dict[str, Any] = {
        "page": match.view_name if match else request.path,
        "rows": count if count is not None else len(marked_rows),
        "patients": len(patient_ids),
        "patient_ids": patient_ids[:MAX_PATIENT_IDS],
    }
    if action == "export":
        detail["format"] = content_type
    if match is not None and match.kwargs.get("fmt"):
        detail["format"] = match.kwargs["fmt"]
    audit_record(
        action=action,
        object_type=state.marker,
        object_id=_object_id(match.kwargs if match else {}),
        patient_id=uuid.UUID(patient_ids[0]) if len(patient_ids) == 1 else None,
        detail=detail,
        part2=part2,
    )


class PhiReadAuditMiddleware:
    """One audit event per successful GET of a view marked `audit_phi` (after TenantMiddleware,
    so the event belongs to the request's organization and actor)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _Read()
        token = _current.set(state)
        try:
            response = self.get_response(request)
            if (
                state.marker is not None
                and not state.recorded
                and request.method == "GET"
                and response.status_code == 200
                and getattr(request, "organization", None) is not None
            ):
                _record(request, response, state)
            return response
        finally:
            _current.reset(token)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        marker = marker_of(view_func)
        state = _current.get()
        if marker is None or state is None or request.method != "GET":
            return
        model = _model(marker)
        if model is not None:
            _watch(model)
        state.marker = marker
