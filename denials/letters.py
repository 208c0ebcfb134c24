"""Appeal letters: a first draft from the claim, the denial, the authorization and the episode,
worded per denial category; the biller edits it, then it is rendered to PDF with WeasyPrint.

A claim for a 42 CFR Part 2 service carries the redisclosure notice (42 CFR 2.32): the letter
discloses SUD treatment information to the payer.
"""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.utils.html import escape

from authorizations.models import Authorization
from claims.models import ClaimLine
from denials.models import Appeal, DenialCategory
from denials.rules import LetterRequirements, letter_missing_parts
from x12.identifiers import format_zip

PART2_NOTICE = (
    "NOTICE (42 CFR 2.32): This record which has been disclosed to you is protected by federal "
    "confidentiality rules (42 CFR part 2). These rules prohibit you from using or disclosing "
    "this record, or testimony that describes the information contained in this record, in any "
    "civil, criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, except as "
    "provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or "
    "2.65. In addition, the federal rules prohibit you from making any other use or disclosure of "
    "this record unless at least one of the following applies: further use or disclosure is "
    "expressly permitted by the written consent of the individual whose information is being "
    "disclosed in this record or as otherwise permitted by 42 CFR part 2; you are a covered "
    "entity or business associate and have received the record for treatment, payment, or health "
    "care operations; or you have received the record from a covered entity or business "
    "associate as permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required elements of "
    "written consent to further use or redisclose the record (see 42 CFR 2.31)."
)

MEDICAL_NECESSITY_PLACEHOLDER = (
    "[BILLER TO COMPLETE: summarize the clinical picture from the record: presenting symptoms and "
    "risk, the level-of-care criteria met (ASAM dimensions or the payer's own criteria), "
    "response to treatment so far, and why a lower level of care would not be safe or "
    "effective. Attach the assessment and progress notes.]"
)

ARGUMENTS = {
    DenialCategory.AUTHORIZATION: (
        "The service was covered by the authorization below, within its dates and units. The "
        "denial for missing or exceeded authorization is in error; please reprocess the line "
        "against the authorization on file."
    ),
    DenialCategory.MEDICAL_NECESSITY: (
        "The service was medically necessary under the plan's criteria and generally accepted "
        "standards of behavioral health care. Under the Mental Health Parity and Addiction "
        "Equity Act, medical necessity criteria for mental health and substance use disorder "
        "benefits may be no more stringent than those applied to medical/surgical benefits; we "
        "request the criteria used for this decision."
    ),
    DenialCategory.CODING: (
        "The procedure, modifiers and diagnosis billed are consistent with the documented "
        "service. Where a coding correction is needed we will submit a corrected claim; "
        "otherwise please reprocess as billed."
    ),
    DenialCategory.ELIGIBILITY: (
        "The patient's coverage was verified as active on the date of service. Please reprocess "
        "against the member's coverage on that date."
    ),
    DenialCategory.COB: (
        "Coordination of benefits information is attached: this plan is the patient's primary "
        "(or the primary's adjudication is enclosed). Please reprocess."
    ),
    DenialCategory.TIMELY_FILING: (
        "The claim was first submitted within the filing limit; proof of timely submission (the "
        "clearinghouse acceptance report) is attached."
    ),
    DenialCategory.CREDENTIALING: (
        "The rendering provider was credentialed and enrolled with the plan on the date of "
        "service; the enrollment details are attached."
    ),
    DenialCategory.DOCUMENTATION: (
        "The documentation requested is attached: it supports the service as billed."
    ),
}
DEFAULT_ARGUMENT = (
    "We believe this service was payable under the member's plan and request reconsideration."
)


def _authorization(lines: list[ClaimLine], number: str) -> Authorization | None:
    ids = [line.authorization_id for line in lines if line.authorization_id]
    if ids:
        return Authorization.objects.filter(pk__in=ids).first()
    if number:
        return Authorization.objects.filter(auth_number=number).first()
    return None


def _address_lines(line1: str, line2: str, city: str, state: str, postal_code: str) -> list[str]:
    """A mailing address as the lines of an envelope; none when the street or city is missing."""
    if not (line1.strip() and city.strip()):
        return []
    last = f"{city.strip()}, {state.strip()} {format_zip(postal_code)}".strip()
    return [line for line in (line1.strip(), line2.strip(), last) if line]


