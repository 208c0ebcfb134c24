"""A day at the billing desk without a dead end, in the browser: the payer's front door rejects
a claim (277CA) for the subscriber's address; the biller opens it from the rejections page,
fixes the address on the patient (the subscriber's address is the patient's home address here),
re-scrubs the claim to ready, picks it by hand into a batch that builds; an 835 pays part, and
the claim page shows allowed, paid, adjustments and balances that add up; the biller then sends
a replacement claim, and its 837 cites the payer's claim number (REF*F8)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from denials import services as denials_services
from rcm import part2
from rcm.celery import app
from rcm.tenancy.context import tenant_context
from submissions.models import SubmissionBatch
from submissions.services import acknowledgment_import
from tests.claims.conftest import dos, practice  # noqa: F401
from tests.clock import today
from tests.denials.conftest import reference_codes  # noqa: F401
from tests.denials.x835 import Clp, Svc, build_835
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.submissions.acks import ack_277ca
from tests.submissions.conftest import bill_ready, billing  # noqa: F401
from tests.submissions.test_services import build

pytestmark = pytest.mark.e2e
D = Decimal


def _money(text: str) -> Decimal:
    return Decimal(text.strip().lstrip("$").replace(",", ""))


def _build_by_hand(
    page: Any, org: Any, user: Any, claim: Claim, left_out: Claim, number: int
) -> str:
    """On the batch page, tick `claim` (not `left_out`), build with a Celery worker, return the
    837 written. (Outside a tenant context: the worker closes the test's database connection,
    which a transaction around it would not survive.)"""
    page.goto(f"/o/{org.slug}/claims/batches/")
    table = page.locator("#ready-claims")
    expect(table).to_contain_text(claim.patient_control_number)
    expect(table).to_contain_text(left_out.patient_control_number)
    page.get_by_label(claim.patient_control_number).check()
    expect(page.locator("#selection-count")).to_have_text("1")
    expect(page.locator("#selection-amount")).to_have_text(f"${claim.total_charge:,.2f}")
    page.get_by_role("button", name="Create batch from the selection").click()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        expect(page.locator("#progress-count")).to_have_text(
            "1 of 1 claims written", timeout=30_000
        )
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Batch {number:09d}")
    batches = page.locator("#batch-claims")
    expect(batches).to_contain_text(claim.patient_control_number)
    expect(batches).not_to_contain_text(left_out.patient_control_number)
    with tenant_context(org):
        batch = SubmissionBatch.objects.get(interchange_control_number=number)
    assert batch.status == "released", batch.error
    assert batch.created_by_id == user.pk
    return batch.content


def test_a_rejected_claim_is_fixed_batched_by_hand_paid_in_part_and_replaced(
    page: Any,
    billing: Any,  # noqa: F811
    biller: Any,
    reference_codes: None,  # noqa: F811
) -> None:
    slug = billing.org.slug
    # The first submission: the payer's front door rejects the subscriber's address.
    (claim,) = bill_ready(billing)
    first = build(billing)
    with tenant_context(billing.org):
        acknowledgment_import(content=ack_277ca(first, {claim.patient_control_number: "A7:21:IL"}))
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REJECTED
        # Another ready claim (next week's session) that the biller leaves for later.
        billing.session(45, day=dos() + timedelta(days=7))
        built = claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
        (later,) = Claim.objects.filter(pk__in=[c.pk for c in built], status=ClaimStatus.READY)
    app.control.purge()

    sign_in(page, biller.email, PASSWORD)
    page.goto(f"/o/{slug}/claims/batches/rejections/")
    row = page.locator("#rejections tbody tr", has_text=claim.patient_control_number)
    expect(row).to_contain_text("subscriber")
    row.get_by_role("link", name="Fix the claim").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Fix claim {claim.patient_control_number}"
    )
    expect(page.locator("#rejection-reasons")).to_contain_text("277CA")
    expect(page.locator("#rejection-reasons")).to_contain_text("subscriber")

    # The address lives on the patient: fixed there, and the biller comes back to the claim.
    page.locator("#fix-elsewhere").get_by_role("link", name="patient").click()
    page.locator("#id_address_line1").fill("48 Alder St")
    page.locator("#id_address_line2").fill("")
    page.locator("#id_city").fill("Beaverton")
    page.locator("#id_state").fill("OR")
    page.locator("#id_postal_code").fill("ABCDE")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_postal_code_error")).to_be_visible()
    page.locator("#id_postal_code").fill("97005-1234")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Patient saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Fix claim {claim.patient_control_number}"
    )

    # Re-scrubbed with a reason, the claim is ready for the next batch.
    page.get_by_role("button", name="Re-scrub the claim").click()
    expect(page.locator("#id_rescrub-reason_error")).to_contain_text("required")
    page.locator("#id_rescrub-reason").fill("Subscriber address corrected per the 277CA")
    page.get_by_role("button", name="Re-scrub the claim").click()
    expect(
        page.get_by_text(f"Re-scrubbed: claim {claim.patient_control_number} is ready")
    ).to_be_visible()
    expect(page.locator("#claim-status")).to_have_text("Ready (scrubbed clean)")

    # Picked by hand into the next batch, which builds with the new address.
    sent = _build_by_hand(page, billing.org, biller, claim, later, number=2)
    with tenant_context(billing.org):
        assert "N3*48 ALDER ST~N4*BEAVERTON*OR*970051234~" in sent
        assert "12 ELM AVE" not in sent
        assert f"CLM*{claim.patient_control_number}*" in sent
        # The payer accepts it this time, then pays part of it.
        batch = SubmissionBatch.objects.get(interchange_control_number=2)
        acknowledgment_import(
            content=ack_277ca(batch, {claim.patient_control_number: "A1:20"}, number=602)
        )
        lcn = claim.lines.get().line_control_number
        payer_claim_number = f"PAYER{claim.patient_control_number}"  # the 277CA's REF*1K
        remittance = denials_services.remittance_import_create(
            file_name="blue.835",
            content=build_835(
                [
                    Clp(
                        claim.patient_control_number,
                        "1",
                        claim.total_charge,
                        D("80.00"),
                        D("30.00"),
                        lines=[
                            Svc(
                                "90834",
                                claim.total_charge,
                                D("80.00"),
                                lcn=lcn,
                                cas=[
                                    ("CO", "45", claim.total_charge - D("110.00")),
                                    ("PR", "2", D("30.00")),
                                ],
                                allowed=D("110.00"),
                            )
                        ],
                        payer_claim_number=payer_claim_number,
                    )
                ],
                payment_date=today(),
            ),
        )
        denials_services.remittance_post(import_id=remittance.pk, today=today())
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PAID
        # The payer's claim control number, on its 277CA (REF*1K) and its 835 (CLP07).
        assert claim.payer_claim_number == payer_claim_number

    # The claim page: billed = paid + adjustments + insurance balance + patient balance.
    page.goto(f"/o/{slug}/claims/{claim.pk}/")
    total = page.locator("#money-total")
    expect(total).to_contain_text("$110.00")
    cells = [_money(c) for c in total.locator("td").all_inner_texts() if c.strip() != "—"]
    billed, allowed, paid, adjusted, responsibility, insurance, patient = cells
    assert (billed, allowed, paid) == (claim.total_charge, D("110.00"), D("80.00"))
    assert adjusted == claim.total_charge - D("110.00") and responsibility == D("30.00")
    assert (insurance, patient) == (D("0.00"), D("30.00"))
    assert billed == paid + adjusted + insurance + patient
    summary = page.locator("#money-summary")
    expect(summary).to_contain_text("insurance $0.00, patient $30.00")
    expect(page.locator("#money")).to_contain_text(f"CO-45 ${adjusted}")
    expect(page.locator("#money-links")).to_contain_text("Payment TRACE1")

    # A replacement claim cites the payer's claim number, and is sent like any other.
    page.get_by_role("button", name="Send a replacement claim (7)").click()
    expect(page.get_by_text("Created 7 replacement (corrected claim) claim")).to_be_visible()
    expect(page.locator("dl.kv")).to_contain_text(f"claim # {payer_claim_number} (REF*F8)")
    page.locator("#edit-claim").click()
    page.get_by_role("button", name="Re-scrub the claim").click()
    expect(page.locator("#claim-status")).to_have_text("Ready (scrubbed clean)")
    with tenant_context(billing.org):
        replacement = Claim.objects.get(original_claim=claim)
    corrected = _build_by_hand(page, billing.org, biller, replacement, later, number=3)
    match = re.search(rf"CLM\*{replacement.patient_control_number}\*[^~]*~", corrected)
    assert match is not None and ":7*" in match.group(0), corrected
    assert f"REF*F8*{payer_claim_number}~" in corrected
