"""835 Health Care Claim Payment/Advice (005010X221A1) into plain dataclasses, and its balancing.

Loop map (the reader is a small state machine over these):

- header: BPR (payment), TRN (trace), CUR, REF*EV/F2, DTM*405 (production date);
- 1000A payer: N1*PR, N3, N4, REF, PER;  1000B payee: N1*PE, N3, N4, REF (TJ tax id, PQ...);
- 2000 header number: LX, TS3, TS2;
- 2100 claim: CLP, CAS, NM1 (QC patient, IL insured, 74 corrected, 82 rendering, TT crossover
  carrier, PR corrected payer, GB other subscriber), MIA, MOA, REF, DTM (232/233 statement
  period, 050 received, 036/037 coverage), PER, AMT, QTY;
- 2110 service line: SVC, DTM (472, or 150/151), CAS, REF (6R line item control number...), AMT
  (B6 allowed), QTY, LQ (HE remark codes);
- trailer: PLB provider adjustments, SE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .reader import Segment, Transaction, X12Error, collector_paused, transactions_of
from .values import QUANTITY, ZERO, element_amount, element_decimal, to_date

# CLP02 claim status codes.
CLAIM_STATUS_CODES = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to additional payer(s)",
    "20": "Processed as secondary, forwarded to additional payer(s)",
    "21": "Processed as tertiary, forwarded to additional payer(s)",
    "22": "Reversal of previous payment",
    "23": "Not our claim, forwarded to additional payer(s)",
    "25": "Predetermination pricing only, no payment",
}

# CAS01 claim adjustment group codes.
GROUP_CODES = {
    "CO": "Contractual obligation",
    "CR": "Correction and reversal",
    "OA": "Other adjustment",
    "PI": "Payer initiated reduction",
    "PR": "Patient responsibility",
}

# BPR01 transaction handling codes.
HANDLING_CODES = {
    "C": "Payment accompanies remittance advice",
    "D": "Make payment only",
    "H": "Notification only",
    "I": "Remittance information only",
    "P": "Prenotification of future transfers",
    "U": "Split payment and remittance",
    "X": "Handling party's option to split payment and remittance",
}

# BPR04 payment method codes.
PAYMENT_METHODS = {
    "ACH": "Automated clearing house (EFT)",
    "BOP": "Financial institution option",
    "CHK": "Check",
    "FWT": "Federal Reserve funds/wire transfer",
    "NON": "Non-payment data",
}


@dataclass(slots=True)
class Adjustment:
    """One CAS triplet: group code + CARC reason + amount (+ quantity)."""

    group_code: str
    reason_code: str
    amount: Decimal
    quantity: Decimal | None
    segment_position: int


@dataclass(slots=True)
class Party:
    """N1 (payer/payee) or NM1 (patient, insured, rendering provider, crossover carrier)."""

    entity_code: str
    name: str
    first_name: str = ""
    middle_name: str = ""
    identifier_qualifier: str = ""
    identifier: str = ""
    address_lines: list[str] = field(default_factory=list)
    city: str = ""
    state: str = ""
    postal_code: str = ""
    references: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ServiceLine:
    """2110: one SVC with its dates, adjustments, references, allowed amount and remarks."""

    procedure_qualifier: str
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    revenue_code: str
    units: Decimal | None
    original_procedure_qualifier: str
    original_procedure_code: str
    original_modifiers: list[str]
    original_units: Decimal | None
    service_date: date | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    line_item_control_number: str = ""
    references: dict[str, str] = field(default_factory=dict)
    allowed_amount: Decimal | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)
    remark_codes: list[str] = field(default_factory=list)
    segment_position: int = 0

    @property
    def adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(slots=True)
class ClaimPayment:
    """2100: one CLP, the payer's decision on one of our claims (CLP01 = our CLM01)."""

    patient_control_number: str
    status_code: str
    status_text: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    claim_filing_indicator: str
    payer_claim_control_number: str
    facility_code: str
    frequency_code: str
    drg_code: str
    patient: Party | None = None
    insured: Party | None = None
    corrected_patient: Party | None = None
    rendering_provider: Party | None = None
    crossover_carrier: Party | None = None
    corrected_payer: Party | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    statement_from: date | None = None
    statement_to: date | None = None
    received_date: date | None = None
    coverage_expiration_date: date | None = None
    references: dict[str, str] = field(default_factory=dict)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    remark_codes: list[str] = field(default_factory=list)
    lines: list[ServiceLine] = field(default_factory=list)
    header_number: str = ""
    segment_position: int = 0

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"

    @property
    def is_denied(self) -> bool:
        return self.status_code == "4"

    @property
    def adjustment_total(self) -> Decimal:
        """Claim-level CAS plus every line's CAS."""
        own = sum((a.amount for a in self.adjustments), ZERO)
        return own + sum((line.adjustment_total for line in self.lines), ZERO)


