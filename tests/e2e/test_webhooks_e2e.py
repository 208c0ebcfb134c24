"""Main path of webhooks: an owner adds an endpoint (a real local receiver), copies the secret
shown once, sends a test event, and sees it delivered in the endpoint's log; the receiver got it
signed with that secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rcm.tenancy.permissions import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """The outbox delivers in-process, as it does without Redis."""
    from rcm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_an_owner_adds_an_endpoint_sends_a_test_event_and_sees_it_in_the_log(
    page: Any, org: Any, eager_tasks: None, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    MembershipFactory(
        organization=org, user=UserFactory(email="olga@riverbend.example"), role=Role.OWNER
    )
    with receiver() as rx:
        sign_in(page, "olga@riverbend.example", PASSWORD)
        page.goto(f"/o/{org.slug}/webhooks/")
        expect(page.get_by_text("No webhook endpoint yet")).to_be_visible()
        page.get_by_role("link", name="Add an endpoint").click()
        page.get_by_label("URL").fill(rx.url)
        page.get_by_label("webhook.test", exact=False).check()
        page.get_by_role("button", name="Add the endpoint").click()

        expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("link", name="I have copied it").click()

        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_role("status")).to_contain_text("A test event is on its way")
        row = page.locator("#deliveries tbody tr").first
        expect(row).to_contain_text("webhook.test")
        expect(row).to_contain_text("Delivered")
        expect(row).to_contain_text("200")
        expect(page.get_by_text(secret)).to_have_count(0)

    assert len(rx.requests) == 1
    got = rx.requests[0]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.{got.body}"
    expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == f"v1,{expected}"
