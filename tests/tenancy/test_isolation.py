"""The tenant isolation probe: every page and every API route, fetched as Riverbend with
Harborview's object ids, answers 404 and shows nothing of Harborview.

The walk reads the URL configuration, so pages and endpoints added later are covered without
editing this test; `build_tenant_data` must create a row of every tenant model.

The two organizations' data is built once per module (inside a transaction rolled back at the
end, so no other test sees it). Which model a route looks its id up in is discovered once, by
fetching the route with an id that exists nowhere and reading which table the SQL compared it
with; each route is then probed with Harborview's ids of the models it looks up, plus one id of
an unrelated model as a guard. A route whose lookup cannot be read from the SQL is probed with
one id of every tenant model, as a route always was before. One test per route and database
role, so xdist spreads them across workers.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership, Organization, TenantModel
from rcm.tenancy.permissions import API_KEY_SCOPES, Role
from rcm.tenancy.services import api_key_create
from tests import clock
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.tenant_data import build_tenant_data

SKIP_PARAMS = {"format"}
# Routes called with an API key rather than a signed-in browser: the REST API and FHIR.
API_ROUTES = ("api:", "fhir:")
# A file-format parameter is not an object id: the page is fetched as a list page, in this format.
FORMAT_PARAMS = {"fmt": "csv"}
API_METHODS = ("get", "post", "patch", "delete")
PAGE_METHODS = ("get", "post")


def _walk(
    resolver: Any, namespace: str = "", outer: tuple[str, ...] = ()
) -> Iterator[tuple[str, list[str]]]:
    for entry in resolver.url_patterns:
        params = outer + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, ns, params)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(params)


def _all_routes() -> list[tuple[str, list[str]]]:
    routes = {}
    for name, params in _walk(get_resolver()):
        routes[name] = params
    return sorted(routes.items())


def _id_routes() -> list[tuple[str, list[str]]]:
    """Routes with a parameter other than the organization's slug or a format (an object id)."""
    return [
        (name, params)
        for name, params in _all_routes()
        if not name.startswith("admin:")
        and any(p != "org_slug" and p not in FORMAT_PARAMS for p in params)
        and not SKIP_PARAMS.intersection(params)
    ]


def _tenant_models() -> list[type[TenantModel]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _kwargs_for(params: list[str], org: Any, object_id: str) -> dict[str, str]:
    return {p: org.slug if p == "org_slug" else object_id for p in params}


# --- Which model does a route look its id up in? -----------------------------------------------

_COLUMN = r'(?:"(?P<table>\w+)"|(?P<alias>[A-Z]\d+))\."(?P<column>\w+)"'
_ALIAS = re.compile(r'"(?P<table>\w+)"\s+(?:AS\s+)?(?P<alias>[A-Z]\d+)\b')


def _models_compared_with(sql: str, object_id: str) -> set[type[Model]] | None:
    """The models whose primary key (or a foreign key to them) the query compares `object_id`
    with; None when the id is in the query but its column cannot be read."""
    forms = {object_id, uuid.UUID(object_id).hex}  # psycopg sends a uuid as bare hex
    if not any(form in sql for form in forms):
        return set()
    # `"table"."column" = 'id'` or `... IN ('a', 'id')`; the filler cannot cross another column.
    literal = "'(?:" + "|".join(map(re.escape, sorted(forms))) + ")'"
    pattern = re.compile(_COLUMN + r"""\s*(?:=|IN\s*\()[^()"]*?""" + literal)
    aliases = {m["alias"]: m["table"] for m in _ALIAS.finditer(sql)}
    by_table = {m._meta.db_table: m for m in apps.get_models()}
    found: set[type[Model]] = set()
    for match in pattern.finditer(sql):
        model = by_table.get(match["table"] or aliases.get(match["alias"], ""))
        if model is None:
            return None
        columns = {f.column: f for f in model._meta.concrete_fields}
        column = columns.get(match["column"])
        if column is None:
            return None
        if column.primary_key:
            found.add(model)
        elif column.is_relation and column.related_model is not None:
            found.add(column.related_model)  # type: ignore[arg-type]
        else:
            return None
    return found if found else None


def _discover_lookups(
    name: str, params: list[str], org: Organization, client: Client
) -> set[type[Model]] | None:
    """Fetch the route with an id that exists nowhere, with every method it is probed with,
    and collect the models the SQL looked that id up in (None: not readable from the SQL)."""
    object_id = str(uuid.uuid4())
    url = reverse(name, kwargs=_kwargs_for(params, org, object_id))
    found: set[type[Model]] = set()
    for method in API_METHODS if name.startswith(API_ROUTES) else PAGE_METHODS:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            getattr(client, method)(url)
            transaction.set_rollback(True)  # whatever the request did, it leaves nothing
        for query in queries.captured_queries:
            models = _models_compared_with(query["sql"], object_id)
            if models is None:
                return None
            found |= models
    return found or None


# --- The two organizations, once per module ----------------------------------------------------


@dataclass
class ProbeWorld:
    org: Organization
    other_org: Organization
    user: Any
    b_ids: list[str]  # every id of Harborview's rows (a page must show none of them)
    b_ids_by_model: dict[type[Model], list[str]]
    lookups: dict[str, set[type[Model]] | None] = field(default_factory=dict)


def _ids_by_model(org: Organization) -> dict[type[Model], list[str]]:
    with tenant_context(org):
        return {
            model: [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)]
            for model in _tenant_models()
        }


