"""Notes on patients, claims and denials: written, searched, corrected and retracted (append-
only), audited, hidden by 42 CFR Part 2 from members without the grant, and never on another
organization's records."""

from __future__ import annotations

from typing import Any

import pytest

from claims import services as claims_services
from claims.models import Claim
from denials.notes import note_add
from patients.models import Note
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Role
from tests.claims.test_part2 import (
    _sud_session,
    sud,  # noqa: F401  (fixture re-export)
)
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def plain_biller(org: Any) -> Any:
    """Pat bills at Riverbend like Bill, without the Part 2 grant."""
    return MembershipFactory(
        organization=org,
        role=Role.BILLER,
        user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user


def build(practice, episode=None) -> Claim:
    entry = _sud_session(practice, episode) if episode else practice.session(45)
    with tenant_context(practice.org):
        (claim,) = claims_services.claims_build(
            scopes=part2.ORGANIZATION, entry_ids=[entry.pk], today=today()
        ).claims
    return claim


def url(practice, path: str) -> str:
    return f"/o/{practice.org.slug}/denials/{path}"


def test_a_biller_adds_a_note_to_a_claim_and_finds_it_by_search(practice, biller, client_for):
    claim = build(practice)
    client = client_for(biller)
    added = client.post(
        url(practice, f"notes/claim/{claim.pk}/new/"),
        {"body": "Called Blue Plan: reprocessing in 10 days"},
    )
    assert added.status_code == 302
    with tenant_context(practice.org):
        note = Note.objects.get()
        assert (note.subject_type, note.subject_id, note.patient_id) == (
            "claim",
            claim.pk,
            practice.patient.pk,
        )
        assert note.author == biller and not note.part2
        assert AuditEvent.objects.filter(action="note.create", object_id=str(note.pk)).exists()
    account = client.get(url(practice, f"claims/{claim.pk}/account/")).content.decode()
    assert "reprocessing in 10 days" in account
    found = client.get(url(practice, "notes/"), {"q": "REPROCESSING"}).content.decode()
    assert "reprocessing in 10 days" in found
    missed = client.get(url(practice, "notes/"), {"q": "appeal"}).content.decode()
    assert "reprocessing in 10 days" not in missed and "No notes match" in missed
    within = client.get(
        url(practice, "notes/"), {"patient": str(practice.patient.pk), "q": "blue"}
    ).content.decode()
    assert "reprocessing in 10 days" in within


def test_an_empty_note_is_refused_beside_its_field_and_nothing_is_written(
    practice, biller, client_for, api_client_for
):
    claim = build(practice)
    page = client_for(biller).post(
        url(practice, f"notes/claim/{claim.pk}/new/"),
        {"body": "   "},
        HTTP_HX_REQUEST="true",
    )
    assert page.status_code == 422
    assert 'id="id_body_error"' in page.content.decode()
    assert "Write the note: it is empty." in page.content.decode()
    api = api_client_for(practice.org, ["claims:read", "claims:write"])
    answer = api.post(
        f"{API}/notes/",
        {"subject_type": "claim", "subject_id": str(claim.pk), "body": ""},
        format="json",
    )
    assert answer.status_code == 400 and "body" in answer.content.decode()
    with tenant_context(practice.org):
        assert not Note.objects.exists()


def test_another_organizations_claim_takes_no_note(
    practice, outsider, other_org, client_for, api_client_for
):
    claim = build(practice)
    page = client_for(outsider).post(
        f"/o/{other_org.slug}/denials/notes/claim/{claim.pk}/new/", {"body": "mine now"}
    )
    assert page.status_code == 404
    api = api_client_for(other_org, ["claims:read", "claims:write", "part2:read"])
    answer = api.post(
        f"{API}/notes/",
        {"subject_type": "claim", "subject_id": str(claim.pk), "body": "mine now"},
        format="json",
    )
    assert answer.status_code == 404
    with tenant_context(practice.org):
        assert not Note.objects.exists()


def test_a_member_without_the_part2_grant_sees_no_part2_note(
    practice,
    sud,  # noqa: F811
    biller,
    plain_biller,
    client_for,
    api_client_for,
):
    ordinary = build(practice)
    restricted = build(practice, episode=sud)
    assert restricted.is_part2
    with tenant_context(practice.org):
        for claim, body in ((ordinary, "ordinary follow-up"), (restricted, "SUD claim follow-up")):
            note_add(
                subject_type="claim",
                subject_id=claim.pk,
                body=body,
                author=biller,
                scopes=part2.ORGANIZATION,
            )
    plain = client_for(plain_biller)
    listed = plain.get(url(practice, "notes/")).content.decode()
    assert "ordinary follow-up" in listed and "SUD claim follow-up" not in listed
    assert 'data-part2-hidden="1"' in listed
    assert plain.get(url(practice, f"claims/{restricted.pk}/account/")).status_code == 404
    assert (
        plain.post(url(practice, f"notes/claim/{restricted.pk}/new/"), {"body": "x"}).status_code
        == 404
    )
    api = api_client_for(practice.org, ["claims:read"])
    assert api.get(f"{API}/claim-accounts/{restricted.pk}/").status_code == 404
    assert api.get(f"{API}/claim-accounts/{ordinary.pk}/").status_code == 200
    answer = api.get(f"{API}/notes/")
    assert [n["body"] for n in answer.json()["results"]] == ["ordinary follow-up"]
    assert answer["X-Part2-Hidden"] == "1"
    granted = client_for(biller).get(url(practice, "notes/")).content.decode()
    assert "SUD claim follow-up" in granted


def test_a_correction_keeps_the_original_and_a_retraction_hides_the_text(
    practice, biller, client_for
):
    claim = build(practice)
    with tenant_context(practice.org):
        note = note_add(
            subject_type="claim",
            subject_id=claim.pk,
            body="Payer said 30 days",
            author=biller,
            scopes=part2.ORGANIZATION,
        )
    client = client_for(biller)
    refused = client.post(url(practice, f"notes/{note.pk}/"), {"action": "retract", "reason": ""})
    assert (
        refused.status_code == 400 and "Say why the note is retracted." in refused.content.decode()
    )
    client.post(
        url(practice, f"notes/{note.pk}/"), {"action": "correct", "body": "Payer said 45 days"}
    )
    with tenant_context(practice.org):
        old, new = Note.objects.order_by("created_at")
        assert old.body == "Payer said 30 days" and old.corrected_at is not None
        assert new.corrects_id == old.pk and new.is_current
    again = client.post(url(practice, f"notes/{old.pk}/"), {"action": "correct", "body": "x"})
    assert again.status_code == 400
    client.post(url(practice, f"notes/{new.pk}/"), {"action": "retract", "reason": "wrong claim"})
    account = client.get(url(practice, f"claims/{claim.pk}/account/")).content.decode()
    assert "<del>Payer said 30 days</del>" in account
    assert "Payer said 45 days" not in account and "note retracted" in account
    with tenant_context(practice.org):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"note.create", "note.correct", "note.retract"} <= actions
    assert (
        "Payer said 45 days" not in client.get(url(practice, f"notes/{new.pk}/")).content.decode()
    )
    assert "Payer said 45 days" not in client.get(url(practice, "notes/")).content.decode()