@dataclass(slots=True)
class ProviderAdjustmentItem:
    """One PLB pair: reason code (PLB03-1), reference (PLB03-2), amount. Positive reduces pay."""

    reason_code: str
    reference: str
    amount: Decimal


@dataclass(slots=True)
class ProviderAdjustment:
    provider_identifier: str
    fiscal_period_date: date | None
    items: list[ProviderAdjustmentItem]
    segment_position: int

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), ZERO)


@dataclass(slots=True)
class Remittance:
    """One 835 transaction set: one payment (check or EFT) and the claims it pays."""

    control_number: str
    handling_code: str
    payment_amount: Decimal
    credit_debit: str
    payment_method: str
    payment_format: str
    payment_date: date | None
    sender_account: str
    receiver_account: str
    trace_type: str
    trace_number: str
    payer_identifier: str
    originating_company_supplemental: str
    production_date: date | None
    receiver_identifier: str
    payer: Party | None
    payee: Party | None
    claims: list[ClaimPayment]
    provider_adjustments: list[ProviderAdjustment]
    bpr_position: int
    warnings: list[str]

    @property
    def provider_adjustment_total(self) -> Decimal:
        return sum((plb.total for plb in self.provider_adjustments), ZERO)


@dataclass(slots=True)
class Remittance835File:
    interchange_control_number: str
    remittances: list[Remittance]
    warnings: list[str]

    @property
    def claims(self) -> list[ClaimPayment]:
        return [claim for r in self.remittances for claim in r.claims]


@dataclass(slots=True)
class Discrepancy:
    """A balancing rule that does not hold, with where to look."""

    level: str  # "payment", "claim" or "line"
    segment_id: str
    segment_position: int
    expected: Decimal
    actual: Decimal
    message: str


def _pad(fields: list[str], size: int) -> list[str]:
    """The fields padded with "" to ``size`` entries, so hot paths can index without checks."""
    missing = size - len(fields)
    return fields + [""] * missing if missing > 0 else fields


def _adjustments(seg: Segment) -> list[Adjustment]:
    f = _pad(seg.fields, 21)
    group = f[1]
    position = seg.position
    # CAS02-04, 05-07, ... 17-19: up to six reason/amount/quantity triplets.
    return [
        Adjustment(
            group,
            f[i],
            element_amount(seg, i + 1, "adjustment amount"),
            element_decimal(seg, i + 2, QUANTITY, "adjustment quantity"),
            position,
        )
        for i in range(2, 20, 3)
        if f[i]
    ]


def _party_from_nm1(seg: Segment) -> Party:
    f = _pad(seg.fields, 10)
    return Party(
        entity_code=f[1],
        name=f[3],
        first_name=f[4],
        middle_name=f[5],
        identifier_qualifier=f[8],
        identifier=f[9],
    )


def _procedure(parts: list[str]) -> tuple[str, str, list[str]]:
    parts = [*parts, "", ""]
    return parts[0], parts[1], [m for m in parts[2:6] if m]


