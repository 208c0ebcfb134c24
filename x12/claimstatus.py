"""Claim status: the 276 request writer and the 277 response reader (005010X212).

Both share one HL hierarchy:

- 2000A HL..20 information source (the payer): 2100A NM1*PR (name, PI payer id);
- 2000B HL..21 information receiver (us): 2100B NM1*41 (name, 46 ETIN);
- 2000C HL..19 service provider: 2100C NM1*1P (name, XX NPI);
- 2000D HL..22 subscriber: DMG (276, when the subscriber is the patient), 2100D NM1*IL (name, MI
  member id), then one 2200D claim loop per claim: TRN (the 276's TRN*1 trace number, echoed as
  TRN*2 in the 277), STC (277 only), REF*1K payer claim control number, REF*BLT institutional bill
  type, REF*EJ patient account number (our CLM01), REF*D9 clearinghouse trace, AMT*T3 total
  charge (276), DTP*472 service dates, and optional 2220D SVC service lines;
- 2000E HL..23 dependent (when the patient is not the subscriber): DMG, NM1*QC, 2200E as 2200D.

A 277 STC segment: STC01 (category : status : entity), STC02 status date, STC03 action code,
STC04 total charge, STC05 payment amount, STC06 adjudication date, STC07 payment method, STC08
check or EFT date, STC09 check or EFT trace number, STC10/STC11 more composites, STC12 message.

The category (code list 507) decides what the claim needs next (``action``): paid and denied
wait for the 835 or open a denial, requests for information (R*) open a follow-up, not found
(A4, D0) means resubmit after the acceptance window. Status texts come from ack277ca's tables
(code list 508) with the claim status codes a 277 adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from .ack277ca import STATUS_CATEGORIES, STATUS_CODES, explain_status
from .eligibility import Person
from .identifiers import npi_error
from .reader import Segment, Transaction, X12Error, collector_paused, transactions_of
from .values import QUANTITY, element_decimal, to_date, to_date_range
from .writer import Envelope, SegmentSpec, SegmentWriter, TransactionSet

IMPLEMENTATION = "005010X212"

# What a claim needs next, by status category (code list 507).
PAID = "paid"
DENIED = "denied"
FINALIZED = "finalized"
PENDING = "pending"
INFORMATION_REQUESTED = "information_requested"
NOT_FOUND = "not_found"
REJECTED = "rejected"
RETRY = "retry"
ACKNOWLEDGED = "acknowledged"
UNKNOWN = "unknown"

# Categories a 277 uses beyond the 277CA's (code list 507), in our own short words.
CATEGORIES: dict[str, str] = {
    **{code: text for code, (_, text) in STATUS_CATEGORIES.items()},
    "D0": "Data search unsuccessful",
    "F3F": "Finalized: forwarded to a subsequent entity",
    "F3N": "Finalized: not forwarded",
    "R0": "Request for additional information: general",
    "R1": "Request for additional information: entity",
    "R3": "Request for additional information: claim or line",
    "R4": "Request for additional information: documentation",
    "R5": "Request for additional information: more specific detail",
    "R6": "Request for additional information: regulatory requirements",
    "R7": "Request for additional information: confirm care is consistent with plan coverage",
    "R8": "Request for additional information: confirm care is consistent with coverage exceptions",
    "R9": "Request for additional information: determination of medical necessity",
    "R10": "Request for additional information: support a grievance or appeal",
    "R11": "Request for additional information: pre-payment review",
    "R12": "Request for additional information: justification of a procedure code",
    "R13": "Request for additional information: documents not readable",
    "R14": "Request for additional information: documents not what was requested",
    "R15": "Request for additional information: workers' compensation coverage",
    "R16": "Request for additional information: eligibility verification",
}


def action_of(category: str) -> str:
    """What the category means for the claim's next step."""
    if category == "F1":
        return PAID
    if category == "F2":
        return DENIED
    if category.startswith("F"):
        return FINALIZED
    if category in ("A4", "D0"):
        return NOT_FOUND
    if category.startswith("R") or category in ("P3", "P4"):
        return INFORMATION_REQUESTED
    if category.startswith("P"):
        return PENDING
    if category in ("E1", "E2"):
        return RETRY
    if category in ("A0", "A1", "A2", "A5"):
        return ACKNOWLEDGED
    if category in ("A3", "A6", "A7", "A8", "DR", "E0", "E3", "E4"):
        return REJECTED
    return UNKNOWN


