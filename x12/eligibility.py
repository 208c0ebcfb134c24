"""Eligibility and benefits: the 270 inquiry writer and the 271 response reader (005010X279A1).

The 270 and the 271 share one HL hierarchy:

- 2000A HL..20 information source (the payer): 2100A NM1*PR (name, PI payer id), AAA;
- 2000B HL..21 information receiver (the provider asking): 2100B NM1*1P (name, XX NPI), AAA;
- 2000C HL..22 subscriber: TRN (trace numbers), 2100C NM1*IL (name, MI member id), REF, N3/N4,
  DMG, INS, DTP (plan and eligibility dates), AAA; then 2110C EQ (270) or EB (271) loops;
- 2000D HL..23 dependent (only when the patient is not the subscriber): the same as 2000C with
  NM1*03.

In a 271 each EB segment starts a 2110C/D benefit loop followed by its HSD (delivery: visits per
period), REF, DTP, AAA, MSG and III segments and optional 2120C/D loops (LS*2120, NM1 of a related
entity such as the other payer or the primary care provider, LE*2120).

EB01 says what the benefit is (1-5 active coverage, 6-8 inactive, A coinsurance, B copay, C
deductible, F limitation, G out of pocket, R other payer...), EB02 the coverage level (IND, FAM),
EB03 the service types (repeatable), EB05 the plan, EB06 the time period (23 calendar year = the
total, 29 remaining), EB07 an amount, EB08 a percent, EB09/EB10 a quantity, EB11 whether
authorization is required and EB12 in-network (Y) or out-of-network (N).

Code texts below are our short wording of the ASC X12 code lists (element 1365 service type, 1390
eligibility or benefit information, 615 time period, 901 reject reason, 889 follow-up action).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from .identifiers import npi_error
from .reader import Segment, Transaction, X12Error, collector_paused, transactions_of
from .values import QUANTITY, Limit, element_decimal, to_date, to_date_range
from .writer import Envelope, SegmentSpec, SegmentWriter, TransactionSet

IMPLEMENTATION = "005010X279A1"

# Service type codes (element 1365) behavioral health asks and payers answer on.
SERVICE_TYPES: dict[str, str] = {
    "1": "Medical care",
    "30": "Health benefit plan coverage",
    "33": "Chiropractic",
    "35": "Dental care",
    "47": "Hospital",
    "48": "Hospital - inpatient",
    "50": "Hospital - outpatient",
    "86": "Emergency services",
    "88": "Pharmacy",
    "98": "Professional (physician) visit - office",
    "A4": "Psychiatric",
    "A5": "Psychiatric - room and board",
    "A6": "Psychotherapy",
    "A7": "Psychiatric - inpatient",
    "A8": "Psychiatric - outpatient",
    "AI": "Substance abuse",
    "AJ": "Alcoholism",
    "AK": "Drug addiction",
    "AL": "Vision (optometry)",
    "BD": "Rehabilitation",
    "CE": "Mental health provider - inpatient",
    "CF": "Mental health provider - outpatient",
    "CG": "Mental health facility - inpatient",
    "CH": "Mental health facility - outpatient",
    "CI": "Substance abuse facility - inpatient",
    "CJ": "Substance abuse facility - outpatient",
    "MH": "Mental health",
    "UC": "Urgent care",
}

ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES = frozenset({"6", "7", "8"})

# Eligibility or benefit information codes (element 1390).
BENEFIT_CODES: dict[str, str] = {
    "1": "Active coverage",
    "2": "Active - full risk capitation",
    "3": "Active - services capitated",
    "4": "Active - services capitated to primary care physician",
    "5": "Active - pending investigation",
    "6": "Inactive",
    "7": "Inactive - pending eligibility update",
    "8": "Inactive - pending investigation",
    "A": "Co-insurance",
    "B": "Co-payment",
    "C": "Deductible",
    "CB": "Coverage basis",
    "D": "Benefit description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out of pocket (stop loss)",
    "H": "Unlimited",
    "I": "Non-covered",
    "J": "Cost containment",
    "K": "Reserve",
    "L": "Primary care provider",
    "M": "Pre-existing condition",
    "MC": "Managed care coordinator",
    "N": "Services restricted to following provider",
    "O": "Not deemed a medical necessity",
    "P": "Benefit disclaimer",
    "Q": "Second surgical opinion required",
    "R": "Other or additional payer",
    "S": "Prior year(s) history",
    "T": "Card(s) reported lost/stolen",
    "U": "Contact following entity for eligibility or benefit information",
    "V": "Cannot process",
    "W": "Other source of data",
    "X": "Health care facility",
    "Y": "Spend down",
}

# Time period qualifiers (element 615) on EB06 and HSD05.
TIME_PERIODS: dict[str, str] = {
    "6": "Hour",
    "7": "Day",
    "13": "24 hours",
    "21": "Years",
    "22": "Service year",
    "23": "Calendar year",
    "24": "Year to date",
    "25": "Contract",
    "26": "Episode",
    "27": "Visit",
    "28": "Outlier",
    "29": "Remaining",
    "30": "Exceeded",
    "31": "Not exceeded",
    "32": "Lifetime",
    "33": "Lifetime remaining",
    "34": "Month",
    "35": "Week",
    "36": "Admission",
}
REMAINING_PERIODS = frozenset({"29", "33"})

# Reject reason codes (element 901) on AAA03.
REJECT_REASONS: dict[str, str] = {
    "04": "Authorized quantity exceeded",
    "15": "Required application data missing",
    "41": "Authorization/access restrictions",
    "42": "Unable to respond at current time",
    "43": "Invalid/missing provider identification",
    "44": "Invalid/missing provider name",
    "45": "Invalid/missing provider specialty",
    "46": "Invalid/missing provider phone number",
    "47": "Invalid/missing provider state",
    "48": "Invalid/missing referring provider identification number",
    "49": "Provider is not primary care physician",
    "50": "Provider ineligible for inquiries",
    "51": "Provider not on file",
    "52": "Service dates not within provider plan enrollment",
    "53": "Inquired benefit inconsistent with provider type",
    "54": "Inappropriate product/service ID qualifier",
    "55": "Inappropriate product/service ID",
    "56": "Inappropriate date",
    "57": "Invalid/missing date(s) of service",
    "58": "Invalid/missing date-of-birth",
    "60": "Date of birth follows date(s) of service",
    "61": "Date of death precedes date(s) of service",
    "62": "Date of service not within allowable inquiry period",
    "63": "Date of service in future",
    "64": "Invalid/missing patient ID",
    "65": "Invalid/missing patient name",
    "66": "Invalid/missing patient gender code",
    "67": "Patient not found",
    "68": "Duplicate patient ID number",
    "69": "Inconsistent with patient's age",
    "70": "Inconsistent with patient's gender",
    "71": "Patient birth date does not match that for the patient on the database",
    "72": "Invalid/missing subscriber/insured ID",
    "73": "Invalid/missing subscriber/insured name",
    "74": "Invalid/missing subscriber/insured gender code",
    "75": "Subscriber/insured not found",
    "76": "Duplicate subscriber/insured ID number",
    "77": "Subscriber found, patient not found",
    "78": "Subscriber/insured not in group/plan identified",
    "79": "Invalid participant identification",
    "80": "No response received - transaction terminated",
    "97": "Invalid or missing provider address",
    "T4": "Payer name or identifier missing",
}

# Follow-up action codes (element 889) on AAA04.
FOLLOW_UP_ACTIONS: dict[str, str] = {
    "C": "Please correct and resubmit",
    "N": "Resubmission not allowed",
    "P": "Please resubmit original transaction",
    "R": "Resubmission allowed",
    "S": "Do not resubmit; inquiry initiated to a third party",
    "W": "Please wait 30 days and resubmit",
    "X": "Please wait 10 days and resubmit",
    "Y": "Do not resubmit; we will hand deliver",
}

# EB08 is a fraction (.2 = 20 percent); kept as a percent with at most 2 decimal places.
FRACTION = Limit("percent", max_length=10, max_digits=5, decimal_places=4)

LEVEL_NAMES = {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D"}


# --- 270 writer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A subscriber or dependent as the 270 names them (2100C/2100D)."""

    last_name: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    member_id: str = ""  # NM109 (MI); required for the subscriber
    birth_date: date | None = None
    gender: str = ""  # M, F or U


