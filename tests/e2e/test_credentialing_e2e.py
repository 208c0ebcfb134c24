"""Main path of credentialing: the matrix shows a gap, and the provider page explains it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.clock import days_ago
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.patients.factories import PayerFactory

pytestmark = pytest.mark.e2e


def test_the_matrix_shows_a_gap_and_the_provider_page_explains_it(
    page: Any, org: Any, credentialer: Any
) -> None:
    acme = PayerFactory(organization=org, name="Acme Health")
    PayerFactory(organization=org, name="Blue Plan")
    enrolled = ProviderFactory(organization=org, first_name="Ana", last_name="Enrolled")
    CredentialFactory(organization=org, provider=enrolled)
    EnrollmentFactory(organization=org, provider=enrolled, payer=acme)
    pending = ProviderFactory(organization=org, first_name="Pat", last_name="Pending")
    CredentialFactory(organization=org, provider=pending)
    EnrollmentFactory(
        organization=org,
        provider=pending,
        payer=acme,
        status="submitted",
        effective_date=None,
        submitted_on=days_ago(60),
    )

    sign_in(page, credentialer.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credentialing").click()
    expect(page.get_by_role("heading", name="Credentialing matrix")).to_be_visible()

    page.get_by_label("Show").select_option("gaps")
    page.get_by_role("button", name="Filter").click()
    matrix = page.locator("#matrix")
    pending_row = matrix.get_by_role("row").filter(has_text="Pat Pending")
    expect(pending_row.locator("td").first).to_contain_text("Application submitted")
    expect(pending_row.locator("td").nth(1)).to_contain_text("Not enrolled")

    pending_row.get_by_role("link", name="Pat Pending").click()
    expect(page.get_by_role("heading", name="Pat Pending, LCSW")).to_be_visible()
    standings = page.locator("#standings")
    expect(standings.get_by_role("row").filter(has_text="Acme Health")).to_contain_text(
        f"Enrollment with Acme Health pending since {days_ago(60)}."
    )
    expect(standings.get_by_role("row").filter(has_text="Blue Plan")).to_contain_text(
        "Not enrolled with Blue Plan."
    )
