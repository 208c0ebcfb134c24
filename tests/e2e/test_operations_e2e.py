"""Main path of the operations page: a job failed for good raised an alert; the owner follows it
to the operations page, sees the job and its reason, clicks Retry, and the job runs (done)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.operations.tasks import scan_runs_catch_up_all
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """The outbox delivers in-process, as it does without Redis."""
    from rcm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_an_owner_retries_a_failed_job_and_it_runs(page: Any, org: Any, eager_tasks: None) -> None:
    MembershipFactory(
        organization=org, user=UserFactory(email="olga@riverbend.example"), role=Role.OWNER
    )
    with tenant_context(org):
        job = OutboxMessage.objects.create(
            topic="authorizations.scan",
            idempotency_key="authorization-scan:e2e",
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="OperationalError: the database restarted",
        )
    scan_runs_catch_up_all()  # beat's tick: the day's scans run, the failure raises its alert

    sign_in(page, "olga@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/alerts/")
    page.get_by_role("link", name="Authorization scan (run now) failed").click()

    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    row = page.locator(f'tr[data-job="{job.pk}"]')
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("OperationalError: the database restarted")
    row.get_by_role("button", name="Retry Authorization scan (run now)").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Authorization scan (run now) will run again shortly."
    )
    row = page.locator(f'tr[data-job="{job.pk}"]')
    expect(row).to_contain_text("Done")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    # The day's scheduled scans ran too, one run each.
    expect(page.locator("#scan-runs")).to_contain_text("Authorization scan")
