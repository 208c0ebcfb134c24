"""Correcting claims in the browser: a claim the payer's front door rejected (277CA) is opened
from the rejections page, a line is fixed with a reason, and the claim is scrubbed ready for the
next batch; on a claim the payer accepted, the biller sends a replacement citing its claim
control number."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from claims.models import Claim
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions.services import acknowledgment_import
from tests.claims.conftest import practice  # noqa: F401
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.submissions.acks import ack_277ca
from tests.submissions.conftest import bill_ready, billing  # noqa: F401
from tests.submissions.test_services import build

pytestmark = pytest.mark.e2e


def _sent_and_acknowledged(billing: Any, verdict: str) -> Claim:  # noqa: F811
    (claim,) = bill_ready(billing)
    batch = build(billing)
    with tenant_context(billing.org):
        acknowledgment_import(content=ack_277ca(batch, {claim.patient_control_number: verdict}))
        claim.refresh_from_db()
    MembershipFactory(organization=billing.org, role=Role.BILLER, part2_access=True,
                      user=UserFactory(email="bill@riverbend.example"))  # fmt: skip
    return claim


def test_a_rejected_claim_is_fixed_from_the_rejections_page_and_is_ready_again(
    page: Any,
    billing: Any,  # noqa: F811
) -> None:
    claim = _sent_and_acknowledged(billing, "A7:562:85")
    assert claim.status == "rejected"
    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/{billing.org.slug}/claims/batches/rejections/")
    row = page.locator("#rejections tbody tr", has_text=claim.patient_control_number)
    row.get_by_role("link", name="Fix the claim").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Fix claim {claim.patient_control_number}"
    )
    expect(page.locator("#rejection-reasons")).to_contain_text("277CA")
    page.get_by_role("link", name="Edit line 1").click()
    # Every error at once, beside its field: a bad code and no reason.
    page.get_by_label("Service code").fill("9")
    page.get_by_role("button", name="Save and re-scrub").click()
    expect(page.locator("#id_service_code_error")).to_contain_text("5 letters or digits")
    expect(page.locator("#id_reason_error")).to_contain_text("required")

    page.get_by_label("Service code").fill("90834")
    page.get_by_label("Charge").fill("140.00")
    page.get_by_label("Reason").fill("Contract price, per the payer's rejection")
    page.get_by_role("button", name="Save and re-scrub").click()
    expect(page.get_by_text("Line 1 saved and the claim re-scrubbed: ready")).to_be_visible()
    expect(page.locator("#claim-status")).to_have_text("Ready (scrubbed clean)")
    expect(page.locator("#claim-total")).to_have_text("$140.00")
    with tenant_context(billing.org):
        claim.refresh_from_db()
        assert claim.status == "ready"
        assert claim.events.filter(note__contains="Contract price").exists()


def test_on_an_accepted_claim_the_biller_sends_a_replacement(
    page: Any,
    billing: Any,  # noqa: F811
) -> None:
    claim = _sent_and_acknowledged(billing, "A1:20")
    assert claim.status == "accepted" and claim.payer_claim_number
    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/{billing.org.slug}/claims/{claim.pk}/")
    page.get_by_role("button", name="Send a replacement claim (7)").click()
    expect(page.get_by_text("Created 7 replacement (corrected claim) claim")).to_be_visible()
    expect(page.locator("dl.kv")).to_contain_text(f"claim # {claim.payer_claim_number} (REF*F8)")
    # The replacement is fixed like any claim the payer does not have yet, then sent.
    page.locator("#edit-claim").click()
    page.get_by_role("button", name="Re-scrub the claim").click()
    expect(page.locator("#claim-status")).to_have_text("Ready (scrubbed clean)")
    page.goto(f"/o/{billing.org.slug}/claims/{claim.pk}/")
    expect(page.locator("#corrections")).to_contain_text("7 replacement (corrected claim), ready")
    expect(page.locator("#correction-refusal")).to_contain_text("already has an open")
