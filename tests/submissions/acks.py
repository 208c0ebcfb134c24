"""999 and 277CA files answering our own batches, as a clearinghouse would send them."""

from __future__ import annotations

from datetime import datetime

from submissions.models import SubmissionBatch
from tests.claims.conftest import dos
from tests.clock import now
from x12.writer import Envelope, SegmentWriter, TransactionSet


def _created() -> datetime:
    """The answer comes now (X12 dates carry no zone: UTC, to the minute)."""
    return now().replace(tzinfo=None, second=0, microsecond=0)


def _envelope(batch: SubmissionBatch, number: int, functional_id: str, version: str) -> Envelope:
    ch = batch.clearinghouse
    return Envelope(ch.receiver_id, ch.submitter_id, number, number, _created(),
                    functional_id=functional_id, version=version)  # fmt: skip


def ack_999(batch: SubmissionBatch, *, accepted: bool = True, number: int = 501) -> str:
    st02 = f"{batch.transaction_control_number:04d}"
    body: list = [("AK1", "HC", batch.group_control_number, "005010X222A1"),
                  ("AK2", "837", st02, "005010X222A1")]  # fmt: skip
    if accepted:
        body += [("IK5", "A"), ("AK9", "A", 1, 1, 1)]
    else:
        body += [("IK3", "NM1", 17, "2010BA", 8), ("IK4", 9, 67, 7, "W1"),
                 ("IK5", "R", 5), ("AK9", "R", 1, 1, 0)]  # fmt: skip
    ts = TransactionSet("999", body, "005010X231A1")
    return _envelope(batch, number, "FA", "005010X231A1").render([ts], SegmentWriter())


def ack_277ca(batch: SubmissionBatch, verdicts: dict[str, str], *, number: int = 601) -> str:
    """verdicts: patient control number -> "A1:20" (accepted) or "A7:562:85" (rejected)."""
    day = _created().strftime("%Y%m%d")
    body: list = [
        ("BHT", "0085", "08", f"R{number}", day, "0800", "TH"),
        ("HL", 1, None, "20", 1),
        ("NM1", "PR", "2", "CLEARINGHOUSE INC", None, None, None, None, "46", "CLHSE01"),
        ("TRN", "1", f"T{number}"),
        ("DTP", "050", "D8", day),
        ("DTP", "009", "D8", day),
        ("HL", 2, 1, "21", 1),
        ("NM1", "41", "2", "RIVERBEND", None, None, None, None, "46", "RB12345"),
        ("TRN", "2", batch.reference),
        ("STC", ("A1", "19"), day, "WQ", batch.total_charge),
        ("HL", 3, 2, "19", 1),
        ("NM1", "85", "2", "RIVERBEND", None, None, None, None, "XX", "1234567893"),
        ("TRN", "1", "PROV1"),
    ]
    hl = 3
    for pcn, verdict in verdicts.items():
        hl += 1
        body += [
            ("HL", hl, 3, "PT"),
            ("NM1", "QC", "1", "DOE", "JANE", None, None, None, "MI", "W1"),
            ("TRN", "2", pcn),
            ("STC", tuple(verdict.split(":")), day, "WQ", 150),
            ("REF", "1K", f"PAYER{pcn}"),
            ("DTP", "472", "D8", dos().strftime("%Y%m%d")),  # bill_ready's first session
        ]
    ts = TransactionSet("277", body, "005010X214")
    return _envelope(batch, number, "HN", "005010X214").render([ts], SegmentWriter())