def _service_line(seg: Segment) -> ServiceLine:
    f = _pad(seg.fields, 8)
    component = seg.component_separator
    qualifier, code, modifiers = _procedure(f[1].split(component))
    oq, oc, om = _procedure(f[6].split(component)) if f[6] else ("", "", [])
    return ServiceLine(
        procedure_qualifier=qualifier,
        procedure_code=code,
        modifiers=modifiers,
        charge=element_amount(seg, 2, "line charge"),
        paid=element_amount(seg, 3, "line paid"),
        revenue_code=f[4],
        # SVC05 units paid; when absent the TR3 says one unit is implied.
        units=element_decimal(seg, 5, QUANTITY, "units paid"),
        original_procedure_qualifier=oq,
        original_procedure_code=oc,
        original_modifiers=om,
        original_units=element_decimal(seg, 7, QUANTITY, "original units"),
        segment_position=seg.position,
    )


def _plb(seg: Segment) -> ProviderAdjustment:
    items = []
    for i in range(3, 15, 2):
        reason = seg.element(i)
        if not reason:
            continue
        parts = reason.split(seg.component_separator)
        items.append(
            ProviderAdjustmentItem(
                reason_code=parts[0],
                reference=parts[1] if len(parts) > 1 else "",
                amount=element_amount(seg, i + 1, "provider adjustment amount"),
            )
        )
    return ProviderAdjustment(
        provider_identifier=seg.element(1),
        fiscal_period_date=to_date(seg.element(2)),
        items=items,
        segment_position=seg.position,
    )


def _date(seg: Segment, value: str, warnings: list[str]) -> date | None:
    parsed = to_date(value)
    if parsed is None and value:
        warnings.append(
            f"{seg.id} at segment {seg.position} has {value!r}, which is not a valid CCYYMMDD date."
        )
    return parsed


