"""API keys: shown once, stored hashed, scoped, revocable; the key decides the organization."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import ApiKey
from rcm.tenancy.services import api_key_create, api_key_revoke
from tests.clock import now


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def key_and_raw(org: Any, owner: Any) -> tuple[ApiKey, str]:
    with tenant_context(org):
        return api_key_create(
            name="EHR sync", scopes=["patients:read", "claims:read"], created_by=owner, now=now()
        )


def test_the_key_is_stored_only_as_a_hash(key_and_raw: tuple[ApiKey, str]) -> None:
    key, raw = key_and_raw
    assert raw.startswith(f"prt_{key.prefix}_")
    assert raw not in key.key_hash and len(key.key_hash) == 64
    stored = ApiKey.all_tenants.get(pk=key.pk)
    assert raw not in str(stored.__dict__)


def test_me_returns_the_keys_organization_and_scopes(key_and_raw: Any, org: Any) -> None:
    response = _client(key_and_raw[1]).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["organization"]["slug"] == org.slug
    assert response.json()["scopes"] == ["claims:read", "patients:read"]
    key = ApiKey.all_tenants.get(pk=key_and_raw[0].pk)
    assert key.last_used_at is not None


def test_a_wrong_secret_with_a_real_prefix_is_refused(key_and_raw: Any) -> None:
    _, raw = key_and_raw
    response = _client(raw[:-4] + "AAAA").get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_a_revoked_key_stops_working_at_once(key_and_raw: Any, org: Any) -> None:
    key, raw = key_and_raw
    assert _client(raw).get("/api/v1/me").status_code == 200
    with tenant_context(org):
        api_key_revoke(key=key)
        api_key_revoke(key=key)  # twice does no harm
        assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1
    assert _client(raw).get("/api/v1/me").status_code == 401


@pytest.mark.urls("tests.probe_urls")
def test_scopes_limit_what_a_key_may_do(key_and_raw: Any) -> None:
    client = _client(key_and_raw[1])
    assert client.get("/api/v1/probe/claims").status_code == 200
    response = client.post("/api/v1/probe/claims")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_a_key_cannot_be_given_admin_scopes(org: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as err:
        api_key_create(name="x", scopes=["org:admin"], created_by=None, now=now())
    assert err.value.field == "scopes"


def test_the_owner_page_shows_a_new_key_once(owner: Any, client_for: Any, org: Any) -> None:
    client = client_for(owner)
    response = client.post(
        "/o/riverbend/settings/api-keys/", {"name": "Billing co", "scopes": ["claims:read"]}
    )
    assert response.status_code == 200
    raw = response.context["new_key"]
    assert raw and raw in response.content.decode()
    assert raw not in client.get("/o/riverbend/settings/api-keys/").content.decode()
    assert _client(raw).get("/api/v1/me").status_code == 200


def test_the_owner_page_names_the_missing_field(owner: Any, client_for: Any) -> None:
    response = client_for(owner).post("/o/riverbend/settings/api-keys/", {"name": "No scopes"})
    assert response.status_code == 200
    assert response.context["form"].errors["scopes"]
    with tenant_context(response.wsgi_request.organization):
        assert not ApiKey.objects.exists()


def test_a_key_expiring_in_the_past_is_refused(org: Any) -> None:
    with tenant_context(org):
        with pytest.raises(DomainError) as err:
            api_key_create(
                name="x",
                scopes=["claims:read"],
                created_by=None,
                expires_at=now() - timedelta(minutes=1),
                now=now(),
            )
        assert err.value.field == "expires_at"
        # The moment given is the one compared with, not the clock.
        with pytest.raises(DomainError):
            api_key_create(
                name="x",
                scopes=["claims:read"],
                created_by=None,
                expires_at=now() + timedelta(hours=1),
                now=now() + timedelta(hours=2),
            )
        with pytest.raises(TypeError):
            api_key_create(name="x", scopes=["claims:read"], created_by=None)  # type: ignore[call-arg]
        assert not ApiKey.objects.exists()


def test_a_key_stops_working_when_it_expires(
    org: Any, owner: Any, client_for: Any, time_machine: Any
) -> None:
    created = now()
    with tenant_context(org):
        _, raw = api_key_create(
            name="Short-lived",
            scopes=["claims:read"],
            created_by=owner,
            expires_at=created + timedelta(hours=1),
            now=created,
        )
    assert _client(raw).get("/api/v1/me").status_code == 200
    time_machine.move_to(created + timedelta(minutes=59), tick=False)
    assert _client(raw).get("/api/v1/me").status_code == 200
    time_machine.move_to(created + timedelta(hours=1), tick=False)
    assert _client(raw).get("/api/v1/me").status_code == 401
    page = client_for(owner).get("/o/riverbend/settings/api-keys/").content.decode()
    assert "Expired" in page
