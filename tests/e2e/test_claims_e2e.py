"""Main path of claims: enter a 45-minute session, see 90834 suggested, build and scrub the
claim, fix the missing authorization, and see the claim become ready."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from claims import services as claims_services
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests import clock
from tests.claims.conftest import admitted, dos
from tests.clock import years_ago
from tests.credentialing.factories import (
    billable_provider,
)
from tests.e2e.conftest import sign_in
from tests.factories import (
    HOME_ADDRESS,
    PASSWORD,
    MembershipFactory,
    UserFactory,
    set_billing_identity,
)

pytestmark = pytest.mark.e2e


def test_a_biller_bills_a_session_and_fixes_a_missing_authorization(page: Any, org: Any) -> None:
    MembershipFactory(
        organization=org,
        user=UserFactory(email="bill@riverbend.example"),
        role=Role.BILLER,
        part2_access=True,
    )
    set_billing_identity(org)
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="Blue Plan",
            payer_id="BP001",
            payer_type="commercial",
            auth_required_codes=["90834"],
        )
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn="E2E-7",
            first_name="Aisha",
            last_name="Brown",
            date_of_birth=date(1992, 7, 21),
            sex="F",
            **HOME_ADDRESS,
        )
        coverage = patients_services.coverage_create(
            patient=patient, payer=payer, member_id="BP777", effective_date=years_ago(1)
        )
        episode = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=admitted(),
            level="1",
        )
        patients_services.diagnosis_add(episode=episode, code="F33.1")
        provider = billable_provider(org, payer, first_name="Lena", last_name="Park")
        claims_services.charge_master_set(
            service_code="90834", charge=150, effective_from=years_ago(1)
        )
    service_day = dos()

    sign_in(page, "bill@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/patients/{patient.pk}/")
    page.get_by_role("link", name="Enter a charge").click()
    page.locator("#id_episode").select_option(str(episode.pk))
    page.locator("#id_rendering_provider").select_option(str(provider.pk))
    page.locator("#id_date_of_service").fill(service_day.isoformat())
    page.locator("#id_kind").select_option("psychotherapy")
    page.locator("#id_start_time").fill("09:00")
    page.locator("#id_end_time").fill("09:45")
    page.locator("#id_documentation_signed").check()
    expect(page.locator(".suggested-code")).to_have_text("90834")
    page.get_by_role("button", name="Record charge").click()
    expect(page.get_by_role("status").first).to_contain_text("Charge recorded: 90834 x1")

    page.get_by_role("button", name="Build claims from 1 charge").click()
    expect(
        page.get_by_role(
            "heading", name="1 claim: No authorization with this payer is on file for the episode."
        )
    ).to_be_visible()
    page.locator("section.section table a").first.click()
    expect(page.get_by_text("Draft (needs fixes)")).to_be_visible()
    claim_url = page.url

    page.get_by_role("link", name="Add an authorization").click()
    page.locator("#id_coverage").select_option(str(coverage.pk))
    page.locator("#id_status").select_option("approved")
    page.locator("#id_level").select_option("1")
    page.locator("#id_service_codes").fill("90834")
    page.locator("#id_unit_type").select_option("sessions")
    page.locator("#id_units_requested").fill("12")
    page.locator("#id_units_approved").fill("12")
    page.locator("#id_start_date").fill((service_day - timedelta(days=4)).isoformat())
    page.locator("#id_end_date").fill((service_day + timedelta(days=87)).isoformat())
    page.locator("#id_auth_number").fill("BP-2026-0042")
    page.get_by_role("button", name="Save authorization").click()
    expect(page.locator(".field.has-error")).to_contain_text("Give the date the payer decided.")
    page.locator("#id_requested_on").fill((service_day - timedelta(days=7)).isoformat())
    page.locator("#id_decided_on").fill((service_day - timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Save authorization").click()
    expect(page.get_by_role("status").first).to_contain_text("Authorization recorded.")

    page.goto(claim_url)
    page.get_by_role("button", name="Re-scrub").click()
    expect(page.get_by_role("heading", name="Claim")).to_contain_text("Ready (scrubbed clean)")
    expect(page.get_by_text("Clean: nothing blocks this claim.")).to_be_visible()
    expect(page.get_by_text("BP-2026-0042").first).to_be_visible()
