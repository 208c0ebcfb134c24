# ruff: noqa: F811  (the `denial` fixture is re-exported from test_views)
"""An appeal letter is recorded as sent only when complete: no placeholder, the date, the payer's
name and appeals address (from the payer record), the provider signature block, the claim and
member ids. The refusal names every missing part; the copy sent is the one the PDF serves.
The denial page reads right: each fact beside its label, every field labelled."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from denials import services
from denials.letters import letter_pdf
from denials.models import Appeal
from denials.rules import LetterRequirements, letter_missing_parts
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.letter_helpers import complete_the_letter, give_the_payer_an_appeals_address
from tests.denials.test_views import denial  # noqa: F401  (fixture re-export)
from x12.identifiers import format_zip

pytestmark = pytest.mark.django_db

REQUIRED = LetterRequirements(
    payer_name="Blue Plan",
    appeals_address=("PO Box 4410", "Springfield, IL 62701-4410"),
    provider_name="Lena Park",
    provider_npi="1234567893",
    claim_number="C1-0001",
    member_id="W1",
)
COMPLETE = """Riverbend

December 7, 2026

Blue Plan
Appeals department
PO Box 4410
Springfield, IL 62701-4410

RE: claim C1-0001, member ID W1. Please pay.

Sincerely,

Lena Park, LCSW
Rendering provider, NPI 1234567893
"""


def test_a_complete_letter_lacks_nothing():
    assert letter_missing_parts(COMPLETE, REQUIRED) == []


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda b: b.replace("Please pay.", "[BILLER TO COMPLETE: why]"), "[BILLER TO COMPLETE"),
        (lambda b: b.replace("Please pay.", "[attach the notes]"), "[attach the notes]"),
        (lambda b: b.replace("December 7, 2026\n", ""), "date of the letter"),
        (lambda b: b.replace("Blue Plan\n", ""), "payer's name"),
        (lambda b: b.replace("PO Box 4410\n", ""), "appeals address"),
        (lambda b: b.replace("NPI 1234567893", ""), "signature block"),
        (lambda b: b.replace("Lena Park, LCSW", ""), "signature block"),
        (lambda b: b.replace("C1-0001", "the claim"), "claim number (C1-0001)"),
        (lambda b: b.replace("member ID W1", "member"), "member ID (W1)"),
    ],
)
def test_each_missing_part_is_named(edit, named):
    missing = letter_missing_parts(edit(COMPLETE), REQUIRED)
    assert len(missing) == 1 and named in missing[0]


def test_a_payer_without_an_appeals_address_is_named_even_if_the_letter_has_one():
    required = LetterRequirements(**{**REQUIRED.__dict__, "appeals_address": ()})
    assert letter_missing_parts(COMPLETE, required) == [
        "the payer's appeals address (add it to the payer record)"
    ]


def test_zips_print_with_their_hyphen():
    assert format_zip("627014410") == "62701-4410"
    assert format_zip("62701-4410") == "62701-4410"
    assert format_zip("62701") == "62701"


def _appeal(denial):
    with tenant_context(denial.organization_id):
        return services.appeal_create(denial=denial, level="level_1", today=today())


def test_the_draft_is_dated_and_signed_with_the_payers_appeals_address(denial):
    with tenant_context(denial.organization_id):
        give_the_payer_an_appeals_address(denial.payer)
        denial.payer.refresh_from_db()
        body = services.appeal_create(denial=denial, level="level_1", today=today()).letter_body
    assert today().strftime("%B ") + str(today().day) + today().strftime(", %Y") in body
    assert "PO Box 4410\nSpringfield, IL 62701-4410" in body
    assert "Sincerely," in body and "NPI " in body


def test_a_letter_with_a_placeholder_and_no_appeals_address_is_refused_naming_both(denial):
    appeal = _appeal(denial)
    with tenant_context(denial.organization_id):
        with pytest.raises(DomainError) as refused:
            services.appeal_submit(appeal=appeal, submitted_on=today(), method="fax", today=today())
        appeal.refresh_from_db()
        assert appeal.submitted_on is None and appeal.sent_letter_pdf is None
        assert appeal.denial.claim.status == "denied"
    message = refused.value.message
    assert "[BILLER TO COMPLETE" in message and "[PAYER APPEALS ADDRESS" in message
    assert "the payer's appeals address (add it to the payer record)" in message


def test_a_missing_appeals_address_alone_is_refused(denial):
    appeal = _appeal(denial)
    with tenant_context(denial.organization_id):
        complete_the_letter(appeal)
        type(denial.payer).objects.filter(pk=denial.payer_id).update(appeals_address_line1="")
        appeal = Appeal.objects.select_related("denial__payer").get(pk=appeal.pk)
        with pytest.raises(DomainError, match="appeals address") as refused:
            services.appeal_submit(appeal=appeal, submitted_on=today(), method="fax", today=today())
    assert "placeholder" not in refused.value.message


def test_the_sent_letter_is_recorded_once_and_the_pdf_serves_that_copy(denial, biller, client_for):
    appeal = _appeal(denial)
    with tenant_context(denial.organization_id):
        complete_the_letter(appeal)
        services.appeal_submit(appeal=appeal, submitted_on=today(), method="fax", today=today())
        appeal.refresh_from_db()
        recorded = bytes(appeal.sent_letter_pdf)
        assert recorded.startswith(b"%PDF") and "Springfield, IL 62701-4410" in (
            appeal.sent_letter_html
        )
        with pytest.raises(DomainError, match="recorded copy"):
            services.appeal_letter_save(appeal=appeal, body="Changed after sending.")
        # Even if the stored body were touched behind the service's back, the PDF is the copy.
        Appeal.objects.filter(pk=appeal.pk).update(letter_body="Tampered.")
        appeal.refresh_from_db()
        assert letter_pdf(appeal) == recorded
    download = client_for(biller).get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter.pdf")
    assert download.status_code == 200 and download.content == recorded


def test_the_denial_page_refusal_lists_the_missing_parts(denial, biller, client_for):
    appeal = _appeal(denial)
    client = client_for(biller)
    response = client.post(
        f"/o/riverbend/denials/appeals/{appeal.pk}/submit/",
        {"submitted_on": str(today()), "method": "mail"},
        follow=True,
    )
    text = response.content.decode()
    assert "cannot be recorded as sent" in text and "[BILLER TO COMPLETE" in text
    letter = client.get(f"/o/riverbend/denials/appeals/{appeal.pk}/letter/")
    missing = BeautifulSoup(letter.content, "html.parser").select("#letter-missing li")
    assert any("appeals address" in li.text for li in missing)


def test_the_denial_page_puts_each_fact_beside_its_label_and_labels_every_field(
    denial, biller, client_for
):
    _appeal(denial)
    page = client_for(biller).get(f"/o/riverbend/denials/denials/{denial.pk}/")
    soup = BeautifulSoup(page.content, "html.parser")
    facts = soup.select_one("#denial-facts")
    assert "kv" in facts["class"]  # two columns: label, value (not a wrapping grid)
    pairs = {dt.text: dt.find_next_sibling("dd").text for dt in facts.find_all("dt")}
    assert re.fullmatch(r"\$150\.00 \(fully denied\)", pairs["Amount at stake"])
    assert pairs["Remarks"] == "N54"
    ids = [el["id"] for el in soup.select("[id]")]
    assert len(ids) == len(set(ids)), "duplicate element ids"
    fields = soup.select("form input:not([type=hidden]), form select, form textarea")
    assert fields
    for field in fields:
        assert field.get("id") and soup.select_one(f'label[for="{field["id"]}"]'), field


def test_another_tenants_appeal_cannot_be_sent(denial, outsider, client_for):
    appeal = _appeal(denial)
    response = client_for(outsider).post(
        f"/o/riverbend/denials/appeals/{appeal.pk}/submit/",
        {"submitted_on": str(today()), "method": "mail"},
    )
    assert response.status_code in (403, 404)
