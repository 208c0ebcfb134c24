"""The patient screens as billing staff use them."""

from __future__ import annotations

from typing import Any

from patients.models import LevelOfCareStay, Patient
from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago
from tests.patients.factories import PatientFactory

LIST = "/o/riverbend/patients/"


def _names(response: Any) -> list[str]:
    return [p.mrn for p in response.context["page"]]


def test_search_by_name_mrn_date_of_birth_and_member_id(
    biller: Any, chart: Any, client_for: Any
) -> None:
    client = client_for(biller)
    assert _names(client.get(LIST, {"q": "doe jane"})) == ["R-100"]
    assert _names(client.get(LIST, {"q": "R-200"})) == ["R-200"]
    assert _names(client.get(LIST, {"q": "1975-09-09"})) == ["R-200"]
    assert _names(client.get(LIST, {"q": "09/09/1975"})) == ["R-200"]
    assert _names(client.get(LIST, {"q": "W123456"})) == ["R-100"]


def test_an_empty_search_says_what_to_try(biller: Any, chart: Any, client_for: Any) -> None:
    html = client_for(biller).get(LIST, {"q": "nobody"}).content.decode()
    assert "No patient matches that search" in html


def test_an_empty_list_invites_to_add_or_import(biller: Any, client_for: Any) -> None:
    assert "No patients yet" in client_for(biller).get(LIST).content.decode()


def test_the_list_is_paginated_with_a_fixed_number_of_queries(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    with tenant_context(org):
        PatientFactory.create_batch(60, organization=org)
    client = client_for(biller)
    client.get(LIST)
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"page": 2})
    assert len(response.context["page"]) == 25 and response.context["page"].paginator.count == 60


