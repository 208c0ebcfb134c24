"""Paper claims: the CMS-1500 (02/12) for payers whose rules say "paper", and the batch print.

The boxes follow the NUCC 1500 Claim Form Reference Instruction Manual (02/12): item 21 holds
up to twelve ICD-10-CM codes A-L (no decimal point) with the ICD indicator 0; each service line
(24A-J) points at them by letter in 24E; 25 is the EIN, 26 the patient control number, 28 the
total charge, 31 the rendering provider, 32 the service facility, 33 the billing provider, each
with its NPI. A form holds six service lines: a claim with more continues on further pages, and
only the last page carries the total (the ones before say CONTINUED).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string

from claims.models import Claim, ClaimLine, ClaimStatus
from claims.services import NOT_YET_DISCLOSED, claim_transition
from patients.models import ClaimForm, Consent, Coverage, SubmissionMethod
from patients.rules import consent_decision
from rcm import part2
from rcm.audit.services import audit_record_many
from rcm.errors import DomainError
from rcm.tenancy.models import Organization
from submissions.services.building import OPEN_BATCH

__all__ = [
    "LINES_PER_PAGE",
    "Cms1500Page",
    "cms1500_pages",
    "cms1500_pdf",
    "paper_claims",
    "paper_claims_print",
]

LINES_PER_PAGE = 6
DIAGNOSIS_LETTERS = "ABCDEFGHIJKL"
# Item 1: the kind of plan the claim goes to.
PLAN_BOX = {
    "medicare": "Medicare",
    "medicaid": "Medicaid",
    "medicaid_mco": "Medicaid",
    "tricare": "TRICARE",
    "commercial": "Group health plan",
    "medicare_advantage": "Group health plan",
}
PLAN_CHOICES = ("Medicare", "Medicaid", "TRICARE", "CHAMPVA", "Group health plan", "FECA BLK LUNG",
                "Other")  # fmt: skip
# Item 6: the patient's relationship to the insured (X12 code -> box).
RELATIONSHIP_BOX = {"18": "Self", "01": "Spouse", "19": "Child"}


def _mdy(day: date | None, *, long: bool = False) -> str:
    if day is None:
        return ""
    return day.strftime("%m %d %Y" if long else "%m %d %y")


def _zip(code: str) -> str:
    digits = code.replace("-", "").strip()
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else digits


def _money(amount: Decimal) -> tuple[str, str]:
    """Dollars and cents, the two parts of a money box."""
    dollars, cents = f"{amount:.2f}".split(".")
    return dollars, cents


def _name(last: str, first: str, middle: str = "") -> str:
    return ", ".join(p for p in (last.upper(), first.upper(), middle[:1].upper()) if p)


@dataclass
class Cms1500Line:
    date_from: str
    date_to: str
    place_of_service: str
    procedure: str
    modifiers: list[str]
    pointers: str
    charge: tuple[str, str]
    units: str
    rendering_npi: str


@dataclass
class Cms1500Page:
    """One sheet of the form: the claim's boxes and up to six service lines."""

    claim_id: Any
    number: int
    count: int
    boxes: dict[str, Any]
    lines: list[Cms1500Line] = field(default_factory=list)

    @property
    def is_last(self) -> bool:
        return self.number == self.count

    @property
    def blank_lines(self) -> range:
        return range(LINES_PER_PAGE - len(self.lines))


def _claims_qs() -> QuerySet[Claim]:
    return Claim.objects.select_related(
        "patient", "coverage", "payer", "rendering_provider", "service_facility"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=ClaimLine.objects.select_related("rendering_provider").order_by("line_number"),
        ),
        Prefetch(
            "patient__coverages",
            queryset=Coverage.objects.select_related("payer").order_by("priority"),
        ),
    )


