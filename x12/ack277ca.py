"""277CA Claim Acknowledgment (005010X214) into plain dataclasses, one per claim.

The 277CA is a hierarchy of HL levels:

- 2000A HL..20 information source (the payer or clearinghouse): NM1*PR, TRN, DTP*050/009;
- 2000B HL..21 information receiver (us, the submitter): NM1*41, TRN*2 (our batch id), STC,
  QTY*90/AA and AMT*YU/YY (accepted/rejected counts and amounts);
- 2000C HL..19 billing provider: NM1*85 (NPI), TRN*1, STC, QTY, AMT;
- 2000D HL..PT patient, one per claim: NM1*QC, TRN*2 whose TRN02 is our patient control number
  (CLM01), one or more STC, REF*1K (payer claim control number), REF*D9 (clearinghouse trace),
  REF*BLT, REF*EA, DTP*472; then optional 2220D SVC service lines with their own STC/REF*FJ/DTP.

Each STC01 is a composite: category code : status code : entity code. The category decides the
verdict (A1/A2 accepted, A3/A6/A7/A8 rejected...); the status code says what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .reader import Segment, Transaction, collector_paused, transactions_of
from .values import QUANTITY, element_count, element_decimal, to_date, to_date_range

ACCEPTED = "accepted"
REJECTED = "rejected"
PENDING = "pending"
FINALIZED = "finalized"
RETRY = "retry"
UNKNOWN = "unknown"

# Health care claim status category codes (code list 507): our short wording and the verdict.
STATUS_CATEGORIES: dict[str, tuple[str, str]] = {
    "A0": (ACCEPTED, "Forwarded to another entity"),
    "A1": (ACCEPTED, "Receipt acknowledged"),
    "A2": (ACCEPTED, "Accepted into adjudication"),
    "A3": (REJECTED, "Returned as unprocessable"),
    "A4": (REJECTED, "Not found"),
    "A5": (ACCEPTED, "Split claim"),
    "A6": (REJECTED, "Rejected for missing information"),
    "A7": (REJECTED, "Rejected for invalid information"),
    "A8": (REJECTED, "Rejected for relational field in error"),
    "DR": (REJECTED, "Data reporting acknowledgment rejected"),
    "E0": (REJECTED, "No response possible: error in the submitted data"),
    "E1": (RETRY, "No response possible: payer system unavailable"),
    "E2": (RETRY, "No response possible: information holder not responding"),
    "E3": (REJECTED, "Correction required: relational fields in error"),
    "E4": (REJECTED, "Trading partner agreement requirement not met"),
    "F0": (FINALIZED, "Finalized"),
    "F1": (FINALIZED, "Finalized: paid"),
    "F2": (FINALIZED, "Finalized: denied"),
    "F3": (FINALIZED, "Finalized: revised"),
    "F4": (FINALIZED, "Finalized: adjudication complete, no payment forthcoming"),
    "P0": (PENDING, "Pending: adjudication or details in process"),
    "P1": (PENDING, "Pending: in process"),
    "P2": (PENDING, "Pending: payer review"),
    "P3": (PENDING, "Pending: requested information not received"),
    "P4": (PENDING, "Pending: patient requested information not received"),
    "P5": (PENDING, "Pending: payer administrative or system hold"),
}

# Common claim status codes (code list 508) on 277CAs, in our own short words.
STATUS_CODES: dict[str, str] = {
    "0": "Cannot provide further status electronically",
    "3": "Adjudicated, awaiting the payment cycle",
    "19": "Receipt acknowledged",
    "20": "Accepted for processing",
    "21": "Missing or invalid information",
    "23": "Returned to the sender",
    "24": "Not approved as an electronic submitter",
    "29": "Subscriber and policy number do not match",
    "30": "Subscriber and subscriber ID do not match",
    "33": "Subscriber and subscriber ID not found",
    "35": "Claim not found",
    "54": "Duplicate of a claim already processed",
    "78": "Duplicate of a claim awaiting processing",
    "97": "Patient eligibility not found",
    "145": "Primary identifier",
    "164": "Contract or member number",
    "187": "Date(s) of service",
    "247": "Line information",
    "254": "Principal diagnosis code",
    "255": "Diagnosis code",
    "400": "Claim is out of balance",
    "454": "Procedure code",
    "562": "National Provider Identifier (NPI)",
}

# Entity identifier codes (STC01-3) that 277CAs use to say whose data is wrong.
ENTITY_CODES: dict[str, str] = {
    "03": "dependent",
    "40": "receiver",
    "41": "submitter",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "DK": "ordering provider",
    "DN": "referring provider",
    "DQ": "supervising provider",
    "IL": "subscriber",
    "PR": "payer",
    "QC": "patient",
}


@dataclass
class ClaimStatus:
    """One STC composite (STC01, STC10 or STC11) explained."""

    category_code: str
    status_code: str
    entity_code: str
    outcome: str
    category_text: str
    status_text: str
    entity_text: str
    reason: str


@dataclass
class StatusInformation:
    """One STC segment: up to three composites, the date, the action code and the amounts."""

    statuses: list[ClaimStatus]
    effective_date: date | None
    action_code: str
    total_charge: Decimal | None
    payment_amount: Decimal | None
    message: str
    segment_position: int


@dataclass
class ServiceLineAcknowledgment:
    procedure_qualifier: str
    procedure_code: str
    modifiers: list[str]
    charge: Decimal | None
    units: Decimal | None
    line_item_control_number: str
    service_date_from: date | None
    service_date_to: date | None
    status_information: list[StatusInformation] = field(default_factory=list)
    segment_position: int = 0


@dataclass
class ClaimAcknowledgment:
    """A claim's front-door verdict: ``outcome`` is accepted / rejected / pending / unknown."""

    patient_control_number: str
    outcome: str
    reason: str
    status_information: list[StatusInformation]
    payer_claim_control_number: str
    clearinghouse_trace_number: str
    billing_type: str
    medical_record_number: str
    patient_last_name: str
    patient_first_name: str
    patient_member_id: str
    billing_provider_npi: str
    billing_provider_name: str
    total_charge: Decimal | None
    service_date_from: date | None
    service_date_to: date | None
    lines: list[ServiceLineAcknowledgment]
    segment_position: int

    @property
    def accepted(self) -> bool:
        return self.outcome == ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.outcome == REJECTED