# Claim status codes (code list 508) a 277 claim status response adds to ack277ca's table.
# Sources: X12 external code lists 507 (https://x12.org/codes/claim-status-category-codes) and
# 508 (https://x12.org/codes/claim-status-codes); the wording here is ours, shortened.
CLAIM_STATUS_CODES: dict[str, str] = {
    **STATUS_CODES,
    "1": "For more detailed information, see the remittance advice",
    "2": "More detailed information in a letter",
    "6": "Balance due from the subscriber",
    "12": "One or more submitted procedure codes have been combined",
    "15": "One or more submitted procedure codes have been modified",
    "16": "Forwarded to another entity",
    "26": "Entity not found",
    "27": "Policy canceled",
    "40": "Waiting for final approval",
    "41": "Special handling required at the payer",
    "42": "Awaiting related charges",
    "44": "Charges pending provider audit",
    "45": "Awaiting benefit determination",
    "46": "Internal review or audit",
    "52": "Investigating other insurance coverage",
    "56": "Awaiting eligibility determination",
    "65": "Claim or line has been paid",
    "84": "Service not authorized",
    "85": "Entity not primary",
    "88": "Entity not eligible for benefits for the submitted dates of service",
    "95": "Requested additional information not received",
    "98": "Charges applied to deductible",
    "101": "Processed as an adjustment to a previous claim",
    "104": "Processed according to plan provisions",
    "107": "Processed according to contract provisions",
    "109": "Entity not eligible",
    "116": "Submitted to the wrong payer",
}


# --- 276 writer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusInquiry:
    """One claim we ask about (a 2200D/2200E loop)."""

    trace_number: str  # TRN02, unique per organization; the 277 echoes it as TRN*2
    patient_account_number: str  # REF*EJ: our CLM01
    total_charge: Decimal  # AMT*T3
    service_date_from: date  # DTP*472
    service_date_to: date | None
    provider_name: str
    provider_npi: str
    subscriber: Person
    dependent: Person | None = None
    payer_claim_control_number: str = ""  # REF*1K once the payer gave one (277CA, 835)
    bill_type: str = ""  # REF*BLT: institutional claims only (e.g. "111")


@dataclass(frozen=True)
class StatusRequest:
    """One 276 to one payer for the chosen claims."""

    reference: str  # BHT03
    payer_name: str
    payer_id: str  # PI
    receiver_name: str  # us (2100B NM1*41)
    receiver_id: str  # our ETIN with the payer or clearinghouse (46)
    claims: Sequence[StatusInquiry]


def _refuse(claim: StatusInquiry, message: str, segment_id: str) -> X12Error:
    return X12Error(
        f"Claim status inquiry for {claim.patient_account_number!r} (trace "
        f"{claim.trace_number!r}): {message}",
        None,
        segment_id,
    )