def _build_world() -> ProbeWorld:
    # Slugs of their own, so the per-test `org` / `other_org` fixtures never meet these rows.
    org = OrganizationFactory(
        name="Riverbend Recovery Center", slug="probe-riverbend", time_zone="America/Chicago"
    )
    other_org = OrganizationFactory(name="Harborview Behavioral Health", slug="probe-harborview")
    build_tenant_data(org)
    build_tenant_data(other_org)
    with tenant_context(org):
        user = UserFactory(email="prober@probe-riverbend.example")
        MembershipFactory(organization=org, user=user, role=Role.OWNER, part2_access=True)
    by_model = _ids_by_model(other_org)
    b_ids = [i for ids in by_model.values() for i in ids]
    world = ProbeWorld(org, other_org, user, b_ids, by_model)
    browser, api = _clients(world)
    for name, params in _id_routes():
        client = api if name.startswith(API_ROUTES) else browser
        if name.startswith(API_ROUTES) and owner_only_api(
            reverse(name, kwargs=_kwargs_for(params, org, str(uuid.uuid4())))
        ):
            client = session_api(user, org)
        world.lookups[name] = _discover_lookups(name, params, org, client)
    return world


@pytest.fixture(scope="module")
def probe_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ProbeWorld]:
    """Both organizations' data, built once for the module inside a transaction; each test runs
    in a savepoint of it (pytest-django's `db`), and the whole is rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            world = _build_world()
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def owner_only_api(url: str) -> bool:
    """An API route that needs a scope no API key may carry (`org:admin`: the operations API is
    for owners signed in to the browser). A probe calls it through an owner's session
    (`session_api`), so it reaches the id lookup instead of stopping at 403."""
    view = getattr(resolve(url).func, "cls", None)
    needed = set((getattr(view, "required_scopes", None) or {}).values())
    return bool(needed - set(API_KEY_SCOPES))


def session_api(user: Any, org: Organization) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_login(user)
    client.credentials(HTTP_X_ORGANIZATION=org.slug)
    return client


def _clients(world: ProbeWorld) -> tuple[Client, APIClient]:
    browser = Client()
    browser.force_login(world.user)
    with tenant_context(world.org):
        _, raw = api_key_create(
            name="probe key", scopes=API_KEY_SCOPES, created_by=None, now=clock.now()
        )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return browser, api


def _as_role(db_role: str) -> None:
    if db_role == "app_role":
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
        # The whole request stack runs as the application role: both walls at once. The test's
        # savepoint rollback undoes SET LOCAL.
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {settings.DATABASE_APP_ROLE}")


def _assert_nothing_of(response: Any, world: ProbeWorld, where: str) -> None:
    # An error may echo the requested path (problem+json "instance"); that is not a leak.
    body = response.content.decode(errors="replace").replace(response.request["PATH_INFO"], "")
    assert world.other_org.name not in body, f"{where} shows Harborview's name"
    leaked = [i for i in world.b_ids if i in body]
    assert not leaked, f"{where} shows Harborview ids {leaked[:3]}"


def _probe_ids(name: str, world: ProbeWorld) -> list[tuple[str, str]]:
    """(model label, id) pairs of Harborview's rows to fetch `name` with: every id of each model
    the route looks up, and one id of a model it does not (so a route that resolves ids in the
    wrong model, or in none, is caught too). Unreadable lookups: one id of every model."""
    models = sorted((m for m, ids in world.b_ids_by_model.items() if ids), key=_label)
    looked_up = world.lookups[name]
    if looked_up is None:
        return [(_label(m), world.b_ids_by_model[m][0]) for m in models]
    pairs = []
    for model in sorted(looked_up, key=_label):
        ids = world.b_ids_by_model.get(model)
        assert ids, f"{name} looks up {_label(model)}, which Harborview has no row of"
        pairs.extend((_label(model), i) for i in ids)
    unrelated = [m for m in models if m not in looked_up]
    guard = unrelated[zlib.crc32(name.encode()) % len(unrelated)]
    pairs.append((f"unrelated {_label(guard)}", world.b_ids_by_model[guard][0]))
    return pairs


def _label(model: type[Model]) -> str:
    return model._meta.label


ID_ROUTES = _id_routes()


@pytest.mark.probe
@pytest.mark.parametrize("db_role", ["owner", "app_role"])
@pytest.mark.parametrize(("name", "params"), ID_ROUTES, ids=[name for name, _ in ID_ROUTES])
def test_a_route_answers_404_for_another_tenants_ids(
    name: str, params: list[str], db_role: str, probe_world: ProbeWorld, db: Any
) -> None:
    world = probe_world
    browser, api = _clients(world)
    _as_role(db_role)
    is_api = name.startswith(API_ROUTES)
    client = api if is_api else browser
    probes = _probe_ids(name, world)
    assert probes
    for label, object_id in probes:
        url = reverse(name, kwargs=_kwargs_for(params, world.org, object_id))
        if is_api and owner_only_api(url):
            client = session_api(world.user, world.org)
        statuses = []
        for method in API_METHODS if is_api else PAGE_METHODS:
            response = getattr(client, method)(url)
            assert response.status_code in {404, 405}, (
                f"{method.upper()} {url} ({name}, Harborview's {label}) answered "
                f"{response.status_code} for another tenant's id"
            )
            _assert_nothing_of(response, world, f"{method.upper()} {url}")
            statuses.append(response.status_code)
        assert 404 in statuses, f"{url} ({name}) never looked the id up"


@pytest.mark.probe
def test_the_discovery_reads_which_model_each_route_looks_up(
    probe_world: ProbeWorld, db: Any
) -> None:
    """The discovery found the models behind the routes (not a fallback everywhere): the
    patient, claim and denial pages look up what they say."""
    lookups = probe_world.lookups
    unreadable = sorted(name for name, models in lookups.items() if models is None)
    assert len(unreadable) <= len(lookups) // 10, f"lookups not read from the SQL: {unreadable}"
    assert {m._meta.label for m in lookups["patients:detail"] or ()} == {"patients.Patient"}
    assert {m._meta.label for m in lookups["api:claim-detail"] or ()} == {"claims.Claim"}
    assert {m._meta.label for m in lookups["denials:denial"] or ()} == {"denials.Denial"}


@pytest.mark.probe
def test_lists_and_pages_without_ids_show_nothing_of_another_tenant(
    probe_world: ProbeWorld, db: Any
) -> None:
    world = probe_world
    browser, api = _clients(world)
    for name, params in _all_routes():
        if name.startswith("admin:") or any(
            p != "org_slug" and p not in FORMAT_PARAMS for p in params
        ):
            continue
        kwargs = {p: FORMAT_PARAMS.get(p, world.org.slug) for p in params}
        url = reverse(name, kwargs=kwargs)
        client = browser if "org_slug" in params or not name.startswith(API_ROUTES) else api
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} failed with {response.status_code}"
        if name in {"home"}:
            continue  # The organization switcher lists only the user's own organizations.
        _assert_nothing_of(response, world, f"GET {url}")


@pytest.mark.probe
def test_the_probe_data_covers_every_tenant_model(probe_world: ProbeWorld, db: Any) -> None:
    empty = [m._meta.label for m, ids in probe_world.b_ids_by_model.items() if not ids]
    assert not empty, f"add a builder for {empty} to tests/tenant_data.py"


def test_a_non_member_gets_404_on_every_page_of_the_organization(
    org: Any, outsider: Any, client_for: Any
) -> None:
    client = client_for(outsider)
    for name, params in _all_routes():
        if params == ["org_slug"]:
            response = client.get(reverse(name, kwargs={"org_slug": org.slug}))
            assert response.status_code == 404, name


def test_an_unknown_organization_is_404_not_500(owner: Any, client_for: Any) -> None:
    assert client_for(owner).get("/o/no-such-clinic/").status_code == 404


def test_a_deactivated_membership_loses_access(
    org: Any, owner: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        Membership.objects.filter(user=biller).update(is_active=False)
    assert (
        client_for(biller).get(reverse("org_home", kwargs={"org_slug": org.slug})).status_code
        == 404
    )


def test_signed_out_visitors_are_sent_to_sign_in(org: Any, client: Any) -> None:
    response = client.get(reverse("org_home", kwargs={"org_slug": org.slug}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_api_without_a_key_is_401_problem_json(db: Any, client: Any) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
