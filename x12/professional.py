"""837P (005010X222A1) from plain dataclasses, with our own checks before anything is written.

The claims app will build these dataclasses from its models; nothing here touches the database.
One file holds one billing provider (HL 20) and any number of claims, each under its own
subscriber level (HL 22) and, when the patient is not the subscriber, a patient level (HL 23).

Pre-write checks (``check_837p``) catch what payers reject at the front door: an NPI failing
its Luhn check digit, a claim total that is not the sum of its lines, an ICD-10-CM code that
does not exist or is not billable, a PO box as the billing provider's address, a corrected or
void claim without the payer's original claim number, and a diagnosis pointer to nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .cob import OtherPayer, cob_problems, line_adjudication_segments, other_payer_segments
from .identifiers import (
    NAME_LENGTHS,
    ein_error,
    name_error,
    npi_error,
    po_box_error,
    state_error,
    zip_code_error,
)
from .reader import X12Error
from .writer import Envelope, SegmentSpec, SegmentWriter, TransactionSet

VERSION = "005010X222A1"
MAX_DIAGNOSES = 12
FREQUENCY_CODES = {"1": "original", "7": "replacement", "8": "void"}
# Called with the number of claims written so far, about ten times per file.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True)
class Submitter:
    name: str
    identifier: str  # our ETIN / submitter id assigned by the clearinghouse
    contact_name: str
    phone: str


@dataclass(frozen=True)
class Receiver:
    name: str
    identifier: str


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str  # EIN, nine digits
    address: Address
    taxonomy: str = ""
    pay_to: Address | None = None  # 2010AB, only when payments go elsewhere (may be a PO box)


@dataclass(frozen=True)
class ServiceFacility:
    """2310C (837P) / 2310E (837I): where the service was delivered, when not the billing
    provider's address."""

    name: str
    npi: str
    address: Address


