"""Main path of electronic submission: a biller creates a batch of ready claims, watches its
progress while a real Celery worker builds it, and downloads the 837 file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from rcm.celery import app
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions.models import SubmissionBatch
from tests.claims.conftest import practice  # noqa: F401
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.submissions.conftest import bill_ready, billing  # noqa: F401
from tests.submissions.test_picking import ready_one_by_one

pytestmark = pytest.mark.e2e


def test_a_biller_creates_a_batch_watches_it_build_and_downloads_the_file(
    page: Any,
    billing: Any,  # noqa: F811
) -> None:
    bill_ready(billing)
    MembershipFactory(organization=billing.org, role=Role.BILLER,
                      user=UserFactory(email="bill@riverbend.example"))  # fmt: skip
    app.control.purge()
    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/{billing.org.slug}/claims/batches/")
    expect(page.locator("#ready-counts")).to_contain_text("Ready to send: 1 837P")
    page.locator("#all-matching").check()
    page.get_by_role("button", name="Create batch").click()

    # No worker yet: the batch waits, and its page polls for progress every second.
    expect(page.locator("#progress-count")).to_have_text("0 of 1 claims written")
    expect(page.locator("#progress .badge")).to_have_text("Queued")
    assert page.locator("#progress[hx-trigger='every 1s']").count() == 1

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        expect(page.locator("#progress-count")).to_have_text(
            "1 of 1 claims written", timeout=30_000
        )
        expect(page.locator("#progress")).to_contain_text("Released")
        # Once done the page reloads itself: the control numbers and claim statuses are current.
        expect(page.get_by_role("heading", level=1)).to_contain_text("Batch 000000001")
        expect(page.locator("#batch-claims")).to_contain_text("Submitted")

    with tenant_context(billing.org):
        batch = SubmissionBatch.objects.get()
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == batch.file_name
    assert Path(download.value.path()).read_bytes() == batch.content.encode()
    assert batch.content.startswith("ISA*00*")


def test_a_biller_picks_two_of_three_ready_claims_sees_their_total_and_builds_the_batch(
    page: Any,
    billing: Any,  # noqa: F811
) -> None:
    first, second, third = ready_one_by_one(billing, 3)
    MembershipFactory(organization=billing.org, role=Role.BILLER,
                      user=UserFactory(email="bill@riverbend.example"))  # fmt: skip
    app.control.purge()
    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/{billing.org.slug}/claims/batches/")
    table = page.locator("#ready-claims")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(page.locator("#selection-count")).to_have_text("0")
    page.get_by_label(first.patient_control_number).check()
    page.get_by_label(third.patient_control_number).check()
    expect(page.locator("#selection-count")).to_have_text("2")
    amount = first.total_charge + third.total_charge
    expect(page.locator("#selection-amount")).to_have_text(f"${amount:,.2f}")
    page.get_by_role("button", name="Create batch from the selection").click()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        expect(page.locator("#progress-count")).to_have_text(
            "2 of 2 claims written", timeout=30_000
        )
        expect(page.get_by_role("heading", level=1)).to_contain_text("Batch 000000001")
    claims = page.locator("#batch-claims")
    expect(claims).to_contain_text(first.patient_control_number)
    expect(claims).to_contain_text(third.patient_control_number)
    expect(claims).not_to_contain_text(second.patient_control_number)
    with tenant_context(billing.org):
        batch = SubmissionBatch.objects.get()
    assert batch.claim_count == 2 and batch.total_charge == amount
