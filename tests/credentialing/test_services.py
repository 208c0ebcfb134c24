"""Services: providers, facilities, credentials, enrollments with history, billability through
the database, and the organization's billing identity."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from credentialing import services
from credentialing.models import Credential, EnrollmentEvent, PayerEnrollment, Provider
from credentialing.rules import npi_with_check_digit
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.services import organization_update
from tests.clock import days_ago, days_from_now, years_ago
from tests.credentialing.factories import (
    CredentialFactory,
    EnrollmentFactory,
    FacilityFactory,
    PayerRuleFactory,
    ProviderFactory,
)
from tests.patients.factories import PayerFactory


def dos() -> date:
    """A service two weeks ago: inside the factories' licence and enrollment by default."""
    return days_ago(14)


def _provider_data(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Dana",
        "last_name": "Reyes",
        "credentials_suffix": "LCSW",
        "npi": "1245319599",
        "taxonomy_code": "1041c0700x",
        "provider_type": "lcsw",
        "active_from": years_ago(2),
        **overrides,
    }


# --- Providers --------------------------------------------------------------------------------


def test_a_provider_is_created_with_a_valid_npi_and_audited(org: Any) -> None:
    with tenant_context(org):
        provider = services.provider_create(**_provider_data())
        assert provider.taxonomy_code == "1041C0700X"
        assert AuditEvent.objects.filter(
            action="provider.create", object_id=str(provider.pk)
        ).exists()


def test_a_bad_npi_is_refused_with_the_check_digit_reason_and_nothing_is_saved(org: Any) -> None:
    with tenant_context(org):
        with pytest.raises(DomainError) as exc:
            services.provider_create(**_provider_data(npi="1234567890"))
        assert exc.value.field == "npi" and "check digit" in exc.value.message
        assert not Provider.objects.exists()