def _remittance(txn: Transaction) -> Remittance:
    warnings: list[str] = []
    body = txn.body
    if not body or body[0].id != "BPR":
        position = body[0].position if body else txn.st.position
        raise X12Error(
            f"835 transaction set {txn.control_number} must begin with a BPR segment "
            "(the payment); it does not.",
            position,
            body[0].id if body else "ST",
        )
    if len(body) < 2 or body[1].id != "TRN":
        where = body[1] if len(body) > 1 else body[0]
        raise X12Error(
            f"835 transaction set {txn.control_number} has no TRN (reassociation trace number) "
            "after its BPR: the TR3 requires it, and without it the payment cannot be matched to "
            "the deposit or recognised when sent again.",
            where.position,
            where.id,
        )
    bpr = body[0]
    remit = Remittance(
        control_number=txn.control_number,
        handling_code=bpr.element(1),
        payment_amount=element_amount(bpr, 2, "payment amount"),
        credit_debit=bpr.element(3),
        payment_method=bpr.element(4),
        payment_format=bpr.element(5),
        payment_date=_date(bpr, bpr.element(16), warnings),
        sender_account=bpr.element(9),
        receiver_account=bpr.element(15),
        trace_type="",
        trace_number="",
        payer_identifier="",
        originating_company_supplemental="",
        production_date=None,
        receiver_identifier="",
        payer=None,
        payee=None,
        claims=[],
        provider_adjustments=[],
        bpr_position=bpr.position,
        warnings=warnings,
    )
    party: Party | None = None
    claim: ClaimPayment | None = None
    line: ServiceLine | None = None
    header_number = ""
    for seg in body[1:]:
        sid = seg.id
        if sid == "CLP":
            f = _pad(seg.fields, 12)
            claim = ClaimPayment(
                patient_control_number=f[1],
                status_code=f[2],
                status_text=CLAIM_STATUS_CODES.get(f[2], f"Status {f[2]}"),
                charge=element_amount(seg, 3, "claim charge"),
                paid=element_amount(seg, 4, "claim paid"),
                patient_responsibility=element_amount(seg, 5, "patient responsibility"),
                claim_filing_indicator=f[6],
                payer_claim_control_number=f[7],
                facility_code=f[8],
                frequency_code=f[9],
                drg_code=f[11],
                header_number=header_number,
                segment_position=seg.position,
            )
            remit.claims.append(claim)
            line = None
            party = None
        elif sid == "SVC":
            if claim is None:
                raise X12Error("SVC appears before any CLP claim.", seg.position, sid)
            line = _service_line(seg)
            claim.lines.append(line)
        elif sid == "LX":
            header_number = seg.element(1)
            claim = line = None
            party = None
        elif sid == "PLB":
            remit.provider_adjustments.append(_plb(seg))
            claim = line = None
        elif line is not None:
            _line_segment(line, seg, warnings)
        elif claim is not None:
            _claim_segment(claim, seg, warnings)
        elif sid == "TRN":
            remit.trace_type = seg.element(1)
            remit.trace_number = seg.element(2)
            remit.payer_identifier = seg.element(3)
            remit.originating_company_supplemental = seg.element(4)
        elif sid == "REF" and party is None:
            if seg.element(1) == "EV":
                remit.receiver_identifier = seg.element(2)
        elif sid == "DTM" and party is None:
            if seg.element(1) == "405":
                remit.production_date = _date(seg, seg.element(2), warnings)
        elif sid == "N1":
            party = Party(
                entity_code=seg.element(1),
                name=seg.element(2),
                identifier_qualifier=seg.element(3),
                identifier=seg.element(4),
            )
            if party.entity_code == "PR":
                remit.payer = party
            elif party.entity_code == "PE":
                remit.payee = party
        elif sid == "N3" and party is not None:
            party.address_lines.extend(v for v in (seg.element(1), seg.element(2)) if v)
        elif sid == "N4" and party is not None:
            party.city, party.state, party.postal_code = (
                seg.element(1),
                seg.element(2),
                seg.element(3),
            )
        elif sid == "REF" and party is not None:
            party.references[seg.element(1)] = seg.element(2)
    return remit


def _line_segment(line: ServiceLine, seg: Segment, warnings: list[str]) -> None:
    sid = seg.id
    if sid == "CAS":
        line.adjustments.extend(_adjustments(seg))
        return
    f = _pad(seg.fields, 3)
    if sid == "DTM":
        qualifier = f[1]
        value = _date(seg, f[2], warnings)
        if qualifier == "472":
            line.service_date = line.service_date_from = line.service_date_to = value
        elif qualifier == "150":
            line.service_date_from = value
        elif qualifier == "151":
            line.service_date_to = value
    elif sid == "REF":
        line.references[f[1]] = f[2]
        if f[1] == "6R":
            line.line_item_control_number = f[2]
    elif sid == "AMT":
        amount = element_amount(seg, 2, "amount")
        line.amounts[f[1]] = amount
        if f[1] == "B6":
            line.allowed_amount = amount
    elif sid == "LQ" and f[1] == "HE":
        line.remark_codes.append(f[2])


def _claim_segment(claim: ClaimPayment, seg: Segment, warnings: list[str]) -> None:
    sid = seg.id
    if sid == "CAS":
        claim.adjustments.extend(_adjustments(seg))
    elif sid == "NM1":
        party = _party_from_nm1(seg)
        code = party.entity_code
        if code == "QC":
            claim.patient = party
        elif code == "IL":
            claim.insured = party
        elif code == "74":
            claim.corrected_patient = party
        elif code == "82":
            claim.rendering_provider = party
        elif code == "TT":
            claim.crossover_carrier = party
        elif code == "PR":
            claim.corrected_payer = party
    elif sid == "DTM":
        f = _pad(seg.fields, 3)
        qualifier = f[1]
        value = _date(seg, f[2], warnings)
        if qualifier == "232":
            claim.statement_from = value
        elif qualifier == "233":
            claim.statement_to = value
        elif qualifier == "050":
            claim.received_date = value
        elif qualifier == "036":
            claim.coverage_expiration_date = value
    elif sid == "REF":
        claim.references[seg.element(1)] = seg.element(2)
    elif sid == "AMT":
        claim.amounts[seg.element(1)] = element_amount(seg, 2, "amount")
    elif sid == "MOA":
        claim.remark_codes.extend(seg.element(i) for i in range(3, 8) if seg.element(i))
    elif sid == "MIA":
        claim.remark_codes.extend(seg.element(i) for i in (5, 20, 21, 22, 23) if seg.element(i))


