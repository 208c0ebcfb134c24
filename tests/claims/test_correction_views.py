"""The claim edit view, its line forms and the claims API's correction operations, as billers
(and other tenants, and members without the Part 2 grant) meet them."""

from __future__ import annotations

from typing import Any

import pytest

from claims import services
from claims.models import Claim, ClaimStatus, ServiceEntry
from rcm import part2
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.claims.conftest import Practice, dos
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/o/riverbend/claims"
API = "/api/v1/claims"


def _claim(practice: Practice, *, statuses: tuple[str, ...] = (), number: str = "") -> Claim:
    practice.session(45)
    with tenant_context(practice.org):
        (claim,) = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims
        for step in statuses:
            claim = services.claim_transition(claim=claim, to_status=step)
        if number:
            Claim.objects.filter(pk=claim.pk).update(payer_claim_number=number)
        claim.refresh_from_db()
    return claim


def _line_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "service_code": "90834",
        "modifiers": "",
        "units": "1",
        "charge": "150.00",
        "date_of_service": dos().isoformat(),
        "place_of_service": "11",
        "diagnosis_pointers": "1",
        "reason": "Corrected the charge",
    }
    return {**data, **overrides}


def test_a_rejected_claim_opens_in_the_edit_view_and_a_line_fix_makes_it_ready(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    claim = _claim(practice, statuses=("submitted", "rejected"))
    client = client_for(biller)
    page = client.get(f"{BASE}/{claim.pk}/")
    assert f"{BASE}/{claim.pk}/edit/" in page.content.decode()
    edit = client.get(f"{BASE}/{claim.pk}/edit/").content.decode()
    with tenant_context(practice.org):
        line = claim.lines.get()
    assert f"{BASE}/{claim.pk}/lines/{line.pk}/edit/" in edit
    done = client.post(
        f"{BASE}/{claim.pk}/lines/{line.pk}/edit/",
        _line_data(charge="140.00", reason="Contract price"),
        follow=True,
    )
    assert "Line 1 saved and the claim re-scrubbed: ready" in done.content.decode()
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert (claim.status, str(claim.total_charge)) == (ClaimStatus.READY, "140.00")
        assert claim.events.filter(note__contains="Contract price").exists()


def test_the_line_form_shows_every_error_beside_its_field_and_saves_nothing(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    claim = _claim(practice)
    with tenant_context(practice.org):
        line = claim.lines.get()
    response = client_for(biller).post(
        f"{BASE}/{claim.pk}/lines/{line.pk}/edit/",
        _line_data(service_code="9", units="0", place_of_service="x", reason=""),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"service_code", "units", "place_of_service", "reason"}
    html = response.content.decode()
    assert 'id="id_reason_error"' in html and 'id="id_service_code_error"' in html
    pointer = client_for(biller).post(
        f"{BASE}/{claim.pk}/lines/{line.pk}/edit/", _line_data(diagnosis_pointers="3")
    )
    assert "1 to 1" in pointer.context["form"].errors["diagnosis_pointers"][0]
    with tenant_context(practice.org):
        line.refresh_from_db()
        assert line.service_code == "90834" and line.units == 1


def test_deleting_a_line_without_a_reason_is_refused_inline(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    practice.session(45, day=dos().replace(day=12))
    claim = _claim(practice)
    with tenant_context(practice.org):
        line = claim.lines.get(line_number=1)
    url = f"{BASE}/{claim.pk}/lines/{line.pk}/delete/"
    refused = client_for(biller).post(url, {"reason": ""})
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    done = client_for(biller).post(url, {"reason": "Duplicate", "void_charge": "on"}, follow=True)
    assert "Line 1 deleted" in done.content.decode()
    with tenant_context(practice.org):
        assert claim.lines.count() == 1
        assert ServiceEntry.objects.filter(status="void").count() == 1


def test_editing_a_paid_claim_is_refused_with_a_clear_message(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    claim = _claim(practice, statuses=("submitted", "accepted", "paid"), number="P-1")
    with tenant_context(practice.org):
        line = claim.lines.get()
    client = client_for(biller)
    page = client.get(f"{BASE}/{claim.pk}/edit/").content.decode()
    assert "is paid: its lines can be changed only while it is a draft" in page
    refused = client.post(f"{BASE}/{claim.pk}/lines/{line.pk}/edit/", _line_data(units="2"))
    assert "send a replacement claim" in " ".join(refused.context["form"].non_field_errors())
    with tenant_context(practice.org):
        line.refresh_from_db()
        assert line.units == 1


def test_another_tenants_claim_and_a_part2_claim_without_the_grant_are_not_found(
    practice: Practice, outsider: Any, org: Any, client_for: Any
) -> None:
    practice.episode.program_type = "substance_use"
    with tenant_context(practice.org):
        practice.episode.save()
    claim = _claim(practice)
    with tenant_context(practice.org):
        line = claim.lines.get()
    plain = MembershipFactory(
        organization=org, role=Role.BILLER, user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user  # fmt: skip
    for user in (outsider, plain):
        client = client_for(user)
        for url in (f"{BASE}/{claim.pk}/edit/", f"{BASE}/{claim.pk}/lines/{line.pk}/edit/"):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(f"{BASE}/{claim.pk}/lines/{line.pk}/delete/",
                           {"reason": "x"}).status_code == 404  # fmt: skip
    with tenant_context(practice.org):
        assert claim.lines.count() == 1


def test_the_claim_page_sends_a_replacement_and_links_it_to_the_original(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    never = _claim(practice, statuses=("submitted", "accepted"))
    client = client_for(biller)
    page = client.get(f"{BASE}/{never.pk}/").content.decode()
    assert "never accepted claim" in page and 'value="correct"' not in page
    with tenant_context(practice.org):
        Claim.objects.filter(pk=never.pk).update(payer_claim_number="ICN-77")
    sent = client.post(f"{BASE}/{never.pk}/action/", {"action": "correct"}, follow=True)
    html = sent.content.decode()
    assert "Created 7 replacement (corrected claim) claim" in html
    assert "claim # ICN-77 (REF*F8)" in html
    with tenant_context(practice.org):
        replacement = Claim.objects.get(frequency="7")
    original = client.get(f"{BASE}/{never.pk}/").content.decode()
    assert replacement.patient_control_number in original and "already has an open" in original


# --- API ---------------------------------------------------------------------------------------


def test_api_line_update_delete_and_rescrub(practice: Practice, api_client_for: Any) -> None:
    practice.session(45, day=dos().replace(day=12))
    claim = _claim(practice, statuses=("submitted", "rejected"))
    client = api_client_for(practice.org)
    with tenant_context(practice.org):
        first, second = claim.lines.order_by("line_number")
    no_reason = client.patch(f"{API}/{claim.pk}/lines/{first.pk}/", {"units": 1}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["field"] == "reason"
    updated = client.patch(
        f"{API}/{claim.pk}/lines/{first.pk}/",
        {"charge": "149.00", "reason": "Contract price"},
        format="json",
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["status"] == "ready" and updated.json()["total_charge"] == "299.00"
    deleted = client.post(
        f"{API}/{claim.pk}/lines/{second.pk}/delete/", {"reason": "Duplicate"}, format="json"
    )
    assert deleted.status_code == 200 and len(deleted.json()["lines"]) == 1
    assert client.post(f"{API}/{claim.pk}/rescrub/", {}, format="json").status_code == 200


def test_api_refusals_paid_claim_never_accepted_and_other_tenant(
    practice: Practice, api_client_for: Any, other_org: Any
) -> None:
    claim = _claim(practice, statuses=("submitted", "accepted", "paid"))
    client = api_client_for(practice.org)
    with tenant_context(practice.org):
        line = claim.lines.get()
    paid = client.patch(
        f"{API}/{claim.pk}/lines/{line.pk}/", {"units": 2, "reason": "x"}, format="json"
    )
    assert paid.status_code == 400
    assert paid.json()["errors"][0]["field"] == "status"
    assert "is paid" in paid.json()["errors"][0]["message"]
    never = client.post(f"{API}/{claim.pk}/correct/")
    assert never.status_code == 400
    assert never.json()["errors"][0]["field"] == "payer_claim_number"
    assert "never accepted" in never.json()["errors"][0]["message"]
    stranger = api_client_for(other_org)
    assert stranger.post(f"{API}/{claim.pk}/correct/").status_code == 404
    assert (
        stranger.patch(
            f"{API}/{claim.pk}/lines/{line.pk}/", {"units": 2, "reason": "x"}, format="json"
        ).status_code
        == 404
    )


def test_the_line_form_opens_in_place_with_htmx_and_reloads_the_edit_view_once_saved(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    claim = _claim(practice)
    with tenant_context(practice.org):
        line = claim.lines.get()
    client = client_for(biller)
    url = f"{BASE}/{claim.pk}/lines/{line.pk}/edit/"
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in panel and 'hx-target="#line-editor"' in panel
    refused = client.post(url, _line_data(units="0"), HTTP_HX_REQUEST="true")
    assert "<html" not in refused.content.decode()
    assert set(refused.context["form"].errors) == {"units"}
    saved = client.post(url, _line_data(charge="151.00"), HTTP_HX_REQUEST="true")
    assert saved["HX-Redirect"] == f"{BASE}/{claim.pk}/edit/"


def test_a_work_item_on_a_rejected_claim_links_to_its_edit_view(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    import uuid

    from denials.services import work_item_open

    claim = _claim(practice, statuses=("submitted", "rejected"))
    with tenant_context(practice.org):
        item = work_item_open(
            kind="rejection", source_id=uuid.uuid4(), title="277CA rejection",
            today=today(), claim=claim,
        )  # fmt: skip
    html = client_for(biller).get(f"/o/riverbend/denials/items/{item.pk}/").content.decode()
    assert f'href="{BASE}/{claim.pk}/edit/"' in html and "Fix claim" in html