@dataclass(frozen=True)
class EligibilityInquiry:
    """One 270 question: is this subscriber (or their dependent) covered, for these services?"""

    trace_number: str  # TRN02: ours, unique per organization; the 271 echoes it
    trace_originator: str  # TRN03: "1" + our EIN (10 characters)
    payer_name: str
    payer_id: str  # NM109 with PI
    provider_name: str  # an organization (NM102 2) unless provider_first_name is given
    provider_npi: str
    subscriber: Person
    dependent: Person | None = None
    service_date: date | None = None  # DTP*291
    service_types: tuple[str, ...] = ("30",)
    provider_first_name: str = ""
    group_number: str = ""  # REF*6P at 2100C when the payer asks for it


def _check_inquiry(inquiry: EligibilityInquiry) -> None:
    def refuse(message: str, segment_id: str) -> X12Error:
        return X12Error(
            f"Eligibility inquiry {inquiry.trace_number!r}: {message}", None, segment_id
        )

    if not inquiry.trace_number.strip():
        raise refuse("the trace number (TRN02) is empty.", "TRN")
    if len(inquiry.trace_number) > 50:
        raise refuse("the trace number (TRN02) is longer than 50 characters.", "TRN")
    if len(inquiry.trace_originator) != 10:
        raise refuse(
            "the trace originator (TRN03) must be 10 characters ('1' and the EIN), got "
            f"{inquiry.trace_originator!r}.",
            "TRN",
        )
    if not inquiry.payer_name.strip() or not inquiry.payer_id.strip():
        raise refuse("the payer name and payer id (2100A NM103/NM109) are required.", "NM1")
    problem = npi_error(inquiry.provider_npi)
    if problem:
        raise refuse(f"the provider NPI (2100B NM109) {problem}", "NM1")
    if not inquiry.provider_name.strip():
        raise refuse("the provider name (2100B NM103) is empty.", "NM1")
    if not inquiry.subscriber.member_id.strip():
        raise refuse("the subscriber's member id (2100C NM109) is empty.", "NM1")
    for who, person in (("subscriber", inquiry.subscriber), ("dependent", inquiry.dependent)):
        if person is None:
            continue
        if not person.last_name.strip():
            raise refuse(f"the {who}'s last name (NM103) is empty.", "NM1")
        if person.gender not in ("", "M", "F", "U"):
            raise refuse(f"the {who}'s gender (DMG03) must be M, F or U.", "DMG")
    if inquiry.dependent is not None and inquiry.dependent.birth_date is None:
        raise refuse("a dependent's birth date (2100D DMG02) is required.", "DMG")
    if not inquiry.service_types:
        raise refuse("at least one service type code (EQ01) is required.", "EQ")
    unknown = [code for code in inquiry.service_types if code not in SERVICE_TYPES]
    if unknown:
        raise refuse(f"unknown service type code(s) (EQ01): {', '.join(unknown)}.", "EQ")