@dataclass
class Level:
    """The information source (2000A), receiver (2000B) or provider (2000C) level."""

    level_code: str
    entity_code: str
    name: str
    identifier_qualifier: str
    identifier: str
    trace_number: str
    status_information: list[StatusInformation] = field(default_factory=list)
    accepted_quantity: int | None = None
    rejected_quantity: int | None = None
    accepted_amount: Decimal | None = None
    rejected_amount: Decimal | None = None
    received_date: date | None = None
    process_date: date | None = None


@dataclass
class ClaimAcknowledgmentReport:
    """One 277CA transaction set."""

    control_number: str
    reference: str
    created: date | None
    sources: list[Level]
    receivers: list[Level]
    providers: list[Level]
    claims: list[ClaimAcknowledgment]


@dataclass
class Ack277CAFile:
    interchange_control_number: str
    reports: list[ClaimAcknowledgmentReport]
    warnings: list[str]

    @property
    def claims(self) -> list[ClaimAcknowledgment]:
        return [claim for report in self.reports for claim in report.claims]


CLAIM_LEVELS = frozenset({"PT", "22", "23"})


def explain_status(category: str, status: str = "", entity: str = "") -> ClaimStatus:
    """A status composite in words: "Rejected for invalid information: National Provider
    Identifier (NPI) of the billing provider (A7:562:85)"."""
    outcome, category_text = STATUS_CATEGORIES.get(category, (UNKNOWN, f"Category {category}"))
    status_text = STATUS_CODES.get(status, f"status code {status}") if status else ""
    entity_text = ENTITY_CODES.get(entity, f"entity {entity}") if entity else ""
    reason = category_text
    if status_text:
        reason += f": {status_text}"
        if entity_text:
            reason += f" of the {entity_text}"
    elif entity_text:
        reason += f" ({entity_text})"
    code = ":".join(part for part in (category, status, entity) if part)
    reason += f" ({code})"
    return ClaimStatus(
        category_code=category,
        status_code=status,
        entity_code=entity,
        outcome=outcome,
        category_text=category_text,
        status_text=status_text,
        entity_text=entity_text,
        reason=reason,
    )


def _stc(seg: Segment) -> StatusInformation:
    statuses = []
    for i in (1, 10, 11):
        parts = seg.components(i)
        if parts and parts[0]:
            parts += ["", ""]
            statuses.append(explain_status(parts[0], parts[1], parts[2]))
    return StatusInformation(
        statuses=statuses,
        effective_date=to_date(seg.element(2)),
        action_code=seg.element(3),
        total_charge=element_decimal(seg, 4, what="total charge"),
        payment_amount=element_decimal(seg, 5, what="payment amount"),
        message=seg.element(12),
        segment_position=seg.position,
    )


def _outcome(info: list[StatusInformation]) -> tuple[str, str]:
    """Rejected if any status rejects; else accepted if any accepts; else the first outcome."""
    statuses = [s for i in info for s in i.statuses]
    for wanted in (REJECTED, ACCEPTED, PENDING, FINALIZED, RETRY):
        chosen = [s for s in statuses if s.outcome == wanted]
        if chosen:
            return wanted, "; ".join(s.reason for s in chosen)
    return UNKNOWN, "No claim status (STC) was given"


