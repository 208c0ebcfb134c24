"""Main paths of denials: import an 835 with a denial, see it in the work queue, open it and
generate the appeal letter; match a remittance exception to our claim."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from denials import services
from denials.models import RemittanceImport
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.conftest import (  # noqa: F401  (fixtures)
    add_medicaid,
    practice,
    reference_codes,
    submitted,
    unmatched_claim,
)
from tests.denials.x835 import Clp, Svc, build_835
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
D = Decimal


def test_an_imported_denial_reaches_the_queue_and_gets_an_appeal_letter(
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
    era = tmp_path / "blue-plan-era.835"
    era.write_text(
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "4",
                    D("150"),
                    D("0"),
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("0"),
                            lcn=lcn,
                            cas=[("CO", "50", D("150"))],
                            rarcs=["N115"],
                        )
                    ],
                )
            ]
        )
    )

    sign_in(page, biller.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Remittance").click()
    page.get_by_label("835 file").set_input_files(str(era))
    page.get_by_role("button", name="Upload and post").click()
    expect(page.get_by_role("heading", name="blue-plan-era.835")).to_be_visible()
    # The Celery worker's part: post the queued file.
    with tenant_context(practice.org):
        services.remittance_post(import_id=RemittanceImport.objects.get().pk, today=today())
    page.reload()
    expect(page.locator("#summary")).to_contain_text("1 line(s), $150.00")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()
    row = page.locator("#work-queue").get_by_role("row").filter(has_text="CO-50")
    expect(row).to_contain_text("Medical necessity")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Denial CO-50: Medical necessity")).to_be_visible()

    page.get_by_role("button", name="Start appeal and draft the letter").click()
    expect(page.get_by_role("heading", name="Level 1 appeal letter")).to_be_visible()
    letter = page.get_by_label("Letter")
    expect(letter).to_contain_text(claim.patient_control_number)
    expect(letter).to_contain_text("BILLER TO COMPLETE")
    letter.fill(
        letter.input_value().replace("[BILLER TO COMPLETE", "Jane's PHQ-9 rose to 19. [done")
    )
    page.get_by_role("button", name="Save letter").click()
    expect(page.get_by_text("Letter saved.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_a_paid_primary_moves_the_patients_share_to_a_secondary_claim(
    page: Any,
    practice: Any,  # noqa: F811
    submitted: Any,  # noqa: F811
    reference_codes: None,  # noqa: F811
    biller: Any,
) -> None:
    add_medicaid(practice)
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
        imp = services.remittance_import_create(
            file_name="blue-plan-paid.835",
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
                            )
                        ],
                    )
                ]
            ),
        )
        services.remittance_post(import_id=imp.pk, today=today())

    sign_in(page, biller.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Remittance").click()
    page.get_by_role("link", name="Secondary claims").click()
    # Choosing a status submits the filter (static/js/parity.js: no inline handler under the CSP).
    page.get_by_label("Status").select_option("")
    expect(page).to_have_url(re.compile(r"status=$"))
    page.get_by_label("Status").select_option("to_bill")
    expect(page).to_have_url(re.compile(r"status=to_bill"))
    row = (
        page.locator("#secondaries")
        .get_by_role("row")
        .filter(has_text=claim.patient_control_number)
    )
    expect(row).to_contain_text("State Medicaid")
    expect(row).to_contain_text("$30.00")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Build the selected claims").click()
    expect(page.get_by_text("Built 1 secondary claim(s)")).to_be_visible()
    built = page.locator("#secondaries").get_by_role("row").filter(has_text="Claim built")
    built.get_by_role("link").last.click()
    cob = page.locator("dd").filter(has_text=f"Secondary of {claim.patient_control_number}")
    expect(cob).to_contain_text("Blue Plan paid $80")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ready")


def test_an_unmatched_claim_is_found_and_posted_from_the_exceptions_queue(
    page: Any,
    practice: Any,  # noqa: F811
    submitted: Any,  # noqa: F811
    unmatched_claim: Any,  # noqa: F811
    reference_codes: None,  # noqa: F811
    biller: Any,
) -> None:
    claim = submitted(days=2)
    unmatched_claim(claim)

    sign_in(page, biller.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Remittance").click()
    page.get_by_role("link", name="Exceptions queue").click()
    page.locator("#exceptions").get_by_role("link", name="Unmatched claim id").click()
    expect(page.locator("#clp-facts")).to_contain_text("TYPO-" + claim.patient_control_number)
    expect(page.locator("#svc-1")).to_contain_text("contracted amount")
    # htmx live search: part of the control number finds the claim without a page load.
    page.get_by_label("Claim number or patient name").fill(claim.patient_control_number[-5:])
    choice = page.get_by_label(f"Claim {claim.patient_control_number}")
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_role("button", name="Post to the chosen claim").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Matched to claim {claim.patient_control_number}: 2 line(s) posted."
    )
    expect(page.locator("#resolution")).to_contain_text("Matched")
    expect(page.locator("#svc-2")).to_contain_text("line 2")
