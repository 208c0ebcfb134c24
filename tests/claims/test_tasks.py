"""The daily scan for charges a provider cannot bill."""

from __future__ import annotations

from alerts.models import Alert
from claims.tasks import claims_unbillable_scan_all
from credentialing.models import PayerEnrollment
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice


def test_charges_of_an_unenrolled_provider_raise_one_alert_and_twice_nothing_new(
    practice: Practice,
) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        PayerEnrollment.objects.update(status="in_process", effective_date=None, approved_on=None)
    assert claims_unbillable_scan_all() == 1
    assert claims_unbillable_scan_all() == 0
    with tenant_context(practice.org):
        alert = Alert.objects.get(kind="provider.not_billable")
    assert alert.area == "credentialing" and alert.subject_id == practice.provider.pk


def test_billable_charges_raise_nothing(practice: Practice) -> None:
    practice.session(45)
    assert claims_unbillable_scan_all() == 0