def _check(request: StatusRequest) -> None:
    if not request.claims:
        raise X12Error("A 276 needs at least one claim.", None, "TRN")
    if not request.reference.strip():
        raise X12Error("The 276 reference (BHT03) is empty.", None, "BHT")
    for name, value in (
        ("payer name (2100A NM103)", request.payer_name),
        ("payer id (2100A NM109)", request.payer_id),
        ("receiver name (2100B NM103)", request.receiver_name),
        ("receiver id (2100B NM109)", request.receiver_id),
    ):
        if not value.strip():
            raise X12Error(f"The 276 {name} is empty.", None, "NM1")
    traces = [c.trace_number for c in request.claims]
    duplicates = sorted({t for t in traces if traces.count(t) > 1})
    if duplicates:
        raise X12Error(
            f"Trace numbers (TRN02) must be unique in a 276: {', '.join(duplicates)} repeat.",
            None,
            "TRN",
        )
    for claim in request.claims:
        if not claim.trace_number.strip() or len(claim.trace_number) > 50:
            raise _refuse(claim, "the trace number (TRN02) must be 1 to 50 characters.", "TRN")
        if not claim.patient_account_number.strip():
            raise _refuse(claim, "the patient account number (REF*EJ) is empty.", "REF")
        problem = npi_error(claim.provider_npi)
        if problem:
            raise _refuse(claim, f"the provider NPI (2100C NM109): {problem}", "NM1")
        if not claim.provider_name.strip():
            raise _refuse(claim, "the provider name (2100C NM103) is empty.", "NM1")
        if not claim.subscriber.member_id.strip():
            raise _refuse(claim, "the subscriber's member id (2100D NM109) is empty.", "NM1")
        if not claim.subscriber.last_name.strip():
            raise _refuse(claim, "the subscriber's last name (2100D NM103) is empty.", "NM1")
        if claim.dependent is not None and not claim.dependent.last_name.strip():
            raise _refuse(claim, "the dependent's last name (2100E NM103) is empty.", "NM1")
        patient = claim.dependent or claim.subscriber
        if patient.birth_date is None:
            raise _refuse(claim, "the patient's birth date (DMG02) is required.", "DMG")
        if claim.total_charge < 0:
            raise _refuse(claim, "the total charge (AMT*T3) cannot be negative.", "AMT")
        if claim.service_date_to is not None and claim.service_date_to < claim.service_date_from:
            raise _refuse(claim, "the service dates (DTP*472) end before they start.", "DTP")


def _dmg(person: Person) -> SegmentSpec:
    born = person.birth_date.strftime("%Y%m%d") if person.birth_date else None
    return ("DMG", "D8", born, person.gender or None)


def _claim_segments(claim: StatusInquiry) -> list[SegmentSpec]:
    start = claim.service_date_from.strftime("%Y%m%d")
    end = (claim.service_date_to or claim.service_date_from).strftime("%Y%m%d")
    out: list[SegmentSpec] = [("TRN", "1", claim.trace_number)]
    if claim.payer_claim_control_number:
        out.append(("REF", "1K", claim.payer_claim_control_number))
    if claim.bill_type:
        out.append(("REF", "BLT", claim.bill_type))
    out.append(("REF", "EJ", claim.patient_account_number))
    out.append(("AMT", "T3", claim.total_charge))
    if start == end:
        out.append(("DTP", "472", "D8", start))
    else:
        out.append(("DTP", "472", "RD8", f"{start}-{end}"))
    return out


def request_segments(request: StatusRequest, created: datetime) -> list[SegmentSpec]:
    """The body of one 276 transaction set: one provider level per NPI, one subscriber (and
    dependent) level per claim."""
    _check(request)
    out: list[SegmentSpec] = [
        ("BHT", "0010", "13", request.reference, created.strftime("%Y%m%d"),
         created.strftime("%H%M")),
        ("HL", 1, None, "20", 1),
        ("NM1", "PR", "2", request.payer_name, None, None, None, None, "PI", request.payer_id),
        ("HL", 2, 1, "21", 1),
        ("NM1", "41", "2", request.receiver_name, None, None, None, None, "46",
         request.receiver_id),
    ]  # fmt: skip
    number = 2
    by_provider: dict[tuple[str, str], list[StatusInquiry]] = {}
    for claim in request.claims:
        by_provider.setdefault((claim.provider_npi, claim.provider_name), []).append(claim)
    for (npi, name), claims in by_provider.items():
        number += 1
        provider_hl = number
        out.append(("HL", provider_hl, 2, "19", 1))
        out.append(("NM1", "1P", "2", name, None, None, None, None, "XX", npi))
        for claim in claims:
            number += 1
            subscriber_hl = number
            sub = claim.subscriber
            out.append(("HL", subscriber_hl, provider_hl, "22", 1 if claim.dependent else 0))
            if claim.dependent is None:
                out.append(_dmg(sub))
            out.append(
                ("NM1", "IL", "1", sub.last_name, sub.first_name or None,
                 sub.middle_name or None, None, sub.suffix or None, "MI", sub.member_id)
            )  # fmt: skip
            if claim.dependent is not None:
                dep = claim.dependent
                number += 1
                out.append(("HL", number, subscriber_hl, "23"))
                out.append(_dmg(dep))
                out.append(
                    ("NM1", "QC", "1", dep.last_name, dep.first_name or None,
                     dep.middle_name or None, None, dep.suffix or None)
                )  # fmt: skip
            out.extend(_claim_segments(claim))
    return out


