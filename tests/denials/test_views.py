"""The denials pages: queue with filters and bulk assign, import with summary, payment,
exceptions, denial page with appeal and letter, parity page; permissions and isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from denials import services
from denials.models import (
    Appeal,
    Denial,
    LineBalance,
    Payment,
    RemittanceException,
    RemittanceImport,
    WorkItem,
)
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import dos
from tests.clock import today
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835, paid_on

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
        services.remittance_post(import_id=imp.pk, today=today())
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
    filtered = client.get("/o/riverbend/denials/?category=authorization&page=1").content
    assert b'name="query" value="?category=authorization"' in filtered
    response = client.post(
        "/o/riverbend/denials/assign/",
        {"items": [item.pk], "assignee": biller.pk, "query": "?category=authorization"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/riverbend/denials/?category=authorization"
    with tenant_context(denial.organization_id):
        item.refresh_from_db()
        assert item.assignee == biller


def test_the_queue_page_costs_a_fixed_number_of_queries(
    practice, submitted, biller, client_for, django_assert_max_num_queries
):
    for i in range(3):
        claim = submitted(start=dos() + timedelta(days=i))
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
    from denials.posting import progress_set

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
    progress_set(imp.pk, 1)  # what the posting job reports as it goes
    partial = client_for(biller).get(
        f"/o/riverbend/denials/remittances/{imp.pk}/", HTTP_HX_REQUEST="true"
    )
    assert b"1 of 1 claims" in partial.content


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
        appeal = services.appeal_create(denial=Denial.objects.get(), level="level_1", today=today())
    # Bill has the Part 2 grant; Mona (manager) does not.
    assert (
        client_for(biller).get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter/").status_code
        == 200
    )
    mona = client_for(manager)
    # Without the grant: not found, as for a letter that does not exist (404, not 403).
    assert mona.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter/").status_code == 404
    assert mona.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter.pdf").status_code == 404
    assert mona.get(f"/o/riverbend/denials/denials/{appeal.denial_id}/").status_code == 404


def test_the_payment_page_costs_a_fixed_number_of_queries(
    practice, submitted, biller, client_for, django_assert_max_num_queries
):
    claims = [submitted(start=dos() + timedelta(days=i)) for i in range(3)]
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


# --- Remittance exceptions --------------------------------------------------------------------


def _line_exception(practice, half_matched):
    from tests.denials.conftest import lost

    claim = half_matched(
        Svc(
            "90834",
            D("150"),
            D("80"),
            lcn="NOPE",
            dos=lost(),
            allowed=D("100"),
            cas=[("CO", "45", D("50")), ("PR", "3", D("20"))],
            rarcs=["N54"],
        )
    )
    with tenant_context(practice.org):
        exception = RemittanceException.objects.get(kind="unmatched_line")
        lines = list(claim.lines.order_by("line_number"))
    return claim, exception, lines


def test_an_exception_page_shows_the_payment_the_clp_and_the_svc_with_its_cas(
    practice, half_matched, biller, client_for
):
    from denials.models import AdjustmentReason, RemarkCode

    claim, exception, _lines = _line_exception(practice, half_matched)
    page = client_for(biller).get(f"/o/riverbend/denials/exceptions/{exception.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Blue Plan" in html and "TRACE1" in html and f"{paid_on():%Y-%m-%d}" in html
    assert claim.patient_control_number in html and "PCN-PAYER-1" in html
    assert "Processed as primary" in html and "$80.00" in html and "$100.00" in html
    assert AdjustmentReason.objects.get(code="45").description in html
    assert AdjustmentReason.objects.get(code="3").description in html
    assert RemarkCode.objects.get(code="N54").description in html
    assert 'id="match-line"' in html and 'id="resolve"' in html
    # The select lists the claim's lines and says what is posted to them already.
    first, second = dos(), dos() + timedelta(days=7)
    assert f"1: 90834 on {first}, $150.00 (already paid by this remittance claim)" in html
    assert f"2: 90834 on {second}, $150.00 (nothing posted yet)" in html


def test_posting_a_line_from_its_page_resolves_it(practice, half_matched, biller, client_for):
    _, exception, (_first, second) = _line_exception(practice, half_matched)
    client = client_for(biller)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/"
    response = client.post(url, {"claim_line": second.pk})
    assert response.status_code == 302 and response.url == url
    with tenant_context(practice.org):
        assert LineBalance.objects.get(claim_line=second).paid == D("80")
        exception.refresh_from_db()
        assert exception.resolved
    page = client.get(url).content.decode()
    assert "Matched" in page and "Posted to line 2" in page and 'id="match-line"' not in page
    again = client.post(url, {"claim_line": second.pk})
    assert again.status_code == 200 and "already resolved" in again.content.decode()
    with tenant_context(practice.org):
        assert LineBalance.objects.get(claim_line=second).paid == D("80")


def test_the_line_form_shows_refusals_inline_and_posts_nothing(
    practice, half_matched, biller, client_for, other_org
):
    from claims.models import ClaimLine
    from tests.tenant_data import build_tenant_data

    _, exception, (first, _) = _line_exception(practice, half_matched)
    client = client_for(biller)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/"
    twice = client.post(url, {"claim_line": first.pk})
    assert twice.status_code == 200
    assert 'id="id_confirm_error"' in twice.content.decode()
    assert "Line 1 already carries" in twice.content.decode()
    build_tenant_data(other_org)
    foreign = ClaimLine.all_tenants.filter(organization=other_org).first()
    refused = client.post(url, {"claim_line": foreign.pk})
    assert refused.status_code == 200 and 'id="id_claim_line_error"' in refused.content.decode()
    with tenant_context(practice.org):
        assert LineBalance.objects.get(claim_line=first).paid == D("100")
        exception.refresh_from_db()
        assert not exception.resolved


def test_a_claim_is_found_by_its_control_number_with_htmx_and_matched(
    practice, submitted, unmatched_claim, biller, client_for
):
    claim = submitted(days=2)
    exception = unmatched_claim(claim)
    client = client_for(biller)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/"
    page = client.get(url).content.decode()
    assert 'id="match-claim"' in page and 'hx-get="' in page
    partial = client.get(
        url, {"q": claim.patient_control_number[-4:]}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<h1>" not in partial and f'value="{claim.pk}"' in partial and "Jane Doe" in partial
    by_name = client.get(url, {"q": "doe"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'value="{claim.pk}"' in by_name
    assert "No claim matches" in client.get(url, {"q": "nobody-here"}).content.decode()
    response = client.post(url, {"claim": claim.pk})
    assert response.status_code == 302
    with tenant_context(practice.org):
        assert LineBalance.objects.filter(claim=claim).count() == 2
        exception.refresh_from_db()
        assert exception.resolved and exception.remittance_claim.claim_id == claim.pk


def test_another_organizations_claim_is_an_inline_error_on_the_claim_form(
    practice, submitted, unmatched_claim, biller, client_for, other_org
):
    from claims.models import Claim
    from tests.tenant_data import build_tenant_data

    exception = unmatched_claim(submitted(days=2))
    build_tenant_data(other_org)
    foreign = Claim.all_tenants.filter(organization=other_org).first()
    response = client_for(biller).post(
        f"/o/riverbend/denials/exceptions/{exception.pk}/", {"claim": foreign.pk}
    )
    assert response.status_code == 200
    assert "not one of this organization" in response.content.decode()
    assert Claim.all_tenants.get(pk=foreign.pk).status == foreign.status
    with tenant_context(practice.org):
        exception.refresh_from_db()
        assert not exception.resolved and exception.remittance_claim.claim_id is None


def test_mark_resolved_needs_a_note(practice, submitted, unmatched_claim, biller, client_for):
    exception = unmatched_claim(submitted(days=2))
    client = client_for(biller)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/resolve/"
    missing = client.post(url, {"note": ""})
    assert missing.status_code == 200 and 'id="id_note_error"' in missing.content.decode()
    done = client.post(url, {"note": "Not our patient: refund requested."})
    assert done.status_code == 302
    with tenant_context(practice.org):
        exception.refresh_from_db()
        assert exception.resolved and exception.resolution_note.startswith("Not our patient")
        assert exception.resolved_by == biller


def test_a_manager_reads_an_exception_but_cannot_match_it(
    practice, half_matched, manager, client_for
):
    _, exception, (_, second) = _line_exception(practice, half_matched)
    client = client_for(manager)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and b'id="match-line"' not in page.content
    assert client.post(url, {"claim_line": second.pk}).status_code == 403
    assert client.post(url + "resolve/", {"note": "x"}).status_code == 403


def test_another_organizations_exception_is_not_found(practice, half_matched, outsider, client_for):
    _, exception, _ = _line_exception(practice, half_matched)
    client = client_for(outsider)
    assert client.get(f"/o/harborview/denials/exceptions/{exception.pk}/").status_code == 404


def test_the_exceptions_list_links_filters_and_costs_a_fixed_number_of_queries(
    practice,
    submitted,
    unmatched_claim,
    half_matched,
    biller,
    client_for,
    django_assert_max_num_queries,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.denials.conftest import lost

    client = client_for(biller)
    unmatched_claim(submitted(days=2, start=dos() - timedelta(days=28)), trace="T-CLAIM")
    client.get("/o/riverbend/denials/exceptions/")
    with CaptureQueriesContext(connection) as one:
        first = client.get("/o/riverbend/denials/exceptions/")
    for i in range(4):
        half_matched(
            Svc("90834", D("150"), D("80"), lcn="NOPE", dos=lost(), cas=[("CO", "45", D("70"))]),
            start=dos() + timedelta(days=i),
            trace=f"T-LINE-{i}",
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        listing = client.get("/o/riverbend/denials/exceptions/")
    html = listing.content.decode()
    with tenant_context(practice.org):
        ids = list(RemittanceException.objects.values_list("pk", flat=True))
    assert len(ids) == 5 and b"Unmatched claim id" in first.content
    assert all(f"/o/riverbend/denials/exceptions/{pk}/" in html for pk in ids)
    lines_only = client.get("/o/riverbend/denials/exceptions/?kind=unmatched_line").content
    assert lines_only.count(b"Unmatched service line</a>") == 4
    assert b"Unmatched claim id</a>" not in lines_only
    with tenant_context(practice.org):
        services.remittance_exception_resolve(
            exception=RemittanceException.objects.get(kind="unmatched_claim"),
            note="Refund",
            today=today(),
        )
    assert b"Unmatched claim id</a>" not in client.get("/o/riverbend/denials/exceptions/").content
    resolved = client.get("/o/riverbend/denials/exceptions/?status=resolved").content
    assert resolved.count(b"Unmatched claim id</a>") == 1 and b"Not ours" in resolved
    paged = client.get("/o/riverbend/denials/exceptions/?status=all&page=1").content
    assert paged.count(b"Unmatched claim id</a>") + paged.count(b"Unmatched service line</a>") == 5
