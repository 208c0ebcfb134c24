"""The daily credentialing scan: thresholds, idempotency, set-based cost, per organization."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import override_settings

from alerts.models import Alert
from credentialing import services
from credentialing.tasks import credentialing_scan
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, today
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory
from tests.patients.factories import PayerFactory


def _keys(org: Any) -> set[str]:
    with tenant_context(org):
        return set(Alert.objects.filter(area="credentialing").values_list("dedupe_key", flat=True))


def test_licences_dea_and_malpractice_alert_at_60_30_and_7_days(org: Any) -> None:
    provider = ProviderFactory(
        organization=org, provider_type="psychiatrist", taxonomy_code="2084P0800X"
    )
    licence = CredentialFactory(
        organization=org, provider=provider, expires_on=today() + timedelta(days=45)
    )
    dea = CredentialFactory(
        organization=org,
        provider=provider,
        kind="dea",
        state="",
        expires_on=today() + timedelta(days=20),
    )
    malpractice = CredentialFactory(
        organization=org,
        provider=provider,
        kind="malpractice",
        state="",
        expires_on=today() + timedelta(days=3),
    )
    far = CredentialFactory(
        organization=org, provider=provider, expires_on=today() + timedelta(days=200)
    )
    with tenant_context(org):
        services.credentialing_alerts_scan(today=today())
    keys = _keys(org)
    assert f"credential-expiring:{licence.pk}:{licence.expires_on}:60" in keys
    assert f"credential-expiring:{dea.pk}:{dea.expires_on}:30" in keys
    assert f"credential-expiring:{malpractice.pk}:{malpractice.expires_on}:7" in keys
    assert not any(str(far.pk) in k for k in keys)
    with tenant_context(org):
        alert = Alert.objects.get(subject_id=malpractice.pk)
    assert (
        alert.severity == "critical"
        and alert.link_path == f"credentialing/providers/{provider.pk}/"
    )


def test_crossing_the_next_threshold_raises_a_new_alert_and_keeps_the_old(org: Any) -> None:
    licence = CredentialFactory(organization=org, expires_on=today() + timedelta(days=31))
    with tenant_context(org):
        assert len(services.credentialing_alerts_scan(today=today())) == 1
        assert len(services.credentialing_alerts_scan(today=today() + timedelta(days=1))) == 1
        assert len(services.credentialing_alerts_scan(today=today() + timedelta(days=40))) == 1
    assert _keys(org) == {
        f"credential-expiring:{licence.pk}:{licence.expires_on}:60",
        f"credential-expiring:{licence.pk}:{licence.expires_on}:30",
        f"credential-expired:{licence.pk}:{licence.expires_on}",
    }


def test_caqh_attestation_due_every_120_days_is_alerted(org: Any) -> None:
    caqh = CredentialFactory(
        organization=org,
        kind="caqh",
        number="12345678",
        state="",
        issued_on=None,
        expires_on=None,
        attested_on=today() - timedelta(days=110),
    )
    fresh = CredentialFactory(
        organization=org,
        kind="caqh",
        number="87654321",
        state="",
        issued_on=None,
        expires_on=None,
        attested_on=today() - timedelta(days=10),
    )
    with tenant_context(org):
        services.credentialing_alerts_scan(today=today())
    due = caqh.attested_on + timedelta(days=120)
    assert f"caqh-attestation:{caqh.pk}:{due}" in _keys(org)
    assert not any(str(fresh.pk) in k for k in _keys(org))


def test_recredentialing_due_and_long_pending_applications_are_alerted(org: Any) -> None:
    due = EnrollmentFactory(organization=org, recredentialing_due_on=today() + timedelta(days=25))
    pending = EnrollmentFactory(
        organization=org,
        status="submitted",
        effective_date=None,
        submitted_on=today() - timedelta(days=100),
    )
    recent = EnrollmentFactory(
        organization=org,
        status="in_process",
        effective_date=None,
        submitted_on=today() - timedelta(days=20),
    )
    with tenant_context(org):
        services.credentialing_alerts_scan(today=today())
    keys = _keys(org)
    assert f"recredentialing-due:{due.pk}:{due.recredentialing_due_on}:30" in keys
    assert f"enrollment-pending:{pending.pk}:{pending.submitted_on}:90" in keys
    assert not any(str(recent.pk) in k for k in keys)


@override_settings(CREDENTIALING_PENDING_ALERT_DAYS=14)
def test_the_pending_threshold_is_a_setting(org: Any) -> None:
    recent = EnrollmentFactory(
        organization=org,
        status="in_process",
        effective_date=None,
        submitted_on=today() - timedelta(days=20),
    )
    with tenant_context(org):
        services.credentialing_alerts_scan(today=today())
    assert f"enrollment-pending:{recent.pk}:{recent.submitted_on}:14" in _keys(org)


def test_the_scan_is_set_based_and_a_second_run_changes_nothing(
    org: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        provider = ProviderFactory(organization=org)
        CredentialFactory(
            organization=org, provider=provider, expires_on=today() + timedelta(days=i)
        )
        EnrollmentFactory(
            organization=org, provider=provider, recredentialing_due_on=today() + timedelta(days=i)
        )
    with tenant_context(org):
        # Constant: plus the one outbox message of the credential.expiring events (webhooks).
        with django_assert_max_num_queries(15):
            first = services.credentialing_alerts_scan(today=today())
        assert len(first) == 60
        before = list(Alert.objects.order_by("pk").values_list("pk", "updated_at"))
        assert services.credentialing_alerts_scan(today=today()) == []
        assert list(Alert.objects.order_by("pk").values_list("pk", "updated_at")) == before


def test_the_task_visits_every_organization_and_is_idempotent(org: Any, other_org: Any) -> None:
    soon = today() + timedelta(days=5)
    CredentialFactory(organization=org, expires_on=soon)
    CredentialFactory(organization=other_org, expires_on=soon)
    assert credentialing_scan() == 2
    assert credentialing_scan() == 0
    assert len(_keys(org)) == 1 and len(_keys(other_org)) == 1


def test_services_at_a_payer_where_the_provider_cannot_bill_raise_one_alert_per_pair(
    org: Any,
) -> None:
    enrollment = EnrollmentFactory(
        organization=org, status="submitted", effective_date=None, submitted_on=days_ago(31)
    )
    CredentialFactory(organization=org, provider=enrollment.provider)
    billable = EnrollmentFactory(organization=org)
    CredentialFactory(organization=org, provider=billable.provider)
    other_payer = PayerFactory(organization=org)
    queries = [
        services.BillabilityQuery(
            enrollment.provider_id, enrollment.payer_id, today() - timedelta(days=d)
        )
        for d in range(3)
    ] + [
        services.BillabilityQuery(billable.provider_id, billable.payer_id, today()),
        services.BillabilityQuery(billable.provider_id, other_payer.pk, today()),
    ]
    with tenant_context(org):
        raised = services.unbillable_service_alerts(queries=queries, today=today())
        assert len(raised) == 2
        assert services.unbillable_service_alerts(queries=queries, today=today()) == []
    titles = sorted(a.title for a in raised)
    assert any("3 service date(s)" in t and f"pending since {days_ago(31)}" in t for t in titles)
    assert any("Not enrolled" in t for t in titles)