def render_276(
    requests: Sequence[StatusRequest], envelope: Envelope, writer: SegmentWriter | None = None
) -> str:
    """A 276 interchange: one transaction set per request (per payer), GS08/ST03 005010X212."""
    if not requests:
        raise X12Error("A 276 needs at least one request.", None, "ST")
    env = replace(envelope, functional_id="HR", version=IMPLEMENTATION)
    sets = [
        TransactionSet("276", request_segments(r, env.created), IMPLEMENTATION) for r in requests
    ]
    return env.render(sets, writer)


# --- 277 reader -------------------------------------------------------------------------------


@dataclass
class Status:
    """One STC composite explained (category : status : entity)."""

    category_code: str
    status_code: str
    entity_code: str
    action: str
    category_text: str
    status_text: str
    reason: str


@dataclass
class StatusAnswer:
    """One STC segment."""

    statuses: list[Status]
    effective_date: date | None  # STC02
    action_code: str  # STC03
    total_charge: Decimal | None  # STC04
    payment_amount: Decimal | None  # STC05
    adjudication_date: date | None  # STC06
    payment_method: str  # STC07 (ACH, CHK, NON, BOP, FWT)
    paid_date: date | None  # STC08: check issue or EFT effective date
    check_number: str  # STC09
    message: str  # STC12
    segment_position: int


@dataclass
class ServiceLineStatus:
    procedure_qualifier: str
    procedure_code: str
    modifiers: list[str]
    charge: Decimal | None
    payment_amount: Decimal | None
    units: Decimal | None
    line_item_control_number: str
    service_date_from: date | None
    service_date_to: date | None
    answers: list[StatusAnswer] = field(default_factory=list)
    segment_position: int = 0


@dataclass
class ClaimStatusResult:
    """A payer's answer about one claim (a 2200D/2200E loop)."""

    trace_number: str  # TRN02: the 276's trace number
    patient_account_number: str  # REF*EJ
    payer_claim_control_number: str  # REF*1K
    clearinghouse_trace_number: str  # REF*D9
    bill_type: str  # REF*BLT
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    patient_last_name: str
    patient_first_name: str
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    service_date_from: date | None
    service_date_to: date | None
    answers: list[StatusAnswer]
    lines: list[ServiceLineStatus]
    segment_position: int

    @property
    def status(self) -> Status | None:
        """The first status of the first STC: the claim's headline status."""
        for answer in self.answers:
            if answer.statuses:
                return answer.statuses[0]
        return None

    @property
    def action(self) -> str:
        status = self.status
        return status.action if status else UNKNOWN

    @property
    def category_code(self) -> str:
        status = self.status
        return status.category_code if status else ""

    @property
    def reason(self) -> str:
        return "; ".join(s.reason for a in self.answers for s in a.statuses)

    def _first(self, name: str) -> object:
        for answer in self.answers:
            value = getattr(answer, name)
            if value not in (None, ""):
                return value
        return None

    @property
    def total_charge(self) -> Decimal | None:
        value = self._first("total_charge")
        return value if isinstance(value, Decimal) else None

    @property
    def payment_amount(self) -> Decimal | None:
        value = self._first("payment_amount")
        return value if isinstance(value, Decimal) else None

    @property
    def adjudication_date(self) -> date | None:
        value = self._first("adjudication_date")
        return value if isinstance(value, date) else None

    @property
    def paid_date(self) -> date | None:
        value = self._first("paid_date")
        return value if isinstance(value, date) else None

    @property
    def check_number(self) -> str:
        value = self._first("check_number")
        return value if isinstance(value, str) else ""


