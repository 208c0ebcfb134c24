"""Issue 20's "Done when" for statements: a claim pays with coinsurance; the patient balance
shows on the ledger; the statement run produces a PDF that shows that balance; a front-desk
payment clears it; the next statement run skips this guarantor."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now, today
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.patient_accounts.conftest import (  # noqa: F401  (fixtures)
    coinsured,
    practice,
    reference_codes,
    submitted,
)

pytestmark = pytest.mark.e2e
D = Decimal


def work_outbox(org: Any) -> None:
    """What the Celery worker would do with the run's message."""
    with tenant_context(org):
        ids = list(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True))
    for pk in ids:
        outbox_process(message_id=pk, now=now(), organization_id=org.pk)


def next_month() -> str:
    first = today().replace(day=1)
    return f"{first.year + first.month // 12:04d}-{first.month % 12 + 1:02d}"


def test_a_statement_bills_the_coinsurance_and_the_next_run_skips_the_paid_account(
    page: Any,
    practice: Any,  # noqa: F811
    coinsured: Any,  # noqa: F811
    biller: Any,
) -> None:
    coinsured(pr=D("30.00"))
    slug = practice.org.slug
    sign_in(page, biller.email, PASSWORD)
    page.goto(f"/o/{slug}/patient_accounts/patients/{practice.patient.pk}/")
    expect(page.locator("#balance")).to_have_text("$30.00")

    page.goto(f"/o/{slug}/patient_accounts/statements/")
    page.get_by_label("Cycle").fill(f"{today():%Y-%m}")
    page.get_by_role("button", name="Run statements").click()
    expect(page.get_by_role("heading", name=f"Statements for {today():%Y-%m}")).to_be_visible()
    work_outbox(practice.org)
    # The page polls the run's progress and shows the result when done.
    expect(page.locator("#summary")).to_contain_text("$30.00", timeout=15000)
    expect(page.locator("#statements")).to_contain_text("Jane Doe")
    link = page.get_by_role("link", name="Download all statements (PDF, for printing)")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Amount due: $30.00" in text and "Jane Doe" in text and "Detach and return" in text

    page.goto(f"/o/{slug}/patient_accounts/patients/{practice.patient.pk}/")
    form = page.locator("#payment-form")
    form.locator("[name=method]").select_option("cash")
    form.locator("[name=amount]").fill("30.00")
    form.locator("[name=received_on]").fill(today().isoformat())
    form.get_by_role("button", name="Record payment").click()
    expect(page.locator("#balance")).to_have_text("$0.00")

    page.goto(f"/o/{slug}/patient_accounts/statements/")
    page.get_by_label("Cycle").fill(next_month())
    page.get_by_role("button", name="Run statements").click()
    work_outbox(practice.org)
    expect(page.locator("#summary")).to_contain_text("Statements", timeout=15000)
    expect(page.locator("#statements")).to_contain_text("no guarantor owed the minimum")