@dataclass(frozen=True)
class Provider:
    """A rendering (2310B) or supervising (2310D) provider: a person with an NPI."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date
    gender: str  # F, M or U
    address: Address
    middle_name: str = ""


@dataclass(frozen=True)
class Subscriber:
    person: Person
    member_id: str
    claim_filing_indicator: str = "CI"  # CI commercial, MC Medicaid, MB Medicare Part B, BL BCBS
    payer_responsibility: str = "P"  # P primary, S secondary, T tertiary
    group_number: str = ""


@dataclass(frozen=True)
class Patient:
    """The patient when not the subscriber; relationship is PAT01 (19 child, 01 spouse...)."""

    person: Person
    relationship: str = "19"


@dataclass(frozen=True)
class Payer:
    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True)
class ServiceLine:
    procedure_code: str
    charge: Decimal
    units: Decimal
    service_date: date
    diagnosis_pointers: Sequence[int] = (1,)
    modifiers: Sequence[str] = ()
    place_of_service: str = ""  # only when it differs from the claim's
    line_control_number: str = ""  # REF*6R, echoed back on the 835 line
    unit_basis: str = "UN"  # SV103: UN units, MJ minutes
    service_date_to: date | None = None  # a range (DTP*472*RD8) when set and later
    prior_authorization: str = ""  # REF*G1 on the line, when lines carry different ones


@dataclass(frozen=True)
class ProfessionalClaim:
    patient_control_number: str  # CLM01, echoed back as CLP01 and in the 277CA TRN02
    total_charge: Decimal
    place_of_service: str
    diagnoses: Sequence[str]  # ICD-10-CM, principal first; dots are allowed and removed
    lines: Sequence[ServiceLine]
    frequency_code: str = "1"
    original_claim_number: str = ""  # REF*F8, required for frequency 7 and 8
    prior_authorization: str = ""  # REF*G1
    rendering_provider: Provider | None = None
    supervising_provider: Provider | None = None
    service_facility: ServiceFacility | None = None
    other_payers: Sequence[OtherPayer] = ()  # 2320/2330/2430: earlier payers' adjudication


@dataclass(frozen=True)
class ClaimSubmission:
    subscriber: Subscriber
    payer: Payer
    claim: ProfessionalClaim
    patient: Patient | None = None


@dataclass(frozen=True)
class Batch837P:
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    submissions: Sequence[ClaimSubmission]
    reference: str  # BHT03, echoed back as the 277CA receiver-level TRN02
    created: datetime


@dataclass(frozen=True)
class Problem:
    """One reason a claim cannot be sent, with the field a biller has to fix."""

    field: str
    message: str


def npi_is_valid(npi: str) -> bool:
    """NPI check digit: Luhn over "80840" + the first nine digits (identifiers.npi_error)."""
    return npi_error(npi) is None


def diagnosis_problem(code: str) -> str | None:
    """Why an ICD-10-CM code cannot go on a claim, or None when it can."""
    import simple_icd_10_cm  # slow to load (seconds): only when a code is checked

    plain = code.replace(".", "").strip().upper()
    if not plain or not simple_icd_10_cm.is_valid_item(plain):
        return f"{code!r} is not an ICD-10-CM code."
    if not simple_icd_10_cm.is_leaf(plain):
        return f"{code!r} is a category, not a billable code: use one of its more specific codes."
    return None


def _provider_problems(provider: Provider | None, name: str) -> list[Problem]:
    if provider is None or npi_is_valid(provider.npi):
        return []
    return [
        Problem(f"{name}.npi", f"The {name.replace('_', ' ')} NPI {provider.npi!r} is invalid.")
    ]


def facility_problems(facility: ServiceFacility | None, prefix: str) -> list[Problem]:
    if facility is None or npi_is_valid(facility.npi):
        return []
    return [
        Problem(
            f"{prefix}.service_facility.npi",
            f"The service facility NPI {facility.npi!r} ({facility.name}) is invalid.",
        )
    ]


def subscriber_problems(subscriber: Subscriber, payer: Payer, prefix: str) -> list[Problem]:
    problems = []
    if not subscriber.member_id.strip():
        problems.append(
            Problem(
                f"{prefix}.subscriber.member_id",
                f"{prefix.capitalize()}: the subscriber member ID is missing.",
            )
        )
    if not payer.payer_id.strip():
        problems.append(Problem(f"{prefix}.payer.payer_id", f"Payer {payer.name} has no payer ID."))
    return problems


# PAT01: the patient's relationship to the subscriber when the patient is not the subscriber.
PATIENT_RELATIONSHIPS = frozenset({"01", "19", "20", "21", "39", "40", "53", "G8"})
GENDERS = frozenset({"F", "M", "U"})


def address_problems(address: Address | None, field: str, whose: str) -> list[Problem]:
    """N3/N4 of a person or the billing provider: street, city, a USPS state code, a ZIP."""
    if address is None:
        return [Problem(field, f"{whose} address is missing (the 837 requires it).")]
    missing = [
        label
        for value, label in (
            (address.line1, "street"),
            (address.city, "city"),
            (address.state, "state"),
            (address.postal_code, "ZIP code"),
        )
        if not value.strip()
    ]
    if missing:
        return [
            Problem(
                field,
                f"{whose} address has no {', '.join(missing)}: the 837 requires a full address "
                "(N3 and N4).",
            )
        ]
    problems = []
    if reason := state_error(address.state):
        problems.append(Problem(f"{field}.state", f"{whose} address: {reason}"))
    if reason := zip_code_error(address.postal_code):
        problems.append(Problem(f"{field}.postal_code", f"{whose} address: {reason}"))
    return problems


def person_problems(person: Person, field: str, whose: str) -> list[Problem]:
    """NM1/N3/N4/DMG of the subscriber (2010BA) or the patient (2010CA): a name the 837 can
    carry, a full address, the date of birth and a gender code."""
    problems = []
    for value, part in (
        (person.last_name, "last"),
        (person.first_name, "first"),
        (person.middle_name, "middle"),
    ):
        if not value.strip():
            if part != "middle":
                problems.append(Problem(f"{field}.{part}_name", f"{whose} {part} name is missing."))
        elif reason := name_error(value, max_length=NAME_LENGTHS[part]):
            problems.append(Problem(f"{field}.{part}_name", f"{whose} {part} name: {reason}"))
    if person.birth_date is None:
        problems.append(Problem(f"{field}.date_of_birth", f"{whose} date of birth is missing."))
    if person.gender not in GENDERS:
        problems.append(
            Problem(f"{field}.sex", f"{whose} sex must be F, M or U, not {person.gender!r}.")
        )
    return problems + address_problems(person.address, f"{field}.address", whose)


def party_problems(sub: ClaimSubmission | Any, prefix: str) -> list[Problem]:
    """The subscriber, the patient (when not the subscriber) and their relationship, for either
    claim form."""
    pcn = prefix.removeprefix("claim ")
    problems = person_problems(
        sub.subscriber.person, f"{prefix}.subscriber", f"Claim {pcn}: the subscriber's"
    )
    if sub.patient is not None:
        if sub.patient.relationship not in PATIENT_RELATIONSHIPS:
            problems.append(
                Problem(
                    f"{prefix}.relationship",
                    f"Claim {pcn}: {sub.patient.relationship!r} is not a relationship of the "
                    "patient to the subscriber the 837 knows (PAT01).",
                )
            )
        problems += person_problems(
            sub.patient.person, f"{prefix}.patient", f"Claim {pcn}: the patient's"
        )
    if reason := name_error(sub.payer.name, max_length=NAME_LENGTHS["last"]):
        problems.append(Problem(f"{prefix}.payer.name", f"Claim {pcn}: the payer name: {reason}"))
    return problems


def other_payer_problems(sub: ClaimSubmission | Any) -> list[Problem]:
    """The COB loops' checks (x12.cob.cob_problems) for either claim form."""
    claim = sub.claim
    return [
        Problem(field, message)
        for field, message in cob_problems(
            pcn=claim.patient_control_number,
            responsibility=sub.subscriber.payer_responsibility,
            total_charge=claim.total_charge,
            line_charges=[(line.line_control_number, line.charge) for line in claim.lines],
            payers=claim.other_payers,
        )
    ]