@dataclass
class ClaimStatusReport:
    """One 277 transaction set."""

    control_number: str
    reference: str  # BHT03
    created: date | None
    claims: list[ClaimStatusResult]
    segment_position: int


@dataclass
class ClaimStatus277File:
    interchange_control_number: str
    reports: list[ClaimStatusReport]
    warnings: list[str]

    @property
    def claims(self) -> list[ClaimStatusResult]:
        return [claim for report in self.reports for claim in report.claims]

    def by_trace_number(self, trace_number: str) -> list[ClaimStatusResult]:
        return [c for c in self.claims if c.trace_number == trace_number]


def explain(category: str, status: str = "", entity: str = "") -> Status:
    """A composite in words: "Finalized: denied: Entity not eligible for benefits for the
    submitted dates of service of the patient (F2:88:QC)"."""
    base = explain_status(category, status, entity)
    category_text = CATEGORIES.get(category, f"Category {category}")
    status_text = CLAIM_STATUS_CODES.get(status, f"status code {status}") if status else ""
    reason = category_text
    if status_text:
        reason += f": {status_text}"
        if base.entity_text:
            reason += f" of the {base.entity_text}"
    elif base.entity_text:
        reason += f" ({base.entity_text})"
    code = ":".join(part for part in (category, status, entity) if part)
    return Status(
        category_code=category,
        status_code=status,
        entity_code=entity,
        action=action_of(category),
        category_text=category_text,
        status_text=status_text,
        reason=f"{reason} ({code})",
    )


def _date(seg: Segment, i: int, what: str) -> date | None:
    value = seg.element(i)
    if not value:
        return None
    day = to_date(value)
    if day is None:
        raise X12Error(
            f"{seg.id}{i:02d} ({what}) at segment {seg.position} is {value[:30]!r}, which is "
            "not a CCYYMMDD date.",
            seg.position,
            seg.id,
        )
    return day


def _answer(seg: Segment) -> StatusAnswer:
    statuses = []
    for i in (1, 10, 11):
        parts = seg.components(i)
        if parts and parts[0]:
            parts += ["", ""]
            statuses.append(explain(parts[0], parts[1], parts[2]))
    if not statuses:
        raise X12Error(
            f"STC01 (claim status) at segment {seg.position} is empty: it must give a status "
            "category code.",
            seg.position,
            seg.id,
        )
    return StatusAnswer(
        statuses=statuses,
        effective_date=_date(seg, 2, "status date"),
        action_code=seg.element(3),
        total_charge=element_decimal(seg, 4, what="total charge"),
        payment_amount=element_decimal(seg, 5, what="payment amount"),
        adjudication_date=_date(seg, 6, "adjudication date"),
        payment_method=seg.element(7),
        paid_date=_date(seg, 8, "check or EFT date"),
        check_number=seg.element(9),
        message=seg.element(12),
        segment_position=seg.position,
    )


@dataclass
class _Context:
    payer_name: str = ""
    payer_id: str = ""
    provider_name: str = ""
    provider_npi: str = ""
    subscriber: tuple[str, str, str] = ("", "", "")
    patient: tuple[str, str] = ("", "")