def test_a_taxonomy_in_the_wrong_format_is_refused(org: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as exc:
        services.provider_create(**_provider_data(taxonomy_code="1041C07"))
    assert exc.value.field == "taxonomy_code"


def test_the_same_npi_cannot_be_two_providers(org: Any) -> None:
    with tenant_context(org):
        services.provider_create(**_provider_data())
        with pytest.raises(DomainError) as exc:
            services.provider_create(**_provider_data(first_name="Other"))
        assert exc.value.field == "npi" and Provider.objects.count() == 1


def test_the_same_npi_may_exist_in_another_organization(org: Any, other_org: Any) -> None:
    with tenant_context(org):
        services.provider_create(**_provider_data())
    with tenant_context(other_org):
        services.provider_create(**_provider_data())


def test_a_supervisor_must_be_licensed_and_of_the_same_organization(
    org: Any, other_org: Any
) -> None:
    lmsw = ProviderFactory(organization=org, provider_type="lmsw")
    outsider = ProviderFactory(organization=other_org)
    with tenant_context(org):
        with pytest.raises(DomainError, match="licensed"):
            services.provider_create(**_provider_data(supervising_provider=lmsw))
        with pytest.raises(DomainError) as exc:
            services.provider_create(**_provider_data(supervising_provider=outsider))
        assert exc.value.field == "supervising_provider"


def test_a_provider_cannot_supervise_themself(org: Any) -> None:
    provider = ProviderFactory(organization=org)
    with tenant_context(org), pytest.raises(DomainError, match="themself"):
        services.provider_update(provider=provider, data={"supervising_provider": provider})


# --- Facilities and credentials ---------------------------------------------------------------


def test_a_facility_with_a_po_box_is_refused(org: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as exc:
        services.facility_create(
            name="Main",
            npi=npi_with_check_digit("200000001"),
            address_line1="PO Box 12",
            city="Springfield",
            state="il",
            postal_code="62701",
            place_of_service="11",
        )
    assert exc.value.field == "address_line1" and "PO box" in exc.value.message


def test_a_facility_with_a_malformed_zip_code_is_refused(org: Any) -> None:
    with tenant_context(org), pytest.raises(DomainError) as exc:
        services.facility_create(
            name="Main",
            npi=npi_with_check_digit("200000001"),
            address_line1="1 Main St",
            city="Springfield",
            state="il",
            postal_code="6270",
            place_of_service="11",
        )
    assert exc.value.field == "postal_code" and "ZIP" in exc.value.message


def test_a_credential_expiring_before_it_was_issued_is_refused(org: Any) -> None:
    provider = ProviderFactory(organization=org)
    with tenant_context(org):
        with pytest.raises(DomainError) as exc:
            services.credential_create(
                provider=provider,
                kind="state_licence",
                number="L1",
                state="IL",
                issued_on=days_ago(30),
                expires_on=days_ago(395),
            )
        assert exc.value.field == "expires_on" and "before the issue date" in exc.value.message
        assert not Credential.objects.exists()


def test_a_dea_registration_is_for_prescribers_only(org: Any) -> None:
    therapist = ProviderFactory(organization=org, provider_type="lcsw")
    psychiatrist = ProviderFactory(
        organization=org, provider_type="psychiatrist", taxonomy_code="2084P0800X"
    )
    with tenant_context(org):
        with pytest.raises(DomainError, match="prescribers"):
            services.credential_create(
                provider=therapist, kind="dea", number="AB1234563", expires_on=days_from_now(365)
            )
        services.credential_create(
            provider=psychiatrist, kind="dea", number="AB1234563", expires_on=days_from_now(365)
        )


def test_caqh_needs_its_proview_id_and_attestation(org: Any) -> None:
    provider = ProviderFactory(organization=org)
    with tenant_context(org), pytest.raises(DomainError) as exc:
        services.credential_create(provider=provider, kind="caqh", number="12345678")
    assert exc.value.field == "attested_on"


# --- Enrollments ------------------------------------------------------------------------------


def test_an_approved_enrollment_without_an_effective_date_is_refused(org: Any) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    with tenant_context(org):
        with pytest.raises(DomainError) as exc:
            services.enrollment_create(
                provider=provider, payer=payer, status="approved", today=dos()
            )
        assert exc.value.field == "effective_date"
        assert not PayerEnrollment.objects.exists() and not EnrollmentEvent.objects.exists()


def test_a_duplicate_enrollment_for_the_same_provider_payer_and_location_is_refused(
    org: Any,
) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    facility = FacilityFactory(organization=org)
    with tenant_context(org):
        services.enrollment_create(provider=provider, payer=payer, today=dos())
        with pytest.raises(DomainError, match="already has an enrollment"):
            services.enrollment_create(provider=provider, payer=payer, today=dos())
        services.enrollment_create(
            provider=provider, payer=payer, service_facility=facility, today=dos()
        )
        with pytest.raises(DomainError, match="already has an enrollment"):
            services.enrollment_create(
                provider=provider, payer=payer, service_facility=facility, today=dos()
            )
        assert PayerEnrollment.objects.count() == 2


def test_each_status_step_is_stamped_and_kept_in_the_history(org: Any, credentialer: Any) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    with tenant_context(org):
        enrollment = services.enrollment_create(
            provider=provider, payer=payer, user=credentialer, today=days_ago(100)
        )
        enrollment = services.enrollment_update(
            enrollment=enrollment,
            data={"status": "submitted"},
            user=credentialer,
            today=days_ago(97),
        )
        assert enrollment.submitted_on == days_ago(97)
        enrollment = services.enrollment_update(
            enrollment=enrollment,
            data={
                "status": "approved",
                "effective_date": days_ago(40),
                "payer_provider_id": "X77",
            },
            user=credentialer,
            today=days_ago(37),
            note="Welcome letter received",
        )
        assert enrollment.approved_on == days_ago(37)
        events = list(EnrollmentEvent.objects.filter(enrollment=enrollment).order_by("created_at"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "not_started"),
        ("not_started", "submitted"),
        ("submitted", "approved"),
    ]
    assert events[1].occurred_on == days_ago(97)
    assert events[2].note == "Welcome letter received"
    assert set(events[2].fields_changed) == {"status", "effective_date", "payer_provider_id"}
    assert events[2].changed_by == credentialer


def test_an_update_that_changes_nothing_adds_no_history(org: Any) -> None:
    enrollment = EnrollmentFactory(organization=org)
    with tenant_context(org):
        services.enrollment_update(enrollment=enrollment, data={"status": "approved"}, today=dos())
        assert not EnrollmentEvent.objects.exists()


def test_a_refused_transition_changes_nothing(org: Any) -> None:
    enrollment = EnrollmentFactory(
        organization=org, status="submitted", effective_date=None, approved_on=None
    )
    with tenant_context(org):
        with pytest.raises(DomainError):
            services.enrollment_update(
                enrollment=enrollment, data={"status": "approved"}, today=dos()
            )
        enrollment.refresh_from_db()
        assert enrollment.status == "submitted" and not EnrollmentEvent.objects.exists()


def test_a_payer_of_another_organization_cannot_be_enrolled(org: Any, other_org: Any) -> None:
    provider, foreign = ProviderFactory(organization=org), PayerFactory(organization=other_org)
    with tenant_context(org), pytest.raises(DomainError):
        services.enrollment_create(provider=provider, payer=foreign, today=dos())


def test_a_duplicate_payer_rule_is_refused(org: Any) -> None:
    rule = PayerRuleFactory(organization=org)
    with tenant_context(org), pytest.raises(DomainError, match="already a rule"):
        services.payer_rule_create(payer=rule.payer, provider_type="lmsw")


# --- Billability through the database ---------------------------------------------------------


def test_provider_can_bill_answers_from_the_stored_enrollment_and_licence(org: Any) -> None:
    enrollment = EnrollmentFactory(organization=org)
    CredentialFactory(organization=org, provider=enrollment.provider)
    with tenant_context(org):
        result = services.provider_can_bill(enrollment.provider, enrollment.payer, dos(), "90837")
        assert (result.billable, result.code, result.under_supervisor) == (True, "enrolled", None)
        other_payer = PayerFactory(organization=org, name="Zeta Health")
        result = services.provider_can_bill(enrollment.provider, other_payer, dos())
        assert (result.billable, result.reason) == (False, "Not enrolled with Zeta Health.")


def test_a_pre_licensure_clinician_bills_under_the_supervisor_through_the_database(
    org: Any,
) -> None:
    supervisor_enrollment = EnrollmentFactory(
        organization=org, provider__provider_type="psychologist"
    )
    supervisor = supervisor_enrollment.provider
    CredentialFactory(organization=org, provider=supervisor)
    lmsw = ProviderFactory(organization=org, provider_type="lmsw", supervising_provider=supervisor)
    CredentialFactory(organization=org, provider=lmsw)
    payer = supervisor_enrollment.payer
    with tenant_context(org):
        assert services.provider_can_bill(lmsw, payer, dos()).code == "supervision_not_allowed"
        PayerRuleFactory(
            organization=org, payer=payer, provider_type="lmsw", requires_supervision=True
        )
        result = services.provider_can_bill(lmsw, payer, dos())
    assert (result.billable, result.code) == (True, "under_supervisor")
    assert result.under_supervisor == supervisor


def test_a_payer_rule_refusing_the_type_for_a_code_is_read_from_the_database(org: Any) -> None:
    enrollment = EnrollmentFactory(
        organization=org, provider__provider_type="lpc", provider__taxonomy_code="101YP2500X"
    )
    CredentialFactory(organization=org, provider=enrollment.provider)
    PayerRuleFactory(
        organization=org,
        payer=enrollment.payer,
        provider_type="lpc",
        service_code="90792",
        accepted=False,
        requires_supervision=False,
    )
    with tenant_context(org):
        assert (
            services.provider_can_bill(enrollment.provider, enrollment.payer, dos(), "90792").code
            == "type_not_accepted"
        )
        assert services.provider_can_bill(
            enrollment.provider, enrollment.payer, dos(), "90837"
        ).billable


def test_many_billability_questions_cost_a_fixed_number_of_queries(
    org: Any, django_assert_max_num_queries: Any
) -> None:
    payers = [PayerFactory(organization=org) for _ in range(3)]
    supervisor = ProviderFactory(organization=org, provider_type="psychologist")
    providers = [
        ProviderFactory(organization=org, supervising_provider=supervisor) for _ in range(20)
    ]
    for p in providers:
        CredentialFactory(organization=org, provider=p)
        EnrollmentFactory(organization=org, provider=p, payer=payers[0])
    queries = [
        services.BillabilityQuery(p.pk, payer.pk, dos(), "90837")
        for p in providers
        for payer in payers
    ]
    with tenant_context(org), django_assert_max_num_queries(6):
        results = services.billability_for_pairs(queries)
    assert sum(r.billable for r in results.values()) == 20
    assert len(results) == 60


# --- Organization billing identity ------------------------------------------------------------


def test_organization_settings_refuse_a_bad_group_npi_and_change_nothing(org: Any) -> None:
    with tenant_context(org):
        with pytest.raises(DomainError) as exc:
            organization_update(organization=org, data={"group_npi": "1234567890", "name": "New"})
        assert exc.value.field == "group_npi"
    org.refresh_from_db()
    assert (org.group_npi, org.name) == ("", "Riverbend Recovery Center")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tax_id", "12-34"),
        ("taxonomy_code", "261QM08"),
        ("address_line1", "P.O. Box 40"),
        ("postal_code", "6270"),
        ("phone", "555-0100"),
    ],
)
def test_organization_settings_refuse_each_bad_billing_value(
    org: Any, field: str, value: str
) -> None:
    with tenant_context(org), pytest.raises(DomainError) as exc:
        organization_update(organization=org, data={field: value})
    assert exc.value.field == field


