"""The tenant isolation probe: every page and every API route, fetched as Riverbend with
Harborview's object ids, answers 404 and shows nothing of Harborview.

The walk reads the URL configuration, so pages and endpoints added later are covered without
editing this test; `build_tenant_data` must create a row of every tenant model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership, TenantModel
from rcm.tenancy.permissions import Role
from tests.factories import MembershipFactory, UserFactory
from tests.tenant_data import build_tenant_data

SKIP_PARAMS = {"format"}


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


def _tenant_models() -> list[type[TenantModel]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


@pytest.fixture
def two_tenants(org: Any, other_org: Any) -> dict[str, Any]:
    build_tenant_data(org)
    build_tenant_data(other_org)
    with tenant_context(org):
        user = UserFactory(email="prober@riverbend.example")
        MembershipFactory(organization=org, user=user, role=Role.OWNER, part2_access=True)
    b_ids, one_per_model = [], []
    with tenant_context(other_org):
        for model in _tenant_models():
            ids = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
            b_ids.extend(ids)
            one_per_model.extend(ids[:1])
    # Every route is fetched with one id of every tenant model (a route names one kind of object,
    # so that covers its kind); pages are checked for any of Harborview's ids.
    return {"user": user, "b_ids": b_ids, "probe_ids": one_per_model}


def _kwargs_for(params: list[str], org: Any, object_id: str) -> dict[str, str] | None:
    kwargs = {}
    for param in params:
        if param in SKIP_PARAMS:
            return None
        kwargs[param] = org.slug if param == "org_slug" else object_id
    return kwargs


def _assert_nothing_of(response: Any, other_org: Any, b_ids: list[str], where: str) -> None:
    # An error may echo the requested path (problem+json "instance"); that is not a leak.
    body = response.content.decode(errors="replace").replace(response.request["PATH_INFO"], "")
    assert other_org.name not in body, f"{where} shows Harborview's name"
    leaked = [i for i in b_ids if i in body]
    assert not leaked, f"{where} shows Harborview ids {leaked[:3]}"


@pytest.mark.parametrize("db_role", ["owner", "app_role"])
def test_every_route_answers_404_for_another_tenants_ids(
    db_role: str,
    org: Any,
    other_org: Any,
    two_tenants: dict[str, Any],
    client_for: Any,
    api_client_for: Any,
) -> None:
    if db_role == "app_role":
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
        # The whole request stack runs as the application role: both walls at once.
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {settings.DATABASE_APP_ROLE}")
    browser = client_for(two_tenants["user"])
    api = api_client_for(org)
    b_ids = two_tenants["b_ids"]
    checked = 0
    for name, params in _all_routes():
        if name.startswith("admin:") or not params:
            continue
        id_params = [p for p in params if p != "org_slug"]
        if not id_params:
            continue
        is_api = name.startswith("api:")
        client = api if is_api else browser
        methods = ("get", "post", "patch", "delete") if is_api else ("get", "post")
        for object_id in two_tenants["probe_ids"]:
            kwargs = _kwargs_for(params, org, object_id)
            if kwargs is None:
                continue
            url = reverse(name, kwargs=kwargs)
            statuses = []
            for method in methods:
                response = getattr(client, method)(url)
                assert response.status_code in {404, 405}, (
                    f"{method.upper()} {url} ({name}) answered {response.status_code} for another "
                    "tenant's id"
                )
                _assert_nothing_of(response, other_org, b_ids, f"{method.upper()} {url}")
                statuses.append(response.status_code)
            assert 404 in statuses, f"{url} ({name}) never looked the id up"
            checked += 1
    assert checked > 0


def test_lists_and_pages_without_ids_show_nothing_of_another_tenant(
    org: Any, other_org: Any, two_tenants: dict[str, Any], client_for: Any, api_client_for: Any
) -> None:
    browser = client_for(two_tenants["user"])
    api = api_client_for(org)
    for name, params in _all_routes():
        if name.startswith("admin:") or any(p != "org_slug" for p in params):
            continue
        if "org_slug" in params:
            url = reverse(name, kwargs={"org_slug": org.slug})
            client = browser
        else:
            url = reverse(name)
            client = api if name.startswith("api:") else browser
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} failed with {response.status_code}"
        if name in {"home"}:
            continue  # The organization switcher lists only the user's own organizations.
        _assert_nothing_of(response, other_org, two_tenants["b_ids"], f"GET {url}")


def test_the_probe_data_covers_every_tenant_model(
    org: Any, other_org: Any, two_tenants: Any
) -> None:
    with tenant_context(other_org):
        empty = [m._meta.label for m in _tenant_models() if not m.objects.exists()]
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
