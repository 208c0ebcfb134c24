"""The denials API: upload and poll, payments, adjustments, denials, work items, appeals and
letters, parity flags; bad files are problem+json with the segment; another tenant's ids 404."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from denials import services
from denials.models import Appeal, Denial, Payment, RemittanceImport, WorkItem
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import dos
from tests.clock import today
from tests.denials.letter_helpers import complete_the_letter
from tests.denials.test_posting import post
from tests.denials.test_views import _denial_file

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def denial(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn))
    with tenant_context(practice.org):
        return Denial.objects.get()


def test_a_partner_uploads_an_835_and_polls_the_job(practice, submitted, api_client_for):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    response = api.post(
        "/api/v1/remittances/",
        {"file_name": "era.835", "content": _denial_file(claim, lcn)},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    with tenant_context(practice.org):
        services.remittance_post(import_id=response.json()["id"], today=today())
    job = api.get(f"/api/v1/remittances/{response.json()['id']}/").json()
    assert (
        job["status"] == "posted"
        and job["processed_claims"] == 1
        and job["summary"]["denied_lines"] == 1
    )
    payments = api.get("/api/v1/payments/").json()["results"]
    assert payments[0]["trace_number"] == "T1"
    adjustments = api.get(f"/api/v1/adjustments/?payment={payments[0]['id']}").json()["results"]
    assert [(a["group_code"], a["reason_code"]) for a in adjustments] == [("CO", "197")]


def test_a_bad_file_is_problem_json_with_the_reason_and_posts_nothing(org, api_client_for):
    api = api_client_for(org, ["denials:read", "denials:write"])
    response = api.post("/api/v1/remittances/", {"content": "ISA*00*broken~"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    with tenant_context(org):
        assert RemittanceImport.objects.get().status == "rejected"
        assert not Payment.objects.exists()


def test_work_items_are_listed_assigned_and_moved(denial, biller, api_client_for):
    api = api_client_for(denial.organization, ["denials:read", "denials:write"])
    items = api.get("/api/v1/work-items/?category=authorization").json()["results"]
    assert len(items) == 1 and items[0]["kind"] == "denial"
    assert api.post(
        "/api/v1/work-items/assign/",
        {"items": [items[0]["id"]], "assignee": str(biller.pk)},
        format="json",
    ).json() == {"assigned": 1}
    moved = api.post(
        f"/api/v1/work-items/{items[0]['id']}/update_status/",
        {"status": "waiting_on_payer", "note": "Called"},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["status"] == "waiting_on_payer"
    assert api.get("/api/v1/work-items/?category=coding").json()["results"] == []


def test_appeals_and_the_letter_pdf(denial, api_client_for):
    api = api_client_for(denial.organization, ["denials:read", "denials:write"])
    created = api.post(
        "/api/v1/appeals/", {"denial": str(denial.pk), "level": "level_1"}, format="json"
    )
    assert created.status_code == 201 and "CO-197" in created.json()["letter_body"]
    pk = created.json()["id"]
    assert (
        api.post(f"/api/v1/appeals/{pk}/letter/", {"letter_body": "Edited."}, format="json").json()[
            "letter_body"
        ]
        == "Edited."
    )
    pdf = api.get(f"/api/v1/appeals/{pk}/letter.pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    refused = api.post(
        f"/api/v1/appeals/{pk}/submit/",
        {"submitted_on": str(today()), "method": "fax"},
        format="json",
    )
    assert refused.status_code == 400 and "appeals address" in refused.content.decode()
    with tenant_context(denial.organization):
        complete_the_letter(Appeal.objects.get(pk=pk))
    sent = api.post(
        f"/api/v1/appeals/{pk}/submit/",
        {"submitted_on": str(today()), "method": "fax"},
        format="json",
    )
    assert sent.status_code == 200 and sent.json()["method"] == "fax"


def test_denials_and_parity_flags(denial, api_client_for):
    api = api_client_for(denial.organization, ["denials:read"])
    assert api.get("/api/v1/denials/").json()["results"][0]["category"] == "authorization"
    flags = api.get("/api/v1/parity-flags/").json()
    assert flags[0]["kind"] == "nqtl_denial" and flags[0]["denial_id"] == str(denial.pk)


def test_read_scope_cannot_write_and_other_tenants_ids_are_not_found(
    denial, other_org, api_client_for
):
    reader = api_client_for(denial.organization, ["denials:read"])
    assert reader.post("/api/v1/remittances/", {"content": "x"}, format="json").status_code == 403
    stranger = api_client_for(other_org)
    with tenant_context(denial.organization):
        item = WorkItem.objects.get()
    assert stranger.get(f"/api/v1/denials/{denial.pk}/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/work-items/{item.pk}/update_status/",
            {"status": "resolved_paid"},
            format="json",
        ).status_code
        == 404
    )


def test_a_part2_denial_and_its_letter_are_not_found_for_keys_without_part2_read(
    practice, submitted, api_client_for
):
    from claims.models import Claim

    claim = submitted()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn))
    with tenant_context(practice.org):
        denial = Denial.objects.get()
    plain = api_client_for(practice.org, ["denials:read", "denials:write"])
    # Without the grant the denial is not there: the same answer as an id of no denial.
    refused = plain.post(
        "/api/v1/appeals/", {"denial": str(denial.pk), "level": "level_1"}, format="json"
    )
    assert refused.status_code == 400 and "denial" in refused.json()["errors"][0]["field"]
    granted = api_client_for(practice.org, ["denials:read", "denials:write", "part2:read"])
    created = granted.post(
        "/api/v1/appeals/", {"denial": str(denial.pk), "level": "level_1"}, format="json"
    )
    assert created.status_code == 201
    appeal_id = created.json()["id"]
    assert "42 CFR 2.32" in granted.get(f"/api/v1/appeals/{appeal_id}/").json()["letter_body"]
    assert plain.get(f"/api/v1/appeals/{appeal_id}/").status_code == 404
    assert plain.get(f"/api/v1/appeals/{appeal_id}/letter.pdf/").status_code == 404


# --- Remittance exceptions --------------------------------------------------------------------


@pytest.fixture
def line_exception(practice, half_matched):
    from denials.models import RemittanceException
    from tests.denials.conftest import lost
    from tests.denials.x835 import Svc

    claim = half_matched(
        Svc(
            "90834",
            D("150"),
            D("0"),
            lcn="NOPE",
            dos=lost(),
            cas=[("CO", "197", D("150"))],
            rarcs=["N54"],
        )
    )
    with tenant_context(practice.org):
        return claim, RemittanceException.objects.get(), list(claim.lines.order_by("line_number"))


def test_exceptions_are_listed_read_and_filtered(practice, line_exception, api_client_for):
    _, exception, _ = line_exception
    api = api_client_for(practice.org, ["denials:read"])
    (row,) = api.get("/api/v1/remittance-exceptions/").json()["results"]
    assert row["id"] == str(exception.pk) and row["kind"] == "unmatched_line"
    assert row["payment"]["trace_number"] == "TRACE1"
    assert row["remittance_line"]["adjustments"] == [
        {"group_code": "CO", "reason_code": "197", "amount": "150.00", "quantity": None}
    ]
    assert row["remittance_line"]["remark_codes"] == ["N54"]
    assert api.get("/api/v1/remittance-exceptions/?kind=unmatched_claim").json()["results"] == []
    assert api.get("/api/v1/remittance-exceptions/?status=resolved").json()["results"] == []
    one = api.get(f"/api/v1/remittance-exceptions/{exception.pk}/").json()
    assert one["remittance_claim"]["payer_claim_number"] == "PCN-PAYER-1"


def test_a_line_exception_is_matched_through_the_api(practice, line_exception, api_client_for):
    _claim, exception, (_, second) = line_exception
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    response = api.post(
        f"/api/v1/remittance-exceptions/{exception.pk}/match/",
        {"claim_line": str(second.pk)},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resolved"] and body["is_matched"]
    assert body["remittance_line"]["claim_line"] == str(second.pk)
    assert "line 2" in body["resolution_note"]
    with tenant_context(practice.org):
        assert Denial.objects.get().claim_line_id == second.pk
    again = api.post(
        f"/api/v1/remittance-exceptions/{exception.pk}/match/",
        {"claim_line": str(second.pk)},
        format="json",
    )
    assert again.status_code == 400
    assert again["Content-Type"].startswith("application/problem+json")
    assert again.json()["errors"][0]["field"] == "claim_line"
    with tenant_context(practice.org):
        assert Denial.objects.count() == 1


def test_match_refusals_are_problem_json_naming_the_field(
    practice, line_exception, api_client_for, other_org
):
    from claims.models import ClaimLine
    from tests.tenant_data import build_tenant_data

    _, exception, (first, _) = line_exception
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    url = f"/api/v1/remittance-exceptions/{exception.pk}/match/"
    twice = api.post(url, {"claim_line": str(first.pk)}, format="json")
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "confirm"
    build_tenant_data(other_org)
    foreign = ClaimLine.all_tenants.filter(organization=other_org).first()
    refused = api.post(url, {"claim_line": str(foreign.pk)}, format="json")
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["field"] == "claim_line"
    nothing = api.post(url, {}, format="json")
    assert nothing.status_code == 400 and nothing.json()["errors"][0]["field"] == "claim_line"
    with tenant_context(practice.org):
        exception.refresh_from_db()
        assert not exception.resolved and not Denial.objects.exists()


def test_an_unmatched_claim_is_matched_or_resolved_through_the_api(
    practice, submitted, unmatched_claim, api_client_for, other_org
):
    from claims.models import Claim
    from tests.tenant_data import build_tenant_data

    claim = submitted(days=2)
    exception = unmatched_claim(claim)
    api = api_client_for(practice.org, ["denials:read", "denials:write"])
    url = f"/api/v1/remittance-exceptions/{exception.pk}/"
    build_tenant_data(other_org)
    foreign = Claim.all_tenants.filter(organization=other_org).first()
    refused = api.post(url + "match/", {"claim": str(foreign.pk)}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "claim"
    matched = api.post(url + "match/", {"claim": str(claim.pk)}, format="json")
    assert matched.status_code == 200, matched.content
    assert matched.json()["remittance_claim"]["claim"] == str(claim.pk)
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "paid"
    other = unmatched_claim(submitted(days=2, start=dos() + timedelta(days=1)), trace="T2")
    no_note = api.post(f"/api/v1/remittance-exceptions/{other.pk}/resolve/", {}, format="json")
    assert no_note.status_code == 400 and no_note.json()["errors"][0]["field"] == "note"
    closed = api.post(
        f"/api/v1/remittance-exceptions/{other.pk}/resolve/",
        {"note": "Not our patient."},
        format="json",
    )
    assert closed.status_code == 200
    assert closed.json()["resolved"] and not closed.json()["is_matched"]


def test_exceptions_of_another_organization_are_not_found(
    practice, line_exception, api_client_for, other_org
):
    _, exception, (_, second) = line_exception
    stranger = api_client_for(other_org, ["denials:read", "denials:write"])
    assert stranger.get(f"/api/v1/remittance-exceptions/{exception.pk}/").status_code == 404
    assert stranger.get("/api/v1/remittance-exceptions/").json()["results"] == []
    response = stranger.post(
        f"/api/v1/remittance-exceptions/{exception.pk}/match/",
        {"claim_line": str(second.pk)},
        format="json",
    )
    assert response.status_code == 404
    reader = api_client_for(practice.org, ["denials:read"])
    assert (
        reader.post(
            f"/api/v1/remittance-exceptions/{exception.pk}/match/",
            {"claim_line": str(second.pk)},
            format="json",
        ).status_code
        == 403
    )
