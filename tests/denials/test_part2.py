"""42 CFR Part 2 in the denials area: a biller without the Part 2 grant never gets a Part 2
denial, work item, appeal, letter or secondary balance (lists, API lists, CSV, detail pages,
actions, take-next, bulk builds), and every list says how many it left out; the grant holder
gets everything, as before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from claims.models import Claim
from denials import services
from denials.models import Appeal, Denial, SecondaryClaim, WorkItem
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.claims.conftest import dos
from tests.clock import today
from tests.denials.conftest import add_medicaid
from tests.denials.test_posting import post
from tests.denials.test_views import _denial_file
from tests.factories import MembershipFactory, UserFactory
from tests.submissions.conftest import billing as billing  # the fixture

pytestmark = pytest.mark.django_db

NOTE = b"1 restricted record not shown"
HEADER = "X-Part2-Hidden"


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
def two_denials(practice: Any, submitted: Any) -> tuple[Denial, Denial]:
    """A medical-necessity denial on an ordinary claim and one on a Part 2 claim (each with its
    work item, due and unassigned); returns (ordinary, part2)."""
    denials = []
    for i, part2 in enumerate((False, True)):
        claim = submitted(start=dos() + timedelta(days=i))
        with tenant_context(practice.org):
            if part2:
                Claim.objects.filter(pk=claim.pk).update(is_part2=True)
            lcn = claim.lines.get().line_control_number
        post(practice.org, _denial_file(claim, lcn, carc="50", trace=f"P2T{i}"))
        with tenant_context(practice.org):
            denials.append(Denial.objects.get(claim=claim))
    with tenant_context(practice.org):
        WorkItem.objects.update(is_due=True, assignee=None)
        # The Part 2 item first in line: take-next must still never hand it out.
        WorkItem.objects.filter(claim_id=denials[1].claim_id).update(priority_score=999)
    return denials[0], denials[1]


def _pcn(denial: Denial) -> bytes:
    with tenant_context(denial.organization_id):
        return Claim.objects.get(pk=denial.claim_id).patient_control_number.encode()


def _item(denial: Denial) -> WorkItem:
    with tenant_context(denial.organization_id):
        return WorkItem.objects.get(kind="denial", source_id=denial.pk)


def test_the_queue_leaves_the_part2_item_out_and_says_so(
    two_denials: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_denials
    page = client_for(plain_biller).get("/o/riverbend/denials/")
    assert page.status_code == 200
    assert _pcn(ordinary) in page.content and _pcn(part2) not in page.content
    assert NOTE in page.content and b'data-part2-hidden="1"' in page.content
    granted = client_for(biller).get("/o/riverbend/denials/")
    assert _pcn(ordinary) in granted.content and _pcn(part2) in granted.content
    assert b"restricted record" not in granted.content


def test_api_lists_leave_part2_rows_out_and_count_them_in_a_header(
    practice: Any, two_denials: Any, api_client_for: Any
) -> None:
    ordinary, part2 = two_denials
    plain = api_client_for(practice.org, ["denials:read", "denials:write"])
    granted = api_client_for(practice.org, ["denials:read", "part2:read"])
    for url in ("/api/v1/work-items/", "/api/v1/denials/", "/api/v1/adjustments/"):
        answer = plain.get(url)
        ids = {row["claim"] for row in answer.json()["results"]}
        assert str(part2.claim_id) not in ids and str(ordinary.claim_id) in ids, url
        assert int(answer[HEADER]) >= 1, url
        full = granted.get(url)
        assert str(part2.claim_id) in {row["claim"] for row in full.json()["results"]}, url
        assert full[HEADER] == "0", url
    assert plain.get("/api/v1/work-items/")[HEADER] == "1"
    # Details and actions: not found, as for a row that does not exist.
    item = _item(part2)
    assert plain.get(f"/api/v1/denials/{part2.pk}/").status_code == 404
    assert plain.get(f"/api/v1/work-items/{item.pk}/").status_code == 404
    moved = plain.post(
        f"/api/v1/work-items/{item.pk}/update_status/", {"status": "resolved_paid"}, format="json"
    )
    assert moved.status_code == 404
    assigned = plain.post(
        "/api/v1/work-items/assign/", {"items": [str(item.pk)], "assignee": None}, format="json"
    )
    assert assigned.status_code == 200 and assigned.json() == {"assigned": 0}
    with tenant_context(practice.org):
        item.refresh_from_db()
        assert item.status == "new" and not item.events.filter(note__startswith="Assigned").exists()
    assert granted.get(f"/api/v1/denials/{part2.pk}/").status_code == 200


def test_the_parity_csv_and_page_leave_the_part2_denial_out(
    two_denials: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_denials
    plain = client_for(plain_biller)
    csv_answer = plain.get("/o/riverbend/denials/parity/packet.csv")
    assert csv_answer.status_code == 200
    assert _pcn(ordinary) in csv_answer.content and _pcn(part2) not in csv_answer.content
    assert int(csv_answer[HEADER]) >= 1
    page = plain.get("/o/riverbend/denials/parity/")
    assert str(part2.pk).encode() not in page.content and b"restricted record" in page.content
    full = client_for(biller).get("/o/riverbend/denials/parity/packet.csv")
    assert _pcn(part2) in full.content and full[HEADER] == "0"


def test_a_part2_denial_its_appeal_and_letter_are_not_found_and_nothing_changes(
    practice: Any, two_denials: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    _, part2 = two_denials
    with tenant_context(practice.org):
        appeal = services.appeal_create(denial=part2, level="level_1", today=today())
    plain = client_for(plain_biller)
    base = "/o/riverbend/denials"
    for url in (
        f"{base}/denials/{part2.pk}/",
        f"{base}/appeals/{appeal.pk}/letter/",
        f"{base}/appeals/{appeal.pk}/letter.pdf",
        f"{base}/items/{_item(part2).pk}/",
    ):
        assert plain.get(url).status_code == 404, url
    posts = {
        f"{base}/denials/{part2.pk}/": {"status": "resolved_paid"},
        f"{base}/denials/{part2.pk}/appeal/": {"level": "level_2"},
        f"{base}/appeals/{appeal.pk}/letter/": {"letter_body": "changed"},
        f"{base}/appeals/{appeal.pk}/submit/": {"submitted_on": today(), "method": "fax"},
    }
    for url, data in posts.items():
        assert plain.post(url, data).status_code == 404, url
    with tenant_context(practice.org):
        appeal.refresh_from_db()
        assert appeal.submitted_on is None and appeal.letter_body != "changed"
        assert Appeal.objects.count() == 1
        assert _item(part2).status == "new"
    granted = client_for(biller)
    assert granted.get(f"{base}/denials/{part2.pk}/").status_code == 200
    assert granted.get(f"{base}/appeals/{appeal.pk}/letter/").status_code == 200


def test_take_next_never_hands_out_the_part2_item(
    practice: Any, two_denials: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_denials
    plain = client_for(plain_biller)
    first = plain.post("/o/riverbend/denials/take-next/")
    assert first.status_code == 302 and str(_item(ordinary).pk) in first["Location"]
    second = plain.post("/o/riverbend/denials/take-next/")
    assert second["Location"].endswith("/denials/")  # the queue is clear for Pat
    assert _item(part2).assignee_id is None
    taken = client_for(biller).post("/o/riverbend/denials/take-next/")
    assert str(_item(part2).pk) in taken["Location"]


def test_bulk_assign_ignores_the_part2_item(
    practice: Any, two_denials: Any, plain_biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_denials
    ids = [str(_item(ordinary).pk), str(_item(part2).pk)]
    response = client_for(plain_biller).post(
        "/o/riverbend/denials/assign/", {"items": ids, "assignee": str(plain_biller.pk)}
    )
    assert response.status_code == 302
    assert _item(part2).assignee_id is None
    with tenant_context(practice.org):
        assert (
            services.work_items_assign(
                item_ids=ids, assignee=plain_biller, scopes=frozenset({"denials:write"})
            )
            == 1
        )
    assert _item(part2).assignee_id is None and _item(ordinary).assignee_id == plain_biller.pk


@pytest.fixture
def two_secondaries(billing: Any) -> tuple[SecondaryClaim, SecondaryClaim]:
    """Two balances moved to State Medicaid, to bill: (ordinary, part2)."""
    from tests.denials.test_secondary import primary_pays, submit_primary

    add_medicaid(billing)
    rows = []
    for i, part2 in enumerate((False, True)):
        primary = submit_primary(billing, day=dos() + timedelta(days=i))
        if part2:
            with tenant_context(billing.org):
                Claim.objects.filter(pk=primary.pk).update(is_part2=True)
        primary_pays(billing, primary, trace=f"SEC{i}")
        with tenant_context(billing.org):
            rows.append(SecondaryClaim.objects.get(primary_claim=primary))
    return rows[0], rows[1]


def test_building_every_secondary_leaves_the_part2_one_unbuilt(
    billing: Any, two_secondaries: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_secondaries
    plain = client_for(plain_biller)
    page = plain.get("/o/riverbend/denials/secondaries/")
    assert str(part2.pk).encode() not in page.content and NOTE in page.content
    # Selected by id or "build every claim waiting": only the visible balance is built.
    assert plain.post("/o/riverbend/denials/secondaries/", {"secondary": [str(part2.pk)]})
    with tenant_context(billing.org):
        part2.refresh_from_db()
        assert part2.status == "to_bill" and part2.claim_id is None
    assert plain.post("/o/riverbend/denials/secondaries/", {"all": "1"}).status_code == 302
    with tenant_context(billing.org):
        ordinary.refresh_from_db()
        part2.refresh_from_db()
        assert ordinary.status == "billed" and ordinary.claim_id is not None
        assert part2.status == "to_bill" and part2.claim_id is None
    client_for(biller).post("/o/riverbend/denials/secondaries/", {"all": "1"})
    with tenant_context(billing.org):
        part2.refresh_from_db()
        assert part2.status == "billed"


def test_the_secondaries_api_answers_404_for_the_part2_balance(
    billing: Any, two_secondaries: Any, api_client_for: Any
) -> None:
    ordinary, part2 = two_secondaries
    plain = api_client_for(billing.org, ["claims:read", "claims:write"])
    listed = plain.get("/api/v1/secondary-claims/")
    assert [row["id"] for row in listed.json()["results"]] == [str(ordinary.pk)]
    assert listed[HEADER] == "1"
    assert plain.post(f"/api/v1/secondary-claims/{part2.pk}/build/").status_code == 404
    with tenant_context(billing.org):
        part2.refresh_from_db()
        assert part2.status == "to_bill"