def _report(txn: Transaction) -> ClaimStatusReport:
    report = ClaimStatusReport(txn.control_number, "", None, [], txn.st.position)
    ctx = _Context()
    level = ""
    claim: ClaimStatusResult | None = None
    line: ServiceLineStatus | None = None
    seen_hl = False
    for seg in txn.body:
        sid = seg.id
        if sid == "BHT":
            report.reference = seg.element(3)
            report.created = to_date(seg.element(4))
            continue
        if sid == "HL":
            seen_hl = True
            level = seg.element(3)
            if level not in ("20", "21", "19", "22", "23"):
                raise X12Error(
                    f"HL03 at segment {seg.position} is {level[:20]!r}: a 277 level is 20 "
                    "(payer), 21 (receiver), 19 (provider), 22 (subscriber) or 23 (dependent).",
                    seg.position,
                    seg.id,
                )
            claim, line = None, None
            if level == "22":
                ctx.patient = ("", "")
            continue
        if not seen_hl:
            raise X12Error(
                f"{sid} at segment {seg.position} comes before the first HL level.",
                seg.position,
                sid,
            )
        if sid == "NM1":
            if level == "20":
                ctx.payer_name, ctx.payer_id = seg.element(3), seg.element(9)
            elif level == "19":
                ctx.provider_name, ctx.provider_npi = seg.element(3), seg.element(9)
            elif level == "22":
                ctx.subscriber = (seg.element(3), seg.element(4), seg.element(9))
                ctx.patient = (seg.element(3), seg.element(4))
            elif level == "23":
                ctx.patient = (seg.element(3), seg.element(4))
            continue
        if level not in ("22", "23"):
            continue
        if sid == "TRN":
            claim = ClaimStatusResult(
                trace_number=seg.element(2),
                patient_account_number="",
                payer_claim_control_number="",
                clearinghouse_trace_number="",
                bill_type="",
                subscriber_last_name=ctx.subscriber[0],
                subscriber_first_name=ctx.subscriber[1],
                member_id=ctx.subscriber[2],
                patient_last_name=ctx.patient[0],
                patient_first_name=ctx.patient[1],
                payer_name=ctx.payer_name,
                payer_id=ctx.payer_id,
                provider_name=ctx.provider_name,
                provider_npi=ctx.provider_npi,
                service_date_from=None,
                service_date_to=None,
                answers=[],
                lines=[],
                segment_position=seg.position,
            )
            line = None
            report.claims.append(claim)
            continue
        if claim is None:
            if sid in ("STC", "REF", "SVC"):
                raise X12Error(
                    f"{sid} at segment {seg.position} belongs to a claim but comes before its "
                    "trace number (TRN).",
                    seg.position,
                    sid,
                )
            continue
        if sid == "SVC":
            procedure = [*seg.components(1), "", ""]
            line = ServiceLineStatus(
                procedure_qualifier=procedure[0],
                procedure_code=procedure[1],
                modifiers=[m for m in procedure[2:6] if m],
                charge=element_decimal(seg, 2, what="line charge"),
                payment_amount=element_decimal(seg, 3, what="line payment"),
                units=element_decimal(seg, 7, QUANTITY, "units"),
                line_item_control_number="",
                service_date_from=None,
                service_date_to=None,
                segment_position=seg.position,
            )
            claim.lines.append(line)
        elif sid == "STC":
            (line.answers if line is not None else claim.answers).append(_answer(seg))
        elif sid == "REF":
            qualifier, value = seg.element(1), seg.element(2)
            if line is not None:
                if qualifier == "FJ":
                    line.line_item_control_number = value
            elif qualifier == "1K":
                claim.payer_claim_control_number = value
            elif qualifier == "EJ":
                claim.patient_account_number = value
            elif qualifier == "D9":
                claim.clearinghouse_trace_number = value
            elif qualifier == "BLT":
                claim.bill_type = value
        elif sid == "DTP" and seg.element(1) == "472":
            start, end = to_date_range(seg.element(2), seg.element(3))
            if start is None:
                raise X12Error(
                    f"DTP03 (service date) at segment {seg.position} is "
                    f"{seg.element(3)[:30]!r}, which is not a CCYYMMDD date or range.",
                    seg.position,
                    sid,
                )
            if line is not None:
                line.service_date_from, line.service_date_to = start, end
            else:
                claim.service_date_from, claim.service_date_to = start, end
    return report


@collector_paused
def parse_277(text: str | bytes, *, strict: bool = True) -> ClaimStatus277File:
    """Read every 277 transaction set of a claim status response (005010X212)."""
    transactions, problems = transactions_of(text, "277", strict=strict)
    return ClaimStatus277File(
        interchange_control_number=transactions[0].interchange_control_number,
        reports=[_report(txn) for txn in transactions],
        warnings=[str(p) for p in problems],
    )