def test_the_notes_list_costs_the_same_queries_for_one_note_or_many(
    practice, biller, client_for, django_assert_max_num_queries
):
    claim = build(practice)
    client = client_for(biller)

    def add(n: int) -> None:
        with tenant_context(practice.org):
            for i in range(n):
                note_add(
                    subject_type="claim",
                    subject_id=claim.pk,
                    body=f"note {i}",
                    author=biller,
                    scopes=part2.ORGANIZATION,
                )

    add(1)
    with django_assert_max_num_queries(40) as one:
        client.get(url(practice, "notes/"))
    add(10)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url(practice, "notes/"))
    with django_assert_max_num_queries(60) as account_one:
        client.get(url(practice, f"claims/{claim.pk}/account/"))
    add(5)
    with django_assert_max_num_queries(len(account_one.captured_queries)):
        client.get(url(practice, f"claims/{claim.pk}/account/"))


def test_the_work_items_detail_carries_the_notes_on_its_claim_and_denial(
    practice, submitted, biller, client_for, api_client_for
):
    from decimal import Decimal

    from denials.models import Denial, WorkItem
    from tests.denials.x835 import Clp, Svc, build_835
    from tests.desk.test_claim_money import post

    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    svc = Svc("90834", Decimal("150"), Decimal("0"), lcn=lcn, cas=[("CO", "50", Decimal("150"))])
    post(
        practice,
        build_835(
            [Clp(claim.patient_control_number, "4", Decimal("150"), Decimal("0"), lines=[svc])]
        ),
    )
    with tenant_context(practice.org):
        denial = Denial.objects.get()
        item = WorkItem.objects.get(kind="denial")
    client = client_for(biller)
    client.post(url(practice, f"notes/denial/{denial.pk}/new/"), {"body": "Records requested"})
    client.post(url(practice, f"notes/claim/{claim.pk}/new/"), {"body": "Claim looks right"})
    api = api_client_for(practice.org, ["denials:read", "claims:read"])
    data = api.get(f"{API}/work-items/{item.pk}/").json()
    assert sorted(n["body"] for n in data["record_notes"]) == [
        "Claim looks right",
        "Records requested",
    ]
    panel = client.get(
        url(practice, "notes/"),
        {"subject_type": "denial", "subject_id": str(denial.pk)},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Records requested" in panel and "Claim looks right" not in panel
    assert 'id="note-form"' in panel


def test_the_claim_page_searches_its_own_notes(practice, biller, client_for):
    claim = build(practice)
    other = build(practice)
    with tenant_context(practice.org):
        for subject, body in ((claim, "Resubmit with the auth number"), (other, "Resubmit later")):
            note_add(
                subject_type="claim",
                subject_id=subject.pk,
                body=body,
                author=biller,
                scopes=part2.ORGANIZATION,
            )
    client = client_for(biller)
    account = client.get(url(practice, f"claims/{claim.pk}/account/")).content.decode()
    assert 'id="claim-notes-search"' in account
    found = client.get(
        url(practice, "notes/"),
        {"subject_type": "claim", "subject_id": str(claim.pk), "q": "resubmit"},
    ).content.decode()
    assert "Resubmit with the auth number" in found and "Resubmit later" not in found
    assert (
        client.get(
            url(practice, "notes/"), {"subject_type": "claim", "subject_id": "not-a-uuid"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "query, named",
    [
        ("subject_type=&subject_id=x", ["subject_type", "subject_id"]),
        ("subject_type=invoice&subject_id=6f349409-3c46-4947-89d0-ea8e73e02a14", ["subject_type"]),
        ("subject_type=claim", ["subject_id"]),
        ("patient=", ["patient"]),
        ("patient=not-a-uuid", ["patient"]),
    ],
)
def test_a_notes_filter_with_a_value_it_cannot_hold_is_a_400_naming_it(
    practice, api_client_for, query, named
):
    api = api_client_for(practice.org, ["claims:read"])
    answer = api.get(f"{API}/notes/?{query}")
    assert answer.status_code == 400
    for name in named:
        assert name in answer.content.decode()
