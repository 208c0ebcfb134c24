"""Main path of the foundation: sign in, switch organization, invite a member (with an inline
error first), and see the audit trail record it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.tenancy.permissions import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_an_owner_signs_in_switches_clinic_and_adds_a_member(
    page: Any, org: Any, other_org: Any
) -> None:
    user = UserFactory(email="pat@partner.example")
    MembershipFactory(organization=org, user=user, role=Role.OWNER)
    MembershipFactory(organization=other_org, user=user, role=Role.BILLER)

    sign_in(page, "pat@partner.example", PASSWORD)
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
    page.get_by_role("link", name="Riverbend Recovery Center").click()
    expect(page.get_by_role("heading", name="Riverbend Recovery Center")).to_be_visible()

    # The switcher takes the same person to the other clinic, with that clinic's role.
    page.get_by_text("Riverbend Recovery Center", exact=True).first.click()
    page.get_by_role("link", name="Harborview Behavioral Health").click()
    expect(page.get_by_role("heading", name="Harborview Behavioral Health")).to_be_visible()
    expect(page.get_by_text("You are signed in as Biller")).to_be_visible()

    page.goto(f"/o/{org.slug}/settings/members/")
    page.get_by_label("Email").fill("nina@")
    page.get_by_label("Role").select_option("biller")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".field.has-error .error").first).to_contain_text("valid email")

    page.get_by_label("Email").fill("nina@riverbend.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to nina@riverbend.example")
    expect(page.get_by_role("cell", name="nina@riverbend.example", exact=True)).to_be_visible()

    page.goto(f"/o/{org.slug}/audit/?action=invitation.")
    expect(page.get_by_role("cell", name="invitation.create")).to_be_visible()
