"""Main path of reconciliation: a biller adds the bank account, imports the bank's BAI2 file
(one ACH credit matches its ERA by trace), finds the deposit that has no ERA in the queue, and
matches it by hand to the suggested ERA of the same amount."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.clock import days_ago
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.reconciliation.helpers import ACCOUNT_NUMBER, era, three_ach_credits

pytestmark = pytest.mark.e2e


def test_a_biller_imports_a_statement_and_matches_the_deposit_left_without_era(
    page: Any, org: Any, tmp_path: Path
) -> None:
    MembershipFactory(
        organization=org, user=UserFactory(email="bea@riverbend.example"), role=Role.BILLER
    )
    with tenant_context(org):
        era("TRC1001", "150.00", days_ago(2))
        era("LATE-835", "99.99", days_ago(1))
    statement = tmp_path / "statement.bai"
    statement.write_text(three_ach_credits(days_ago(1)))

    sign_in(page, "bea@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/reconciliation/bank-accounts/")
    expect(page.get_by_text("No bank account yet")).to_be_visible()
    page.get_by_role("link", name="Add a bank account").click()
    page.locator("#id_name").fill("Operating")
    page.locator("#id_account_number").fill(ACCOUNT_NUMBER)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#bank-accounts")).to_contain_text("…6789")

    page.get_by_role("link", name="Deposits").first.click()
    page.get_by_label("Bank statement", exact=False).set_input_files(str(statement))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("3 deposit(s) imported")).to_be_visible()
    expect(page.get_by_text("1 matched to ERAs by trace")).to_be_visible()

    page.goto(f"/o/{org.slug}/reconciliation/?tab=deposits")
    row = page.locator("#queue tbody tr", has_text="TRC9999")
    expect(row).to_contain_text("ERA of the same amount")
    row.get_by_role("link").first.click()
    suggestion = page.locator("#suggestions tbody tr", has_text="LATE-835")
    expect(suggestion).to_contain_text("Same amount")
    suggestion.get_by_role("link", name="Match…").click()
    page.get_by_role("button", name="Match").click()
    expect(page.get_by_text("Matched.")).to_be_visible()
    expect(page.get_by_text("By hand by")).to_be_visible()

    page.goto(f"/o/{org.slug}/reconciliation/?tab=deposits")
    expect(page.locator("#queue tbody tr", has_text="TRC1002")).to_have_count(1)
    expect(page.locator("#queue tbody tr", has_text="TRC9999")).to_have_count(0)
