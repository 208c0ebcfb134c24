"""The denial and appeal path as a biller walks it: the denial page reads right (each fact beside
its label), the letter cannot be recorded as sent while it has placeholders or the payer has no
appeals address (the refusal names them), the biller adds the address to the payer, completes
the letter and records it as sent; the PDF is the recorded copy."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from denials.models import Denial
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.conftest import (  # noqa: F401  (fixtures)
    practice,
    reference_codes,
    submitted,
)
from tests.denials.test_posting import post
from tests.denials.test_views import _denial_file
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
D = Decimal


def test_a_biller_completes_the_appeal_letter_and_records_it_as_sent(
    page: Any,
    practice: Any,  # noqa: F811
    submitted: Any,  # noqa: F811
    reference_codes: None,  # noqa: F811
    biller: Any,
    tmp_path: Any,
) -> None:
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn))
    with tenant_context(practice.org):
        denial = Denial.objects.get()
    base = "/o/riverbend/denials"

    sign_in(page, biller.email, PASSWORD)
    page.goto(page.url.split("/o/")[0] + f"{base}/denials/{denial.pk}/")
    # Each fact sits on the row of its label (the list used to flow into shifted columns).
    facts = page.locator("#denial-facts")
    label = facts.locator("dt", has_text="Amount at stake").bounding_box()
    value = facts.locator("dt:has-text('Amount at stake') + dd").bounding_box()
    assert abs(label["y"] - value["y"]) < 4 and value["x"] > label["x"]
    expect(facts.locator("dt:has-text('Amount at stake') + dd")).to_have_text(
        "$150.00 (fully denied)"
    )

    page.get_by_label("Level").select_option("level_1")
    page.get_by_role("button", name="Start appeal and draft the letter").click()
    expect(page.get_by_role("heading", name="Level 1 appeal letter")).to_be_visible()
    missing = page.locator("#letter-missing")
    expect(missing).to_contain_text("[BILLER TO COMPLETE")
    expect(missing).to_contain_text("the payer's appeals address (add it to the payer record)")
    letter_url = page.url

    # Trying anyway from the denial page: refused, every missing part named.
    page.get_by_role("link", name="← Denial").click()
    page.get_by_role("button", name="Record as sent").click()
    refusal = page.locator(".messages")
    expect(refusal).to_contain_text("cannot be recorded as sent")
    expect(refusal).to_contain_text("[PAYER APPEALS ADDRESS")
    expect(refusal).to_contain_text("appeals address (add it to the payer record)")

    # The payer record gets its appeals address.
    page.goto(page.url.split("/o/")[0] + f"/o/riverbend/patients/payers/{practice.payer.pk}/")
    page.get_by_label("Appeals address line1").fill("PO Box 4410")
    page.get_by_label("Appeals city").fill("Springfield")
    page.get_by_label("Appeals state").fill("IL")
    page.get_by_label("Appeals postal code").fill("627014410")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("Payer Blue Plan saved.")).to_be_visible()

    # The biller writes the bracketed parts.
    page.goto(letter_url)
    letter = page.get_by_label("Letter")
    body = letter.input_value()
    body = body.replace(
        "[PAYER APPEALS ADDRESS: add it to the payer record, then here]",
        "PO Box 4410\nSpringfield, IL 62701-4410",
    )
    body = re.sub(r"\[BILLER TO COMPLETE[^\]]*\]", "PHQ-9 rose to 19; ASAM 3.1 criteria met.", body)
    letter.fill(body)
    page.get_by_role("button", name="Save letter").click()
    expect(page.get_by_text("Letter saved.")).to_be_visible()
    expect(page.locator("#letter-complete")).to_be_visible()

    page.get_by_role("link", name="← Denial").click()
    page.get_by_label("Submitted on").fill(str(today()))
    page.get_by_label("Method").select_option("fax")
    page.get_by_role("button", name="Record as sent").click()
    appeals = page.locator("#appeals")
    expect(appeals).to_contain_text(f"{today():%Y-%m-%d} fax")
    appeals.get_by_role("link", name="Letter as sent").click()
    expect(page.locator("#letter-sent")).to_contain_text("This is the recorded copy")
    expect(page.locator("#letter-as-sent")).to_contain_text("Springfield, IL 62701-4410")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF (as sent)").click()
    saved = tmp_path / "appeal.pdf"
    download.value.save_as(saved)
    with tenant_context(practice.org):
        recorded = bytes(Denial.objects.get().appeals.get().sent_letter_pdf)
    assert saved.read_bytes() == recorded