def test_htmx_search_returns_only_the_results(biller: Any, chart: Any, client_for: Any) -> None:
    response = client_for(biller).get(LIST, {"q": "Roe"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "R-200" in html


def test_viewing_a_patient_is_recorded_in_the_audit_trail(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    response = client_for(biller).get(f"{LIST}{chart['jane'].pk}/")
    assert response.status_code == 200
    with tenant_context(org):
        event = AuditEvent.objects.get(action="view", patient_id=chart["jane"].pk)
    assert event.actor_id == biller.pk and event.object_type == "patients.patient"


def test_the_patient_page_costs_a_fixed_number_of_queries(
    biller: Any, chart: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(biller)
    client.get(f"{LIST}{chart['jane'].pk}/")
    with django_assert_max_num_queries(20):
        client.get(f"{LIST}{chart['jane'].pk}/")


def test_members_with_part2_access_see_the_sud_episode_in_full(
    biller: Any, chart: Any, client_for: Any
) -> None:
    html = client_for(biller).get(f"{LIST}{chart['jane'].pk}/").content.decode()
    assert "F10.20" in html and "Substance use" in html and "Residential 3.5" in html
    assert "Valid" in html  # the consent, at a glance


def test_members_without_part2_access_see_only_that_a_restricted_episode_exists(
    manager: Any, chart: Any, client_for: Any
) -> None:
    html = client_for(manager).get(f"{LIST}{chart['jane'].pk}/").content.decode()
    assert "Restricted episode" in html
    for secret in (
        "F10.20",
        "Alcohol",
        "Substance use",
        "Residential 3.5",
        "Blue Plan</td><td>Payment",
    ):
        assert secret not in html
    assert "Part 2 consents are shown only to members with Part 2 access" in html
    # A mental health episode is not Part 2: its diagnosis is visible to the same person.
    assert "F33.1" in client_for(manager).get(f"{LIST}{chart['john'].pk}/").content.decode()


def test_members_without_part2_access_cannot_open_sud_episode_forms(
    biller: Any, manager: Any, chart: Any, client_for: Any, org: Any
) -> None:
    from rcm.tenancy.models import Membership

    with tenant_context(org):
        Membership.objects.filter(user=biller).update(part2_access=False)
    response = client_for(biller).get(f"{LIST}episodes/{chart['sud'].pk}/transition/")
    assert response.status_code == 404  # the same answer as an episode that does not exist


def test_a_future_date_of_birth_is_shown_inline_and_nothing_is_saved(
    org: Any, biller: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{LIST}new/",
        {
            "mrn": "N1",
            "first_name": "A",
            "last_name": "B",
            "date_of_birth": "2999-01-01",
            "sex": "F",
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"] == ["Date of birth is in the future."]
    with tenant_context(org):
        assert not Patient.objects.exists()


def test_stepping_down_from_the_patient_page(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    url = f"{LIST}episodes/{chart['sud'].pk}/transition/"
    step_down = days_ago(80)  # the residential stay began 100 days ago
    client = client_for(biller)
    bad = client.post(
        url, {"level": "2.1", "on_date": step_down, "clinical_justification": "", "reason": ""}
    )
    assert "clinical_justification" in bad.context["form"].errors
    response = client.post(
        url,
        {"level": "2.1", "on_date": step_down, "clinical_justification": "Meets IOP criteria"},
        follow=True,
    )
    assert (
        f"Step down to 2.1 Intensive outpatient (IOP) from {step_down}" in response.content.decode()
    )
    with tenant_context(org):
        assert (
            LevelOfCareStay.objects.get(episode=chart["sud"], end_date__isnull=True).level == "2.1"
        )


def test_a_manager_cannot_change_a_patient(manager: Any, chart: Any, client_for: Any) -> None:
    response = client_for(manager).post(f"{LIST}{chart['john'].pk}/edit/", {"mrn": "X"})
    assert response.status_code == 403


def test_coverage_form_names_the_overlapping_primary(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{LIST}{chart['jane'].pk}/coverages/new/",
        {
            "payer": chart["payer"].pk,
            "priority": 1,
            "member_id": "X9",
            "effective_date": days_ago(10),  # inside Jane's open primary
            "relationship": "18",
        },
    )
    assert "two primary coverages cannot overlap" in response.context["form"].errors["priority"][0]


def test_a_consent_is_recorded_and_revoked_from_the_page(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    client = client_for(biller)
    response = client.post(
        f"{LIST}consents/{chart['consent'].pk}/revoke/", {"note": "Phone call"}, follow=True
    )
    assert "Revoked" in response.content.decode()


def test_payer_rules_are_edited_as_data(org: Any, biller: Any, chart: Any, client_for: Any) -> None:
    response = client_for(biller).post(
        f"{LIST}payers/{chart['payer'].pk}/",
        {
            "name": "Blue Plan",
            "payer_id": "BP001",
            "payer_type": "commercial",
            "default_claim_form": "837P",
            "submission_method": "paper",
            "timely_filing_days": 120,
            "corrected_claim_days": 90,
            "appeal_window_days": 180,
            "response_days": 30,
            "telehealth_pos": "02",
            "telehealth_modifier": "GT",
            "audio_only_modifier": "93",
            "auth_required_levels": ["2.5"],
            "auth_required_codes": "h0015, 90837",
            "institutional_levels": ["2.5"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    payer = chart["payer"]
    with tenant_context(org):
        payer.refresh_from_db()
    assert payer.auth_required_levels == ["2.5"] and payer.auth_required_codes == ["90837", "H0015"]
    assert payer.claim_form_for("2.5") == "837I" and payer.claim_form_for("1") == "837P"
    assert payer.timely_filing_days == 120 and payer.telehealth_pos == "02"
    assert payer.submission_method == "paper"  # its claims print on the CMS-1500


def test_an_authorization_need_not_yet_consumed_is_visible_on_the_episode(
    biller: Any, chart: Any, client_for: Any
) -> None:
    # In a test the commit hook that delivers the event never runs, so it stays pending.
    html = client_for(biller).get(f"{LIST}{chart['jane'].pk}/").content.decode()
    assert f"Authorization needed: level 3.5 from {days_ago(100)}" in html


def test_recording_a_consent_needs_both_part2_access_and_write_access(
    org: Any, manager: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    from rcm.tenancy.models import Membership

    url = f"{LIST}{chart['jane'].pk}/consents/new/"
    with tenant_context(org):
        Membership.objects.filter(user=manager).update(part2_access=True)
        Membership.objects.filter(user=biller).update(part2_access=False)
    assert client_for(manager).post(url, {}).status_code == 403  # Part 2 access, but read-only role
    assert client_for(biller).post(url, {}).status_code == 403  # write role, but no Part 2 access


def test_an_admission_with_a_refused_diagnosis_saves_nothing(
    biller: Any, chart: Any, client_for: Any, org: Any
) -> None:
    from patients.models import EpisodeOfCare

    patient = chart["john"]
    with tenant_context(org):
        before = EpisodeOfCare.objects.filter(patient=patient).count()
    response = client_for(biller).post(
        f"{LIST}{patient.pk}/episodes/new/",
        {
            "program_type": "mental_health",
            "admission_date": days_ago(20),
            "level": "1",
            "diagnosis": "ZZZ99",
        },
    )
    assert response.status_code == 200 and "ZZZ99" in response.content.decode()
    with tenant_context(org):
        assert EpisodeOfCare.objects.filter(patient=patient).count() == before


def _jane_form(**changes: str) -> dict[str, str]:
    return {
        "mrn": "R-100", "first_name": "Jane", "last_name": "Doe", "date_of_birth": "1980-05-01",
        "sex": "F", "address_line1": "48 Alder St", "city": "Beaverton", "state": "OR",
        "postal_code": "97005", "status": "active", **changes,
    }  # fmt: skip


def test_an_edit_opened_from_a_claim_returns_to_the_claim_once_saved(
    org: Any, biller: Any, chart: Any, client_for: Any
) -> None:
    client = client_for(biller)
    with tenant_context(org):
        jane = Patient.objects.get(mrn="R-100")
    edit = f"{LIST}{jane.pk}/edit/"
    claim_page = "/o/riverbend/claims/8d3c1f0e-3a8e-4c55-9d6b-0d2f1d8f4a11/edit/"
    form = client.get(edit, {"next": claim_page}).content.decode()
    assert f'name="next" value="{claim_page}"' in form
    saved = client.post(edit, {**_jane_form(), "next": claim_page})
    assert saved.status_code == 302 and saved["Location"] == claim_page
    with tenant_context(org):
        jane.refresh_from_db()
    assert (jane.address_line1, jane.postal_code) == ("48 Alder St", "97005")
    # An error keeps the way back; a target outside the organization is ignored.
    bad = client.post(edit, {**_jane_form(postal_code="ABCDE"), "next": claim_page})
    assert bad.status_code == 200 and f'value="{claim_page}"' in bad.content.decode()
    for elsewhere in ("https://evil.example/o/riverbend/", "/o/other-clinic/claims/", "//evil"):
        away = client.post(edit, {**_jane_form(), "next": elsewhere})
        assert away["Location"] == f"{LIST}{jane.pk}/", elsewhere