def _person_segments(person: Person, entity: str, with_id: bool) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        (
            "NM1",
            entity,
            "1",
            person.last_name,
            person.first_name or None,
            person.middle_name or None,
            None,
            person.suffix or None,
            "MI" if with_id and person.member_id else None,
            person.member_id if with_id and person.member_id else None,
        )
    ]
    return out


def inquiry_segments(inquiry: EligibilityInquiry, created: datetime) -> list[SegmentSpec]:
    """The body of one 270 transaction set (BHT through the last EQ)."""
    _check_inquiry(inquiry)
    dependent = inquiry.dependent
    trn: SegmentSpec = ("TRN", "1", inquiry.trace_number, inquiry.trace_originator)
    provider: SegmentSpec = (
        ("NM1", "1P", "1", inquiry.provider_name, inquiry.provider_first_name, None, None, None,
         "XX", inquiry.provider_npi)
        if inquiry.provider_first_name
        else ("NM1", "1P", "2", inquiry.provider_name, None, None, None, None, "XX",
              inquiry.provider_npi)
    )  # fmt: skip
    out: list[SegmentSpec] = [
        ("BHT", "0022", "13", inquiry.trace_number, created.strftime("%Y%m%d"),
         created.strftime("%H%M")),
        ("HL", 1, None, "20", 1),
        ("NM1", "PR", "2", inquiry.payer_name, None, None, None, None, "PI", inquiry.payer_id),
        ("HL", 2, 1, "21", 1),
        provider,
        ("HL", 3, 2, "22", 1 if dependent else 0),
    ]  # fmt: skip
    subscriber = inquiry.subscriber

    def tail(person: Person) -> list[SegmentSpec]:
        seg: list[SegmentSpec] = []
        if person.birth_date is not None or person.gender:
            seg.append(
                ("DMG", "D8" if person.birth_date else None,
                 person.birth_date.strftime("%Y%m%d") if person.birth_date else None,
                 person.gender or None)
            )  # fmt: skip
        if inquiry.service_date is not None:
            seg.append(("DTP", "291", "D8", inquiry.service_date.strftime("%Y%m%d")))
        seg.extend(("EQ", code) for code in inquiry.service_types)
        return seg

    if dependent is None:
        out.append(trn)
    out.extend(_person_segments(subscriber, "IL", True))
    if inquiry.group_number:
        out.append(("REF", "6P", inquiry.group_number))
    if dependent is None:
        out.extend(tail(subscriber))
    else:
        if subscriber.birth_date is not None or subscriber.gender:
            out.append(
                ("DMG", "D8" if subscriber.birth_date else None,
                 subscriber.birth_date.strftime("%Y%m%d") if subscriber.birth_date else None,
                 subscriber.gender or None)
            )  # fmt: skip
        out.append(("HL", 4, 3, "23", 0))
        out.append(trn)
        out.extend(_person_segments(dependent, "03", False))
        out.extend(tail(dependent))
    return out


