"""A batch that fails to build names its claims and fields, uses no control number, and is
built again after the fix (Retry)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from patients.models import Patient
from rcm import part2
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus, ControlNumberCounter, SubmissionBatch
from submissions.services import batch_build, batch_retry, batches_create
from tests.claims.conftest import dos
from tests.clock import today
from tests.submissions.conftest import bill_ready

BASE = "/o/riverbend/claims/batches/"


def _failed_batch(billing) -> tuple[SubmissionBatch, Claim]:
    """A ready claim whose patient lost the address after it was scrubbed: its batch fails."""
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Patient.objects.filter(pk=billing.patient.pk).update(address_line1="", city="")
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.FAILED
    return batch, claim


def test_a_failed_build_names_the_claim_and_field_and_uses_no_control_number(billing):
    batch, claim = _failed_batch(billing)
    assert batch.interchange_control_number is None
    assert batch.group_control_number is None and batch.transaction_control_number is None
    with tenant_context(billing.org):
        assert not ControlNumberCounter.objects.filter(last_interchange__gt=0).exists()
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY
    named = [(f["claim"], f["field"]) for f in batch.failures]
    assert (claim.patient_control_number, "subscriber.address") in named
    assert all(f["claim_id"] == str(claim.pk) for f in batch.failures)


def test_retry_after_the_fix_builds_with_the_first_control_number(
    billing, django_capture_on_commit_callbacks
):
    batch, _claim = _failed_batch(billing)
    with tenant_context(billing.org):
        Patient.objects.filter(pk=billing.patient.pk).update(
            address_line1="12 Elm Ave", city="Portland"
        )
        retried = batch_retry(batch=batch, actor=None, scopes=part2.ORGANIZATION)
        assert retried.status == BatchStatus.QUEUED and retried.failures == []
        keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
        assert f"batch-build:{batch.pk}:2" in keys  # a new build message, not the first one's
    built = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert built.status == BatchStatus.RELEASED
    assert built.interchange_control_number == 1  # the failed build burnt none
    assert "ISA*00*" in built.content and "*000000001*" in built.content
    # The next file takes the next number.
    billing.session(45, day=dos() + timedelta(days=14))
    with tenant_context(billing.org):
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=today())
        nxt = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    assert (
        batch_build(organization_id=billing.org.pk, batch_id=nxt.pk).interchange_control_number == 2
    )


def test_retry_is_refused_naming_a_claim_that_is_no_longer_ready(billing):
    batch, claim = _failed_batch(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.DRAFT)
        with pytest.raises(DomainError, match=claim.patient_control_number):
            batch_retry(batch=batch, actor=None, scopes=part2.ORGANIZATION)
        assert SubmissionBatch.objects.get(pk=batch.pk).status == BatchStatus.FAILED


def test_only_a_failed_batch_can_be_retried(billing):
    bill_ready(billing)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
        with pytest.raises(DomainError, match="Only a failed batch"):
            batch_retry(batch=batch, actor=None, scopes=part2.ORGANIZATION)


def test_the_failed_batch_page_lists_the_failures_and_retries(billing, biller, client_for):
    batch, claim = _failed_batch(billing)
    client = client_for(biller)
    page = client.get(f"{BASE}{batch.pk}/").content.decode()
    assert 'id="failures"' in page and claim.patient_control_number in page
    assert "subscriber.address" in page and 'id="retry"' in page
    response = client.post(f"{BASE}{batch.pk}/retry/")
    assert response.status_code == 302
    with tenant_context(billing.org):
        assert SubmissionBatch.objects.get(pk=batch.pk).status == BatchStatus.QUEUED


def test_another_organizations_batch_cannot_be_retried(billing, other_org, client_for):
    from tests.factories import MembershipFactory, UserFactory

    batch, _ = _failed_batch(billing)
    outsider = MembershipFactory(
        organization=other_org, role="biller", user=UserFactory(email="o@harbor.example")
    ).user
    response = client_for(outsider).post(f"/o/harborview/claims/batches/{batch.pk}/retry/")
    assert response.status_code == 404
    with tenant_context(billing.org):
        assert SubmissionBatch.objects.get(pk=batch.pk).status == BatchStatus.FAILED