def billing_problems(billing: BillingProvider) -> list[Problem]:
    """The billing provider (2010AA): valid NPI, 9-digit EIN, a street address."""
    problems: list[Problem] = []
    if not npi_is_valid(billing.npi):
        problems.append(
            Problem(
                "billing_provider.npi",
                f"The billing provider NPI {billing.npi!r} fails the NPI check digit.",
            )
        )
    # Stored as nine digits, as REF*EI carries it (identifiers.normalize_ein).
    if not (len(billing.tax_id) == 9 and billing.tax_id.isdigit()) or ein_error(billing.tax_id):
        problems.append(
            Problem("billing_provider.tax_id", "The billing provider tax ID must be 9 digits.")
        )
    problems += address_problems(
        billing.address, "billing_provider.address", "The billing provider's"
    )
    for address_line in (billing.address.line1, billing.address.line2):
        if po_box_error(address_line):
            problems.append(
                Problem(
                    "billing_provider.address",
                    f"The billing provider address must be a street address, not a PO box "
                    f"({address_line!r}); send PO boxes as the pay-to address.",
                )
            )
    return problems


def check_837p(batch: Batch837P) -> list[Problem]:
    """Everything we know a payer would reject, before writing a byte."""
    problems = billing_problems(batch.billing_provider)
    if not batch.submissions:
        problems.append(Problem("submissions", "There is no claim to send."))
    for sub in batch.submissions:
        claim = sub.claim
        pcn = claim.patient_control_number
        prefix = f"claim {pcn}"
        if not claim.lines:
            problems.append(Problem(f"{prefix}.lines", f"Claim {pcn} has no service lines."))
        line_total = sum((line.charge for line in claim.lines), Decimal("0"))
        if line_total != claim.total_charge:
            problems.append(
                Problem(
                    f"{prefix}.total_charge",
                    f"Claim {pcn} total {claim.total_charge} is not the sum of its lines "
                    f"({line_total}).",
                )
            )
        if not claim.diagnoses:
            problems.append(Problem(f"{prefix}.diagnoses", f"Claim {pcn} has no diagnosis."))
        if len(claim.diagnoses) > MAX_DIAGNOSES:
            problems.append(
                Problem(
                    f"{prefix}.diagnoses",
                    f"Claim {pcn} has {len(claim.diagnoses)} diagnoses; an 837P carries at most "
                    f"{MAX_DIAGNOSES}.",
                )
            )
        for code in claim.diagnoses:
            reason = diagnosis_problem(code)
            if reason:
                problems.append(Problem(f"{prefix}.diagnoses", f"Claim {pcn}: {reason}"))
        if claim.frequency_code not in FREQUENCY_CODES:
            problems.append(
                Problem(
                    f"{prefix}.frequency_code",
                    f"Claim {pcn} frequency must be 1 (original), 7 (replacement) or 8 (void).",
                )
            )
        elif claim.frequency_code in ("7", "8") and not claim.original_claim_number:
            problems.append(
                Problem(
                    f"{prefix}.original_claim_number",
                    f"Claim {pcn} is a {FREQUENCY_CODES[claim.frequency_code]}: it needs the "
                    "payer's original claim number (REF*F8).",
                )
            )
        problems += _provider_problems(claim.rendering_provider, "rendering_provider")
        problems += _provider_problems(claim.supervising_provider, "supervising_provider")
        problems += facility_problems(claim.service_facility, prefix)
        problems += subscriber_problems(sub.subscriber, sub.payer, prefix)
        problems += party_problems(sub, prefix)
        problems += other_payer_problems(sub)
        for number, line in enumerate(claim.lines, start=1):
            if line.unit_basis not in ("UN", "MJ"):
                problems.append(
                    Problem(
                        f"{prefix}.lines[{number}].unit_basis",
                        f"Claim {pcn} line {number}: units are UN (units) or MJ (minutes).",
                    )
                )
            bad = [p for p in line.diagnosis_pointers if not 1 <= p <= len(claim.diagnoses)]
            if bad or not line.diagnosis_pointers or len(line.diagnosis_pointers) > 4:
                problems.append(
                    Problem(
                        f"{prefix}.lines[{number}].diagnosis_pointers",
                        f"Claim {pcn} line {number} must point at one to four of the claim's "
                        f"{len(claim.diagnoses)} diagnoses, got {list(line.diagnosis_pointers)}.",
                    )
                )
            if len(line.modifiers) > 4:
                problems.append(
                    Problem(
                        f"{prefix}.lines[{number}].modifiers",
                        f"Claim {pcn} line {number} has more than four modifiers.",
                    )
                )
            if line.charge <= 0 or line.units <= 0:
                problems.append(
                    Problem(
                        f"{prefix}.lines[{number}]",
                        f"Claim {pcn} line {number} needs a positive charge and units.",
                    )
                )
    return problems


