"""Main path of membership by invitation: an owner invites an address, the invitee opens the
link from the email, chooses a password and lands in the organization."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from rcm.tenancy.permissions import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.tenancy.test_invitations import deliver_outbox, link_in

pytestmark = pytest.mark.e2e


def test_an_owner_invites_and_the_invitee_joins_by_the_emailed_link(
    page: Any, org: Any, browser: Any, live_server: Any
) -> None:
    MembershipFactory(
        organization=org, role=Role.OWNER, user=UserFactory(email="olivia@riverbend.example")
    )
    sign_in(page, "olivia@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/settings/members/")
    page.get_by_label("Email").fill("nina@riverbend.example")
    page.get_by_label("Role").select_option("biller")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to nina@riverbend.example")
    expect(page.get_by_role("cell", name="nina@riverbend.example", exact=True)).to_be_visible()
    expect(page.get_by_text("Pending", exact=True)).to_be_visible()

    deliver_outbox(org)
    assert [m.to for m in mail.outbox] == [["nina@riverbend.example"]]
    link = link_in(mail.outbox[0])

    invitee = browser.new_context(base_url=live_server.url).new_page()
    try:
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name=f"Join {org.name}")).to_be_visible()
        invitee.get_by_label("First name").fill("Nina")
        invitee.get_by_label("Last name").fill("Ng")
        invitee.locator("#id_password1").fill("a-long-pass-phrase-9")
        invitee.get_by_label("Password again").fill("a-long-pass-phrase-9")
        invitee.get_by_role("button", name="Create account and join").click()
        expect(invitee.get_by_role("heading", name=org.name)).to_be_visible()
        expect(invitee.get_by_text("You are signed in as Biller")).to_be_visible()
    finally:
        invitee.context.close()

    page.reload()
    expect(page.get_by_text("No invitations waiting.")).to_be_visible()
    expect(page.get_by_role("cell", name="Nina Ng")).to_be_visible()
