"""837I (005010X223A2) from plain dataclasses: facility claims (residential stays, PHP and IOP
days billed by a facility) with type of bill, statement dates, admission and condition codes,
revenue-code lines (SV2) and our own checks before anything is written.

The envelope, submitter/receiver, billing provider, pay-to, subscriber, payer and patient
levels are the same as the 837P's and come from ``professional``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .cob import OtherPayer, other_payer_segments
from .professional import (
    FREQUENCY_CODES,
    MAX_DIAGNOSES,
    BillingProvider,
    ClaimFileWriter,
    ClaimSubmission,
    Problem,
    Progress,
    Provider,
    Receiver,
    ServiceFacility,
    Submitter,
    _provider_problems,
    billing_problems,
    claim_segment,
    diagnosis_problem,
    facility_problems,
    line_detail_segments,
    other_payer_problems,
    party_problems,
    subscriber_problems,
)
from .writer import Envelope, SegmentSpec, SegmentWriter, TransactionSet

VERSION = "005010X223A2"
TYPE_OF_BILL = re.compile(r"^0?(\d)(\d)(\d)$")
UNIT_BASES = ("UN", "DA")


@dataclass(frozen=True)
class InstitutionalLine:
    revenue_code: str  # four digits, e.g. 1001 residential psychiatric, 0905 IOP psychiatric
    charge: Decimal
    units: Decimal
    service_date: date
    procedure_code: str = ""  # HCPCS, e.g. S9480 IOP per diem, H0019 residential
    modifiers: Sequence[str] = ()
    unit_basis: str = "UN"  # UN units, DA days
    service_date_to: date | None = None
    line_control_number: str = ""  # REF*6R
    prior_authorization: str = ""  # REF*G1 on the line, when lines differ


@dataclass(frozen=True)
class InstitutionalClaim:
    patient_control_number: str
    total_charge: Decimal
    type_of_bill: str  # 3 digits (or 4 with a leading 0): facility, classification, frequency
    statement_from: date
    statement_to: date
    diagnoses: Sequence[str]  # principal first
    lines: Sequence[InstitutionalLine]
    attending_provider: Provider
    patient_status: str = "30"  # CL103: 30 still a patient, 01 discharged home
    admission_date: date | None = None  # DTP*435, inpatient and residential
    admission_type: str = ""  # CL101: 1 emergency, 2 urgent, 3 elective
    admission_source: str = ""  # CL102
    admitting_diagnosis: str = ""  # HI*ABJ, inpatient
    condition_codes: Sequence[str] = ()  # HI*BG: 41 PHP, 92 IOP (Medicare)
    original_claim_number: str = ""  # REF*F8 for frequency 7 and 8
    prior_authorization: str = ""  # REF*G1
    rendering_provider: Provider | None = None  # 2310D, only when not the attending
    service_facility: ServiceFacility | None = None  # 2310E
    other_payers: Sequence[OtherPayer] = ()  # 2320/2330/2430: earlier payers' adjudication

    @property
    def facility_code(self) -> str:
        match = TYPE_OF_BILL.match(self.type_of_bill)
        return f"{match.group(1)}{match.group(2)}" if match else ""

    @property
    def frequency_code(self) -> str:
        match = TYPE_OF_BILL.match(self.type_of_bill)
        return match.group(3) if match else ""


@dataclass(frozen=True)
class InstitutionalSubmission(ClaimSubmission):
    claim: InstitutionalClaim  # type: ignore[assignment]


@dataclass(frozen=True)
class Batch837I:
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    submissions: Sequence[InstitutionalSubmission]
    reference: str
    created: datetime


def _clean(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _claim_problems(sub: InstitutionalSubmission) -> list[Problem]:
    claim = sub.claim
    pcn = claim.patient_control_number
    prefix = f"claim {pcn}"
    problems: list[Problem] = []

    def add(field: str, message: str) -> None:
        problems.append(Problem(f"{prefix}.{field}", f"Claim {pcn}: {message}"))

    if not claim.lines:
        add("lines", "it has no service lines.")
    total = sum((line.charge for line in claim.lines), Decimal("0"))
    if total != claim.total_charge:
        add(
            "total_charge", f"the total {claim.total_charge} is not the sum of its lines ({total})."
        )
    if not TYPE_OF_BILL.match(claim.type_of_bill):
        add("type_of_bill", f"type of bill {claim.type_of_bill!r} must be three digits (e.g. 861).")
    elif claim.frequency_code not in FREQUENCY_CODES:
        add("type_of_bill", "the type of bill must end in 1 (original), 7 or 8.")
    elif claim.frequency_code in ("7", "8") and not claim.original_claim_number:
        add(
            "original_claim_number",
            f"a {FREQUENCY_CODES[claim.frequency_code]} needs the payer's original claim "
            "number (REF*F8).",
        )
    if claim.statement_to < claim.statement_from:
        add("statement_to", "the statement period ends before it starts.")
    if not claim.diagnoses:
        add("diagnoses", "it has no diagnosis.")
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        add(
            "diagnoses",
            f"it has {len(claim.diagnoses)} diagnoses; we send {MAX_DIAGNOSES} at most.",
        )
    for code in [
        *claim.diagnoses,
        *([claim.admitting_diagnosis] if claim.admitting_diagnosis else []),
    ]:
        reason = diagnosis_problem(code)
        if reason:
            add("diagnoses", reason)
    for code in claim.condition_codes:
        if len(code) != 2 or not code.isalnum():
            add("condition_codes", f"condition code {code!r} must be two characters.")
    if not (len(claim.patient_status) == 2 and claim.patient_status.isdigit()):
        add("patient_status", "the patient status code (CL103) must be two digits.")
    problems += _provider_problems(claim.attending_provider, "attending_provider")
    problems += _provider_problems(claim.rendering_provider, "rendering_provider")
    problems += facility_problems(claim.service_facility, prefix)
    problems += subscriber_problems(sub.subscriber, sub.payer, prefix)
    problems += party_problems(sub, prefix)
    problems += other_payer_problems(sub)
    for number, line in enumerate(claim.lines, start=1):
        where = f"lines[{number}]"
        if not (len(line.revenue_code) == 4 and line.revenue_code.isdigit()):
            add(f"{where}.revenue_code", f"line {number} revenue code must be four digits.")
        if line.unit_basis not in UNIT_BASES:
            add(f"{where}.unit_basis", f"line {number} units are UN (units) or DA (days).")
        if line.charge <= 0 or line.units <= 0:
            add(where, f"line {number} needs a positive charge and units.")
        end = line.service_date_to or line.service_date
        if line.service_date < claim.statement_from or end > claim.statement_to:
            add(f"{where}.service_date", f"line {number} is outside the statement period.")
        if len(line.modifiers) > 4:
            add(f"{where}.modifiers", f"line {number} has more than four modifiers.")
    return problems


def check_837i(batch: Batch837I) -> list[Problem]:
    problems = billing_problems(batch.billing_provider)
    if not batch.submissions:
        problems.append(Problem("submissions", "There is no claim to send."))
    for sub in batch.submissions:
        problems += _claim_problems(sub)
    return problems


def _person(code: str, provider: Provider, prv: str = "") -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        ("NM1", code, "1", provider.last_name, provider.first_name, None, None, None, "XX",
         provider.npi)
    ]  # fmt: skip
    if prv and provider.taxonomy:
        out.append(("PRV", prv, "PXC", provider.taxonomy))
    return out


def _claim_segments(claim: InstitutionalClaim) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        claim_segment(
            claim, (claim.facility_code, "A", claim.frequency_code), provider_signature=None
        ),
        ("DTP", "434", "RD8", f"{claim.statement_from:%Y%m%d}-{claim.statement_to:%Y%m%d}"),
    ]
    if claim.admission_date:
        out.append(("DTP", "435", "D8", claim.admission_date.strftime("%Y%m%d")))
    out.append(
        ("CL1", claim.admission_type or None, claim.admission_source or None, claim.patient_status)
    )
    if claim.original_claim_number:
        out.append(("REF", "F8", claim.original_claim_number))
    if claim.prior_authorization:
        out.append(("REF", "G1", claim.prior_authorization))
    codes = [_clean(c) for c in claim.diagnoses]
    out.append(("HI", ("ABK", codes[0])))
    if claim.admitting_diagnosis:
        out.append(("HI", ("ABJ", _clean(claim.admitting_diagnosis))))
    if len(codes) > 1:
        out.append(("HI", *[("ABF", code) for code in codes[1:]]))
    if claim.condition_codes:
        out.append(("HI", *[("BG", code) for code in claim.condition_codes]))
    out += _person("71", claim.attending_provider, "AT")
    rendering = claim.rendering_provider
    if rendering and rendering.npi != claim.attending_provider.npi:
        out += _person("82", rendering)
    if claim.service_facility:
        f = claim.service_facility
        out.append(("NM1", "77", "2", f.name, None, None, None, None, "XX", f.npi))
        out.append(("N3", f.address.line1, f.address.line2 or None))
        out.append(("N4", f.address.city, f.address.state, f.address.postal_code))
    out += other_payer_segments(claim.other_payers)
    for number, line in enumerate(claim.lines, start=1):
        out.append(("LX", number))
        procedure = ("HC", line.procedure_code, *line.modifiers) if line.procedure_code else None
        out.append(("SV2", line.revenue_code, procedure, line.charge, line.unit_basis, line.units))
        out += line_detail_segments(line, claim.other_payers, institutional=True)
    return out


WRITER_837I = ClaimFileWriter("837I", VERSION, check_837i, _claim_segments)


def build_837i(batch: Batch837I, on_progress: Progress | None = None) -> TransactionSet:
    return WRITER_837I.build(batch, on_progress)


def render_837i(
    batch: Batch837I,
    envelope: Envelope,
    writer: SegmentWriter | None = None,
    on_progress: Progress | None = None,
) -> str:
    """A complete 837I interchange: checks, then ISA ... IEA. Raises X12Error on a problem."""
    return WRITER_837I.render(batch, envelope, writer, on_progress)