def payer_appeals_address(payer: object) -> list[str]:
    return _address_lines(
        *(
            getattr(payer, f"appeals_{name}")
            for name in ("address_line1", "address_line2", "city", "state", "postal_code")
        )
    )


def _provider_name(provider: object) -> str:
    name = f"{getattr(provider, 'first_name', '')} {getattr(provider, 'last_name', '')}".strip()
    suffix = getattr(provider, "credentials_suffix", "")
    return f"{name}, {suffix}" if suffix else name


def letter_requirements(appeal: Appeal) -> LetterRequirements:
    """What this appeal's letter must name, from the payer, the claim and its provider."""
    claim = appeal.denial.claim
    provider = claim.rendering_provider
    return LetterRequirements(
        payer_name=appeal.denial.payer.name,
        appeals_address=tuple(payer_appeals_address(appeal.denial.payer)),
        provider_name=f"{provider.first_name} {provider.last_name}".strip(),
        provider_npi=provider.npi,
        claim_number=claim.patient_control_number,
        member_id=claim.coverage.member_id if claim.coverage_id else "",
    )


def letter_missing(appeal: Appeal) -> list[str]:
    """The parts the letter (as it would be printed) still lacks before it may be sent."""
    return letter_missing_parts(_printed_body(appeal), letter_requirements(appeal))


def letter_context(appeal: Appeal, *, today: date) -> dict[str, object]:
    denial = appeal.denial
    claim = denial.claim
    organization = claim.organization
    lines = list(ClaimLine.objects.filter(claim=claim).order_by("line_number"))
    denied_lines = [line for line in lines if line.pk == denial.claim_line_id] or lines
    return {
        "today": today,
        "organization_address": _address_lines(
            organization.address_line1,
            organization.address_line2,
            organization.city,
            organization.state,
            organization.postal_code,
        ),
        "appeals_address": payer_appeals_address(denial.payer),
        "provider": claim.rendering_provider,
        "provider_name": _provider_name(claim.rendering_provider),
        "appeal": appeal,
        "denial": denial,
        "claim": claim,
        "patient": claim.patient,
        "payer": denial.payer,
        "episode": claim.episode,
        "organization": claim.organization,
        "lines": denied_lines,
        "authorization": _authorization(denied_lines, claim.prior_authorization_number),
        "argument": ARGUMENTS.get(denial.category, DEFAULT_ARGUMENT),  # type: ignore[call-overload]
        "medical_necessity": denial.category
        in {DenialCategory.MEDICAL_NECESSITY, DenialCategory.AUTHORIZATION},
        "placeholder": MEDICAL_NECESSITY_PLACEHOLDER,
        "part2_notice": PART2_NOTICE if claim.is_part2 else "",
    }


def letter_draft(appeal: Appeal, *, today: date) -> str:
    """The first draft (plain text the biller edits), dated `today`."""
    context = letter_context(appeal, today=today)
    return render_to_string("denials/letters/appeal.txt", context).strip() + "\n"


def _printed_body(appeal: Appeal) -> str:
    """The letter as edited. The Part 2 notice is added again if the biller deleted it from a
    Part 2 claim's letter: the disclosure must carry it."""
    body = appeal.letter_body
    if appeal.denial.claim.is_part2 and "42 CFR 2.32" not in body:
        body = f"{body}\n\n{PART2_NOTICE}"
    return body


def letter_html(appeal: Appeal) -> str:
    """The letter as the HTML the PDF is printed from: once sent, the recorded copy."""
    if appeal.sent_letter_html:
        return appeal.sent_letter_html
    body = _printed_body(appeal)
    paragraphs = [escape(p).replace("\n", "<br>") for p in body.split("\n\n")]
    return render_to_string(
        "denials/letters/appeal_pdf.html", {"paragraphs": paragraphs, "appeal": appeal}
    )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def letter_pdf(appeal: Appeal) -> bytes:
    """The letter as a PDF (WeasyPrint). Once the appeal is sent, the copy recorded then: the
    payer got that document, byte for byte, whatever the templates have become since."""
    if appeal.sent_letter_pdf:
        return bytes(appeal.sent_letter_pdf)
    return html_to_pdf(letter_html(appeal))