def address_segments(address: Address) -> list[SegmentSpec]:
    return [
        ("N3", address.line1, address.line2 or None),
        ("N4", address.city, address.state, address.postal_code),
    ]


def demographics(person: Person) -> SegmentSpec:
    return ("DMG", "D8", person.birth_date.strftime("%Y%m%d"), person.gender)


def _claim_segments(claim: ProfessionalClaim) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        claim_segment(
            claim,
            (claim.place_of_service, "B", claim.frequency_code),
            provider_signature="Y",  # on file
        )
    ]
    if claim.original_claim_number:
        out.append(("REF", "F8", claim.original_claim_number))
    if claim.prior_authorization:
        out.append(("REF", "G1", claim.prior_authorization))
    codes = [c.replace(".", "").strip().upper() for c in claim.diagnoses]
    out.append(("HI", *[("ABK" if i == 0 else "ABF", code) for i, code in enumerate(codes)]))
    if claim.rendering_provider:
        p = claim.rendering_provider
        out.append(("NM1", "82", "1", p.last_name, p.first_name, None, None, None, "XX", p.npi))
        if p.taxonomy:
            out.append(("PRV", "PE", "PXC", p.taxonomy))
    if claim.service_facility:
        out += facility_segments(claim.service_facility)
    if claim.supervising_provider:
        p = claim.supervising_provider
        out.append(("NM1", "DQ", "1", p.last_name, p.first_name, None, None, None, "XX", p.npi))
    out += other_payer_segments(claim.other_payers)
    for number, line in enumerate(claim.lines, start=1):
        out.append(("LX", number))
        out.append(
            (
                "SV1",
                ("HC", line.procedure_code, *line.modifiers),
                line.charge,
                line.unit_basis,
                line.units,
                line.place_of_service or None,
                None,
                tuple(line.diagnosis_pointers),
            )
        )
        out += line_detail_segments(line, claim.other_payers, institutional=False)
    return out


