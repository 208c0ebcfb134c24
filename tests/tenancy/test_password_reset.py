"""Forgotten passwords, owners' unlock and forced reset: no account enumeration, a rate limit,
and every change audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client

from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from tests.factories import PASSWORD
from tests.tenancy.test_invitations import deliver_outbox

LOGIN = "/accounts/login/"
RESET = "/accounts/password-reset/"
NEW_PASSWORD = "another-long-phrase-7"


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _reset_link(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _masked(response: Any) -> str:
    """The page without its per-client CSRF token."""
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def _lock_out(email: str) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": email, "password": "wrong-password-123"})
    assert client.post(LOGIN, {"username": email, "password": PASSWORD}).status_code == 429


def test_the_sign_in_page_offers_a_reset(db: Any) -> None:
    assert 'href="/accounts/password-reset/"' in Client().get(LOGIN).content.decode()


def test_a_reset_request_answers_the_same_for_known_and_unknown_emails(
    biller: Any, org: Any
) -> None:
    known = Client().post(RESET, {"email": biller.email}, follow=True)
    unknown = Client().post(RESET, {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert _masked(known) == _masked(unknown)
    assert [m.to for m in mail.outbox] == [[biller.email]]

    # The link sets a new password once, and the old one stops working.
    client = Client()
    form_url = client.get(_reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == "/accounts/reset/done/"
    biller.refresh_from_db()
    assert biller.check_password(NEW_PASSWORD)
    with tenant_context(org):
        assert AuditEvent.objects.filter(action="auth.password_reset").count() == 1
    used = Client().get(_reset_link(mail.outbox[0]), follow=True)
    assert used.status_code == 404 and "not valid" in used.content.decode()


def test_reset_requests_are_rate_limited_per_email_and_per_address(
    biller: Any, settings: Any
) -> None:
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_IP = 4
    answers = set()
    for _ in range(4):
        response = Client().post(RESET, {"email": biller.email})
        answers.add((response.status_code, response.url))
    assert answers == {(302, "/accounts/password-reset/sent/")}
    assert len(mail.outbox) == 2  # the per-email limit

    cache.clear()
    mail.outbox.clear()
    for i in range(6):
        Client().post(RESET, {"email": f"someone{i}@example.com"})
    Client().post(RESET, {"email": biller.email})  # the 7th request from this address
    assert mail.outbox == []  # the per-address limit: nothing sent, the same answer


def test_an_owner_unlocks_a_locked_out_member(
    owner: Any, biller: Any, org: Any, client_for: Any
) -> None:
    _lock_out(biller.email)
    with tenant_context(org):
        membership = Membership.objects.get(user=biller)
    owner_client = client_for(owner)
    assert "Locked out" in owner_client.get("/o/riverbend/settings/members/").content.decode()
    response = owner_client.post(f"/o/riverbend/settings/members/{membership.pk}/unlock/")
    assert response.status_code == 302
    signed_in = Client().post(LOGIN, {"username": biller.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    with tenant_context(org):
        event = AuditEvent.objects.get(action="membership.unlock")
    assert event.detail["records_cleared"] >= 1 and event.actor_id == owner.pk


def test_another_tenant_cannot_unlock_or_reset_a_member(
    biller: Any, org: Any, outsider: Any, client_for: Any
) -> None:
    with tenant_context(org):
        membership = Membership.objects.get(user=biller)
    client = client_for(outsider)
    for action in ("unlock", "force-password-reset"):
        response = client.post(f"/o/harborview/settings/members/{membership.pk}/{action}/")
        assert response.status_code == 404
    biller.refresh_from_db()
    assert biller.check_password(PASSWORD)


def test_a_forced_reset_ends_sessions_replaces_the_password_and_sends_a_link(
    owner: Any, biller: Any, org: Any, client_for: Any
) -> None:
    biller_client = Client()
    biller_client.post(LOGIN, {"username": biller.email, "password": PASSWORD})
    assert biller_client.get("/o/riverbend/").status_code == 200
    with tenant_context(org):
        membership = Membership.objects.get(user=biller)
    response = client_for(owner).post(
        f"/o/riverbend/settings/members/{membership.pk}/force-password-reset/"
    )
    assert response.status_code == 302
    biller.refresh_from_db()
    assert not biller.check_password(PASSWORD)
    assert biller_client.get("/o/riverbend/").status_code == 302  # signed out
    with tenant_context(org):
        assert AuditEvent.objects.get(action="membership.force_password_reset").actor_id == owner.pk
    deliver_outbox(org)
    assert [m.to for m in mail.outbox] == [[biller.email]]
    client = Client()
    form_url = client.get(_reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    biller.refresh_from_db()
    assert biller.check_password(NEW_PASSWORD)


def test_an_owner_cannot_force_their_own_reset(owner: Any, org: Any, client_for: Any) -> None:
    with tenant_context(org):
        membership = Membership.objects.get(user=owner)
    response = client_for(owner).post(
        f"/o/riverbend/settings/members/{membership.pk}/force-password-reset/"
    )
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_reset_lifts_the_lockout(biller: Any) -> None:
    _lock_out(biller.email)
    Client().post(RESET, {"email": biller.email})
    client = Client()
    form_url = client.get(_reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = Client().post(LOGIN, {"username": biller.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
