"""Main path of the patients area: sign in, create a patient with coverage, admit to
residential, step down to IOP, and see the level-of-care timeline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from patients import services
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.clock import days_ago
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_a_biller_admits_a_patient_and_steps_the_episode_down(page: Any, org: Any) -> None:
    MembershipFactory(
        organization=org,
        user=UserFactory(email="bill@riverbend.example"),
        role=Role.BILLER,
        part2_access=True,
    )
    with tenant_context(org):
        services.payer_create(
            name="Blue Horizon PPO",
            payer_id="BHPPO",
            payer_type="commercial",
            auth_required_levels=["3.5", "2.1"],
        )

    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_text("No patients yet")).to_be_visible()
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("MRN").fill("E2E-1")
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill("Alvarez")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_label("Sex").select_option("F")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.has-error")).to_contain_text("Date of birth is in the future.")
    page.get_by_label("Date of birth").fill("1984-03-12")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Alvarez, Maria")).to_be_visible()

    page.get_by_role("link", name="Add coverage").click()
    page.get_by_label("Payer").select_option(label="Blue Horizon PPO")
    page.get_by_label("Member id").fill("BH55501")
    page.get_by_label("Effective date").fill(days_ago(400).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="BH55501")).to_be_visible()

    page.get_by_role("link", name="Admit (new episode)").click()
    page.get_by_label("Program type").select_option("substance_use")
    page.get_by_label("Admission date").fill(days_ago(100).isoformat())
    page.get_by_label("Level of care at admission").select_option("3.5")
    page.get_by_label("Primary diagnosis (ICD-10-CM)").fill("F10.20")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Alcohol dependence, uncomplicated")).to_be_visible()

    step_down = days_ago(81)
    page.get_by_role("link", name="Step down / step up").click()
    page.get_by_label("New level of care").select_option("2.1")
    page.get_by_label("First day at the new level").fill(step_down.isoformat())
    page.get_by_label("Clinical justification").fill("Withdrawal resolved; meets IOP criteria")
    page.get_by_role("button", name="Record transition").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Step down to 2.1 Intensive outpatient (IOP) from {step_down}"
    )

    timeline = page.get_by_role("list", name="Level-of-care timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(2)
    expect(timeline.get_by_role("listitem").first).to_contain_text("Residential 3.5")
    expect(timeline.get_by_role("listitem").last).to_contain_text("IOP 2.1")
