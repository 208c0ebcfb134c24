"""42 CFR Part 2 in the submissions area: a biller without the Part 2 grant never batches a Part 2
claim, never downloads the 837 file of a batch holding one, sees only the claims of a batch and
the rejections they may see (with the note saying how many were left out), and cannot take a
Part 2 rejection off the queue; the grant holder gets everything, as before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from rcm.audit.models import AuditEvent
from rcm.part2 import ORGANIZATION
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    BatchStatus,
    ClaimRejection,
    SubmissionBatch,
)
from submissions.services import batch_build, batches_create
from tests.claims.conftest import dos
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory
from tests.submissions.conftest import bill_ready

pytestmark = pytest.mark.django_db

BASE = "/o/riverbend/claims/batches/"
API = "/api/v1/"
HEADER = "X-Part2-Hidden"
NOTE = b"1 restricted record not shown"
PLAIN = ["claims:read", "claims:write"]
GRANTED = [*PLAIN, "part2:read"]


@pytest.fixture
def plain_biller(org: Any) -> Any:
    """Pat bills at Riverbend like Bill, without the Part 2 grant."""
    return MembershipFactory(
        organization=org,
        role=Role.BILLER,
        user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user


@pytest.fixture
def two_ready(billing: Any) -> tuple[Claim, Claim]:
    """Two ready claims, the second flagged Part 2: (ordinary, Part 2)."""
    (ordinary,) = bill_ready(billing)
    billing.session(45, day=dos() + timedelta(days=7))
    with tenant_context(billing.org):
        (other,) = claims_services.claims_build(scopes=ORGANIZATION, today=today()).claims
        Claim.objects.filter(pk=other.pk).update(is_part2=True)
        part2 = Claim.objects.get(pk=other.pk)
    assert part2.status == ClaimStatus.READY
    return ordinary, part2


@pytest.fixture
def released(billing: Any, two_ready: Any) -> SubmissionBatch:
    """A released batch of both claims (built while neither was flagged, so its file is real),
    the second flagged Part 2 afterwards."""
    part2 = two_ready[1]
    with tenant_context(billing.org):
        Claim.objects.filter(pk=part2.pk).update(is_part2=False)
        batch = batches_create(scopes=ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.RELEASED and batch.claim_count == 2
    with tenant_context(billing.org):
        Claim.objects.filter(pk=part2.pk).update(is_part2=True)
    return batch


def _batched(org: Any) -> set[Any]:
    with tenant_context(org):
        return set(BatchClaim.objects.values_list("claim_id", flat=True))


def test_a_batch_of_every_ready_claim_leaves_the_part2_claim_out_without_the_grant(
    billing: Any, two_ready: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_ready
    client = client_for(plain_biller)
    listing = client.get(BASE)
    assert b"Ready to send: 1 837P" in listing.content and NOTE in listing.content
    granted = client_for(biller).get(BASE).content
    assert b"Ready to send: 2 837P" in granted and b"restricted record" not in granted
    assert client.post(BASE, {"clearinghouse": billing.clearinghouse.pk}).status_code == 302
    assert _batched(billing.org) == {ordinary.pk}
    with tenant_context(billing.org):
        assert SubmissionBatch.objects.get().claim_count == 1
    # The Part 2 claim is still ready, for a member with the grant to send.
    client_for(biller).post(BASE, {"clearinghouse": billing.clearinghouse.pk})
    assert _batched(billing.org) == {ordinary.pk, part2.pk}


def test_the_api_batches_only_the_claims_the_key_may_see(
    billing: Any, two_ready: Any, api_client_for: Any
) -> None:
    ordinary, part2 = two_ready
    plain = api_client_for(billing.org, PLAIN)
    clearinghouse = str(billing.clearinghouse.pk)
    named = plain.post(
        f"{API}claim-batches/",
        {"clearinghouse": clearinghouse, "claim_ids": [str(part2.pk)]},
        format="json",
    )
    assert named.status_code == 400  # as for an id that is no ready claim
    assert part2.patient_control_number.encode() not in named.content
    assert _batched(billing.org) == set()
    every = plain.post(f"{API}claim-batches/", {"clearinghouse": clearinghouse}, format="json")
    assert every.status_code == 201 and [b["claim_count"] for b in every.json()] == [1]
    assert part2.patient_control_number.encode() not in every.content
    assert _batched(billing.org) == {ordinary.pk}
    granted = api_client_for(billing.org, GRANTED)
    sent = granted.post(
        f"{API}claim-batches/",
        {"clearinghouse": clearinghouse, "claim_ids": [str(part2.pk)]},
        format="json",
    )
    assert sent.status_code == 201
    assert _batched(billing.org) == {ordinary.pk, part2.pk}


def test_the_file_of_a_batch_holding_a_part2_claim_needs_the_grant(
    billing: Any,
    released: SubmissionBatch,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    assert client_for(plain_biller).get(f"{BASE}{released.pk}/file/").status_code == 404
    assert (
        api_client_for(billing.org, PLAIN)
        .get(f"{API}claim-batches/{released.pk}/file/")
        .status_code
        == 404
    )
    html = client_for(biller).get(f"{BASE}{released.pk}/file/")
    assert html.status_code == 200 and html.content == released.content.encode()
    api = api_client_for(billing.org, GRANTED).get(f"{API}claim-batches/{released.pk}/file/")
    assert api.status_code == 200
    with tenant_context(billing.org):
        downloads = AuditEvent.objects.filter(
            action="view", object_type="submissions.submissionbatch"
        )
        assert [e.part2 for e in downloads] == [True, True]


def test_the_file_of_a_batch_without_part2_claims_needs_no_grant(
    billing: Any, released: SubmissionBatch, plain_biller: Any, client_for: Any
) -> None:
    with tenant_context(billing.org):
        Claim.objects.update(is_part2=False)
    assert client_for(plain_biller).get(f"{BASE}{released.pk}/file/").status_code == 200
    with tenant_context(billing.org):
        (download,) = AuditEvent.objects.filter(
            action="view", object_type="submissions.submissionbatch"
        )
        assert download.part2 is False


def test_the_batch_page_lists_only_the_claims_the_member_may_see(
    billing: Any,
    two_ready: Any,
    released: SubmissionBatch,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
) -> None:
    ordinary, part2 = two_ready
    page = client_for(plain_biller).get(f"{BASE}{released.pk}/")
    assert page.status_code == 200
    assert [i.claim_id for i in page.context["items"]] == [ordinary.pk]
    assert ordinary.patient_control_number.encode() in page.content
    assert part2.patient_control_number.encode() not in page.content
    assert NOTE in page.content
    granted = client_for(biller).get(f"{BASE}{released.pk}/")
    assert {i.claim_id for i in granted.context["items"]} == {ordinary.pk, part2.pk}
    assert b"restricted record" not in granted.content


@pytest.fixture
def two_rejections(billing: Any, two_ready: Any, released: SubmissionBatch) -> list[Any]:
    with tenant_context(billing.org):
        ack = Acknowledgment.objects.create(
            kind="277CA", batch=released, sha256="part2-test", content="ISA*~", source="upload",
            summary="277CA: 0 accepted, 2 rejected", rejected_count=2,
        )  # fmt: skip
        return [
            ClaimRejection.objects.create(
                claim=claim,
                batch=released,
                acknowledgment=ack,
                source="277CA",
                reason=f"Rejected {n}",
            )
            for n, claim in enumerate(two_ready)
        ]


def test_the_rejections_queue_hides_the_part2_one_and_will_not_resolve_it(
    billing: Any,
    two_ready: Any,
    two_rejections: list[Any],
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    part2 = two_ready[1]
    visible, hidden = two_rejections
    client = client_for(plain_biller)
    queue = client.get(f"{BASE}rejections/")
    assert [r.pk for r in queue.context["page"]] == [visible.pk]
    assert part2.patient_control_number.encode() not in queue.content and NOTE in queue.content
    assert client.post(f"{BASE}rejections/{hidden.pk}/resolve/").status_code == 404
    with tenant_context(billing.org):
        assert ClaimRejection.objects.get(pk=hidden.pk).resolved_at is None
    listed = api_client_for(billing.org, PLAIN).get(f"{API}claim-rejections/")
    assert [r["id"] for r in listed.json()["results"]] == [str(visible.pk)]
    assert listed[HEADER] == "1"
    granted = client_for(biller).get(f"{BASE}rejections/")
    assert {r.pk for r in granted.context["page"]} == {visible.pk, hidden.pk}
    assert b"restricted record" not in granted.content
    assert client_for(biller).post(f"{BASE}rejections/{hidden.pk}/resolve/").status_code == 302
    with tenant_context(billing.org):
        assert ClaimRejection.objects.get(pk=hidden.pk).resolved_at is not None
    full = api_client_for(billing.org, GRANTED).get(f"{API}claim-rejections/?show=all")
    assert len(full.json()["results"]) == 2 and full[HEADER] == "0"


def test_a_part2_claim_named_in_a_failed_batch_is_left_out_of_its_reasons(
    billing: Any,
    two_ready: Any,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    """A member with the grant batched the Part 2 claim, which no consent covers: the reasons
    name its control number, which a member without the grant must not read."""
    part2 = two_ready[1]
    with tenant_context(billing.org):
        batch = batches_create(scopes=ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.FAILED
    assert part2.patient_control_number in batch.error
    pcn = part2.patient_control_number.encode()
    page = client_for(plain_biller).get(f"{BASE}{batch.pk}/")
    assert pcn not in page.content
    assert b"1 reason about restricted claims not shown." in page.content
    api = api_client_for(billing.org, PLAIN)
    assert pcn not in api.get(f"{API}claim-batches/{batch.pk}/").content
    assert pcn not in api.get(f"{API}claim-batches/").content
    assert pcn in client_for(biller).get(f"{BASE}{batch.pk}/").content
    granted = api_client_for(billing.org, GRANTED).get(f"{API}claim-batches/{batch.pk}/")
    assert pcn in granted.content


def test_sending_a_batch_holding_a_part2_claim_again_needs_the_grant(
    billing: Any, released: SubmissionBatch, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(billing.org):
        SubmissionBatch.objects.filter(pk=released.pk).update(transport_detail="")
    assert client_for(plain_biller).post(f"{BASE}{released.pk}/send/").status_code == 404
    with tenant_context(billing.org):
        assert SubmissionBatch.objects.get(pk=released.pk).transport_detail == ""
    assert client_for(biller).post(f"{BASE}{released.pk}/send/").status_code == 302
    with tenant_context(billing.org):
        assert SubmissionBatch.objects.get(pk=released.pk).transport_detail.startswith("Deliver")
