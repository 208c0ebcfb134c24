"""An owner whose organization requires two-factor sign-in enrols on first sign-in (reading the
key off the page, as someone typing it into an app would), signs out, and signs in with a code."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from rcm.tenancy.models import TwoFactorPolicy
from tests import clock
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def _code(key: str) -> str:
    compact = key.replace(" ", "")
    secret = base64.b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(secret):06d}"


def test_an_owner_enrols_then_signs_in_with_a_code(
    page: Any, org: Any, owner: Any, time_machine: Any
) -> None:
    org.two_factor_policy = TwoFactorPolicy.OWNERS_AND_BILLING_COMPANY
    org.save()

    sign_in(page, owner.email, PASSWORD)
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    expect(page.get_by_text("Your organization requires two-factor sign-in").first).to_be_visible()
    page.goto(f"/o/{org.slug}/")  # organization pages wait for the enrolment
    expect(page.get_by_role("heading", name="Security")).to_be_visible()

    key = page.locator("#totp-key").inner_text()
    page.get_by_label("Code").fill(_code(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Riverbend Recovery Center")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The next 30-second step: a code is accepted only once.
    time_machine.move_to(clock.now() + timedelta(seconds=60), tick=False)
    sign_in(page, owner.email, PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".field.has-error .error")).to_contain_text("not right")
    # django-otp makes the device wait (1 s, doubling) after a wrong code.
    time_machine.move_to(clock.now() + timedelta(seconds=62), tick=False)
    page.get_by_label("Code").fill(_code(key))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Riverbend Recovery Center")).to_be_visible()