def claim_segment(
    claim: Any, place: tuple[str, str, str], *, provider_signature: str | None
) -> SegmentSpec:
    """CLM for either form: `place` is the place of service (837P) or facility type code (837I),
    its qualifier and the frequency code."""
    return (
        "CLM",
        claim.patient_control_number,
        claim.total_charge,
        None,
        None,
        place,
        provider_signature,
        "A",  # assignment accepted
        "Y",  # benefits assigned
        "Y",  # release of information
    )


def line_detail_segments(
    line: Any, other_payers: Sequence[OtherPayer], *, institutional: bool
) -> list[SegmentSpec]:
    """What follows a service line's SV1/SV2 on either form: its date(s), prior authorization,
    line control number and the other payers' adjudication of it."""
    out = [service_date_segment(line.service_date, line.service_date_to)]
    if line.prior_authorization:
        out.append(("REF", "G1", line.prior_authorization))
    if line.line_control_number:
        out.append(("REF", "6R", line.line_control_number))
    out += line_adjudication_segments(
        other_payers, line.line_control_number, institutional=institutional
    )
    return out


def service_date_segment(start: date, end: date | None) -> SegmentSpec:
    if end is None or end == start:
        return ("DTP", "472", "D8", start.strftime("%Y%m%d"))
    return ("DTP", "472", "RD8", f"{start:%Y%m%d}-{end:%Y%m%d}")


def facility_segments(facility: ServiceFacility) -> list[SegmentSpec]:
    return [
        ("NM1", "77", "2", facility.name, None, None, None, None, "XX", facility.npi),
        *address_segments(facility.address),
    ]


def header_segments(batch: Batch837P | Any) -> list[SegmentSpec]:
    """BHT, submitter (1000A), receiver (1000B), billing provider (2000A/2010AA) and pay-to
    (2010AB): the same in the 837P and the 837I."""
    billing = batch.billing_provider
    segs: list[SegmentSpec] = [
        (
            "BHT",
            "0019",
            "00",
            batch.reference,
            batch.created.strftime("%Y%m%d"),
            batch.created.strftime("%H%M"),
            "CH",
        ),
        ("NM1", "41", "2", batch.submitter.name, None, None, None, None, "46",
         batch.submitter.identifier),
        ("PER", "IC", batch.submitter.contact_name, "TE", batch.submitter.phone),
        ("NM1", "40", "2", batch.receiver.name, None, None, None, None, "46",
         batch.receiver.identifier),
        ("HL", 1, None, "20", 1),
    ]  # fmt: skip
    if billing.taxonomy:
        segs.append(("PRV", "BI", "PXC", billing.taxonomy))
    segs.append(("NM1", "85", "2", billing.name, None, None, None, None, "XX", billing.npi))
    segs += address_segments(billing.address)
    segs.append(("REF", "EI", billing.tax_id))
    if billing.pay_to and billing.pay_to != billing.address:
        segs.append(("NM1", "87", "2"))
        segs += address_segments(billing.pay_to)
    return segs