def render_270(
    inquiries: Sequence[EligibilityInquiry],
    envelope: Envelope,
    writer: SegmentWriter | None = None,
) -> str:
    """A 270 interchange: one transaction set per inquiry, GS08/ST03 005010X279A1.

    ``envelope.functional_id`` and ``version`` are forced to HS / 005010X279A1; the creation time
    is the envelope's (never the clock). Bad input raises X12Error naming the inquiry and element.
    """
    if not inquiries:
        raise X12Error("A 270 needs at least one eligibility inquiry.", None, "ST")
    traces = [i.trace_number for i in inquiries]
    duplicates = sorted({t for t in traces if traces.count(t) > 1})
    if duplicates:
        raise X12Error(
            f"Trace numbers (TRN02) must be unique in a 270: {', '.join(duplicates)} repeat.",
            None,
            "TRN",
        )
    env = replace(envelope, functional_id="HS", version=IMPLEMENTATION)
    sets = [
        TransactionSet("270", inquiry_segments(i, env.created), IMPLEMENTATION) for i in inquiries
    ]
    return env.render(sets, writer)


# --- 271 reader -------------------------------------------------------------------------------


@dataclass
class Rejection:
    """An AAA segment: the request could not be answered (and what to do about it)."""

    loop: str  # 2100A, 2100B, 2100C, 2100D, 2110C, 2110D
    valid_request: bool  # AAA01 Y/N
    reason_code: str  # AAA03
    reason: str
    follow_up_code: str  # AAA04
    follow_up: str
    segment_position: int

    @property
    def text(self) -> str:
        parts = [f"{self.reason} ({self.reason_code})"]
        if self.follow_up_code:
            parts.append(f"{self.follow_up} ({self.follow_up_code})")
        return "; ".join(parts)


@dataclass
class Party:
    """The payer (2100A) or the provider who asked (2100B); also a 2120 related entity."""

    entity_code: str
    name: str
    identifier_qualifier: str
    identifier: str
    first_name: str = ""
    rejections: list[Rejection] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    segment_position: int = 0


@dataclass
class Delivery:
    """HSD: how much of a benefit may be used per period (12 visits per calendar year)."""

    quantity_qualifier: str  # HSD01 (VS visits, DY days...)
    quantity: Decimal | None  # HSD02
    unit: str  # HSD03 (DA days, VS visits, MO months...)
    sample_selection_modulus: Decimal | None  # HSD04
    time_period: str  # HSD05 (615)
    periods: Decimal | None  # HSD06


@dataclass
class Benefit:
    """One EB segment with the loop that follows it (2110C/2110D)."""

    code: str  # EB01
    text: str
    coverage_level: str  # EB02
    service_types: list[str]  # EB03 repeats
    insurance_type: str  # EB04
    plan_description: str  # EB05
    time_period: str  # EB06 (615)
    amount: Decimal | None  # EB07
    percent: Decimal | None  # EB08 as a percent (.2 -> 20)
    quantity_qualifier: str  # EB09
    quantity: Decimal | None  # EB10
    authorization_required: bool | None  # EB11 Y/N (None: U unknown or absent)
    in_network: bool | None  # EB12 Y/N (None: W not applicable, U unknown or absent)
    procedure: list[str]  # EB13 composite
    segment_position: int
    deliveries: list[Delivery] = field(default_factory=list)
    dates: dict[str, tuple[date | None, date | None]] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    related: list[Party] = field(default_factory=list)

    @property
    def remaining(self) -> bool:
        """EB06 29 (remaining) or 33 (lifetime remaining): the amount is what is left."""
        return self.time_period in REMAINING_PERIODS

    def applies_to(self, service_type: str) -> bool:
        """EB03 names the service type, or names none or 30 (the benefit applies to the plan,
        X12 RFI 845)."""
        types = self.service_types
        return not types or service_type in types or "30" in types


@dataclass
class Accumulator:
    """A deductible or out-of-pocket maximum: the total for the period and what remains."""

    total: Decimal | None
    remaining: Decimal | None
    time_period: str  # of the total (23 calendar year, 22 service year...)


@dataclass
class VisitLimit:
    total: Decimal | None
    remaining: Decimal | None
    time_period: str


@dataclass
class OtherPayer:
    """EB*R: another payer covers the member (coordination of benefits)."""

    name: str
    identifier_qualifier: str
    identifier: str
    insurance_type: str
    coverage_level: str
    plan_description: str
    policy_number: str
    group_number: str
    begin: date | None
    end: date | None
    segment_position: int