def _report(txn: Transaction) -> ClaimAcknowledgmentReport:
    report = ClaimAcknowledgmentReport(
        control_number=txn.control_number,
        reference="",
        created=None,
        sources=[],
        receivers=[],
        providers=[],
        claims=[],
    )
    level: Level | None = None
    claim: ClaimAcknowledgment | None = None
    line: ServiceLineAcknowledgment | None = None
    provider: Level | None = None
    for seg in txn.body:
        sid = seg.id
        if sid == "BHT":
            report.reference = seg.element(3)
            report.created = to_date(seg.element(4))
        elif sid == "HL":
            code = seg.element(3)
            line = None
            # PT is the 277CA patient level; 22/23 (subscriber/dependent) carry the claim in
            # 277 claim status responses (005010X212), which this reader also accepts.
            if code in CLAIM_LEVELS:
                level = None
                claim = ClaimAcknowledgment(
                    patient_control_number="",
                    outcome=UNKNOWN,
                    reason="",
                    status_information=[],
                    payer_claim_control_number="",
                    clearinghouse_trace_number="",
                    billing_type="",
                    medical_record_number="",
                    patient_last_name="",
                    patient_first_name="",
                    patient_member_id="",
                    billing_provider_npi=provider.identifier if provider else "",
                    billing_provider_name=provider.name if provider else "",
                    total_charge=None,
                    service_date_from=None,
                    service_date_to=None,
                    lines=[],
                    segment_position=seg.position,
                )
                report.claims.append(claim)
            else:
                claim = None
                level = Level(code, "", "", "", "", "")
                if code == "20":
                    report.sources.append(level)
                elif code == "21":
                    report.receivers.append(level)
                else:
                    report.providers.append(level)
                    provider = level
        elif claim is not None:
            _claim_segment(claim, line, seg)
            if sid == "SVC":
                line = claim.lines[-1]
        elif level is not None:
            _level_segment(level, seg)
    # A subscriber level above a dependent carries no claim of its own.
    report.claims = [c for c in report.claims if c.patient_control_number or c.status_information]
    for claim in report.claims:
        claim.outcome, claim.reason = _outcome(claim.status_information)
        if claim.status_information and claim.total_charge is None:
            claim.total_charge = claim.status_information[0].total_charge
    return report


def _level_segment(level: Level, seg: Segment) -> None:
    sid = seg.id
    if sid == "NM1":
        level.entity_code = seg.element(1)
        level.name = " ".join(p for p in (seg.element(4), seg.element(3)) if p)
        level.identifier_qualifier = seg.element(8)
        level.identifier = seg.element(9)
    elif sid == "TRN":
        level.trace_number = seg.element(2)
    elif sid == "STC":
        level.status_information.append(_stc(seg))
    elif sid == "QTY":
        value = element_count(seg, 2, "quantity")
        if seg.element(1) == "90":
            level.accepted_quantity = value
        elif seg.element(1) == "AA":
            level.rejected_quantity = value
    elif sid == "AMT":
        if seg.element(1) == "YU":
            level.accepted_amount = element_decimal(seg, 2, what="amount")
        elif seg.element(1) == "YY":
            level.rejected_amount = element_decimal(seg, 2, what="amount")
    elif sid == "DTP":
        if seg.element(1) == "050":
            level.received_date = to_date(seg.element(3))
        elif seg.element(1) == "009":
            level.process_date = to_date(seg.element(3))


def _claim_segment(
    claim: ClaimAcknowledgment, line: ServiceLineAcknowledgment | None, seg: Segment
) -> None:
    sid = seg.id
    if sid == "SVC":
        procedure = [*seg.components(1), "", ""]
        claim.lines.append(
            ServiceLineAcknowledgment(
                procedure_qualifier=procedure[0],
                procedure_code=procedure[1],
                modifiers=[m for m in procedure[2:6] if m],
                charge=element_decimal(seg, 2, what="line charge"),
                units=element_decimal(seg, 7, QUANTITY, "units"),
                line_item_control_number="",
                service_date_from=None,
                service_date_to=None,
                segment_position=seg.position,
            )
        )
    elif line is not None:
        if sid == "STC":
            line.status_information.append(_stc(seg))
        elif sid == "REF" and seg.element(1) == "FJ":
            line.line_item_control_number = seg.element(2)
        elif sid == "DTP" and seg.element(1) == "472":
            line.service_date_from, line.service_date_to = to_date_range(
                seg.element(2), seg.element(3)
            )
    elif sid == "NM1":
        claim.patient_last_name = seg.element(3)
        claim.patient_first_name = seg.element(4)
        claim.patient_member_id = seg.element(9)
    elif sid == "TRN":
        claim.patient_control_number = seg.element(2)
    elif sid == "STC":
        claim.status_information.append(_stc(seg))
    elif sid == "REF":
        qualifier, value = seg.element(1), seg.element(2)
        if qualifier == "1K":
            claim.payer_claim_control_number = value
        elif qualifier == "D9":
            claim.clearinghouse_trace_number = value
        elif qualifier == "BLT":
            claim.billing_type = value
        elif qualifier == "EA":
            claim.medical_record_number = value
    elif sid == "DTP" and seg.element(1) == "472":
        claim.service_date_from, claim.service_date_to = to_date_range(
            seg.element(2), seg.element(3)
        )


@collector_paused
def parse_277ca(text: str | bytes, *, strict: bool = True) -> Ack277CAFile:
    """Read every 277 transaction set of a 277CA file; ``claims`` lists each claim's verdict."""
    transactions, problems = transactions_of(text, "277", strict=strict)
    return Ack277CAFile(
        interchange_control_number=transactions[0].interchange_control_number,
        reports=[_report(txn) for txn in transactions],
        warnings=[str(p) for p in problems],
    )
