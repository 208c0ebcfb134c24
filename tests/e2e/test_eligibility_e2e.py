"""The biller clicks "Check eligibility" on a coverage and sees, within the patient page, the
deductible remaining and the mental health copay answered by a local CAQH CORE HTTPS server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from patients import services
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions.services import clearinghouse_save
from tests.clock import days_ago, today
from tests.core_server import PASSWORD as CORE_PASSWORD
from tests.core_server import USERNAME, CoreServer, core_server
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def core(tmp_path: Path, settings: Any) -> Iterator[CoreServer]:
    with core_server(tmp_path) as server:
        settings.CLEARINGHOUSE_CA_BUNDLE = server.ca_bundle
        yield server


def test_a_biller_checks_eligibility_and_sees_deductible_and_mh_copay(
    page: Any, org: Any, core: CoreServer
) -> None:
    MembershipFactory(
        organization=org, user=UserFactory(email="bill@riverbend.example"), role=Role.BILLER
    )
    org.group_npi, org.tax_id = "1234567893", "987654321"
    org.save()
    with tenant_context(org):
        payer = services.payer_create(
            name="ABC Health Plan", payer_id="842610001", payer_type="commercial"
        )
        patient = services.patient_create(
            today=today(), mrn="R-100", first_name="Ana", last_name="Rivera",
            date_of_birth=date(1985, 3, 14), sex="F",
        )  # fmt: skip
        services.coverage_create(
            patient=patient, payer=payer, member_id="W123456789", effective_date=days_ago(400)
        )
        clearinghouse_save(
            name="Change Hub", code="chub", receiver_name="CHANGE HUB", receiver_id="CHUB01",
            submitter_id="RB12345", contact_name="Billing", contact_phone="3125550100",
            realtime_transport="core_mime", core_url=core.url, core_username=USERNAME,
            core_password=CORE_PASSWORD, realtime_timeout_seconds=5, realtime_retries=0,
        )  # fmt: skip

    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/riverbend/patients/{patient.pk}/")
    page.get_by_role("button", name="Check eligibility").click()
    result = page.locator(".eligibility-result")
    expect(result.locator('[data-field="deductible-remaining"]')).to_have_text("$120.50")
    expect(result.locator('[data-field="mh-copay"]')).to_have_text("$25.00")
    expect(result.locator(".changed-highlight")).to_contain_text("Deductible")
    assert page.url.endswith(f"/patients/{patient.pk}/")  # answered within the page
    assert len(core.requests) == 1