@dataclass
class Member:
    """The subscriber (2000C) or dependent (2000D) of a 271 and their benefits."""

    level: str  # "subscriber" or "dependent"
    entity_code: str  # NM101 (IL, 03)
    last_name: str
    first_name: str
    middle_name: str
    member_id: str
    trace_numbers: list[tuple[str, str, str]]  # TRN (type 1 ours / 2 theirs, number, originator)
    segment_position: int
    birth_date: date | None = None
    gender: str = ""
    relationship: str = ""  # INS02 (18 self, 01 spouse, 19 child...)
    address: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    reference_names: dict[str, str] = field(default_factory=dict)
    dates: dict[str, tuple[date | None, date | None]] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    dependents: list[Member] = field(default_factory=list)

    # Coverage ---------------------------------------------------------------------------------

    @property
    def active(self) -> bool | None:
        """True when an EB01 1-5 says active, False when only 6-8 (inactive) do, None when the
        271 says neither (a rejection, or benefits without a coverage status)."""
        codes = {b.code for b in self.benefits}
        if codes & ACTIVE_CODES:
            return True
        if codes & INACTIVE_CODES:
            return False
        return None

    @property
    def coverage_status(self) -> str:
        for benefit in self.benefits:
            if benefit.code in ACTIVE_CODES | INACTIVE_CODES:
                return benefit.text
        return ""

    @property
    def trace_number(self) -> str:
        """Our trace number echoed back (the TRN whose TRN01 is 2 in a 271, 1 in a 270)."""
        for kind, number, _ in self.trace_numbers:
            if kind == "2":
                return number
        return self.trace_numbers[0][1] if self.trace_numbers else ""

    @property
    def plan_number(self) -> str:
        return self.references.get("18", "")

    @property
    def plan_name(self) -> str:
        name = self.reference_names.get("18", "")
        if name:
            return name
        for benefit in self.benefits:
            if benefit.code in ACTIVE_CODES and benefit.plan_description:
                return benefit.plan_description
        return next((b.plan_description for b in self.benefits if b.plan_description), "")

    @property
    def group_number(self) -> str:
        return self.references.get("6P", "") or self.references.get("1L", "")

    @property
    def group_name(self) -> str:
        return self.reference_names.get("6P", "") or self.reference_names.get("1L", "")

    def _date(self, *qualifiers: str) -> tuple[date | None, date | None]:
        for qualifier in qualifiers:
            if qualifier in self.dates:
                return self.dates[qualifier]
        for benefit in self.benefits:
            if benefit.code in ACTIVE_CODES | INACTIVE_CODES:
                for qualifier in qualifiers:
                    if qualifier in benefit.dates:
                        return benefit.dates[qualifier]
        return (None, None)

    @property
    def coverage_begin(self) -> date | None:
        """Eligibility begin (356), else plan begin (346), else the start of a 291/307 range."""
        return self._date("356", "346", "307", "291")[0]

    @property
    def coverage_end(self) -> date | None:
        """Eligibility end (357), else plan end (347), else the end of a 291/307 range."""
        end = self._date("357", "347")[0]
        if end is not None:
            return end
        start, finish = self._date("307", "291")
        return finish if finish != start else None

    # Benefits by kind -------------------------------------------------------------------------

    def benefits_for(
        self,
        code: str,
        service_type: str | None = None,
        *,
        in_network: bool | None = None,
        coverage_level: str | None = None,
    ) -> list[Benefit]:
        """The EB loops with EB01 ``code``, for a service type (EB03 empty counts as the plan's),
        in or out of network (None: any), at a coverage level (IND, FAM; None: any)."""
        out = []
        for benefit in self.benefits:
            if benefit.code != code:
                continue
            if service_type is not None and not benefit.applies_to(service_type):
                continue
            if in_network is not None and benefit.in_network not in (in_network, None):
                continue
            if coverage_level is not None and benefit.coverage_level not in (coverage_level, ""):
                continue
            out.append(benefit)
        return out

    def _accumulator(
        self, code: str, service_type: str, in_network: bool | None, coverage_level: str
    ) -> Accumulator | None:
        found = self.benefits_for(
            code, service_type, in_network=in_network, coverage_level=coverage_level
        )
        # Prefer answers naming the service type over the plan-wide ones.
        specific = [b for b in found if service_type in b.service_types]
        found = specific or found
        total = next((b for b in found if not b.remaining and b.amount is not None), None)
        left = next((b for b in found if b.remaining and b.amount is not None), None)
        if total is None and left is None:
            return None
        return Accumulator(
            total=total.amount if total else None,
            remaining=left.amount if left else None,
            time_period=total.time_period if total else "",
        )

    def deductible(
        self,
        service_type: str = "30",
        *,
        in_network: bool | None = True,
        coverage_level: str = "IND",
    ) -> Accumulator | None:
        """EB*C: the deductible for the period (EB06 23, 22...) and what remains (EB06 29)."""
        return self._accumulator("C", service_type, in_network, coverage_level)

    def out_of_pocket(
        self,
        service_type: str = "30",
        *,
        in_network: bool | None = True,
        coverage_level: str = "IND",
    ) -> Accumulator | None:
        """EB*G: the out-of-pocket maximum and what remains."""
        return self._accumulator("G", service_type, in_network, coverage_level)

    def copay(self, service_type: str, *, in_network: bool | None = True) -> Decimal | None:
        """EB*B: the copay amount for a service type (EB03), naming it first, else the plan's."""
        found = self.benefits_for("B", service_type, in_network=in_network)
        specific = [b for b in found if service_type in b.service_types] or found
        return next((b.amount for b in specific if b.amount is not None), None)

    def coinsurance(self, service_type: str, *, in_network: bool | None = True) -> Decimal | None:
        """EB*A: the patient's coinsurance percent (20 for EB08 .2) for a service type."""
        found = self.benefits_for("A", service_type, in_network=in_network)
        specific = [b for b in found if service_type in b.service_types] or found
        return next((b.percent for b in specific if b.percent is not None), None)

    def visit_limit(
        self, service_type: str, *, in_network: bool | None = None
    ) -> VisitLimit | None:
        """EB*F limitations in visits: EB09 VS with EB10, or an HSD*VS; EB06 29 is remaining."""
        total: Decimal | None = None
        remaining: Decimal | None = None
        period = ""
        for benefit in self.benefits_for("F", service_type, in_network=in_network):
            quantity = benefit.quantity if benefit.quantity_qualifier == "VS" else None
            period_here = benefit.time_period
            for delivery in benefit.deliveries:
                if delivery.quantity_qualifier == "VS" and quantity is None:
                    quantity = delivery.quantity
                    period_here = period_here or delivery.time_period
            if quantity is None:
                continue
            if benefit.remaining:
                remaining = quantity if remaining is None else remaining
            elif total is None:
                total, period = quantity, period_here
        if total is None and remaining is None:
            return None
        return VisitLimit(total=total, remaining=remaining, time_period=period)

    def authorization_required(self, service_type: str) -> bool | None:
        """EB11 for the service type: True if any benefit says Y, False if they say N."""
        answers = [
            b.authorization_required
            for b in self.benefits
            if b.authorization_required is not None and service_type in b.service_types
        ] or [
            b.authorization_required
            for b in self.benefits
            if b.authorization_required is not None and not b.service_types
        ]
        if True in answers:
            return True
        if False in answers:
            return False
        return None

    @property
    def messages(self) -> list[str]:
        return [m for b in self.benefits for m in b.messages]

    @property
    def other_payers(self) -> list[OtherPayer]:
        out = []
        for benefit in self.benefits:
            if benefit.code != "R":
                continue
            payer = next((p for p in benefit.related if p.entity_code == "PR"), None)
            if payer is None and benefit.related:
                payer = benefit.related[0]
            begin, end = (None, None)
            for qualifier in ("290", "346", "356", "291", "307"):
                if qualifier in benefit.dates:
                    begin, end = benefit.dates[qualifier]
                    break
            if "347" in benefit.dates or "357" in benefit.dates:
                end = (benefit.dates.get("357") or benefit.dates["347"])[0]
            out.append(
                OtherPayer(
                    name=payer.name if payer else "",
                    identifier_qualifier=payer.identifier_qualifier if payer else "",
                    identifier=payer.identifier if payer else "",
                    insurance_type=benefit.insurance_type,
                    coverage_level=benefit.coverage_level,
                    plan_description=benefit.plan_description,
                    policy_number=benefit.references.get("IG", ""),
                    group_number=benefit.references.get("6P", "")
                    or benefit.references.get("1L", ""),
                    begin=begin,
                    end=end if end != begin or "347" in benefit.dates else None,
                    segment_position=benefit.segment_position,
                )
            )
        return out

    @property
    def all_rejections(self) -> list[Rejection]:
        return self.rejections + [r for b in self.benefits for r in b.rejections]