@collector_paused
def parse_835(text: str | bytes, *, strict: bool = True) -> Remittance835File:
    """Read every 835 transaction set of a file (one per payment).

    ``strict`` raises X12Error for envelope problems; otherwise they become ``warnings``.
    Invalid dates become None with a warning on the remittance.
    """
    transactions, problems = transactions_of(text, "835", strict=strict)
    return Remittance835File(
        interchange_control_number=transactions[0].interchange_control_number,
        remittances=[_remittance(txn) for txn in transactions],
        warnings=[str(p) for p in problems],
    )


def check_balance(remittance: Remittance) -> list[Discrepancy]:
    """The 835 balancing rules (TR3 1.10.2), each broken one as a Discrepancy:

    - per service line: charge (SVC02) - paid (SVC03) = sum of the line's CAS amounts;
    - per claim: charge (CLP03) - paid (CLP04) = sum of claim and line CAS amounts;
    - per payment: BPR02 = sum of CLP04 - sum of PLB amounts (a positive PLB amount reduces
      the payment, a negative one increases it).
    """
    found: list[Discrepancy] = []
    total_paid = ZERO
    for claim in remittance.claims:
        total_paid += claim.paid
        for number, line in enumerate(claim.lines, start=1):
            expected = line.charge - line.paid
            actual = line.adjustment_total
            if expected != actual:
                found.append(
                    Discrepancy(
                        level="line",
                        segment_id="SVC",
                        segment_position=line.segment_position,
                        expected=expected,
                        actual=actual,
                        message=(
                            f"Claim {claim.patient_control_number} line {number} "
                            f"({line.procedure_code}, SVC at segment {line.segment_position}) "
                            f"does not balance: charge {line.charge} - paid {line.paid} = "
                            f"{expected}, but its adjustments (CAS) total {actual} "
                            f"(off by {expected - actual})."
                        ),
                    )
                )
        expected = claim.charge - claim.paid
        actual = claim.adjustment_total
        if expected != actual:
            found.append(
                Discrepancy(
                    level="claim",
                    segment_id="CLP",
                    segment_position=claim.segment_position,
                    expected=expected,
                    actual=actual,
                    message=(
                        f"Claim {claim.patient_control_number} (CLP at segment "
                        f"{claim.segment_position}) does not balance: charge {claim.charge} - "
                        f"paid {claim.paid} = {expected}, but claim and line adjustments (CAS) "
                        f"total {actual} (off by {expected - actual})."
                    ),
                )
            )
    plb_total = remittance.provider_adjustment_total
    expected = total_paid - plb_total
    if remittance.payment_amount != expected:
        found.append(
            Discrepancy(
                level="payment",
                segment_id="BPR",
                segment_position=remittance.bpr_position,
                expected=expected,
                actual=remittance.payment_amount,
                message=(
                    f"Payment {remittance.trace_number or remittance.control_number} (BPR at "
                    f"segment {remittance.bpr_position}) does not balance: BPR02 is "
                    f"{remittance.payment_amount} but the claims paid {total_paid} less provider "
                    f"adjustments (PLB) of {plb_total} make {expected} "
                    f"(off by {remittance.payment_amount - expected})."
                ),
            )
        )
    return found
