"""Sign-in, lockout, idle timeout, and their audit events."""

from __future__ import annotations

import time
from typing import Any

from django.test import Client

from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def _sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password})


def test_signing_in_lands_on_the_only_organization_and_is_audited(biller: Any, org: Any) -> None:
    client = Client()
    response = _sign_in(client, biller.email, PASSWORD)
    assert response.status_code == 302
    assert client.get("/").url == "/o/riverbend/"
    with tenant_context(org):
        event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor_id == biller.pk and event.ip_address == "127.0.0.1"


def test_a_failed_sign_in_is_audited_without_the_password(biller: Any, org: Any) -> None:
    response = _sign_in(Client(), biller.email, "wrong-password-123")
    assert response.status_code == 200
    assert "Please enter a correct email" in response.content.decode()
    with tenant_context(org):
        event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.outcome == "failure"
    assert "wrong-password" not in str(event.detail)


def test_a_failed_sign_in_for_an_unknown_email_is_a_platform_event(db: Any) -> None:
    _sign_in(Client(), "nobody@example.com", "whatever-password")
    event = AuditEvent.all_tenants.get(action="auth.sign_in_failed")
    assert event.organization_id is None and event.detail == {"email": "nobody@example.com"}


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    biller: Any, settings: Any
) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, biller.email, "wrong-password-123")
    response = _sign_in(client, biller.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_audited(biller: Any, org: Any) -> None:
    client = Client()
    _sign_in(client, biller.email, PASSWORD)
    client.post("/accounts/logout/")
    with tenant_context(org):
        assert AuditEvent.objects.get(action="auth.sign_out").detail == {"reason": "user"}


def test_an_idle_session_is_signed_out(biller: Any, org: Any, settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 15
    client = Client()
    _sign_in(client, biller.email, PASSWORD)
    assert client.get("/o/riverbend/").status_code == 200
    session = client.session
    session["last_activity"] = time.time() - 16 * 60
    session.save()
    response = client.get("/o/riverbend/")
    assert response.status_code == 302
    assert "idle=1" in response.url
    assert "inactivity" in client.get(response.url).content.decode()
    assert client.get("/o/riverbend/").status_code == 302  # signed out for good
    with tenant_context(org):
        assert AuditEvent.objects.get(action="auth.sign_out").detail == {"reason": "idle_timeout"}


def test_an_active_session_is_kept(biller: Any, settings: Any) -> None:
    client = Client()
    _sign_in(client, biller.email, PASSWORD)
    session = client.session
    session["last_activity"] = time.time() - 14 * 60
    session.save()
    assert client.get("/o/riverbend/").status_code == 200
