"""Main path of authorizations: an authorization expiring in two days is raised by the scan,
shows in the alerts inbox (and its count in the navigation) and on the review calendar, and the
reviewer opens it and acknowledges the alert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.tenancy.permissions import Role
from tests.authorizations.factories import make_authorization
from tests.clock import days_ago, days_from_now
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """The outbox delivers in-process, as it does without Redis: the on-demand scan runs on
    commit of the request that asks for it."""
    from rcm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_an_authorization_expiring_in_two_days_shows_in_the_inbox_and_the_calendar(
    page: Any, org: Any, eager_tasks: None
) -> None:
    reviewer = UserFactory(email="uma@riverbend.example")
    # The factory's episode is substance use (42 CFR Part 2): Uma has the Part 2 grant.
    MembershipFactory(organization=org, user=reviewer, role=Role.BILLER, part2_access=True)
    auth = make_authorization(
        org,
        start_date=days_ago(10),
        end_date=days_from_now(2),
        units_requested=13,
        units_approved=13,
        requested_on=days_ago(11),
        decided_on=days_ago(11),
        auth_number="BX-2044",
        assigned_to=reviewer,
    )

    sign_in(page, "uma@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/authorizations/")
    expect(page.get_by_role("cell", name="BX-2044")).to_be_visible()
    page.get_by_role("button", name="Run the alert scan now").click()

    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    # "Run now" goes through the outbox (it never fails with the broker); tasks run in-process
    # here, so the scan has run by the time the inbox shows.
    expect(page.get_by_role("status")).to_contain_text("The scan will start shortly")
    alert_link = page.get_by_role(
        "link", name=f"Authorization BX-2044 ends in 2 days ({auth.end_date})"
    )
    expect(alert_link).to_be_visible()
    expect(page.locator(".mainnav .count")).to_have_text("1")

    page.get_by_role("link", name="Reviews").click()
    this_week = page.locator("#calendar-this-week")
    expect(this_week.get_by_role("cell", name="Authorization ends")).to_be_visible()
    expect(this_week).to_contain_text("BX-2044")

    page.goto(f"/o/{org.slug}/alerts/")
    page.get_by_role("button", name="Acknowledge Authorization BX-2044").click()
    expect(page.locator("#alerts")).to_contain_text("Acknowledged")
    alert_link.click()
    expect(page.get_by_role("heading", name="Authorization BX-2044")).to_be_visible()
    expect(page.locator("#utilization-summary")).to_contain_text("0 used of 13 approved days")