@dataclass
class EligibilityResponse:
    """One 271 transaction set."""

    control_number: str
    reference: str  # BHT03: the 270's BHT03 echoed
    created: date | None
    source: Party | None
    receiver: Party | None
    subscribers: list[Member]
    segment_position: int

    @property
    def members(self) -> list[Member]:
        """Every subscriber and dependent, subscribers first."""
        out = []
        for subscriber in self.subscribers:
            out.append(subscriber)
            out.extend(subscriber.dependents)
        return out

    @property
    def rejections(self) -> list[Rejection]:
        """Every AAA: at the payer (2100A), the provider (2100B) and the members."""
        out: list[Rejection] = []
        for party in (self.source, self.receiver):
            if party is not None:
                out.extend(party.rejections)
        for member in self.members:
            out.extend(member.all_rejections)
        return out

    @property
    def patient(self) -> Member | None:
        """The person the inquiry was about: the dependent when there is one."""
        for subscriber in self.subscribers:
            if subscriber.dependents:
                return subscriber.dependents[0]
            return subscriber
        return None


@dataclass
class Eligibility271File:
    interchange_control_number: str
    responses: list[EligibilityResponse]
    warnings: list[str]

    def by_trace_number(self, trace_number: str) -> Member | None:
        """The member whose TRN echoes our trace number (the dependent when it is theirs)."""
        for response in self.responses:
            for member in response.members:
                if any(number == trace_number for _, number, _ in member.trace_numbers):
                    return member
        return None


def _rejection(seg: Segment, loop: str) -> Rejection:
    code = seg.element(3)
    follow = seg.element(4)
    if not code:
        raise X12Error(
            f"AAA03 (reject reason) at segment {seg.position} is empty: a rejection must say why.",
            seg.position,
            seg.id,
        )
    return Rejection(
        loop=loop,
        valid_request=seg.element(1) != "N",
        reason_code=code,
        reason=REJECT_REASONS.get(code, f"Reject reason {code}"),
        follow_up_code=follow,
        follow_up=FOLLOW_UP_ACTIONS.get(follow, f"Follow-up {follow}") if follow else "",
        segment_position=seg.position,
    )


