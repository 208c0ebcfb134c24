"""Audit completeness: every read of PHI writes one audit event.

The walk reads the URL configuration (the isolation probe's helpers), fetches every page and
every API GET with one organization's seeded rows (tests/tenant_data.py), and checks:

- a route marked `audit_phi` (rcm.audit.reads) writes exactly one audit event per successful GET,
  in one INSERT, naming the marked record kind;
- a route whose response shows a seeded patient (name, MRN or id) is marked — so a new page or
  endpoint that shows a patient fails here until it is audited;
- a route that is not marked writes no read event (settings, payers, providers).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from patients.models import Patient
from rcm.audit.models import AuditEvent
from rcm.audit.reads import is_read_action, marker_of
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import API_KEY_SCOPES, Role
from rcm.tenancy.services import api_key_create
from tests import clock
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.tenancy.test_isolation import (
    API_ROUTES,
    FORMAT_PARAMS,
    SKIP_PARAMS,
    _all_routes,
    _models_compared_with,
    _tenant_models,
)
from tests.tenant_data import build_tenant_data

AUDIT_INSERT = 'INSERT INTO "audit_auditevent"'
# Pages that show patients but are not PHI reads of the organization's records.
NOT_PHI_READS: dict[str, str] = {}


@dataclass
class World:
    org: Organization
    user: Any
    raw_key: str
    ids_by_model: dict[type[Model], list[str]]
    patient_marks: list[str]  # what shows a seeded patient: names, MRN, id
    lookups: dict[str, set[type[Model]]] = field(default_factory=dict)


def _clients(world: World) -> tuple[Client, APIClient]:
    browser = Client()
    browser.force_login(world.user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.raw_key}")
    return browser, api


def _id_params(params: list[str]) -> list[str]:
    return [p for p in params if p != "org_slug" and p not in FORMAT_PARAMS]


def _routes() -> list[tuple[str, list[str]]]:
    return [
        (name, params)
        for name, params in _all_routes()
        if not name.startswith("admin:") and not SKIP_PARAMS.intersection(params)
    ]


def _kwargs(params: list[str], org: Organization, ids: dict[str, str]) -> dict[str, str]:
    kwargs = {}
    for p in params:
        if p == "org_slug":
            kwargs[p] = org.slug
        elif p in FORMAT_PARAMS:
            kwargs[p] = FORMAT_PARAMS[p]
        else:
            kwargs[p] = ids[p]
    return kwargs


def _lookup(name: str, params: list[str], world: World, client: Client) -> set[type[Model]]:
    """The models a route's GET looks its ids up in (read from the SQL, as the probe does)."""
    object_id = str(uuid.uuid4())
    url = reverse(name, kwargs=_kwargs(params, world.org, dict.fromkeys(params, object_id)))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        client.get(url)
        transaction.set_rollback(True)
    found: set[type[Model]] = set()
    for query in queries.captured_queries:
        found |= _models_compared_with(query["sql"], object_id) or set()
    return found


def _candidate_kwargs(name: str, params: list[str], world: World) -> Iterator[dict[str, str]]:
    """Ways to fill a route's ids with the organization's rows of the models it looks up."""
    id_params = _id_params(params)
    if not id_params:
        yield _kwargs(params, world.org, {})
        return
    models = sorted(world.lookups.get(name, set()), key=lambda m: m._meta.label)
    for chosen in itertools.permutations(models, len(id_params)):
        ids = {p: world.ids_by_model[m][0] for p, m in zip(id_params, chosen, strict=True)}
        yield _kwargs(params, world.org, ids)
    if len(id_params) > 1 and len(models) == 1:
        ids = dict.fromkeys(id_params, world.ids_by_model[models[0]][0])
        yield _kwargs(params, world.org, ids)


