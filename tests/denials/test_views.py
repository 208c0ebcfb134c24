"""The denials pages: queue with filters and bulk assign, import with summary, payment,
exceptions, denial page with appeal and letter, parity page; permissions and isolation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from denials import services
from denials.models import Appeal, Denial, Payment, RemittanceImport, WorkItem
from rcm.tenancy.context import tenant_context
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
pytestmark = pytest.mark.django_db


def _denial_file(claim, lcn, carc="197", trace="T1"):
    return build_835(
        [
            Clp(
                claim.patient_control_number,
                "4",
                D("150"),
                D("0"),
                lines=[
                    Svc(
                        "90834",
                        D("150"),
                        D("0"),
                        lcn=lcn,
                        cas=[("CO", carc, D("150"))],
                        rarcs=["N54"],
                    )
                ],
            )
        ],
        trace=trace,
    )


@pytest.fixture
def denial(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn))
    with tenant_context(practice.org):
        return Denial.objects.get()


def test_uploading_an_835_queues_it_and_shows_the_import(practice, submitted, biller, client_for):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    client = client_for(biller)
    upload = SimpleUploadedFile("era.835", _denial_file(claim, lcn).encode())
    response = client.post("/o/riverbend/denials/remittances/", {"file": upload})
    assert response.status_code == 302
    with tenant_context(practice.org):
        imp = RemittanceImport.objects.get()
        assert imp.status == "pending" and imp.total_claims == 1
        services.remittance_post(import_id=imp.pk)
    page = client.get(f"/o/riverbend/denials/remittances/{imp.pk}/")
    assert page.status_code == 200 and b"Denied" in page.content and b"1 line(s)" in page.content
    listing = client.get("/o/riverbend/denials/remittances/")
    assert b"era.835" in listing.content


def test_a_rejected_upload_shows_the_reason_and_position(practice, biller, client_for):
    client = client_for(biller)
    upload = SimpleUploadedFile("bad.835", b"ISA*00*nonsense~")
    client.post("/o/riverbend/denials/remittances/", {"file": upload})
    with tenant_context(practice.org):
        imp = RemittanceImport.objects.get()
    page = client.get(f"/o/riverbend/denials/remittances/{imp.pk}/")
    assert b"rejected" in page.content and b"nothing was posted" in page.content


def test_the_queue_lists_filters_and_bulk_assigns(denial, biller, client_for):
    client = client_for(biller)
    page = client.get("/o/riverbend/denials/")
    assert page.status_code == 200 and b"CO-197" in page.content
    assert b"CO-197" not in client.get("/o/riverbend/denials/?category=coding").content
    assert (
        b"CO-197"
        in client.get("/o/riverbend/denials/?category=authorization&assignee=none").content
    )
    with tenant_context(denial.organization_id):
        item = WorkItem.objects.get()
    response = client.post(
        "/o/riverbend/denials/assign/", {"items": [item.pk], "assignee": biller.pk}
    )
    assert response.status_code == 302
    with tenant_context(denial.organization_id):
        item.refresh_from_db()
        assert item.assignee == biller


def test_the_queue_page_costs_a_fixed_number_of_queries(
    practice, submitted, biller, client_for, django_assert_max_num_queries
):
    for i in range(3):
        claim = submitted(start=date(2026, 10, 5 + i))
        with tenant_context(practice.org):
            lcn = claim.lines.get().line_control_number
        post(practice.org, _denial_file(claim, lcn, trace=f"T{i}"))
    client = client_for(biller)
    client.get("/o/riverbend/denials/")
    with django_assert_max_num_queries(20):
        assert client.get("/o/riverbend/denials/").status_code == 200


def test_the_denial_page_starts_an_appeal_and_edits_the_letter(denial, biller, client_for):
    client = client_for(biller)
    page = client.get(f"/o/riverbend/denials/denials/{denial.pk}/")
    assert page.status_code == 200 and b"Authorization" in page.content
    response = client.post(
        f"/o/riverbend/denials/denials/{denial.pk}/appeal/", {"level": "level_1"}
    )
    with tenant_context(denial.organization_id):
        appeal = Appeal.objects.get()
    assert response.url.endswith(f"/appeals/{appeal.pk}/letter/")
    letter = client.get(response.url)
    assert b"Medical necessity" in letter.content
    client.post(response.url, {"letter_body": "Dear reviewer, please pay."})
    with tenant_context(denial.organization_id):
        appeal.refresh_from_db()
        assert appeal.letter_body == "Dear reviewer, please pay."
    pdf = client.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_payment_and_exception_pages_render(denial, biller, client_for):
    client = client_for(biller)
    with tenant_context(denial.organization_id):
        payment = Payment.objects.get()
    page = client.get(f"/o/riverbend/denials/payments/{payment.pk}/")
    assert page.status_code == 200 and b"CO-197" in page.content
    assert client.get("/o/riverbend/denials/exceptions/").status_code == 200


def test_the_parity_page_flags_an_outpatient_authorization_denial_and_exports(
    denial, biller, client_for
):
    client = client_for(biller)
    page = client.get("/o/riverbend/denials/parity/")
    assert b"Outpatient auth/medical-necessity denial" in page.content
    csv = client.get("/o/riverbend/denials/parity/packet.csv")
    assert (
        b"nqtl_denial" in csv.content
        and denial.claim.patient_control_number.encode() in csv.content
    )
    pdf = client.get("/o/riverbend/denials/parity/packet.pdf")
    assert pdf.content.startswith(b"%PDF")


def test_a_manager_reads_but_cannot_change_the_queue(denial, manager, client_for):
    client = client_for(manager)
    assert client.get("/o/riverbend/denials/").status_code == 200
    assert client.post("/o/riverbend/denials/take-next/").status_code == 403


def test_another_organizations_denial_is_not_found(denial, outsider, client_for):
    client = client_for(outsider)
    assert client.get(f"/o/harborview/denials/denials/{denial.pk}/").status_code == 404


def test_a_pending_import_polls_its_progress_with_htmx(practice, submitted, biller, client_for):
    from denials.posting import progress_get, progress_set

    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
        imp = services.remittance_import_create(
            file_name="big.835", content=_denial_file(claim, lcn)
        )
    partial = client_for(biller).get(
        f"/o/riverbend/denials/remittances/{imp.pk}/", HTTP_HX_REQUEST="true"
    )
    assert b'hx-trigger="every 2s"' in partial.content and b"<h1>" not in partial.content
    assert b"0 of 1 claims" in partial.content
    with tenant_context(practice.org):
        RemittanceImport.objects.filter(pk=imp.pk).update(status="running")
        imp.refresh_from_db()
        progress_set(imp.pk, 1)
        assert progress_get(imp) == 1


def test_a_part2_claims_letter_needs_the_part2_grant(
    practice, submitted, biller, manager, client_for
):
    from claims.models import Claim

    claim = submitted()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn))
    with tenant_context(practice.org):
        appeal = services.appeal_create(denial=Denial.objects.get(), level="level_1")
    # Bill has the Part 2 grant; Mona (manager) does not.
    assert (
        client_for(biller).get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter/").status_code
        == 200
    )
    mona = client_for(manager)
    assert mona.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter/").status_code == 403
    assert mona.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter.pdf").status_code == 403
    page = mona.get(f"/o/riverbend/denials/denials/{appeal.denial_id}/")
    assert b"Jane Doe" not in page.content and b"needs the Part 2 grant" in page.content


def test_the_payment_page_costs_a_fixed_number_of_queries(
    practice, submitted, biller, client_for, django_assert_max_num_queries
):
    claims = [submitted(start=date(2026, 10, 5 + i)) for i in range(3)]
    clps = []
    for claim in claims:
        with tenant_context(practice.org):
            lcn = claim.lines.get().line_control_number
        clps.append(
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("100"),
                lines=[Svc("90834", D("150"), D("100"), lcn=lcn, cas=[("CO", "45", D("50"))])],
            )
        )
    post(practice.org, build_835(clps))
    with tenant_context(practice.org):
        payment = Payment.objects.get()
    client = client_for(biller)
    client.get(f"/o/riverbend/denials/payments/{payment.pk}/")
    with django_assert_max_num_queries(20):
        page = client.get(f"/o/riverbend/denials/payments/{payment.pk}/")
    assert page.content.count(b"CO-45") == 3


def test_the_write_off_settings_are_saved_per_organization(practice, biller, client_for):
    from denials.models import DenialSettings

    client = client_for(biller)
    assert client.get("/o/riverbend/denials/settings/").status_code == 200
    response = client.post(
        "/o/riverbend/denials/settings/",
        {"write_off_approval_threshold": "250.00", "small_balance_limit": "2.50"},
    )
    assert response.status_code == 302
    with tenant_context(practice.org):
        saved = DenialSettings.objects.get()
    assert (saved.write_off_approval_threshold, saved.small_balance_limit) == (
        D("250.00"),
        D("2.50"),
    )
    assert (
        client.post(
            "/o/riverbend/denials/settings/",
            {"write_off_approval_threshold": "-1", "small_balance_limit": "1"},
        ).status_code
        == 200
    )