def _yes_no(seg: Segment, i: int, what: str) -> bool | None:
    value = seg.element(i)
    if value in ("", "U", "W"):
        return None
    if value in ("Y", "N"):
        return value == "Y"
    raise X12Error(
        f"{seg.id}{i:02d} ({what}) at segment {seg.position} is {value[:20]!r}, which is not "
        "Y, N, U or W.",
        seg.position,
        seg.id,
    )


def _benefit(seg: Segment) -> Benefit:
    code = seg.element(1)
    if not code:
        raise X12Error(
            f"EB01 (eligibility or benefit information) at segment {seg.position} is empty.",
            seg.position,
            seg.id,
        )
    fraction = element_decimal(seg, 8, FRACTION, "percent")
    percent = None
    if fraction is not None:
        if not 0 <= fraction <= 1:
            raise X12Error(
                f"EB08 (percent) at segment {seg.position} is {seg.element(8)!r}, which is not "
                "a fraction between 0 and 1.",
                seg.position,
                seg.id,
            )
        percent = (fraction * 100).quantize(Decimal("0.01")).normalize()
        percent = percent.quantize(Decimal(1)) if percent == percent.to_integral() else percent
    return Benefit(
        code=code,
        text=BENEFIT_CODES.get(code, f"Benefit {code}"),
        coverage_level=seg.element(2),
        service_types=[s for s in seg.repetitions(3) if s],
        insurance_type=seg.element(4),
        plan_description=seg.element(5),
        time_period=seg.element(6),
        amount=element_decimal(seg, 7, what="benefit amount"),
        percent=percent,
        quantity_qualifier=seg.element(9),
        quantity=element_decimal(seg, 10, QUANTITY, "benefit quantity"),
        authorization_required=_yes_no(seg, 11, "authorization or certification indicator"),
        in_network=_yes_no(seg, 12, "in plan network indicator"),
        procedure=list(seg.components(13)),
        segment_position=seg.position,
    )


def _delivery(seg: Segment) -> Delivery:
    return Delivery(
        quantity_qualifier=seg.element(1),
        quantity=element_decimal(seg, 2, QUANTITY, "quantity"),
        unit=seg.element(3),
        sample_selection_modulus=element_decimal(seg, 4, QUANTITY, "sample selection modulus"),
        time_period=seg.element(5),
        periods=element_decimal(seg, 6, QUANTITY, "number of periods"),
    )


def _party(seg: Segment) -> Party:
    return Party(
        entity_code=seg.element(1),
        name=seg.element(3),
        first_name=seg.element(4),
        identifier_qualifier=seg.element(8),
        identifier=seg.element(9),
        segment_position=seg.position,
    )


def _contact(seg: Segment) -> str:
    """PER: the name (PER02) and each number with its qualifier ("TE 8005551212")."""
    parts = [seg.element(2)] + [
        f"{seg.element(q)} {seg.element(q + 1)}" for q in (3, 5, 7) if seg.element(q + 1)
    ]
    return " ".join(p for p in parts if p)


def _dtp(seg: Segment) -> tuple[str, tuple[date | None, date | None]]:
    qualifier, form, value = seg.element(1), seg.element(2), seg.element(3)
    if form not in ("D8", "RD8"):
        raise X12Error(
            f"DTP02 at segment {seg.position} is {form[:20]!r}: a 271 date is D8 or RD8.",
            seg.position,
            seg.id,
        )
    start, end = to_date_range(form, value)
    if start is None or (form == "RD8" and end is None):
        raise X12Error(
            f"DTP03 (date {qualifier}) at segment {seg.position} is {value[:30]!r}, which is not "
            f"a {'CCYYMMDD-CCYYMMDD range' if form == 'RD8' else 'CCYYMMDD date'}.",
            seg.position,
            seg.id,
        )
    return qualifier, (start, end)


