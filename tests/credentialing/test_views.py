"""Credentialing pages: roster, provider page, forms with inline errors, the matrix (with its
query count at 200 providers x 30 payers), pipeline, facilities, payer rules, permissions."""

from __future__ import annotations

import random
from typing import Any

import pytest

from credentialing import selectors
from credentialing.models import (
    Credential,
    EnrollmentEvent,
    PayerEnrollment,
    Provider,
    ServiceFacility,
)
from credentialing.rules import npi_with_check_digit
from patients.models import Payer
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, days_from_now, today, years_ago
from tests.credentialing.factories import (
    CredentialFactory,
    EnrollmentFactory,
    FacilityFactory,
    PayerRuleFactory,
    ProviderFactory,
)
from tests.patients.factories import PayerFactory

BASE = "/o/riverbend/credentialing/"


def test_the_roster_lists_and_searches_providers(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    ProviderFactory(organization=org, first_name="Dana", last_name="Reyes")
    ProviderFactory(organization=org, first_name="Lee", last_name="Okafor")
    client = client_for(credentialer)
    body = client.get(BASE).content.decode()
    assert "Dana Reyes" in body and "Lee Okafor" in body
    body = client.get(BASE, {"q": "okaf"}).content.decode()
    assert "Lee Okafor" in body and "Dana Reyes" not in body


def test_the_roster_has_an_empty_state(org: Any, credentialer: Any, client_for: Any) -> None:
    assert "No providers match" in client_for(credentialer).get(BASE).content.decode()


def test_a_provider_with_a_bad_npi_shows_the_reason_inline_and_saves_nothing(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    response = client_for(credentialer).post(
        f"{BASE}providers/new/",
        {
            "first_name": "Dana",
            "last_name": "Reyes",
            "npi": "1234567890",
            "taxonomy_code": "1041C0700X",
            "provider_type": "lcsw",
            "active_from": years_ago(2),
        },
    )
    assert response.status_code == 200
    assert "fails the NPI check digit" in response.content.decode()
    with tenant_context(org):
        assert not Provider.objects.exists()


def test_a_provider_is_added_through_the_form(org: Any, credentialer: Any, client_for: Any) -> None:
    response = client_for(credentialer).post(
        f"{BASE}providers/new/",
        {
            "first_name": "Dana",
            "last_name": "Reyes",
            "npi": "1245319599",
            "taxonomy_code": "1041C0700X",
            "provider_type": "lcsw",
            "active_from": years_ago(2),
        },
    )
    assert response.status_code == 302
    with tenant_context(org):
        provider = Provider.objects.get()
    assert response.url == f"{BASE}providers/{provider.pk}/"


def test_a_credential_expiring_before_issue_is_refused_inline(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    provider = ProviderFactory(organization=org)
    response = client_for(credentialer).post(
        f"{BASE}providers/{provider.pk}/credentials/new/",
        {
            "kind": "state_licence",
            "number": "L1",
            "state": "IL",
            "issued_on": days_ago(30),
            "expires_on": days_ago(395),
        },
    )
    assert response.status_code == 200
    assert "before the issue date" in response.content.decode()
    with tenant_context(org):
        assert not Credential.objects.exists()


def test_the_provider_page_explains_why_each_payer_cannot_be_billed(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    provider = ProviderFactory(organization=org, first_name="Dana", last_name="Reyes")
    CredentialFactory(organization=org, provider=provider, expires_on=days_from_now(20))
    EnrollmentFactory(organization=org, provider=provider, payer__name="Acme Health")
    EnrollmentFactory(
        organization=org,
        provider=provider,
        payer__name="Blue Plan",
        status="submitted",
        effective_date=None,
        submitted_on=days_ago(60),
    )
    PayerFactory(organization=org, name="Care Co")
    body = client_for(credentialer).get(f"{BASE}providers/{provider.pk}/").content.decode()
    assert "Enrolled with Acme Health" in body
    assert f"Enrollment with Blue Plan pending since {days_ago(60)}." in body
    assert "Not enrolled with Care Co." in body
    assert "Expires in 20 days" in body


def test_the_provider_page_checks_billability_for_another_date_and_code(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    enrollment = EnrollmentFactory(organization=org)
    CredentialFactory(organization=org, provider=enrollment.provider, expires_on=days_ago(10))
    response = client_for(credentialer).get(
        f"{BASE}providers/{enrollment.provider_id}/",
        {"payer": enrollment.payer_id, "date_of_service": days_ago(8), "service_code": "90837"},
    )
    assert f"Licence expired on {days_ago(10)}." in response.content.decode()


def test_an_enrollment_moves_through_its_pipeline_on_its_page(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    client = client_for(credentialer)
    response = client.post(
        f"{BASE}providers/{provider.pk}/enrollments/new/",
        {"payer": payer.pk, "status": "submitted", "submitted_on": days_ago(60)},
    )
    assert response.status_code == 302
    with tenant_context(org):
        enrollment = PayerEnrollment.objects.get()
    response = client.post(f"{BASE}enrollments/{enrollment.pk}/", {"status": "approved"})
    assert "needs its effective date" in response.content.decode()
    response = client.post(
        f"{BASE}enrollments/{enrollment.pk}/",
        {
            "status": "approved",
            "submitted_on": days_ago(60),
            "effective_date": days_ago(5),
            "note": "Letter in",
        },
    )
    assert response.status_code == 302
    with tenant_context(org):
        assert list(
            EnrollmentEvent.objects.order_by("created_at").values_list("to_status", flat=True)
        ) == [
            "submitted",
            "approved",
        ]
    page = client.get(f"{BASE}enrollments/{enrollment.pk}/").content.decode()
    assert "Letter in" in page and "Application submitted → Approved" in page


def test_a_duplicate_enrollment_is_refused_on_the_form(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    enrollment = EnrollmentFactory(organization=org)
    response = client_for(credentialer).post(
        f"{BASE}providers/{enrollment.provider_id}/enrollments/new/",
        {"payer": enrollment.payer_id, "status": "not_started"},
    )
    assert response.status_code == 200
    assert "already has an enrollment" in response.content.decode()


def _grid(
    org: Any, providers: int, payers: int, *, first: int = 0, payer_rows: Any = None
) -> tuple[list[Provider], list[Payer]]:
    """Bulk rows for the matrix: every provider has an enrollment with most payers. `first`
    numbers more providers after an earlier grid whose `payer_rows` they reuse."""
    rng = random.Random(7)
    with tenant_context(org):
        payer_rows = payer_rows or Payer.objects.bulk_create(
            [
                Payer(
                    organization=org,
                    name=f"Plan {i:02d}",
                    payer_id=f"P{i:03d}",
                    payer_type="commercial",
                )
                for i in range(payers)
            ]
        )
        provider_rows = Provider.objects.bulk_create(
            [
                Provider(
                    organization=org,
                    first_name="Pro",
                    last_name=f"Vider {i:03d}",
                    npi=npi_with_check_digit(f"1{i:08d}"),
                    taxonomy_code="1041C0700X",
                    provider_type="lcsw",
                    active_from=years_ago(3),
                )
                for i in range(first, first + providers)
            ]
        )
        statuses = [
            "approved",
            "approved",
            "approved",
            "submitted",
            "in_process",
            "denied",
            "not_started",
        ]
        enrollments = []
        for p in provider_rows:
            for payer in payer_rows:
                status = rng.choice([*statuses, "none"])
                if status == "none":
                    continue
                enrollments.append(
                    PayerEnrollment(
                        organization=org,
                        provider=p,
                        payer=payer,
                        status=status,
                        effective_date=years_ago(2) if status == "approved" else None,
                    )
                )
        PayerEnrollment.objects.bulk_create(enrollments, batch_size=2000)
    return provider_rows, payer_rows


@pytest.mark.parametrize("status", ["", "gaps", "submitted"])
def test_the_matrix_costs_three_queries_with_200_providers_and_30_payers(
    org: Any, status: str, django_assert_max_num_queries: Any
) -> None:
    _grid(org, 200, 30)
    with tenant_context(org), django_assert_max_num_queries(3):
        matrix = selectors.enrollment_matrix(today=today(), status=status)
    assert len(matrix.payers) == 30
    with tenant_context(org):
        expected = (
            PayerEnrollment.objects.filter(status="submitted").values("provider").distinct().count()
            if status == "submitted"
            else 200  # every provider of this grid has at least one gap
        )
    assert len(matrix.rows) == expected
    assert all(len(r.cells) == 30 for r in matrix.rows)


def test_the_matrix_page_costs_the_same_queries_at_20_and_200_providers(
    org: Any, manager: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    client.get(f"{BASE}matrix/")  # warm the session
    _, payers = _grid(org, 20, 30)
    with CaptureQueriesContext(connection) as at_20:
        assert client.get(f"{BASE}matrix/", {"status": "gaps"}).status_code == 200
    _grid(org, 180, 30, first=20, payer_rows=payers)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as at_200:
        response = client.get(f"{BASE}matrix/", {"status": "gaps"})
    assert response.status_code == 200 and len(at_200) == len(at_20)
    assert response.content.decode().count('class="cell ') == 50 * 30  # one page of providers


def test_the_gaps_filter_keeps_only_providers_who_cannot_bill_somewhere(
    org: Any, manager: Any, client_for: Any
) -> None:
    payer = PayerFactory(organization=org, name="Acme Health")
    full = EnrollmentFactory(organization=org, provider__last_name="Fullyenrolled", payer=payer)
    gap = ProviderFactory(organization=org, last_name="Hasagap")
    EnrollmentFactory(
        organization=org, provider=gap, payer=payer, status="in_process", effective_date=None
    )
    client = client_for(manager)
    body = client.get(f"{BASE}matrix/", {"status": "gaps"}).content.decode()
    assert "Hasagap" in body and full.provider.last_name not in body
    assert "In process" in body
    body = client.get(f"{BASE}matrix/", {"status": "approved"}).content.decode()
    assert "Fullyenrolled" in body and "Hasagap" not in body


def test_a_future_effective_date_is_a_gap_today(org: Any) -> None:
    enrollment = EnrollmentFactory(organization=org, effective_date=days_from_now(10))
    with tenant_context(org):
        cell = selectors.enrollment_matrix(today=today(), status="gaps").rows[0].cells[0]
    assert (cell.state, cell.is_gap, cell.effective_date) == (
        "future",
        True,
        enrollment.effective_date,
    )


def test_the_pipeline_groups_enrollments_by_status(org: Any, manager: Any, client_for: Any) -> None:
    EnrollmentFactory(
        organization=org,
        status="submitted",
        effective_date=None,
        provider__last_name="Pendingperson",
    )
    EnrollmentFactory(organization=org, provider__last_name="Approvedperson")
    client = client_for(manager)
    body = client.get(f"{BASE}pipeline/").content.decode()
    assert body.index("Application submitted") < body.index("Approved")
    body = client.get(f"{BASE}pipeline/", {"status": "submitted"}).content.decode()
    assert "Pendingperson" in body and "Approvedperson" not in body


def test_facilities_are_listed_and_a_po_box_is_refused(
    org: Any, credentialer: Any, client_for: Any
) -> None:
    FacilityFactory(organization=org, name="North clinic")
    client = client_for(credentialer)
    assert "North clinic" in client.get(f"{BASE}facilities/").content.decode()
    response = client.post(
        f"{BASE}facilities/",
        {
            "name": "PO site",
            "npi": npi_with_check_digit("200000009"),
            "address_line1": "PO Box 77",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "place_of_service": "11",
            "is_active": "on",
        },
    )
    assert "refuses a PO box" in response.content.decode()
    with tenant_context(org):
        assert ServiceFacility.objects.count() == 1


def test_payer_rules_are_added_and_removed(org: Any, credentialer: Any, client_for: Any) -> None:
    payer = PayerFactory(organization=org, name="State Medicaid")
    client = client_for(credentialer)
    response = client.post(
        f"{BASE}payer-rules/", {"payer": payer.pk, "provider_type": "peer", "service_code": "h0038"}
    )
    assert response.status_code == 302
    body = client.get(f"{BASE}payer-rules/").content.decode()
    assert "State Medicaid" in body and "H0038" in body
    rule = PayerRuleFactory(organization=org, payer=payer, provider_type="lmsw")
    assert client.post(f"{BASE}payer-rules/{rule.pk}/delete/").status_code == 302


def test_a_manager_reads_but_cannot_change_credentialing(
    org: Any, manager: Any, client_for: Any
) -> None:
    provider = ProviderFactory(organization=org)
    client = client_for(manager)
    assert client.get(f"{BASE}providers/{provider.pk}/").status_code == 200
    assert (
        client.post(f"{BASE}providers/{provider.pk}/edit/", {"first_name": "X"}).status_code == 403
    )
    assert "Add provider" not in client.get(BASE).content.decode()


def test_a_clinician_cannot_see_credentialing(org: Any, clinician: Any, client_for: Any) -> None:
    assert client_for(clinician).get(BASE).status_code == 403


def test_another_organizations_provider_is_not_found(
    org: Any, other_org: Any, credentialer: Any, client_for: Any
) -> None:
    foreign = ProviderFactory(organization=other_org)
    assert client_for(credentialer).get(f"{BASE}providers/{foreign.pk}/").status_code == 404


def test_the_organization_settings_form_refuses_a_bad_group_npi_and_a_po_box(
    owner: Any, org: Any, client_for: Any
) -> None:
    response = client_for(owner).post(
        "/o/riverbend/settings/",
        {
            "name": "Riverbend",
            "time_zone": "America/Chicago",
            "group_npi": "1234567890",
            "address_line1": "PO Box 3",
        },
    )
    body = response.content.decode()
    assert "fails the NPI check digit" in body and "refuses a PO box" in body
    org.refresh_from_db()
    assert org.group_npi == "" and org.name == "Riverbend Recovery Center"


def test_the_provider_page_costs_the_same_queries_with_many_payers(
    org: Any, credentialer: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    provider = ProviderFactory(organization=org)
    client = client_for(credentialer)
    client.get(f"{BASE}providers/{provider.pk}/")  # warm the session
    for _ in range(15):
        EnrollmentFactory(organization=org, provider=provider)
        CredentialFactory(organization=org, provider=provider)
    # Session, membership, tenant, provider + 4 prefetches, billability (5), history, alert
    # count, the payer choice: about 21 whatever the number of payers and credentials.
    with django_assert_max_num_queries(22):
        response = client.get(f"{BASE}providers/{provider.pk}/")
    assert response.content.decode().count("Enrolled with") == 15
