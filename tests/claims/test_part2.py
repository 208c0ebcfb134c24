"""42 CFR Part 2 in the claims area: a biller without the Part 2 grant never gets a Part 2
charge, claim or finding (lists, API lists, the charge form's episodes, detail pages, builds,
re-scrubs), and every list says how many it left out; the grant holder gets everything, as
before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from claims import services
from claims.models import Claim, ClaimFinding, EntryStatus, ServiceEntry
from patients import services as patients_services
from rcm.audit.models import AuditEvent
from rcm.part2 import ORGANIZATION
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.claims.conftest import Practice, admitted, at, dos
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/o/riverbend/claims"
API = "/api/v1"
HEADER = "X-Part2-Hidden"
NOTE = b"1 restricted record not shown"


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
def sud(practice: Practice) -> Any:
    """Jane Doe's substance use episode beside her mental health one (F10.20 since
    `admitted()`): its records are Part 2."""
    with tenant_context(practice.org):
        episode = patients_services.episode_open(
            scopes=ORGANIZATION,
            today=today(),
            patient=practice.patient,
            program_type="substance_use",
            admission_date=admitted(),
            level="1",
        )
        patients_services.diagnosis_add(episode=episode, code="F10.20")
    return episode


def _sud_session(practice: Practice, episode: Any, day: Any = None) -> ServiceEntry:
    day = day or dos() + timedelta(days=1)
    with tenant_context(practice.org):
        return services.service_entry_create(
            scopes=ORGANIZATION,
            patient=practice.patient,
            episode=episode,
            rendering_provider=practice.provider,
            date_of_service=day,
            kind="psychotherapy",
            start_at=at(day, 9),
            end_at=at(day, 9, 45),
            documentation_signed=True,
            today=today(),
        )


@pytest.fixture
def two_charges(practice: Practice, sud: Any) -> tuple[ServiceEntry, ServiceEntry]:
    """An open charge on each episode: (ordinary, Part 2)."""
    return practice.session(45), _sud_session(practice, sud)


@pytest.fixture
def two_claims(practice: Practice, two_charges: Any) -> tuple[Claim, Claim]:
    """Both charges built (by the organization as a whole) into a claim each: (ordinary,
    Part 2). The Part 2 one waits in draft for a consent to disclose."""
    with tenant_context(practice.org):
        services.claims_build(scopes=ORGANIZATION, today=today())
        ordinary = Claim.objects.get(is_part2=False)
        part2 = Claim.objects.get(is_part2=True)
    return ordinary, part2


def _status(org: Any, entry: ServiceEntry) -> str:
    with tenant_context(org):
        return ServiceEntry.objects.get(pk=entry.pk).status


# --- Charges and building ----------------------------------------------------------------------


def test_building_without_the_grant_bills_only_the_visible_charge_and_says_so(
    practice: Practice, two_charges: Any, plain_biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_charges
    response = client_for(plain_biller).post(f"{BASE}/build/", follow=True)
    html = response.content.decode()
    assert "Built 1 claim(s)" in html
    assert "1 restricted charge not billed (42 CFR Part 2" in html
    assert _status(practice.org, ordinary) == EntryStatus.BILLED
    assert _status(practice.org, part2) == EntryStatus.OPEN
    with tenant_context(practice.org):
        assert not Claim.objects.filter(is_part2=True).exists()


def test_building_with_the_grant_bills_both_charges(
    practice: Practice, two_charges: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_charges
    html = client_for(biller).post(f"{BASE}/build/", follow=True).content.decode()
    assert "Built 2 claim(s)" in html and "restricted" not in html
    assert _status(practice.org, ordinary) == _status(practice.org, part2) == EntryStatus.BILLED


def test_the_api_build_ignores_a_part2_charge_like_an_unknown_one(
    practice: Practice, two_charges: Any, api_client_for: Any
) -> None:
    ordinary, part2 = two_charges
    plain = api_client_for(practice.org, ["claims:read", "claims:write"])
    named = plain.post(f"{API}/claims/build/", {"charges": [str(part2.pk)]}, format="json")
    assert named.status_code == 201
    assert named.json() == {"claims": [], "skipped": {}, "part2_hidden": 0}
    assert _status(practice.org, part2) == EntryStatus.OPEN
    every = plain.post(f"{API}/claims/build/", {}, format="json")
    assert every.status_code == 201 and every[HEADER] == "1"
    assert len(every.json()["claims"]) == 1 and every.json()["part2_hidden"] == 1
    assert _status(practice.org, ordinary) == EntryStatus.BILLED
    assert _status(practice.org, part2) == EntryStatus.OPEN
    granted = api_client_for(practice.org, ["claims:read", "claims:write", "part2:read"])
    built = granted.post(f"{API}/claims/build/", {"charges": [str(part2.pk)]}, format="json")
    assert len(built.json()["claims"]) == 1 and built[HEADER] == "0"
    assert _status(practice.org, part2) == EntryStatus.BILLED


def test_the_charges_page_and_api_leave_the_part2_charge_out_and_count_it(
    practice: Practice,
    two_charges: Any,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    ordinary, part2 = two_charges
    page = client_for(plain_biller).get(f"{BASE}/charges/")
    assert [e.pk for e in page.context["page"]] == [ordinary.pk]
    assert NOTE in page.content and b'data-part2-hidden="1"' in page.content
    assert b"Build claims from 1 charge" in page.content
    granted = client_for(biller).get(f"{BASE}/charges/")
    assert {e.pk for e in granted.context["page"]} == {ordinary.pk, part2.pk}
    assert b"restricted record" not in granted.content
    plain = api_client_for(practice.org, ["claims:read", "claims:write"])
    listed = plain.get(f"{API}/charges/")
    assert [row["id"] for row in listed.json()["results"]] == [str(ordinary.pk)]
    assert listed[HEADER] == "1"
    assert plain.get(f"{API}/charges/{part2.pk}/").status_code == 404
    full = api_client_for(practice.org, ["claims:read", "part2:read"]).get(f"{API}/charges/")
    assert len(full.json()["results"]) == 2 and full[HEADER] == "0"


def test_the_charge_form_offers_no_part2_episode_and_refuses_one(
    practice: Practice, sud: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    url = f"{BASE}/charges/new/?patient={practice.patient.pk}"
    form = client_for(plain_biller).get(url).context["form"]
    assert list(form.fields["episode"].queryset) == [practice.episode]
    assert "F10.20" not in str(form.fields["diagnoses"].choices)
    day = dos()
    posted = client_for(plain_biller).post(
        url,
        {
            "patient": practice.patient.pk,
            "episode": sud.pk,
            "rendering_provider": practice.provider.pk,
            "date_of_service": day.isoformat(),
            "kind": "psychotherapy",
            "start_time": "09:00",
            "end_time": "09:45",
        },
    )
    assert posted.status_code == 200 and "episode" in posted.context["form"].errors
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()
    granted = client_for(biller).get(url).context["form"]
    assert set(granted.fields["episode"].queryset) == {practice.episode, sud}


def test_the_api_refuses_a_charge_on_a_part2_episode_without_the_grant(
    practice: Practice, sud: Any, api_client_for: Any
) -> None:
    day = dos()
    payload = {
        "patient": str(practice.patient.pk),
        "episode": str(sud.pk),
        "rendering_provider": str(practice.provider.pk),
        "date_of_service": day.isoformat(),
        "kind": "psychotherapy",
        "start_at": at(day, 9).isoformat(),
        "end_at": at(day, 9, 45).isoformat(),
    }
    plain = api_client_for(practice.org, ["claims:read", "claims:write"])
    refused = plain.post(f"{API}/charges/", payload, format="json")
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["episode"]
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()
    granted = api_client_for(practice.org, ["claims:read", "claims:write", "part2:read"])
    assert granted.post(f"{API}/charges/", payload, format="json").status_code == 201


def test_the_service_refuses_a_part2_episode_or_a_part2_idempotency_key_without_the_grant(
    practice: Practice, sud: Any
) -> None:
    from rcm.errors import DomainError

    day = dos()
    kwargs: dict[str, Any] = {
        "patient": practice.patient,
        "rendering_provider": practice.provider,
        "date_of_service": day,
        "kind": "psychotherapy",
        "start_at": at(day, 9),
        "end_at": at(day, 9, 45),
        "today": today(),
        "idempotency_key": "ehr-1",
    }
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as refused:
            services.service_entry_create(episode=sud, scopes={"claims:write"}, **kwargs)
        assert refused.value.field == "episode"
        entry = services.service_entry_create(episode=sud, scopes={"part2:read"}, **kwargs)
        with pytest.raises(DomainError) as replay:
            services.service_entry_create(
                episode=practice.episode, scopes={"claims:write"}, **kwargs
            )
        assert replay.value.field == "idempotency_key" and str(entry.pk) not in str(replay.value)
        assert services.service_entry_create(episode=sud, scopes=ORGANIZATION, **kwargs) == entry


# --- Claims ------------------------------------------------------------------------------------


def test_the_claims_list_leaves_the_part2_claim_out_and_says_how_many(
    practice: Practice,
    two_claims: Any,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    ordinary, part2 = two_claims
    page = client_for(plain_biller).get(f"{BASE}/")
    html = page.content
    assert ordinary.patient_control_number.encode() in html
    assert part2.patient_control_number.encode() not in html
    assert NOTE in html and page.context["part2_hidden"] == 1
    # The count follows the filters: no Part 2 claim is ready.
    assert client_for(plain_biller).get(f"{BASE}/?status=ready").context["part2_hidden"] == 0
    granted = client_for(biller).get(f"{BASE}/").content
    assert part2.patient_control_number.encode() in granted and b"restricted record" not in granted
    plain = api_client_for(practice.org, ["claims:read"])
    listed = plain.get(f"{API}/claims/")
    assert [row["id"] for row in listed.json()["results"]] == [str(ordinary.pk)]
    assert listed[HEADER] == "1"
    findings = plain.get(f"{API}/claim-findings/")
    assert str(part2.pk) not in {row["claim"] for row in findings.json()["results"]}
    assert int(findings[HEADER]) >= 1
    full = api_client_for(practice.org, ["claims:read", "part2:read"])
    assert len(full.get(f"{API}/claims/").json()["results"]) == 2
    assert full.get(f"{API}/claim-findings/")[HEADER] == "0"


def test_a_part2_claim_page_is_not_found_without_the_grant_and_audited_with_it(
    practice: Practice,
    two_claims: Any,
    plain_biller: Any,
    biller: Any,
    client_for: Any,
    api_client_for: Any,
) -> None:
    ordinary, part2 = two_claims
    assert client_for(plain_biller).get(f"{BASE}/{part2.pk}/").status_code == 404
    assert (
        client_for(plain_biller).post(f"{BASE}/{part2.pk}/action/", {"action": "scrub"}).status_code
        == 404
    )
    plain = api_client_for(practice.org, ["claims:read", "claims:write"])
    assert plain.get(f"{API}/claims/{part2.pk}/").status_code == 404
    assert plain.post(f"{API}/claims/{part2.pk}/scrub/").status_code == 404
    assert client_for(plain_biller).get(f"{BASE}/{ordinary.pk}/").status_code == 200
    assert client_for(biller).get(f"{BASE}/{part2.pk}/").status_code == 200
    with tenant_context(practice.org):
        views = AuditEvent.objects.filter(action="view", object_type="claims.claim")
        assert {(e.object_id, e.part2) for e in views} == {
            (str(ordinary.pk), False),
            (str(part2.pk), True),
        }


def test_the_ready_queue_rescrubs_and_counts_only_the_visible_claims(
    practice: Practice, two_claims: Any, plain_biller: Any, biller: Any, client_for: Any
) -> None:
    ordinary, part2 = two_claims

    def finding_ids(claim: Claim) -> set[Any]:
        with tenant_context(practice.org):
            return set(ClaimFinding.objects.filter(claim=claim).values_list("pk", flat=True))

    before_part2, before_ordinary = finding_ids(part2), finding_ids(ordinary)
    assert before_part2  # held for a consent to disclose
    client = client_for(plain_biller)
    page = client.get(f"{BASE}/ready/")
    assert part2.patient_control_number.encode() not in page.content
    assert page.context["drafts"] == 0 and page.context["ready"] == 1
    assert NOTE in page.content
    done = client.post(f"{BASE}/ready/", follow=True).content.decode()
    assert "Re-scrubbed 1 claim(s)." in done
    assert finding_ids(part2) == before_part2  # untouched
    assert finding_ids(ordinary) != before_ordinary or not before_ordinary
    granted = client_for(biller).get(f"{BASE}/ready/")
    assert part2.patient_control_number.encode() in granted.content
    assert granted.context["drafts"] == 1 and granted.context["part2_hidden"] == 0
