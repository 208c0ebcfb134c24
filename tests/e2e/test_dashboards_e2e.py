"""Main path of the dashboard: the manager signs in, sees the dashboard with its charts, clicks
a denial-rate bar and lands on the matching denied claims."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.tenancy.permissions import Role
from tests.dashboards.test_dashboard import dos, make_book
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_a_manager_clicks_a_denial_rate_bar_and_sees_the_denied_claims(page: Any, org: Any) -> None:
    book = make_book(org)
    MembershipFactory(
        organization=org, user=UserFactory(email="mona@riverbend.example"), role=Role.MANAGER
    )
    sign_in(page, "mona@riverbend.example", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator(".kpi", has_text="Initial denial rate")).to_contain_text("50.0%")
    expect(page.get_by_role("img", name="Denial rate by month")).to_be_visible()
    expect(page.get_by_role("img", name="A/R by age")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.get_by_role("img", name="Denial rate by month").locator("a").first.click()
    expect(
        page.get_by_role("heading", name=f"services in {dos().strftime('%Y-%m')}")
    ).to_be_visible()
    expect(page.locator("#drilldown-count")).to_have_text("1")
    expect(page.get_by_role("link", name=book.claims[2].patient_control_number)).to_be_visible()
