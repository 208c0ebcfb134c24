"""277 claim status responses (005010X212) answering our own 276s, written by hand.

Source: the claim-level status example of the ASC X12N 005010X212 implementation guide
(section 3, "Examples": the payer 2000A/2100A, the information receiver 2000B/2100B, the provider
2000C/2100C, the subscriber 2000D/2100D with its 2200D claim loop TRN*2 / STC / REF*1K / REF*EJ /
DTP*472). The loop structure and the element order follow that example; the names, ids, amounts
and codes are ours (Riverbend's claims), and each answer echoes the trace number our 276 sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from submissions.models import ClaimStatusInquiry
from tests.clock import now
from x12.writer import Envelope, SegmentWriter, TransactionSet


@dataclass(frozen=True)
class Answer:
    trace: str
    stc: tuple  # STC01 composite then STC02..: ("F2:88:QC", "20261201", "", "150", "0", ...)
    pcn: str = ""
    payer_claim_number: str = "PAYERCCN1"


def _stc(answer: Answer) -> tuple:
    first, *rest = answer.stc
    return ("STC", tuple(first.split(":")), *rest)


def answer_277(answers: list[Answer], *, number: int = 701, payer_id: str = "BLUE01") -> str:
    """One 277 answering the given inquiries, one 2000D subscriber level per claim."""
    day = now().strftime("%Y%m%d")
    body: list = [
        ("BHT", "0010", "08", f"R277-{number}", day, "0610", "DG"),
        ("HL", 1, None, "20", 1),
        ("NM1", "PR", "2", "BLUE PLAN", None, None, None, None, "PI", payer_id),
        ("HL", 2, 1, "21", 1),
        ("NM1", "41", "2", "RIVERBEND", None, None, None, None, "46", "RB12345"),
        ("HL", 3, 2, "19", 1),
        ("NM1", "1P", "2", "RIVERBEND", None, None, None, None, "XX", "1234567893"),
    ]
    hl = 3
    for a in answers:
        hl += 1
        body += [
            ("HL", hl, 3, "22", 0),
            ("NM1", "IL", "1", "DOE", "JANE", None, None, None, "MI", "W1"),
            ("TRN", "2", a.trace),
            _stc(a),
        ]
        if a.payer_claim_number:
            body.append(("REF", "1K", a.payer_claim_number))
        if a.pcn:
            body.append(("REF", "EJ", a.pcn))
    ts = TransactionSet("277", body, "005010X212")
    created = now().replace(tzinfo=None, second=0, microsecond=0)
    envelope = Envelope("CLHSE01", "RB12345", number, number, created,
                        functional_id="HN", version="005010X212")  # fmt: skip
    return envelope.render([ts], SegmentWriter())


def answer_for(inquiry: ClaimStatusInquiry, stc: tuple, *, number: int = 701) -> str:
    return answer_277(
        [Answer(inquiry.trace_number, stc, inquiry.claim.patient_control_number)], number=number
    )


DENIED_88 = ("F2:88:QC", "20261201", "", "150", "0", "20261128")
PAID_65 = ("F1:65", "20261201", "", "150", "112.5", "20261128", "CHK", "20261202", "000884321")
DOCUMENTS_R4 = ("R4:294", "20261201", "", "150")
NOT_FOUND_A4 = ("A4:35", "20261201")
