"""Test 835 files built with the project's own X12 writer, for our claims' PCNs and line
control numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from tests.clock import days_ago
from x12.writer import Envelope, SegmentWriter, TransactionSet

D = Decimal


def paid_on() -> date:
    """A test 835's payment date unless given: yesterday, after every claim the tests send."""
    return days_ago(1)


@dataclass
class Svc:
    code: str
    charge: Decimal
    paid: Decimal
    lcn: str = ""
    dos: date | None = None
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    rarcs: list[str] = field(default_factory=list)
    allowed: Decimal | None = None
    original_code: str = ""  # SVC06: what we billed, when the payer adjudicated `code`


@dataclass
class Clp:
    pcn: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = Decimal("0")
    lines: list[Svc] = field(default_factory=list)
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    payer_claim_number: str = "PCN-PAYER-1"
    crossover: str = ""


def _cas(segments: list, triples: list[tuple[str, str, Decimal]]) -> None:
    by_group: dict[str, list] = {}
    for group, reason, amount in triples:
        by_group.setdefault(group, []).extend([reason, amount, None])
    for group, values in by_group.items():
        segments.append(["CAS", group, *values])


def build_835(
    claims: list[Clp],
    *,
    trace: str = "TRACE1",
    payer_id: str = "BP001",
    payment_date: date | None = None,
    plb: list[tuple[str, Decimal]] | None = None,
    bpr_amount: Decimal | None = None,
    control: int = 1,
) -> str:
    payment_date = payment_date or paid_on()
    plb = plb or []
    total = sum((c.paid for c in claims), D("0")) - sum((a for _, a in plb), D("0"))
    segments: list = [
        [
            "BPR",
            "I",
            bpr_amount if bpr_amount is not None else total,
            "C",
            "ACH",
            "CCP",
            "01",
            "999999999",
            "DA",
            "123456",
            "1512345678",
            None,
            "01",
            "999988880",
            "DA",
            "98765",
            payment_date.strftime("%Y%m%d"),
        ],
        ["TRN", "1", trace, "1" + payer_id],
        ["DTM", "405", payment_date.strftime("%Y%m%d")],
        ["N1", "PR", "BLUE PLAN"],
        ["REF", "2U", payer_id],
        ["N1", "PE", "RIVERBEND", "XX", "1234567893"],
        ["LX", "1"],
    ]
    for c in claims:
        segments.append(
            [
                "CLP",
                c.pcn,
                c.status,
                c.charge,
                c.paid,
                c.patient_responsibility,
                "12",
                c.payer_claim_number,
            ]
        )
        _cas(segments, c.cas)
        segments.append(["NM1", "QC", "1", "DOE", "JANE", None, None, None, "MI", "W1"])
        if c.crossover:
            segments.append(["NM1", "TT", "2", c.crossover, None, None, None, None, "PI", "SEC1"])
        for s in c.lines:
            original = [("HC", s.original_code)] if s.original_code else []
            segments.append(["SVC", ("HC", s.code), s.charge, s.paid, None, 1, *original])
            if s.dos:
                segments.append(["DTM", "472", s.dos.strftime("%Y%m%d")])
            _cas(segments, s.cas)
            if s.lcn:
                segments.append(["REF", "6R", s.lcn])
            if s.allowed is not None:
                segments.append(["AMT", "B6", s.allowed])
            for rarc in s.rarcs:
                segments.append(["LQ", "HE", rarc])
    for reason, amount in plb:
        segments.append(["PLB", "1234567893", f"{payment_date:%Y}1231", (reason, "REF1"), amount])
    envelope = Envelope(
        sender_id="BLUEPLAN",
        receiver_id="RIVERBEND",
        interchange_control_number=control,
        group_control_number=control,
        created=datetime.combine(payment_date, time(12), tzinfo=UTC),
        functional_id="HP",
        version="005010X221A1",
    )
    return envelope.render(
        [TransactionSet("835", segments, "005010X221A1")], SegmentWriter(newline=True)
    )