def party_segments(sub: ClaimSubmission | Any, hl: int) -> tuple[list[SegmentSpec], int]:
    """Subscriber (2000B/2010BA), payer (2010BB) and patient (2000C/2010CA) levels; returns the
    segments and the last HL number used."""
    segs: list[SegmentSpec] = []
    hl += 1
    subscriber_hl = hl
    person = sub.subscriber.person
    segs.append(("HL", subscriber_hl, 1, "22", 1 if sub.patient else 0))
    segs.append(
        (
            "SBR",
            sub.subscriber.payer_responsibility,
            None if sub.patient else "18",
            sub.subscriber.group_number or None,
            None,
            None,
            None,
            None,
            None,
            sub.subscriber.claim_filing_indicator,
        )
    )
    segs.append(
        ("NM1", "IL", "1", person.last_name, person.first_name, person.middle_name or None,
         None, None, "MI", sub.subscriber.member_id)
    )  # fmt: skip
    segs += address_segments(person.address)
    segs.append(demographics(person))
    segs.append(
        ("NM1", "PR", "2", sub.payer.name, None, None, None, None, "PI", sub.payer.payer_id)
    )
    if sub.payer.address:
        segs += address_segments(sub.payer.address)
    if sub.patient:
        hl += 1
        patient = sub.patient.person
        segs.append(("HL", hl, subscriber_hl, "23", 0))
        segs.append(("PAT", sub.patient.relationship))
        segs.append(
            ("NM1", "QC", "1", patient.last_name, patient.first_name,
             patient.middle_name or None)
        )  # fmt: skip
        segs += address_segments(patient.address)
        segs.append(demographics(patient))
    return segs, hl


@dataclass(frozen=True)
class ClaimFileWriter:
    """Writes the 837 of one claim form: the pre-write `check` of a batch, the `claim_segments`
    of each claim (2300 onward), the implementation guide `version` and the form's `label`."""

    label: str
    version: str
    check: Callable[[Any], list[Problem]]
    claim_segments: Callable[[Any], list[SegmentSpec]]

    def build(
        self, batch: Any, on_progress: Progress | None = None, *, checked: bool = False
    ) -> TransactionSet:
        """The transaction set (BHT through the last service line): refuses to write when the
        pre-write checks found problems, reports progress every tenth of the way. `checked`:
        the caller has already run `check` on this batch and refused it on any problem."""
        problems = [] if checked else self.check(batch)
        if problems:
            raise X12Error(
                "The claim file was not written: " + " ".join(p.message for p in problems)
            )
        segs = header_segments(batch)
        hl = 1
        every = max(1, len(batch.submissions) // 10)
        for done, sub in enumerate(batch.submissions, start=1):
            parties, hl = party_segments(sub, hl)
            segs += parties
            segs += self.claim_segments(sub.claim)
            if on_progress and (done % every == 0 or done == len(batch.submissions)):
                on_progress(done)
        return TransactionSet("837", segs, self.version)

    def render(
        self,
        batch: Any,
        envelope: Envelope,
        writer: SegmentWriter | None = None,
        on_progress: Progress | None = None,
        *,
        checked: bool = False,
    ) -> str:
        """A complete interchange: checks, then ISA ... IEA. Raises X12Error on a problem (the
        envelope must be GS01 HC with this form's version)."""
        transaction = self.build(batch, on_progress, checked=checked)
        if envelope.version != self.version or envelope.functional_id != "HC":
            raise X12Error(f"An {self.label} envelope must be GS01 HC and GS08 {self.version}.")
        return envelope.render([transaction], writer)


WRITER_837P = ClaimFileWriter("837P", VERSION, check_837p, _claim_segments)


def build_837p(batch: Batch837P, on_progress: Progress | None = None) -> TransactionSet:
    """The 837P transaction set body (BHT through the last service line)."""
    return WRITER_837P.build(batch, on_progress)


def render_837p(
    batch: Batch837P,
    envelope: Envelope,
    writer: SegmentWriter | None = None,
    on_progress: Progress | None = None,
) -> str:
    """A complete 837P interchange: checks, then ISA ... IEA. Raises X12Error on a problem."""
    return WRITER_837P.render(batch, envelope, writer, on_progress)