def _build() -> World:
    org = OrganizationFactory(name="Completeness Clinic", slug="audit-complete")
    build_tenant_data(org)
    with tenant_context(org):
        user = UserFactory(email="auditor@audit-complete.example")
        MembershipFactory(organization=org, user=user, role=Role.OWNER, part2_access=True)
        _, raw = api_key_create(
            name="completeness key", scopes=API_KEY_SCOPES, created_by=None, now=clock.now()
        )
        ids_by_model = {
            model: [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)]
            for model in _tenant_models()
        }
        marks = []
        for patient in Patient.objects.all():
            marks += [
                patient.mrn,
                str(patient.pk),
                f"{patient.first_name} {patient.last_name}",
                f"{patient.last_name}, {patient.first_name}",
            ]
    world = World(org, user, raw, ids_by_model, marks)
    browser, api = _clients(world)
    for name, params in _routes():
        if _id_params(params):
            client = api if name.startswith(API_ROUTES) else browser
            world.lookups[name] = _lookup(name, params, world, client)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            built = _build()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _events(world: World, response: Any) -> list[AuditEvent]:
    with tenant_context(world.org):
        return list(AuditEvent.objects.filter(request_id=response["X-Request-ID"]))


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _fetch(name: str, params: list[str], world: World) -> tuple[str, Any, int] | None:
    """The first successful GET of the route: (url, response, audit INSERTs), or None."""
    browser, api = _clients(world)
    client = api if name.startswith(API_ROUTES) and "org_slug" not in params else browser
    for kwargs in _candidate_kwargs(name, params, world):
        url = reverse(name, kwargs=kwargs)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code == 200:
            inserts = sum(AUDIT_INSERT in q["sql"] for q in queries.captured_queries)
            return url, response, inserts
    return None


def test_every_phi_read_is_audited_once_and_every_page_showing_a_patient_is_marked(
    world: World, db: Any
) -> None:
    problems: list[str] = []
    audited: list[str] = []
    for name, params in _routes():
        fetched = _fetch(name, params, world)
        if fetched is None:
            continue
        url, response, inserts = fetched
        marker = marker_of(resolve(url).func)
        written = _events(world, response)
        events = [e for e in written if is_read_action(e.action)]
        body = _body(response)
        shown = [m for m in world.patient_marks if m in body]
        if marker is None:
            if shown and name not in NOT_PHI_READS:
                problems.append(f"{name} ({url}) shows a patient ({shown[0]!r}) but is not marked")
            continue
        audited.append(name)
        if len(events) != 1:
            problems.append(f"{name} ({url}) wrote {len(events)} read events, not 1")
        elif inserts != len(written):
            # The read event is one INSERT; a Part 2 disclosure record may add its own.
            problems.append(f"{name} ({url}) wrote {len(written)} events in {inserts} INSERTs")
    assert not problems, "\n".join(problems)
    # The walk reached the PHI routes (not a fallback where nothing answered 200).
    for name in ("patients:list", "claims:list", "api:patient-list", "api:claim-detail"):
        assert name in audited, f"{name} was not fetched"


def test_a_list_event_names_the_kind_count_and_patients_not_phi(world: World, db: Any) -> None:
    _, api = _clients(world)
    response = api.get(reverse("api:claim-list"))
    assert response.status_code == 200
    (event,) = _events(world, response)
    assert event.action == "view"
    assert event.object_type == "claims.claim"
    assert event.detail["page"] == "api:claim-list"
    assert event.detail["rows"] == len(response.json()["results"])
    with tenant_context(world.org):
        patient_ids = {str(pk) for pk in Patient.objects.values_list("pk", flat=True)}
    assert set(event.detail["patient_ids"]) <= patient_ids
    assert event.detail["patient_ids"]
    text = str(event.detail)
    assert not [m for m in world.patient_marks if m in text and m not in patient_ids]


def test_a_search_records_the_fact_and_count_not_the_text(world: World, db: Any) -> None:
    browser, _ = _clients(world)
    with tenant_context(world.org):
        patient = Patient.objects.order_by("pk").first()
    assert patient is not None
    url = reverse("patients:list", kwargs={"org_slug": world.org.slug})
    response = browser.get(url, {"q": patient.last_name})
    assert response.status_code == 200
    (event,) = _events(world, response)
    assert event.action == "search"
    assert event.object_type == "patients.patient"
    assert event.detail["page"] == "patients:list"
    assert event.detail["rows"] >= 1
    assert patient.last_name not in str(event.detail)


def test_a_page_without_phi_writes_no_read_event(world: World, db: Any) -> None:
    browser, api = _clients(world)
    for response in (
        browser.get(reverse("patients:payers", kwargs={"org_slug": world.org.slug})),
        browser.get(reverse("tenancy:settings", kwargs={"org_slug": world.org.slug})),
        api.get(reverse("api:payer-list")),
    ):
        assert response.status_code == 200
        assert not _events(world, response)


def test_a_read_that_loaded_a_part2_row_is_a_part2_event(world: World, db: Any) -> None:
    _, api = _clients(world)
    episodes = api.get(reverse("api:episode-list"))
    (event,) = [e for e in _events(world, episodes) if e.action == "view"]
    assert event.part2  # the seeded substance-use episode
    coverages = api.get(reverse("api:coverage-list"))
    (event,) = [e for e in _events(world, coverages) if e.action == "view"]
    assert not event.part2