def _claim_boxes(claim: Claim, org: Organization, today: date) -> dict[str, Any]:
    patient, coverage, payer = claim.patient, claim.coverage, claim.payer
    self_insured = coverage.relationship == "18"
    insured_last = patient.last_name if self_insured else coverage.subscriber_last_name
    insured_first = patient.first_name if self_insured else coverage.subscriber_first_name
    insured_dob = patient.date_of_birth if self_insured else coverage.subscriber_date_of_birth
    insured_sex = patient.sex if self_insured else coverage.subscriber_sex
    others = [c for c in patient.coverages.all() if c.pk != coverage.pk]
    other = others[0] if others else None
    address = {
        "street": " ".join(p for p in (patient.address_line1, patient.address_line2) if p).upper(),
        "city": patient.city.upper(),
        "state": patient.state.upper(),
        "zip": _zip(patient.postal_code),
        "phone": patient.phone,
    }
    facility = claim.service_facility
    rendering = claim.rendering_provider
    suffix = f" {rendering.credentials_suffix}" if rendering.credentials_suffix else ""
    return {
        "carrier": {
            "name": payer.name.upper(),
            "street": " ".join(p for p in (payer.address_line1, payer.address_line2) if p).upper(),
            "city_state_zip": " ".join(
                p for p in (payer.city.upper(), payer.state.upper(), _zip(payer.postal_code)) if p
            ),
        },
        "1": PLAN_BOX.get(payer.payer_type, "Other"),
        "1_choices": [
            (label, label == PLAN_BOX.get(payer.payer_type, "Other")) for label in PLAN_CHOICES
        ],
        "1a": coverage.member_id,
        "2": _name(patient.last_name, patient.first_name, patient.middle_name),
        "3": {"dob": _mdy(patient.date_of_birth, long=True), "sex": patient.sex},
        "4": _name(insured_last, insured_first),
        "5": address,
        "6": RELATIONSHIP_BOX.get(coverage.relationship, "Other"),
        "7": address,
        "9": _name(
            other.subscriber_last_name or patient.last_name,
            other.subscriber_first_name or patient.first_name,
        )
        if other
        else "",
        "9a": (other.group_number or other.member_id) if other else "",
        "9d": (other.plan_name or other.payer.name).upper() if other else "",
        "10a": "NO",
        "10b": "NO",
        "10c": "NO",
        "11": coverage.group_number,
        "11a": {"dob": _mdy(insured_dob, long=True), "sex": insured_sex},
        "11c": (coverage.plan_name or payer.name).upper(),
        "11d": "YES" if other else "NO",
        "12": "SIGNATURE ON FILE",
        "12_date": _mdy(today),
        "13": "SIGNATURE ON FILE",
        "20": "NO",
        "21_indicator": "0",  # ICD-10-CM
        "21": [
            (DIAGNOSIS_LETTERS[i], code.replace(".", ""))
            for i, code in enumerate(claim.diagnosis_codes[:12])
        ],
        "22_code": claim.frequency if claim.frequency != "1" else "",
        "22_original": claim.payer_claim_number if claim.frequency != "1" else "",
        "23": claim.prior_authorization_number,
        "25": org.tax_id.replace("-", ""),
        "25_kind": "EIN",
        "26": claim.patient_control_number,
        "27": "YES",
        "29": _money(Decimal("0.00")),
        "31": f"{rendering.first_name} {rendering.last_name}{suffix}".upper(),
        "31_date": _mdy(today),
        "32": {
            "name": facility.name.upper(),
            "street": " ".join(p for p in (facility.address_line1, facility.address_line2) if p),
            "city_state_zip": f"{facility.city} {facility.state} {_zip(facility.postal_code)}",
        }
        if facility
        else None,
        "32a": facility.npi if facility else "",
        "33": {
            "name": org.name.upper(),
            "street": " ".join(p for p in (org.address_line1, org.address_line2) if p).upper(),
            "city_state_zip": f"{org.city.upper()} {org.state.upper()} {_zip(org.postal_code)}",
            "phone": org.phone,
        },
        "33a": org.group_npi,
    }


def cms1500_pages(claim: Claim, *, organization: Organization, today: date) -> list[Cms1500Page]:
    """The claim's sheets: its boxes on each, six service lines a sheet, the total on the last.
    Only a professional claim goes on the CMS-1500 (an institutional one is a UB-04)."""
    if claim.claim_form != ClaimForm.PROFESSIONAL:
        raise DomainError(
            f"Claim {claim.patient_control_number} is an institutional (837I) claim: the "
            "CMS-1500 is for professional claims.",
            field="claim_form",
        )
    boxes = _claim_boxes(claim, organization, today)
    lines = [
        Cms1500Line(
            date_from=_mdy(line.date_of_service),
            date_to=_mdy(line.date_of_service),
            place_of_service=line.place_of_service,
            procedure=line.service_code,
            modifiers=list(line.modifiers)[:4],
            pointers="".join(
                DIAGNOSIS_LETTERS[p - 1] for p in line.diagnosis_pointers[:4] if 1 <= p <= 12
            ),
            charge=_money(line.charge),
            units=str(line.units),
            rendering_npi=line.rendering_provider.npi,
        )
        for line in claim.lines.all()
    ]
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    pages = [
        Cms1500Page(claim.pk, n, len(chunks), boxes, chunk) for n, chunk in enumerate(chunks, 1)
    ]
    pages[-1].boxes = {**boxes, "28": _money(claim.total_charge)}
    return pages


