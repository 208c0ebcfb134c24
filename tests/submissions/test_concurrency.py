from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from claims.models import ClaimStatus
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus, SubmissionBatch
from submissions.services import batch_build, batches_create
from tests import clock
from tests.claims.conftest import admitted
from tests.clock import years_ago
from tests.submissions.conftest import bill_ready


def _second_patient(practice) -> None:
    with tenant_context(practice.org):
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn="C-2", first_name="Sam", last_name="Lee", date_of_birth=date(1990, 2, 3), sex="M",
            address_line1="9 Oak St", city="Portland", state="OR", postal_code="97201",
        )  # fmt: skip
        patients_services.coverage_create(patient=patient, payer=practice.payer, member_id="W2",
                                          effective_date=years_ago(1))  # fmt: skip
        episode = patients_services.episode_open(scopes=part2.ORGANIZATION, today=clock.today(), patient=patient, program_type="mental_health",
                                                 admission_date=admitted(), level="1")  # fmt: skip
        patients_services.diagnosis_add(episode=episode, code="F41.1")
    practice.patient, practice.episode = patient, episode


@pytest.mark.django_db(transaction=True)
def test_two_batches_built_at_the_same_time_get_distinct_increasing_control_numbers(billing):
    bill_ready(billing)
    _second_patient(billing)
    claims = bill_ready(billing)
    assert len(claims) == 2
    with tenant_context(billing.org):
        batches = [
            batches_create(
                scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse, claim_ids=[claim.pk]
            )[0]
            for claim in claims
        ]
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def build(batch_id) -> None:
        try:
            barrier.wait(timeout=10)
            batch_build(organization_id=billing.org.pk, batch_id=batch_id)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=build, args=(b.pk,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with tenant_context(billing.org):
        built = list(SubmissionBatch.objects.order_by("interchange_control_number"))
        assert [b.status for b in built] == [BatchStatus.RELEASED, BatchStatus.RELEASED]
        assert [b.interchange_control_number for b in built] == [1, 2]
        assert [b.group_control_number for b in built] == [1, 2]
        assert [b.transaction_control_number for b in built] == [1, 2]
        assert {c.status for c in claims[0].__class__.objects.all()} == {ClaimStatus.SUBMITTED}
        # Each file carries its own numbers in ISA13 / GS06 / ST02 / SE02 / GE02 / IEA02.
        for batch in built:
            n = batch.interchange_control_number
            assert f"*{n:09d}*0*T*:~" in batch.content and f"IEA*1*{n:09d}~" in batch.content
            assert f"ST*837*{n:04d}*005010X222A1~" in batch.content
