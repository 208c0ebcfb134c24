"""Appeal letters: content from the claim and the denial, the medical-necessity section for the
biller, and the Part 2 redisclosure notice only on Part 2 claims."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.models import Claim
from denials import services
from denials.letters import PART2_NOTICE, letter_html, letter_pdf
from denials.models import Denial
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.clock import days_from_now, today
from tests.denials.letter_helpers import complete_the_letter
from tests.denials.test_posting import post
from tests.denials.test_views import _denial_file

D = Decimal
pytestmark = pytest.mark.django_db


def _appeal(practice, submitted, *, part2=False, carc="197"):
    claim = submitted()
    with tenant_context(practice.org):
        if part2:
            Claim.objects.filter(pk=claim.pk).update(is_part2=True)
        lcn = claim.lines.get().line_control_number
    post(practice.org, _denial_file(claim, lcn, carc=carc))
    with tenant_context(practice.org):
        denial = Denial.objects.get()
        return services.appeal_create(denial=denial, level="level_1", today=today())


def test_the_letter_names_the_claim_the_denial_and_the_service(practice, submitted):
    appeal = _appeal(practice, submitted)
    body = appeal.letter_body
    claim = appeal.denial.claim
    assert claim.patient_control_number in body and "Jane Doe" in body
    assert "CO-197" in body and "N54" in body and "90834" in body and "Blue Plan" in body
    assert "BILLER TO COMPLETE" in body  # the medical-necessity section
    assert "42 CFR 2.32" not in body


def test_a_part2_claims_letter_carries_the_redisclosure_notice(practice, submitted):
    appeal = _appeal(practice, submitted, part2=True)
    assert PART2_NOTICE in appeal.letter_body


def test_the_pdf_keeps_the_part2_notice_even_if_the_biller_deleted_it(practice, submitted):
    appeal = _appeal(practice, submitted, part2=True)
    with tenant_context(practice.org):
        services.appeal_letter_save(appeal=appeal, body="Short letter.")
        appeal.refresh_from_db()
        html = letter_html(appeal)
        pdf = letter_pdf(appeal)
    assert "Short letter." in html and "42 CFR 2.32" in html
    assert pdf.startswith(b"%PDF")


def test_a_coding_denial_letter_has_no_medical_necessity_section(practice, submitted):
    appeal = _appeal(practice, submitted, carc="11")
    assert "BILLER TO COMPLETE" not in appeal.letter_body
    assert "coding" in appeal.letter_body.lower()


def test_one_appeal_per_level_and_an_empty_letter_is_refused(practice, submitted):
    appeal = _appeal(practice, submitted)
    with tenant_context(practice.org):
        with pytest.raises(DomainError):
            services.appeal_create(denial=appeal.denial, level="level_1", today=today())
        with pytest.raises(DomainError):
            services.appeal_letter_save(appeal=appeal, body="  ")


def test_submitting_and_winning_an_appeal_moves_the_claim_and_the_item(practice, submitted):
    from denials.models import WorkItem

    appeal = _appeal(practice, submitted)
    with tenant_context(practice.org):
        complete_the_letter(appeal)
        with pytest.raises(DomainError, match="in the future"):
            services.appeal_submit(
                appeal=appeal, submitted_on=days_from_now(1), method="portal", today=today()
            )
        services.appeal_submit(appeal=appeal, submitted_on=today(), method="portal", today=today())
        claim = appeal.denial.claim
        claim.refresh_from_db()
        assert claim.status == "appealed"
        assert WorkItem.objects.get(kind="denial").status == "waiting_on_payer"
        services.appeal_decide(
            appeal=appeal,
            outcome="overturned",
            decided_on=today(),
            recovered_amount=D("150"),
            today=today(),
        )
        assert WorkItem.objects.get(kind="denial").status == "resolved_paid"
        with pytest.raises(DomainError):
            services.appeal_decide(
                appeal=appeal,
                outcome="overturned",
                decided_on=today(),
                recovered_amount=D("151"),
                today=today(),
            )


def test_a_coding_denial_starts_a_corrected_claim_and_an_authorization_one_does_not(
    practice, submitted
):
    appeal = _appeal(practice, submitted, carc="11")
    with tenant_context(practice.org):
        copy = services.denial_correct_claim(denial=appeal.denial, today=today())
        assert copy.frequency == "7" and copy.original_claim_id == appeal.denial.claim_id
        auth_denial = Denial(category="authorization", claim=appeal.denial.claim)
        with pytest.raises(DomainError):
            services.denial_correct_claim(denial=auth_denial, today=today())
