"""The charge form's live suggestion for the timed families beyond psychotherapy: a testing code
(first hour + each additional hour) and an adaptive behaviour code (15-minute units) follow the
times as they are typed (issue 19)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests import clock
from tests.claims.conftest import admitted, dos
from tests.clock import years_ago
from tests.credentialing.factories import billable_provider
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_live_suggestion_for_testing_and_adaptive_behavior_codes(page: Any, org: Any) -> None:
    MembershipFactory(
        organization=org,
        user=UserFactory(email="coder@riverbend.example"),
        role=Role.BILLER,
        part2_access=True,
    )
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="Blue Plan", payer_id="BP001", payer_type="commercial"
        )
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn="E2E-19",
            first_name="Noah",
            last_name="Reyes",
            date_of_birth=date(2015, 3, 2),
            sex="M",
        )
        patients_services.coverage_create(
            patient=patient, payer=payer, member_id="BP919", effective_date=years_ago(1)
        )
        episode = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=admitted(),
            level="1",
        )
        patients_services.diagnosis_add(episode=episode, code="F84.0")
        provider = billable_provider(org, payer, first_name="Ada", last_name="Quinn")

    sign_in(page, "coder@riverbend.example", PASSWORD)
    page.goto(f"/o/{org.slug}/patients/{patient.pk}/")
    page.get_by_role("link", name="Enter a charge").click()
    page.locator("#id_episode").select_option(str(episode.pk))
    page.locator("#id_rendering_provider").select_option(str(provider.pk))
    page.locator("#id_date_of_service").fill(dos().isoformat())

    # Psychological testing evaluation: 95 minutes = first hour + one additional hour.
    page.locator("#id_kind").select_option("testing")
    page.locator("#id_service_code").fill("96130")
    page.locator("#id_service_code").blur()
    page.locator("#id_start_time").fill("09:00")
    page.locator("#id_end_time").fill("10:35")
    suggestion = page.locator("#suggestion")
    expect(page.locator(".suggested-code")).to_have_text(["96130", "96131"])
    expect(suggestion).to_contain_text("95 minutes: 96130 + 1 x 96131")
    # 90 minutes: the additional hour needs more than half an hour past the first.
    page.locator("#id_end_time").fill("10:30")
    expect(page.locator(".suggested-code")).to_have_text(["96130"])
    page.locator("#id_end_time").fill("09:30")
    expect(suggestion).to_contain_text("under the 31 minutes")

    # Adaptive behaviour treatment by protocol: 15-minute units from 8 minutes.
    page.locator("#id_kind").select_option("adaptive_behavior")
    page.locator("#id_service_code").fill("97153")
    page.locator("#id_service_code").blur()
    page.locator("#id_end_time").fill("09:23")
    expect(page.locator(".suggested-code")).to_have_text(["97153"])
    expect(suggestion).to_contain_text("23 minutes = 2 15-minute units")
    page.locator("#id_end_time").fill("09:07")
    expect(suggestion).to_contain_text("less than one billable 15-minute unit of 97153")
