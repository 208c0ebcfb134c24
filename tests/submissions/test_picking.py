"""Choosing what to send: the batch page filters the ready claims, the biller ticks some (or all
on the filter) and sees their count and amount; the batch holds exactly those claims, or none
when one of them stopped being ready or is not theirs to send."""

from __future__ import annotations

from datetime import timedelta

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from patients import services as patients_services
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import BatchClaim, SubmissionBatch
from submissions.services import batches_create
from tests.claims.conftest import Practice, dos
from tests.clock import today

BASE = "/o/riverbend/claims/batches/"


def ready_one_by_one(practice: Practice, count: int) -> list[Claim]:
    """`count` ready claims, one per weekly session (each built on its own)."""
    claims = []
    for week in range(count):
        practice.session(45, day=dos() + timedelta(days=7 * week))
        with tenant_context(practice.org):
            built = claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
            (claim,) = Claim.objects.filter(pk__in=[c.pk for c in built])
            assert claim.status == ClaimStatus.READY, list(claim.findings.values_list("message"))
            claims.append(claim)
    return claims


def test_a_biller_batches_exactly_the_claims_ticked(
    billing, biller, client_for, django_capture_on_commit_callbacks
):
    first, second, third = ready_one_by_one(billing, 3)
    client = client_for(biller)
    listing = client.get(BASE).content.decode()
    for claim in (first, second, third):
        assert f'value="{claim.pk}"' in listing
    assert "Select all 3 claims on this filter" in listing
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            BASE,
            {
                "clearinghouse": billing.clearinghouse.pk,
                "claim_ids": [first.pk, third.pk],
                "selection": "1",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(billing.org):
        batch = SubmissionBatch.objects.get()
        batched = set(BatchClaim.objects.filter(batch=batch).values_list("claim_id", flat=True))
    assert batched == {first.pk, third.pk}
    assert batch.claim_count == 2
    assert batch.total_charge == first.total_charge + third.total_charge


def test_all_on_the_filter_takes_every_matching_claim_not_only_the_page(
    billing, biller, client_for, django_capture_on_commit_callbacks
):
    claims = ready_one_by_one(billing, 2)
    client = client_for(biller)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            f"{BASE}?payer={billing.payer.pk}",
            {
                "clearinghouse": billing.clearinghouse.pk,
                "all_matching": "on",
                "expected_count": "2",
                "selection": "1",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(billing.org):
        assert set(BatchClaim.objects.values_list("claim_id", flat=True)) == {c.pk for c in claims}


def test_the_filter_by_payer_shows_only_that_payers_claims_with_their_total(
    billing, biller, client_for
):
    (claim,) = ready_one_by_one(billing, 1)
    with tenant_context(billing.org):
        other = patients_services.payer_create(
            name="Green Health", payer_id="GH001", payer_type="commercial"
        )
    client = client_for(biller)
    page = client.get(f"{BASE}?payer={billing.payer.pk}").content.decode()
    assert claim.patient_control_number in page
    assert f"on this filter (${claim.total_charge})" in page
    empty = client.get(f"{BASE}?payer={other.pk}").content.decode()
    assert claim.patient_control_number not in empty
    assert "No ready claim on this filter." in empty


def test_all_on_the_filter_is_refused_when_the_filter_no_longer_matches_what_was_shown(
    billing, biller, client_for
):
    ready_one_by_one(billing, 2)
    response = client_for(biller).post(
        BASE,
        {
            "clearinghouse": billing.clearinghouse.pk,
            "all_matching": "on",
            "expected_count": "3",
            "selection": "1",
        },
    )
    assert response.status_code == 200
    assert "now matches 2 ready claims, not the 3 shown" in response.content.decode()
    with tenant_context(billing.org):
        assert not SubmissionBatch.objects.exists()


def test_a_selection_holding_a_claim_that_stopped_being_ready_is_refused_naming_it(
    billing, biller, client_for
):
    first, second = ready_one_by_one(billing, 2)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=second.pk).update(status=ClaimStatus.DRAFT)
    response = client_for(biller).post(
        BASE,
        {
            "clearinghouse": billing.clearinghouse.pk,
            "claim_ids": [first.pk, second.pk],
            "selection": "1",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        f"No longer ready to send (changed, or in another open batch): {second.patient_control_number}"
        in page
    )
    with tenant_context(billing.org):
        assert not SubmissionBatch.objects.exists()


def test_selecting_another_organizations_claim_is_refused(billing, other_org):
    (claim,) = ready_one_by_one(billing, 1)
    with tenant_context(other_org):
        from submissions.services import clearinghouse_save

        theirs = clearinghouse_save(
            name="CH", code="ch", receiver_name="CH", receiver_id="CH01", submitter_id="S1",
            contact_name="Pat", contact_phone="5035550100",
        )  # fmt: skip
        with pytest.raises(DomainError, match="1 selected claim not found") as refused:
            batches_create(scopes=part2.ORGANIZATION, clearinghouse=theirs, claim_ids=[claim.pk])
        assert claim.patient_control_number not in refused.value.message
        assert not SubmissionBatch.objects.exists()
    with tenant_context(billing.org):
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY


def test_nothing_ticked_is_an_error_beside_the_table(billing, biller, client_for):
    ready_one_by_one(billing, 1)
    response = client_for(biller).post(
        BASE, {"clearinghouse": billing.clearinghouse.pk, "selection": "1"}
    )
    assert "Tick the claims to send, or choose all on the filter." in response.content.decode()


def test_the_picking_table_costs_a_fixed_number_of_queries(
    billing, biller, client_for, django_assert_max_num_queries
):
    ready_one_by_one(billing, 1)
    client = client_for(biller)
    client.get(BASE)
    with django_assert_max_num_queries(40) as one:
        client.get(BASE)
    ready_one_by_one_more = 2
    for week in range(1, ready_one_by_one_more + 1):
        billing.session(45, day=dos() + timedelta(days=7 * week))
        with tenant_context(billing.org):
            claims_services.claims_build(scopes=part2.ORGANIZATION, today=today())
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(BASE)


def test_batch_times_are_shown_in_the_organizations_time_zone(
    billing, biller, client_for, django_capture_on_commit_callbacks
):
    ready_one_by_one(billing, 1)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    page = client_for(biller).get(f"{BASE}{batch.pk}/").content.decode()
    listing = client_for(biller).get(BASE).content.decode()
    # Riverbend is in America/Chicago: CST in December.
    assert " CST" in page and " CST" in listing
    assert "UTC" not in page
