"""Two-factor sign-in: enrolment, the second step, recovery codes, the organization's policy and
its enforcement, the lockout, and the audit events. Codes are computed from the device's key at
the suite's frozen clock (django_otp.oath.totp), as an authenticator app would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcm.audit.models import AuditEvent
from rcm.tenancy import two_factor
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import TwoFactorPolicy
from rcm.tenancy.permissions import Role
from tests import clock
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
SECURITY = "/accounts/security/"


def _code(device: TOTPDevice, *, later: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, later):06d}"


def _enrolled(user: Any) -> tuple[TOTPDevice, list[str]]:
    device = two_factor.pending_device(user)
    codes = two_factor.enrolment_confirm(user=user, device=device, code=_code(device), request=None)
    device.refresh_from_db()
    device.last_t = -1  # the next sign-in may use the same 30-second step
    device.save()
    return device, codes


def _password_step(client: Client, user: Any, next_url: str = "") -> Any:
    data = {"username": user.email, "password": PASSWORD}
    return client.post(LOGIN + (f"?next={next_url}" if next_url else ""), data)


def _events(org: Any, action: str) -> list[AuditEvent]:
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def strict_org(org: Any) -> Any:
    """Riverbend with the default policy: owners and billing-company users."""
    org.two_factor_policy = TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY
    org.save()
    return org


def test_the_default_policy_requires_owners_and_billing_company_users(db: Any) -> None:
    clinic = OrganizationFactory(two_factor_policy=TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY)
    other = OrganizationFactory(two_factor_policy=TwoFactorPolicy.NOBODY)
    assert (
        clinic._meta.get_field("two_factor_policy").default
        == TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY
    )
    owner = MembershipFactory(organization=clinic, role=Role.OWNER).user
    clinician = MembershipFactory(organization=clinic, role=Role.CLINICIAN).user
    partner = MembershipFactory(organization=clinic, role=Role.BILLER).user
    MembershipFactory(organization=other, user=partner, role=Role.BILLER)
    assert two_factor.two_factor_required(owner)
    assert not two_factor.two_factor_required(clinician)
    assert two_factor.two_factor_required(partner)  # a member of two organizations
    other.two_factor_policy = TwoFactorPolicy.EVERYONE
    other.save()
    MembershipFactory(organization=other, user=clinician, role=Role.CLINICIAN)
    assert two_factor.two_factor_required(clinician)


def test_enrolment_shows_a_local_qr_code_and_the_key_then_recovery_codes_once(
    strict_org: Any, biller: Any
) -> None:
    client = Client()
    client.force_login(biller)
    page = client.get(SECURITY).content.decode()
    main = page.split('<main id="main">')[1]
    svg = main.split("<svg")[1].split("</svg>")[0]
    # Drawn on the server: no script, no inline style, no image fetched from anywhere.
    assert "<script" not in main and "style=" not in main and "href" not in svg
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page)
    assert key is not None
    device = TOTPDevice.objects.get(user=biller, confirmed=False)
    assert key.group(1).replace(" ", "") == two_factor.manual_key(device).replace(" ", "")

    wrong = client.post(SECURITY, {"action": "confirm", "code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    response = client.post(SECURITY, {"action": "confirm", "code": _code(device)})
    codes = re.findall(r'<code class="secret">([a-z2-7]+)</code>', response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=biller).confirmed
    assert len(_events(strict_org, "auth.two_factor_enrolled")) == 1
    # Once on: the page no longer shows a key nor the codes.
    page = client.get(SECURITY).content.decode()
    assert 'id="totp-key"' not in page and codes[0] not in page and ">10<" in page


def test_sign_in_asks_for_the_code_after_the_password(strict_org: Any, biller: Any) -> None:
    device, _ = _enrolled(biller)
    client = Client()
    response = _password_step(client, biller, "/o/riverbend/claims/")
    assert response.url == CODE
    assert "_auth_user_id" not in client.session  # not signed in before the second step
    assert client.get("/o/riverbend/").status_code == 302

    response = client.post(CODE, {"code": _code(device)})
    assert response.status_code == 302 and response.url == "/o/riverbend/claims/"
    assert client.session["_auth_user_id"] == str(biller.pk)
    assert client.get("/o/riverbend/").status_code == 200
    assert len(_events(strict_org, "auth.sign_in")) == 1


def test_a_wrong_code_is_refused_audited_and_counts_towards_the_lockout(
    strict_org: Any, biller: Any, settings: Any
) -> None:
    device, _ = _enrolled(biller)
    client = Client()
    _password_step(client, biller)
    response = client.post(CODE, {"code": _code(device, later=10)})
    assert response.status_code == 200 and "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session
    [event] = _events(strict_org, "auth.second_factor_failed")
    assert event.outcome == "failure" and event.actor_id == biller.pk

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(CODE, {"code": "123456"})
    assert response.status_code == 429
    # Locked: the right password and the right code no longer sign in.
    assert _password_step(client, biller).status_code == 429
    assert client.post(CODE, {"code": _code(device)}).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_signs_in_once(strict_org: Any, biller: Any) -> None:
    _, codes = _enrolled(biller)
    client = Client()
    _password_step(client, biller)
    assert client.post(CODE, {"code": codes[0].upper()}).status_code == 302
    assert client.session["_auth_user_id"] == str(biller.pk)
    assert StaticToken.objects.filter(device__user=biller).count() == 9
    [used] = _events(strict_org, "auth.recovery_code_used")
    assert used.detail == {"remaining": 9}

    again = Client()
    _password_step(again, biller)
    response = again.post(CODE, {"code": codes[0]})
    assert response.status_code == 200 and "_auth_user_id" not in again.session


def test_the_second_step_expires(strict_org: Any, biller: Any, time_machine: Any) -> None:
    device, _ = _enrolled(biller)
    client = Client()
    _password_step(client, biller)
    time_machine.move_to(clock.now() + timedelta(minutes=6), tick=False)
    device.refresh_from_db()
    assert client.post(CODE, {"code": _code(device)}).url == LOGIN


def test_an_owner_without_a_device_is_sent_to_enrolment_and_kept_from_organization_pages(
    strict_org: Any, owner: Any
) -> None:
    client = Client()
    response = _password_step(client, owner, "/o/riverbend/")
    assert response.url == SECURITY
    for path in ("/", "/o/riverbend/", "/o/riverbend/settings/members/"):
        assert client.get(path).url == SECURITY
    assert client.get("/o/riverbend/", headers={"HX-Request": "true"})["HX-Redirect"] == SECURITY
    api = client.get("/api/v1/me", headers={"X-Organization": "riverbend"})
    assert api.status_code == 403
    assert client.get(SECURITY).status_code == 200

    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    client.post(SECURITY, {"action": "confirm", "code": _code(device)})
    assert client.get("/o/riverbend/").status_code == 200
    assert client.get("/api/v1/me", headers={"X-Organization": "riverbend"}).status_code == 200


def test_a_clinician_is_not_forced_under_the_default_policy(
    strict_org: Any, clinician: Any
) -> None:
    client = Client()
    assert _password_step(client, clinician).url == "/"
    assert client.get("/o/riverbend/").status_code == 200


def test_api_key_requests_are_unaffected(strict_org: Any, owner: Any, api_client_for: Any) -> None:
    api = api_client_for(strict_org)
    client = Client()
    _password_step(client, owner)  # an owner's session waiting for enrolment, same machine
    api.cookies = client.cookies
    assert api.get("/api/v1/me").status_code == 200


def test_a_session_that_skipped_the_second_step_is_signed_out(strict_org: Any, biller: Any) -> None:
    _enrolled(biller)
    client = Client()
    client.force_login(biller)  # as the admin's own sign-in form would
    response = client.get("/o/riverbend/")
    assert response.url.startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert client.get(SECURITY).status_code == 302


def test_disabling_is_refused_while_required_and_allowed_otherwise(
    strict_org: Any, owner: Any, clinician: Any
) -> None:
    device, _ = _enrolled(owner)
    client = Client()
    _password_step(client, owner)
    client.post(CODE, {"code": _code(device)})
    response = client.post(SECURITY, {"action": "disable"}, follow=True)
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=owner).exists()

    device, _ = _enrolled(clinician)
    client = Client()
    _password_step(client, clinician)
    client.post(CODE, {"code": _code(device)})
    response = client.post(SECURITY, {"action": "disable"}, follow=True)
    assert "Two-factor sign-in is off" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
    assert len(_events(strict_org, "auth.two_factor_disabled")) == 1
    assert client.get("/o/riverbend/").status_code == 200
    # Next time the password alone signs in.
    assert _password_step(Client(), clinician).url == "/"


def test_regenerating_recovery_codes_cancels_the_old_ones(strict_org: Any, biller: Any) -> None:
    device, old = _enrolled(biller)
    client = Client()
    _password_step(client, biller)
    client.post(CODE, {"code": _code(device)})
    response = client.post(SECURITY, {"action": "regenerate"})
    new = re.findall(r'<code class="secret">([a-z2-7]+)</code>', response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert len(_events(strict_org, "auth.recovery_codes_regenerated")) == 1


def test_events_of_a_user_without_organization_are_platform_events(db: Any) -> None:
    user = UserFactory(email="solo@example.com")
    _enrolled(user)
    event = AuditEvent.all_tenants.get(action="auth.two_factor_enrolled")
    assert event.organization_id is None


def test_an_owner_sets_the_policy_in_the_organization_settings(org: Any, owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    data = {"name": org.name, "time_zone": org.time_zone, "two_factor_policy": "everyone"}
    assert client.post("/o/riverbend/settings/", data).status_code == 302
    org.refresh_from_db()
    assert org.two_factor_policy == TwoFactorPolicy.EVERYONE
    del data["two_factor_policy"]  # left out: unchanged
    client.post("/o/riverbend/settings/", data)
    org.refresh_from_db()
    assert org.two_factor_policy == TwoFactorPolicy.EVERYONE
