"""The CMS-1500 (02/12): one claim as a PDF, and the batch print of the ready paper claims."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from claims import services as claims_services
from claims.models import Claim, ClaimEvent, ClaimStatus
from patients.models import Payer
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from submissions import services
from tests.claims.conftest import dos
from tests.clock import today
from tests.factories import MembershipFactory, UserFactory
from tests.submissions.conftest import bill_ready

pytestmark = pytest.mark.django_db

BASE = "/o/riverbend/claims/batches/"


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _paper(billing: Any) -> None:
    with tenant_context(billing.org):
        Payer.objects.filter(pk=billing.payer.pk).update(
            submission_method="paper",
            address_line1="PO Box 4400",
            city="Chicago",
            state="IL",
            postal_code="606014400",
        )


@pytest.fixture
def plain_biller(org: Any) -> Any:
    """Pat bills at Riverbend like Bill, without the Part 2 grant."""
    return MembershipFactory(
        organization=org, role=Role.BILLER, user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user  # fmt: skip


def _eight_lines(billing: Any) -> Claim:
    for n in range(8):  # eight sessions on consecutive days: one claim of eight lines
        billing.session(45, day=dos() + timedelta(days=n))
    with tenant_context(billing.org):
        (claim,) = claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
        claim.refresh_from_db()
        assert claim.lines.count() == 8, list(claim.findings.values_list("message", flat=True))
    return claim


def test_the_claim_pdf_shows_the_numbered_boxes_filled_from_the_claim(billing, biller, client_for):
    (claim,) = bill_ready(billing)
    _paper(billing)
    response = client_for(biller).get(f"{BASE}claim/{claim.pk}/cms1500.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    (text,) = _pages(response.content)
    assert "HEALTH INSURANCE CLAIM FORM" in text and "(NUCC) 02/12" in text
    assert "BLUE PLAN" in text and "PO BOX 4400" in text and "60601-4400" in text  # carrier
    assert "[X] Group health plan" in text  # box 1: a commercial plan
    assert "W1" in text  # 1a: the member id
    assert "DOE, JANE" in text and "05 01 1980" in text  # boxes 2 and 3
    assert "12 ELM AVE" in text and "PORTLAND OR" in text and "97205" in text  # box 5
    assert "[X] Self" in text  # box 6
    assert "ICD IND. 0" in text and "A. F331" in text  # box 21: ICD-10, no decimal point
    with tenant_context(billing.org):
        line = claim.lines.select_related("rendering_provider").get()
    mmddyy = line.date_of_service.strftime("%m %d %y")
    assert f"1 {mmddyy} {mmddyy}" in text  # 24A
    assert f"{line.service_code}" in text and "150 00" in text  # 24D and 24F
    assert line.rendering_provider.npi in text  # 24J
    assert "931234567" in text and "[X] EIN" in text  # 25
    assert claim.patient_control_number in text  # 26
    assert f"$ {claim.total_charge:.2f}".replace(".", " ") in text  # 28
    assert "LENA PARK" in text  # 31
    assert "RIVERBEND RECOVERY CENTER" in text and "1234567893" in text  # 33 / 33a
    assert "PAGE 1 OF 1" in text
    with tenant_context(billing.org):
        viewed = AuditEvent.objects.filter(action="view", object_id=str(claim.pk))
        assert viewed.filter(detail__what="CMS-1500").exists()
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY  # a look changes nothing


def test_a_claim_of_eight_lines_takes_two_pages_with_the_total_on_the_last(
    billing, biller, client_for
):
    claim = _eight_lines(billing)
    _paper(billing)
    first, second = _pages(client_for(biller).get(f"{BASE}claim/{claim.pk}/cms1500.pdf").content)
    assert "PAGE 1 OF 2" in first and "PAGE 2 OF 2" in second
    total = f"$ {claim.total_charge:.2f}".replace(".", " ")
    assert "CONTINUED" in first and total not in first
    assert total in second and "CONTINUED" not in second
    # Six lines on the first sheet, two on the second; both carry the patient and the account.
    with tenant_context(billing.org):
        days = [
            d.strftime("%m %d %y") for d in claim.lines.values_list("date_of_service", flat=True)
        ]
    assert all(f"{n} {day} {day}" in first for n, day in enumerate(days[:6], 1))
    assert all(f"{n} {day} {day}" in second for n, day in enumerate(days[6:], 1))
    assert not any(day in first for day in days[6:]) and not any(d in second for d in days[:6])
    assert claim.patient_control_number in first and claim.patient_control_number in second


def test_the_batch_print_prints_the_paper_claims_and_marks_them_submitted(
    billing, biller, client_for
):
    claim = _eight_lines(billing)
    _paper(billing)
    client = client_for(biller)
    listing = client.get(f"{BASE}paper/").content.decode()
    assert claim.patient_control_number in listing and "1 claim ready to print" in listing
    response = client.post(f"{BASE}paper/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(_pages(response.content)) == 2
    with tenant_context(billing.org):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.SUBMITTED and claim.submitted_at is not None
        assert ClaimEvent.objects.filter(claim=claim, to_status="submitted").exists()
        assert AuditEvent.objects.filter(
            action="claim.print_cms1500", object_id=str(claim.pk)
        ).exists()
    # Printed: it is no longer waiting, and printing again finds nothing.
    again = client.post(f"{BASE}paper/")
    assert again.status_code == 400 and b"There is no ready paper claim to print" in again.content


def test_a_paper_claim_stays_out_of_electronic_batches(billing):
    bill_ready(billing)
    _paper(billing)
    from rcm.errors import DomainError

    with tenant_context(billing.org), pytest.raises(DomainError, match="no ready claim"):
        services.batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)


def test_the_batch_print_refuses_a_claim_of_a_payer_not_marked_paper(billing, biller, client_for):
    (claim,) = bill_ready(billing)  # Blue Plan stays electronic
    client = client_for(biller)
    assert b"No ready claim for a paper payer" in client.get(f"{BASE}paper/").content
    response = client.post(f"{BASE}paper/", {"claim": [str(claim.pk)]})
    assert response.status_code == 400
    assert b"Blue Plan takes electronic claims" in response.content
    with tenant_context(billing.org):
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY
        assert not AuditEvent.objects.filter(action="claim.print_cms1500").exists()
    garbage = client.post(f"{BASE}paper/", {"claim": ["not-a-uuid"]})
    assert garbage.status_code == 400 and b"not valid" in garbage.content


def test_another_tenants_claim_is_not_found(billing, outsider, client_for):
    (claim,) = bill_ready(billing)
    _paper(billing)
    client = client_for(outsider)
    assert (
        client.get(f"/o/harborview/claims/batches/claim/{claim.pk}/cms1500.pdf").status_code == 404
    )
    printed = client.post("/o/harborview/claims/batches/paper/", {"claim": [str(claim.pk)]})
    assert printed.status_code == 400 and b"not found" in printed.content
    with tenant_context(billing.org):
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY


def test_a_member_without_the_part2_grant_cannot_print_a_part2_claim(
    billing, plain_biller, biller, client_for
):
    (claim,) = bill_ready(billing)
    _paper(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(is_part2=True)
    plain = client_for(plain_biller)
    assert plain.get(f"{BASE}claim/{claim.pk}/cms1500.pdf").status_code == 404
    listing = plain.get(f"{BASE}paper/").content
    assert claim.patient_control_number.encode() not in listing
    assert b"1 restricted record not shown" in listing
    refused = plain.post(f"{BASE}paper/", {"claim": [str(claim.pk)]})
    assert refused.status_code == 400 and b"not found" in refused.content
    assert plain.post(f"{BASE}paper/").status_code == 400  # "print all" leaves it out
    # Bill has the grant, but no consent covers disclosing it to Blue Plan: refused, untouched.
    denied = client_for(biller).post(f"{BASE}paper/", {"claim": [str(claim.pk)]})
    assert denied.status_code == 400 and b"no consent covers" in denied.content
    with tenant_context(billing.org):
        assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.READY


def test_an_institutional_claim_is_refused_with_the_reason(billing, biller, client_for):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(claim_form="837I")
    response = client_for(biller).get(f"{BASE}claim/{claim.pk}/cms1500.pdf")
    assert response.status_code == 400 and b"the CMS-1500 is for professional" in response.content