def test_organization_settings_take_a_valid_identity_and_a_po_box_pay_to_address(org: Any) -> None:
    with tenant_context(org):
        organization_update(
            organization=org,
            data={
                "group_npi": "1679576722",
                "tax_id": "371234567",
                "taxonomy_code": "261QM0801X",
                "address_line1": "200 Oak Street",
                "pay_to_address_line1": "PO Box 900",
            },
        )
    org.refresh_from_db()
    assert org.pay_to_address_line1 == "PO Box 900"


def test_the_demo_roster_seeds_once_and_shows_every_state(org: Any) -> None:
    from credentialing import demo

    with tenant_context(org):
        demo.seed(org)
        demo.seed(org)
        assert Provider.objects.count() == 6
        statuses = set(PayerEnrollment.objects.values_list("status", flat=True))
    assert statuses == {
        "approved",
        "in_process",
        "submitted",
        "denied",
        "terminated",
        "not_started",
    }


def test_a_provider_can_be_linked_only_to_a_member_of_the_organization(
    org: Any, clinician: Any, outsider: Any
) -> None:
    with tenant_context(org):
        provider = services.provider_create(**_provider_data(user=clinician))
        assert provider.user == clinician
        with pytest.raises(DomainError) as exc:
            services.provider_update(provider=provider, data={"user": outsider})
        assert exc.value.field == "user"


def test_enrollment_history_cannot_be_rewritten(org: Any) -> None:
    provider, payer = ProviderFactory(organization=org), PayerFactory(organization=org)
    with tenant_context(org):
        services.enrollment_create(provider=provider, payer=payer, today=dos())
        event = EnrollmentEvent.objects.get()
        event.note = "rewritten"
        with pytest.raises(PermissionError):
            event.save()