def cms1500_pdf(pages: Iterable[Cms1500Page]) -> bytes:
    from weasyprint import HTML

    html = render_to_string("batches/cms1500.html", {"pages": list(pages)})
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def paper_claims(*, scopes: Collection[str]) -> QuerySet[Claim]:
    """Ready professional claims to payers marked paper, in no open batch, that the caller may
    see: what the batch print takes."""
    return part2.visible(
        Claim.objects.filter(
            status=ClaimStatus.READY,
            claim_form=ClaimForm.PROFESSIONAL,
            payer__submission_method=SubmissionMethod.PAPER,
        ).exclude(batch_items__batch__status__in=OPEN_BATCH),
        scopes,
    )


def _refusals(claims: list[Claim], wanted: set[Any]) -> list[str]:
    found = {c.pk: c for c in claims}
    reasons = []
    for claim in claims:
        if claim.pk not in wanted:
            continue
        if claim.payer.submission_method != SubmissionMethod.PAPER:
            reasons.append(
                f"Claim {claim.patient_control_number}: {claim.payer.name} takes electronic "
                "claims (its rules do not say paper); send it in an 837 batch."
            )
        elif claim.claim_form != ClaimForm.PROFESSIONAL:
            reasons.append(
                f"Claim {claim.patient_control_number} is institutional: the CMS-1500 is for "
                "professional claims."
            )
        elif claim.status != ClaimStatus.READY:
            reasons.append(
                f"Claim {claim.patient_control_number} is "
                f"{claim.get_status_display().lower()}, not ready."
            )
    if missing := len(wanted - set(found)):
        reasons.append(f"{missing} of the chosen claims were not found.")
    return reasons


def paper_claims_print(
    *,
    scopes: Collection[str],
    actor: Any,
    today: date,
    claim_ids: Iterable[Any] | None = None,
) -> tuple[bytes, list[Claim]]:
    """Print the organization's ready paper claims (all the caller may see, or the ones given)
    as one PDF, and mark each submitted (printed) with an event and an audit row. A chosen claim
    that is not a ready paper claim refuses the whole print, naming it; a Part 2 claim the
    caller may not see is "not found"; one whose patient's consent does not cover disclosure to
    this payer is refused."""
    with transaction.atomic():
        if claim_ids is not None:
            wanted = set(claim_ids)
            chosen = list(
                part2.visible(_claims_qs(), scopes)
                .filter(pk__in=wanted)
                .select_for_update(of=("self",))
                .order_by("patient_control_number")
            )
            if reasons := _refusals(chosen, wanted):
                raise DomainError(" ".join(reasons), field="claim_ids")
            in_batch = paper_claims(scopes=scopes).filter(pk__in=wanted).count()
            if in_batch != len(wanted):
                raise DomainError(
                    "Some of the chosen claims are already in an open electronic batch.",
                    field="claim_ids",
                )
        else:
            chosen = list(
                _claims_qs()
                .filter(pk__in=paper_claims(scopes=scopes).values("pk"))
                .select_for_update(of=("self",))
                .order_by("patient_control_number")
            )
        if not chosen:
            raise DomainError("There is no ready paper claim to print.", field="claim_ids")
        _check_part2_consents(chosen, today)
        organization = Organization.objects.get(pk=chosen[0].organization_id)
        pages = [
            p for c in chosen for p in cms1500_pages(c, organization=organization, today=today)
        ]
        pdf = cms1500_pdf(pages)
        for claim in chosen:
            claim_transition(
                claim=claim,
                to_status=ClaimStatus.SUBMITTED,
                actor=actor,
                note="Printed on the CMS-1500 (paper) for mailing",
            )
        audit_record_many(
            "claim.print_cms1500",
            [(c, {"pages": sum(1 for p in pages if p.claim_id == c.pk)}) for c in chosen],
        )
    return pdf, chosen


def _check_part2_consents(claims: list[Claim], today: date) -> None:
    part2_patients = {c.patient_id for c in claims if c.is_part2}
    if not part2_patients:
        return
    consents: dict[Any, list[Consent]] = {}
    for consent in Consent.objects.filter(patient_id__in=part2_patients):
        consents.setdefault(consent.patient_id, []).append(consent)
    refused = [
        c.patient_control_number
        for c in claims
        if c.is_part2
        and not consent_decision(
            consents.get(c.patient_id, []),  # type: ignore[arg-type]
            payer_id=c.payer_id,
            purpose="payment",
            on_date=today,
            revoked_before=NOT_YET_DISCLOSED,
        ).covered
    ]
    if refused:
        raise DomainError(
            f"Claims {', '.join(refused)} hold Part 2 (substance use) records and no consent "
            "covers sending them to their payer.",
            field="claim_ids",
        )
