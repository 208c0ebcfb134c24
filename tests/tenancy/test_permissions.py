"""One permission map for pages and the API: roles grant scopes, views ask for one."""

from __future__ import annotations

from typing import Any

import pytest

from rcm.tenancy.permissions import ROLE_SCOPES, Role, scopes_for_role

pytestmark = pytest.mark.urls("tests.probe_urls")

URL = "/o/riverbend/probe/claims/"


def test_a_manager_can_read_claims_but_not_change_them(manager: Any, client_for: Any) -> None:
    client = client_for(manager)
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 403


def test_a_biller_can_change_claims(biller: Any, client_for: Any) -> None:
    assert client_for(biller).post(URL).status_code == 200


def test_an_auditor_cannot_write_anything(auditor: Any, client_for: Any) -> None:
    client = client_for(auditor)
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 403
    assert not [s for s in ROLE_SCOPES[Role.AUDITOR] if s.endswith(":write") or s == "org:admin"]


def test_the_api_applies_the_same_map_to_a_session(
    manager: Any, biller: Any, client_for: Any
) -> None:
    headers = {"HTTP_X_ORGANIZATION": "riverbend"}
    manager_client = client_for(manager)
    manager_client.handler.enforce_csrf_checks = False
    assert manager_client.get("/api/v1/probe/claims", **headers).status_code == 200
    assert manager_client.post("/api/v1/probe/claims", **headers).status_code == 403
    assert client_for(biller).post("/api/v1/probe/claims", **headers).status_code == 201


def test_a_session_naming_someone_elses_organization_gets_404(
    outsider: Any, org: Any, client_for: Any
) -> None:
    response = client_for(outsider).get("/api/v1/probe/claims", HTTP_X_ORGANIZATION="riverbend")
    assert response.status_code == 404


def test_members_pages_are_for_owners_only(
    owner: Any, biller: Any, manager: Any, client_for: Any
) -> None:
    url = "/o/riverbend/settings/members/"
    assert client_for(owner).get(url).status_code == 200
    assert client_for(biller).get(url).status_code == 403
    assert client_for(manager).get(url).status_code == 403


def test_part2_access_is_a_separate_grant_never_part_of_a_role() -> None:
    assert all("part2:read" not in scopes for scopes in ROLE_SCOPES.values())
    assert "part2:read" in scopes_for_role(Role.BILLER, part2_access=True)