def _response(txn: Transaction) -> EligibilityResponse:
    response = EligibilityResponse(
        control_number=txn.control_number,
        reference="",
        created=None,
        source=None,
        receiver=None,
        subscribers=[],
        segment_position=txn.st.position,
    )
    level = ""  # HL03 of the current level
    party: Party | None = None
    member: Member | None = None
    benefit: Benefit | None = None
    related: Party | None = None
    pending_trn: list[tuple[str, str, str]] = []
    seen_hl = False
    for seg in txn.body:
        sid = seg.id
        if sid == "BHT":
            response.reference = seg.element(3)
            response.created = to_date(seg.element(4))
            continue
        if sid == "HL":
            seen_hl = True
            code = seg.element(3)
            if code not in LEVEL_NAMES:
                raise X12Error(
                    f"HL03 at segment {seg.position} is {code[:20]!r}: a 271 level is 20 "
                    "(payer), 21 (provider), 22 (subscriber) or 23 (dependent).",
                    seg.position,
                    seg.id,
                )
            if code == "23" and not response.subscribers:
                raise X12Error(
                    f"HL at segment {seg.position} is a dependent (23) with no subscriber (22) "
                    "level before it.",
                    seg.position,
                    seg.id,
                )
            level, party, member, benefit, related = code, None, None, None, None
            pending_trn = []
            continue
        if not seen_hl:
            raise X12Error(
                f"{sid} at segment {seg.position} comes before the first HL level.",
                seg.position,
                sid,
            )
        if level in ("20", "21"):
            if sid == "NM1":
                party = _party(seg)
                if level == "20":
                    response.source = party
                else:
                    response.receiver = party
            elif sid == "AAA":
                if party is None:
                    party = Party("", "", "", "", segment_position=seg.position)
                    if level == "20":
                        response.source = party
                    else:
                        response.receiver = party
                party.rejections.append(_rejection(seg, "2100A" if level == "20" else "2100B"))
            elif party is not None and sid == "REF":
                party.references[seg.element(1)] = seg.element(2)
            elif party is not None and sid == "PER":
                party.contacts.append(_contact(seg))
            continue
        # Subscriber or dependent level.
        if sid == "TRN":
            entry = (seg.element(1), seg.element(2), seg.element(3))
            if member is None:
                pending_trn.append(entry)
            else:
                member.trace_numbers.append(entry)
            continue
        if member is None:
            if sid != "NM1":
                raise X12Error(
                    f"{sid} at segment {seg.position} comes before the "
                    f"{'subscriber' if level == '22' else 'dependent'} name (NM1) of its level.",
                    seg.position,
                    sid,
                )
            member = Member(
                level="subscriber" if level == "22" else "dependent",
                entity_code=seg.element(1),
                last_name=seg.element(3),
                first_name=seg.element(4),
                middle_name=seg.element(5),
                member_id=seg.element(9),
                trace_numbers=list(pending_trn),
                segment_position=seg.position,
            )
            if level == "22":
                response.subscribers.append(member)
            else:
                response.subscribers[-1].dependents.append(member)
            continue
        loop = "2100C" if level == "22" else "2100D"
        if sid == "EB":
            benefit = _benefit(seg)
            related = None
            member.benefits.append(benefit)
        elif sid == "LS":
            if benefit is None:
                raise X12Error(
                    f"LS at segment {seg.position} opens a 2120 loop outside a benefit (EB).",
                    seg.position,
                    sid,
                )
        elif sid == "LE":
            related = None
        elif benefit is None:
            _member_segment(member, seg, loop)
        elif sid == "NM1":
            related = _party(seg)
            benefit.related.append(related)
        elif related is not None:
            if sid in ("N3", "N4"):
                related.address.append(" ".join(v for v in seg.elements if v))
            elif sid == "PER":
                related.contacts.append(_contact(seg))
            elif sid == "REF":
                related.references[seg.element(1)] = seg.element(2)
        elif sid == "HSD":
            benefit.deliveries.append(_delivery(seg))
        elif sid == "REF":
            benefit.references[seg.element(1)] = seg.element(2)
        elif sid == "DTP":
            qualifier, span = _dtp(seg)
            benefit.dates[qualifier] = span
        elif sid == "AAA":
            benefit.rejections.append(_rejection(seg, "2110C" if level == "22" else "2110D"))
        elif sid == "MSG" and seg.element(1):
            benefit.messages.append(seg.element(1))
    return response


def _member_segment(member: Member, seg: Segment, loop: str) -> None:
    sid = seg.id
    if sid == "REF":
        member.references[seg.element(1)] = seg.element(2)
        if seg.element(3):
            member.reference_names[seg.element(1)] = seg.element(3)
    elif sid in ("N3", "N4"):
        member.address.append(" ".join(v for v in seg.elements if v))
    elif sid == "DMG":
        member.birth_date = to_date(seg.element(2)) if seg.element(1) == "D8" else None
        member.gender = seg.element(3)
    elif sid == "INS":
        member.relationship = seg.element(2)
    elif sid == "DTP":
        qualifier, span = _dtp(seg)
        member.dates[qualifier] = span
    elif sid == "AAA":
        member.rejections.append(_rejection(seg, loop))


@collector_paused
def parse_271(text: str | bytes, *, strict: bool = True) -> Eligibility271File:
    """Read every 271 transaction set of a file. Envelope problems raise (strict) or become
    warnings; content that cannot be read raises X12Error naming the segment and element."""
    transactions, problems = transactions_of(text, "271", strict=strict)
    return Eligibility271File(
        interchange_control_number=transactions[0].interchange_control_number,
        responses=[_response(txn) for txn in transactions],
        warnings=[str(p) for p in problems],
    )
