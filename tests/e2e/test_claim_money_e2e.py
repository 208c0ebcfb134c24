"""A biller opens a paid claim, sees allowed, paid, adjustments and balances that add up, adds a
note and sees it in the claim's timeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from denials import services
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.conftest import (  # noqa: F401  (fixtures)
    practice,
    reference_codes,
    submitted,
)
from tests.denials.x835 import Clp, Svc, build_835
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
D = Decimal


def test_a_biller_reads_the_money_on_a_paid_claim_and_adds_a_note(
    page: Any,
    practice: Any,  # noqa: F811
    submitted: Any,  # noqa: F811
    reference_codes: None,  # noqa: F811
    biller: Any,
) -> None:
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
        imp = services.remittance_import_create(
            file_name="blue.835",
            content=build_835(
                [
                    Clp(
                        claim.patient_control_number,
                        "1",
                        D("150"),
                        D("80"),
                        D("30"),
                        lines=[
                            Svc(
                                "90834",
                                D("150"),
                                D("80"),
                                lcn=lcn,
                                cas=[("CO", "45", D("40")), ("PR", "2", D("30"))],
                                allowed=D("110"),
                            )
                        ],
                    )
                ]
            ),
        )
        services.remittance_post(import_id=imp.pk, today=today())

    sign_in(page, biller.email, PASSWORD)
    page.goto(f"/o/{practice.org.slug}/claims/{claim.pk}/")
    total = page.locator("#money-total")
    # Billed 150 = paid 80 + adjustments 40 + patient balance 30 + insurance balance 0.
    expect(total).to_contain_text("$150.00")
    expect(total).to_contain_text("$110.00")
    expect(total).to_contain_text("$80.00")
    expect(total).to_contain_text("$40.00")
    expect(total).to_contain_text("$30.00")
    expect(page.locator("#money")).to_contain_text("CO-45 $40.00")
    expect(page.locator("#money")).to_contain_text("contracted amount")
    expect(page.locator("#money-summary")).to_contain_text("insurance $0.00, patient $30.00")
    expect(page.locator("#money-links")).to_contain_text("Payment TRACE1")
    expect(page.locator("#timeline")).to_contain_text("paid $80.00")

    page.locator("#note-form textarea[name=body]").fill("   ")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#id_body_error")).to_contain_text("Write the note: it is empty.")
    page.locator("#note-form textarea[name=body]").fill(
        "Patient will pay the $30 coinsurance at her next visit."
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline li[data-kind=note]")).to_contain_text(
        "Patient will pay the $30 coinsurance at her next visit."
    )
    expect(page.locator("#timeline li[data-kind=note]")).to_contain_text(biller.email)
