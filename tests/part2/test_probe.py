"""The 42 CFR Part 2 probe: every page, export and API route, fetched by a member without the
Part 2 grant, shows nothing of a Part 2 record; every detail route answers 404 for a Part 2
row's id; and no bulk action touches a Part 2 row on that member's behalf.

In the spirit of the isolation probe (tests/tenancy/test_isolation.py), whose URL walk and lookup
discovery it reuses: the walk reads the URL configuration, so pages and endpoints added later are
probed without editing this file. The organization is built once per module (inside a transaction
rolled back at the end): tests/tenant_data.py's visible row of every tenant model, plus a patient
whose only episode is a substance use program and a record of every kind belonging to it
(tests/part2/probe_seed.py). One test per route and one per bulk action, so xdist spreads them.

The markers a page must not show: the Part 2 patient's name, MRN and id (the patient pages may:
a patient's demographics are not Part 2 records), and anywhere at all, the id (str and hex) of
every Part 2 row by the access layer's own rules (rcm/part2.py RULES), the SUD diagnosis code, the
authorization number, the Part 2 claims' control numbers and the Part 2 charge's amount.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import API_KEY_SCOPES, Role
from rcm.tenancy.services import api_key_create
from tests import clock
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.part2.probe_seed import (
    LAST_NAME,
    Part2Seed,
    build_part2,
    part2_ids_by_model,
    visible_ids_by_model,
)
from tests.tenancy.test_isolation import (
    API_ROUTES,
    _all_routes,
    _discover_lookups,
    owner_only_api,
    session_api,
)
from tests.tenant_data import build_tenant_data

pytestmark = pytest.mark.probe

# Pages that are not the organization's data.
SKIP_ROUTES = {"home", "login", "logout", "healthz", "api:docs"}
FORMAT_PARAMS = {"fmt": ("csv", "pdf")}
API_METHODS = ("get", "post", "patch", "delete")
PAGE_METHODS = ("get", "post")
VISIBLE_PER_MODEL = 3  # visible ids fetched per model a route looks up

# The patient pages may name the Part 2 patient (name, MRN, patient id): a patient's demographics
# are not Part 2 records, and the patient page shows "Restricted episode" placeholders instead of
# the episode. Nothing else of the Part 2 records may appear on them. The API's patient,
# coverage, consent and verification endpoints are the same records as those pages. The audit
# trail names the patient of the events about the patient record itself (created, viewed, as on
# the patient pages); its Part 2 events are redacted (tests/audit/test_part2.py), and their
# object ids and detail stay markers here.
IDENTITY_OK = {
    "audit:list",
    "audit:export",
    "patients:list",
    "patients:detail",
    "patients:edit",
    "patients:coverage_create",
    "patients:coverage_edit",
    "patients:coverage_verify",
    "patients:consent_create",
    "patients:consent_revoke",
    "patients:episode_open",
    "api:patient-list",
    "api:patient-detail",
    "api:coverage-list",
    "api:coverage-detail",
    "api:consent-list",
    "api:consent-detail",
    "api:verification-list",
    "api:verification-detail",
    "fhir:Patient-search",
    "fhir:Patient-read",
    "fhir:Coverage-search",
    "fhir:Coverage-read",
    # The patient's account pages and ledger (patient_accounts): the patient's own record, as the
    # patient page is; their Part 2 lines are still hidden.
    "patient_accounts:account",
    "patient_accounts:guarantor",
    "patient_accounts:payment_create",
    "patient_accounts:placement_create",
    "patient_accounts:refund_create",
    "api:pa-ledger-detail",
}

# "Show everything" filters: a list that hides closed rows by default is fetched with them too.
ALL_ROWS = "status=all&show=all"


def _extra_queries(name: str, world: ProbeWorld) -> list[tuple[str, bool]]:
    """(query string, identity allowed) fetched beside the plain page: exports, PDFs, filters,
    form pages that take an id in the query."""
    extra: list[tuple[str, bool]] = []
    if name == "dashboards:dashboard":
        from dashboards.tables import TABLES

        extra += [(f"export={t}", False) for t in TABLES] + [("format=pdf", False)]
    if name == "dashboards:drilldown":
        from dashboards.views import DRILLDOWNS

        extra += [(f"kind={k}", False) for k in DRILLDOWNS]
        extra += [("kind=denied&category=authorization", False)]
    if name == "denials:secondaries":
        extra += [(f"status={s}", False) for s in ("to_bill", "billed", "crossed_over")]
    if name == "claims:list":
        extra += [(f"status={s}", False) for s in ("denied", "ready", "draft")]
    if name in {"claims:charge_create", "claims:charge_preview"}:
        # The form of the patient's charges: the Part 2 patient picked on the patient page may be
        # named, never a Part 2 episode; the mixed patient's form must not offer its SUD episode.
        kind = "&date_of_service=2020-01-01&kind=psychotherapy" if "preview" in name else ""
        extra += [(f"patient={world.seed.patient.pk}{kind}", True)]
        extra += [(f"patient={world.mixed_patient_id}{kind}", False)]
    if name == "authorizations:new":
        extra += [(f"episode={world.seed.episode.pk}", False)]
    return extra


# --- The organization, once per module -------------------------------------------------------


@dataclass
class ProbeWorld:
    org: Organization
    seed: Part2Seed
    biller: Any  # biller without the grant
    auditor: Any  # auditor without the grant
    owner: Any  # owner without the grant (every write scope)
    granted: Any  # biller with the grant
    api_key: str  # every API key scope but part2:read
    mixed_patient_id: str  # a patient with an MH and an SUD episode
    visible: dict[type[Model], list[str]]
    lookups: dict[str, set[type[Model]] | None] = field(default_factory=dict)

    @property
    def identity(self) -> list[str]:
        return self.seed.identity

    @property
    def records(self) -> list[str]:
        return self.seed.records


def _member(org: Organization, role: str, email: str, part2_access: bool = False) -> Any:
    with tenant_context(org):
        user = UserFactory(email=email)
        MembershipFactory(organization=org, user=user, role=role, part2_access=part2_access)
    return user


def _build_world() -> ProbeWorld:
    org = OrganizationFactory(
        name="Cedar Hollow Treatment Center", slug="probe-part2", time_zone="America/Chicago"
    )
    build_tenant_data(org)
    with tenant_context(org):
        seed = build_part2(org)
        from patients.models import EpisodeOfCare

        mixed = (
            EpisodeOfCare.objects.filter(program_type__in=part2.PROGRAM_TYPES)
            .exclude(patient=seed.patient)
            .values_list("patient_id", flat=True)
            .first()
        )
        visible = visible_ids_by_model()
        scopes = [s for s in API_KEY_SCOPES if s != part2.GRANT]
        _, raw = api_key_create(
            name="part2 probe key", scopes=scopes, created_by=None, now=clock.now()
        )
    world = ProbeWorld(
        org=org,
        seed=seed,
        biller=_member(org, Role.BILLER, "biller@probe-part2.example"),
        auditor=_member(org, Role.AUDITOR, "auditor@probe-part2.example"),
        owner=_member(org, Role.OWNER, "owner@probe-part2.example"),
        granted=_member(org, Role.BILLER, "granted@probe-part2.example", part2_access=True),
        api_key=raw,
        mixed_patient_id=str(mixed),
        visible=visible,
    )
    # Which model each id route looks its id up in (read from the SQL, as the isolation probe
    # does), discovered by an owner with the grant and a key with every scope.
    discoverer = Client()
    discoverer.force_login(_member(org, Role.OWNER, "discover@probe-part2.example", True))
    with tenant_context(org):
        _, full = api_key_create(
            name="discovery", scopes=API_KEY_SCOPES, created_by=None, now=clock.now()
        )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {full}")
    for name, params in ID_ROUTES:
        client = api if name.startswith(API_ROUTES) else discoverer
        if name.startswith(API_ROUTES) and owner_only_api(
            _url(name, params, world, str(uuid.uuid4()))
        ):
            client = session_api(world.owner, org)
        world.lookups[name] = _discover_lookups(name, params, org, client)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ProbeWorld]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            built = _build_world()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- Clients and checks ----------------------------------------------------------------------


def _browser(user: Any) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is a finding, reported as such
    client.force_login(user)
    return client


def _api(world: ProbeWorld, url: str = "") -> APIClient:
    """The probe key (every scope but the grant); for an owners-only route, the owner's session
    (without the grant)."""
    if url and owner_only_api(url.split("?")[0]):
        return session_api(world.owner, world.org)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.api_key}")
    return client


class _PdfSources:
    """The HTML each PDF is rendered from (weasyprint's output keeps no searchable text)."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def take(self) -> str:
        text = "\n".join(self.sources)
        self.sources.clear()
        return text


@pytest.fixture
def pdf_sources(monkeypatch: Any) -> _PdfSources:
    import weasyprint

    captured = _PdfSources()
    real = weasyprint.HTML

    class RecordingHTML(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if "string" in kwargs:
                captured.sources.append(str(kwargs["string"]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", RecordingHTML)
    return captured


def _leaks(
    response: Any, world: ProbeWorld, *, identity_ok: bool, extra_text: str = ""
) -> list[str]:
    body = response.content.decode(errors="replace") + "\n" + extra_text
    # An error may echo the requested path or query (problem+json "instance"): not a leak.
    for echoed in (response.request.get("PATH_INFO", ""), response.request.get("QUERY_STRING", "")):
        if echoed:
            body = body.replace(echoed, "")
    body = body.lower()
    markers = world.records + ([] if identity_ok else world.identity)
    return sorted({m for m in markers if m.lower() in body})


def _describe(leaked: list[str], world: ProbeWorld) -> str:
    names = dict.fromkeys(world.identity, "identity")
    by_id: dict[str, str] = {}
    for model, ids in world.seed.ids_by_model.items():
        for i in ids:
            by_id[i] = by_id[i.replace("-", "")] = model._meta.label
    return ", ".join(f"{m} ({by_id.get(m) or names.get(m) or 'Part 2 detail'})" for m in leaked[:6])


def _fetch(client: Any, method: str, url: str, **extra: Any) -> Any:
    return getattr(client, method)(url, **extra)


def _persona_get(world: ProbeWorld, url: str, name: str) -> tuple[Any, Any]:
    """GET as the biller without the grant; a page the biller's role may not open (audit,
    settings) as the auditor, then the owner, each without the grant."""
    response = None
    personas = [world.auditor, world.biller, world.owner] if name.startswith("audit:") else [
        world.biller, world.auditor, world.owner,
    ]  # fmt: skip
    for user in personas:
        client = _browser(user)
        response = client.get(url)
        if response.status_code != 403:
            return client, response
    return client, response


# --- Which routes ----------------------------------------------------------------------------


def _routes() -> list[tuple[str, list[str]]]:
    return [
        (name, params)
        for name, params in _all_routes()
        if not name.startswith("admin:") and name not in SKIP_ROUTES
    ]


def _has_id(params: list[str]) -> bool:
    return any(p != "org_slug" and p not in FORMAT_PARAMS for p in params)


ROUTES = _routes()
ID_ROUTES = [(n, p) for n, p in ROUTES if _has_id(p)]


def _url(name: str, params: list[str], world: ProbeWorld, object_id: str = "", **fmt: str) -> str:
    kwargs = {}
    for p in params:
        kwargs[p] = world.org.slug if p == "org_slug" else fmt.get(p) or object_id
    return reverse(name, kwargs=kwargs)


def _label(model: type[Model]) -> str:
    return model._meta.label


# --- The probe -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_a_route_shows_nothing_of_part2_without_the_grant(
    name: str, params: list[str], world: ProbeWorld, db: Any, pdf_sources: _PdfSources
) -> None:
    is_api = name.startswith(API_ROUTES)
    identity_ok = name in IDENTITY_OK
    problems: list[str] = []

    def check(response: Any, where: str, identity: bool = identity_ok) -> None:
        if response.status_code >= 500:
            problems.append(f"{where} answered {response.status_code}")
            return
        leaked = _leaks(response, world, identity_ok=identity, extra_text=pdf_sources.take())
        if leaked:
            problems.append(f"{where} shows {_describe(leaked, world)}")

    if not _has_id(params):
        formats = [{p: v for p in params if p in FORMAT_PARAMS} for v in FORMAT_PARAMS["fmt"]]
        for fmt in formats if any(p in FORMAT_PARAMS for p in params) else [{}]:
            url = _url(name, params, world, **fmt)
            queries = [("", identity_ok), (ALL_ROWS, identity_ok), *_extra_queries(name, world)]
            for query, identity in queries:
                full = f"{url}?{query}" if query else url
                if is_api:
                    client = _api(world, url)
                    response = client.get(full)
                else:
                    client, response = _persona_get(world, full, name)
                if response.status_code == 405:  # an action (POST only): its answer, once
                    with transaction.atomic():
                        response = client.post(full)
                        transaction.set_rollback(True)
                check(response, f"GET {full}" if response.request["REQUEST_METHOD"] == "GET"
                      else f"POST {full}", identity)  # fmt: skip
        assert not problems, "\n".join(problems)
        return

    looked_up = world.lookups[name]
    models = sorted(looked_up or (), key=_label)
    # Visible rows of the models the route looks up: the page opens and shows nothing of Part 2.
    for model in models:
        for object_id in world.visible.get(model, [])[:VISIBLE_PER_MODEL]:
            url = _url(name, params, world, object_id)
            if name == "batches:detail":
                url += "?part=progress"
            if is_api:
                client = _api(world, url)
                response = client.get(url)
            else:
                client, response = _persona_get(world, url, name)
            if response.status_code == 405:
                with transaction.atomic():
                    response = client.post(url)
                    transaction.set_rollback(True)
            check(response, f"{response.request['REQUEST_METHOD']} {url} ({_label(model)})")
    # Part 2 rows: 404 to every method, and nothing of them in the answer.
    targets = [(m, i) for m in models for i in world.seed.ids_by_model.get(m, [])]
    if looked_up is None:  # lookup not readable from the SQL: every Part 2 row, like isolation
        targets = [(m, ids[0]) for m, ids in world.seed.ids_by_model.items() if ids]
    for model, object_id in targets:
        url = _url(name, params, world, object_id)
        statuses = []
        for method in API_METHODS if is_api else PAGE_METHODS:
            if is_api:
                client = _api(world, url)
            else:
                client = _browser(world.auditor if name.startswith("audit:") else world.biller)
            with transaction.atomic():
                response = _fetch(client, method, url)
                transaction.set_rollback(True)
            if response.status_code == 403 and not name.startswith("audit:"):
                # A page for owners only (webhooks): the owner, without the grant either.
                client = _browser(world.owner)
                with transaction.atomic():
                    response = _fetch(client, method, url)
                    transaction.set_rollback(True)
            statuses.append(response.status_code)
            where = f"{method.upper()} {url} (Part 2 {_label(model)})"
            if response.status_code not in {404, 405}:
                problems.append(f"{where} answered {response.status_code}, not 404")
            check(response, where, identity=False)
        if 404 not in statuses and all(s in {404, 405} for s in statuses):
            problems.append(f"{url} ({name}) never looked the Part 2 id up")
    assert models or looked_up is None, f"{name}: no lookup model discovered"
    assert not problems, "\n".join(problems)


def test_the_probe_reads_which_model_routes_look_up(world: ProbeWorld, db: Any) -> None:
    unreadable = sorted(n for n, m in world.lookups.items() if m is None)
    assert len(unreadable) <= len(world.lookups) // 10, f"lookups not read: {unreadable}"
    assert {_label(m) for m in world.lookups["claims:detail"] or ()} == {"claims.Claim"}
    assert {_label(m) for m in world.lookups["api:authorization-detail"] or ()} == {
        "authorizations.Authorization"
    }


def test_the_seed_has_a_part2_row_of_every_rule_model(world: ProbeWorld, db: Any) -> None:
    """Every model the access layer names (but the audit trail, which may say that an event
    happened) has a Part 2 row the probe fetches and looks for."""
    empty = [_label(m) for m, ids in world.seed.ids_by_model.items() if not ids]
    assert not empty, f"add a Part 2 row of {empty} to tests/part2/probe_seed.py"


# --- With the grant, the same pages do show the Part 2 records (the probe is not vacuous) -----


def test_with_the_grant_the_claims_pages_name_the_part2_patient(world: ProbeWorld, db: Any) -> None:
    client = _browser(world.granted)
    seed = world.seed
    body = client.get(_url("claims:list", ["org_slug"], world)).content.decode()
    assert LAST_NAME in body
    assert seed.claim_denied.patient_control_number in body
    detail = client.get(_url("claims:detail", ["org_slug", "pk"], world, str(seed.claim_denied.pk)))
    assert detail.status_code == 200
    assert LAST_NAME in detail.content.decode()
    auth = client.get(
        _url("authorizations:detail", ["org_slug", "pk"], world, str(seed.authorization.pk))
    )
    assert auth.status_code == 200 and seed.authorization.auth_number in auth.content.decode()


# --- Bulk actions ------------------------------------------------------------------------------


def _snapshot() -> dict[str, dict[str, tuple[Any, ...]]]:
    """Every Part 2 row's every column, by model label (alerts: the probe's own, by subject)."""
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for model, ids in part2_ids_by_model().items():
        fields = [f.attname for f in model._meta.concrete_fields]
        rows = model.objects.filter(pk__in=ids) if ids else model.objects.none()
        out[_label(model)] = {str(r[0]): tuple(r) for r in rows.values_list(*fields)}
    return out


def _alerts_of(world: ProbeWorld) -> dict[str, tuple[Any, ...]]:
    from alerts.models import Alert

    fields = [f.attname for f in Alert._meta.concrete_fields]
    rows = Alert.objects.filter(subject_id=world.seed.authorization.pk).values_list(*fields)
    return {str(r[0]): tuple(r) for r in rows}


@dataclass(frozen=True)
class Bulk:
    name: str  # route name
    data: Any  # dict, or a function of the world
    api: bool = False
    new_part2_rows_ok: bool = False  # an org-wide scan the daily schedule runs anyway

    def payload(self, world: ProbeWorld) -> dict[str, Any]:
        return self.data(world) if callable(self.data) else dict(self.data)


def _clearinghouse(world: ProbeWorld) -> str:
    return str(world.seed.batch.clearinghouse_id)


def _items(world: ProbeWorld) -> list[str]:
    from denials.models import WorkItem

    with tenant_context(world.org):
        return [str(pk) for pk in WorkItem.objects.values_list("pk", flat=True)]


BULK = [
    Bulk("claims:build", {}),
    Bulk("api:claim-build", {}, api=True),
    Bulk("api:claim-build", lambda w: {"charges": [str(w.seed.open_entry.pk)]}, api=True),
    Bulk("claims:ready_queue", {}),  # re-scrub every draft and ready claim
    Bulk("batches:list", lambda w: {"clearinghouse": _clearinghouse(w)}),
    Bulk("api:claim-batch-list", lambda w: {"clearinghouse": _clearinghouse(w)}, api=True),
    Bulk(
        "api:claim-batch-list",
        lambda w: {"clearinghouse": _clearinghouse(w), "claim_ids": [str(w.seed.claim_ready.pk)]},
        api=True,
    ),
    Bulk("denials:secondaries", {"all": "1"}),
    Bulk("denials:secondaries", lambda w: {"secondary": [str(w.seed.secondary.pk)]}),
    Bulk("denials:assign", lambda w: {"items": _items(w), "assignee": str(w.owner.pk)}),
    Bulk(
        "api:work-item-assign",
        lambda w: {"items": _items(w), "assignee": str(w.owner.pk)},
        api=True,
    ),
    Bulk("denials:take_next", {}),
    Bulk("authorizations:scan", {}, new_part2_rows_ok=True),
    Bulk("api:authorization-scan", {}, api=True, new_part2_rows_ok=True),
]


def _bulk_id(b: Bulk) -> str:
    payload = "" if not callable(b.data) else f"-{zlib.crc32(b.data.__code__.co_code) % 97}"
    return f"{b.name}{payload}"


@pytest.mark.parametrize("bulk", BULK, ids=[_bulk_id(b) for b in BULK])
def test_a_bulk_action_leaves_part2_rows_alone_without_the_grant(
    bulk: Bulk, world: ProbeWorld, db: Any
) -> None:
    """POSTed by the owner without the grant (every write scope) or an API key with every scope
    but part2:read: no Part 2 row changes, none is deleted, and no new row belongs to Part 2
    data (a new claim, claim line, batch entry, event or finding of a Part 2 claim or charge)."""
    with tenant_context(world.org):
        before, alerts_before = _snapshot(), _alerts_of(world)
    url = _url(bulk.name, ["org_slug"] if not bulk.name.startswith("api:") else [], world)
    payload = bulk.payload(world)
    if bulk.api:
        response = _api(world).post(url, payload, format="json")
    else:
        response = _browser(world.owner).post(url, payload)
    assert response.status_code < 500, f"POST {url} answered {response.status_code}"
    with tenant_context(world.org):
        after, alerts_after = _snapshot(), _alerts_of(world)
    problems = []
    for label, rows in before.items():
        now = after.get(label, {})
        changed = sorted(pk for pk in rows if pk in now and now[pk] != rows[pk])
        gone = sorted(pk for pk in rows if pk not in now)
        new = sorted(pk for pk in now if pk not in rows)
        if changed:
            problems.append(f"{label}: Part 2 row(s) changed {changed[:3]}")
        if gone:
            problems.append(f"{label}: Part 2 row(s) deleted {gone[:3]}")
        if new and not bulk.new_part2_rows_ok:
            problems.append(f"{label}: {len(new)} new Part 2 row(s) {new[:3]}")
    changed_alerts = sorted(pk for pk in alerts_before if alerts_after.get(pk) != alerts_before[pk])
    if changed_alerts:
        problems.append(f"alerts.Alert: Part 2 alert(s) changed {changed_alerts}")
    leaked = _leaks(response, world, identity_ok=False)
    if leaked:
        problems.append(f"the answer shows {_describe(leaked, world)}")
    assert not problems, f"POST {url} {payload}:\n" + "\n".join(problems)


def test_the_bulk_actions_act_with_the_grant(world: ProbeWorld, db: Any) -> None:
    """The seed is within the bulk actions' reach: with the grant, building secondaries for all
    does build the Part 2 secondary claim (so a failure above is a leak, not an empty seed)."""
    url = _url("denials:secondaries", ["org_slug"], world)
    granted_owner = world.granted
    with tenant_context(world.org):
        before = _snapshot()["denials.SecondaryClaim"]
    _browser(granted_owner).post(url, {"all": "1"})
    with tenant_context(world.org):
        after = _snapshot()["denials.SecondaryClaim"]
    assert after != before, "the Part 2 secondary was not built even with the grant"
