"""999 Implementation Acknowledgment (005010X231A1) into plain dataclasses.

A 999 answers one functional group (AK1) of a file we sent, with one AK2 loop per transaction set
(our 837 ST/SE) telling whether it was accepted (IK5 A), accepted with errors (E) or rejected
(R/M/W/X), and IK3/IK4 loops pointing at the segments and elements in error. AK9 summarises the
whole group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .reader import Segment, X12Error, collector_paused, transactions_of
from .values import to_int

ACCEPTED = "accepted"
ACCEPTED_WITH_ERRORS = "accepted_with_errors"
PARTIALLY_ACCEPTED = "partially_accepted"
REJECTED = "rejected"

# IK501 / AK901 acknowledgment codes.
ACK_CODES = {
    "A": (ACCEPTED, "Accepted"),
    "E": (ACCEPTED_WITH_ERRORS, "Accepted, but errors were noted"),
    "P": (PARTIALLY_ACCEPTED, "Partially accepted: at least one transaction set was rejected"),
    "R": (REJECTED, "Rejected"),
    "M": (REJECTED, "Rejected: message authentication code failed"),
    "W": (REJECTED, "Rejected: assurance failed validity tests"),
    "X": (REJECTED, "Rejected: content could not be analyzed after decryption"),
}

# IK304 segment syntax error codes.
SEGMENT_ERROR_CODES = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": "Segment the guide marks as not used is present",
    "I6": "Implementation dependent segment missing",
    "I7": "Loop occurs under minimum times",
    "I8": "Segment below minimum use",
    "I9": "Implementation dependent not-used segment present",
}

# IK403 data element error codes.
ELEMENT_ERROR_CODES = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value not used in this implementation",
    "I9": "Implementation dependent data element missing",
    "I10": "Data element the guide marks as not used is present",
    "I11": "Too few repetitions",
    "I12": "Value does not match the required pattern",
    "I13": "Implementation dependent not-used data element present",
}

# IK502-IK506 transaction set syntax error codes.
TRANSACTION_ERROR_CODES = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer (SE) missing",
    "3": "Transaction set control numbers in ST and SE do not match",
    "4": "Number of included segments (SE01) does not match the actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "18": "Transaction set not in a functional group",
    "19": "Invalid implementation convention reference (ST03)",
    "23": "Transaction set control number not unique within the functional group",
    "I5": "Implementation: one or more segments in error",
    "I6": "Implementation convention not supported",
}

# AK905-AK909 functional group syntax error codes.
GROUP_ERROR_CODES = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer (GE) missing",
    "4": "Group control numbers in GS and GE do not agree",
    "5": "Number of included transaction sets (GE01) does not match the actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within the interchange",
}


@dataclass
class ElementError:
    """IK4: one data element in error inside the segment named by the enclosing IK3."""

    element_position: int | None
    component_position: int | None
    repetition_position: int | None
    data_element_reference: str
    error_code: str
    description: str
    bad_value: str
    segment_position: int


@dataclass
class SegmentError:
    """IK3: the segment id, its position in our transaction set (ST = 1) and its loop."""

    segment_id: str
    segment_position: int | None
    loop_id: str
    error_code: str
    description: str
    element_errors: list[ElementError] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    patient_control_number: str = ""


@dataclass
class TransactionSetAcknowledgment:
    """AK2 + IK5: the verdict on one transaction set we sent."""

    transaction_set_id: str
    control_number: str
    version: str
    ack_code: str
    status: str
    status_text: str
    error_codes: list[str]
    error_descriptions: list[str]
    segment_errors: list[SegmentError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in (ACCEPTED, ACCEPTED_WITH_ERRORS)


@dataclass
class FunctionalAcknowledgment:
    """One 999 transaction set: the answer for one functional group (AK1) we sent."""

    control_number: str
    functional_id_code: str
    group_control_number: str
    group_version: str
    transaction_sets: list[TransactionSetAcknowledgment]
    group_ack_code: str
    group_status: str
    group_status_text: str
    transaction_sets_included: int | None
    transaction_sets_received: int | None
    transaction_sets_accepted: int | None
    group_error_codes: list[str]
    group_error_descriptions: list[str]


@dataclass
class Ack999File:
    interchange_control_number: str
    acknowledgments: list[FunctionalAcknowledgment]
    warnings: list[str]


def _int(value: str) -> int | None:
    return to_int(value)


def _status(code: str) -> tuple[str, str]:
    return ACK_CODES.get(code, (REJECTED, f"Unknown acknowledgment code {code!r}"))


def _describe(codes: list[str], table: dict[str, str]) -> list[str]:
    return [table.get(code, f"Error code {code}") for code in codes]


def _ik4(seg: Segment, segment_position: int) -> ElementError:
    position = seg.components(1)
    code = seg.element(3)
    return ElementError(
        element_position=_int(position[0]) if position else None,
        component_position=_int(position[1]) if len(position) > 1 else None,
        repetition_position=_int(position[2]) if len(position) > 2 else None,
        data_element_reference=seg.element(2),
        error_code=code,
        description=ELEMENT_ERROR_CODES.get(code, f"Error code {code}"),
        bad_value=seg.element(4),
        segment_position=segment_position,
    )


@collector_paused
def parse_999(text: str | bytes, *, strict: bool = True) -> Ack999File:
    """Read every 999 transaction set of a file.

    ``strict`` raises X12Error for envelope problems (counts, control numbers); otherwise they
    are returned as ``warnings``.
    """
    transactions, problems = transactions_of(text, "999", strict=strict)
    acks: list[FunctionalAcknowledgment] = []
    for txn in transactions:
        ack = FunctionalAcknowledgment(
            control_number=txn.control_number,
            functional_id_code="",
            group_control_number="",
            group_version="",
            transaction_sets=[],
            group_ack_code="",
            group_status="",
            group_status_text="",
            transaction_sets_included=None,
            transaction_sets_received=None,
            transaction_sets_accepted=None,
            group_error_codes=[],
            group_error_descriptions=[],
        )
        current: TransactionSetAcknowledgment | None = None
        segment_error: SegmentError | None = None
        for seg in txn.body:
            sid = seg.id
            if sid == "AK1":
                ack.functional_id_code = seg.element(1)
                ack.group_control_number = seg.element(2)
                ack.group_version = seg.element(3)
            elif sid == "AK2":
                current = TransactionSetAcknowledgment(
                    transaction_set_id=seg.element(1),
                    control_number=seg.element(2),
                    version=seg.element(3),
                    ack_code="",
                    status="",
                    status_text="",
                    error_codes=[],
                    error_descriptions=[],
                )
                ack.transaction_sets.append(current)
                segment_error = None
            elif sid == "IK3":
                if current is None:
                    raise X12Error("IK3 appears before any AK2 loop.", seg.position, sid)
                code = seg.element(4)
                segment_error = SegmentError(
                    segment_id=seg.element(1),
                    segment_position=_int(seg.element(2)),
                    loop_id=seg.element(3),
                    error_code=code,
                    description=SEGMENT_ERROR_CODES.get(code, f"Error code {code}"),
                )
                current.segment_errors.append(segment_error)
            elif sid == "CTX":
                if segment_error is not None:
                    context = seg.element(1)
                    segment_error.context.append(context)
                    # Segment context CTX*CLM01:<patient control number> names the claim.
                    if seg.component(1, 1) == "CLM01":
                        segment_error.patient_control_number = seg.component(1, 2)
            elif sid == "IK4":
                if segment_error is None:
                    raise X12Error("IK4 appears before any IK3 segment.", seg.position, sid)
                segment_error.element_errors.append(_ik4(seg, seg.position))
            elif sid == "IK5":
                if current is None:
                    raise X12Error("IK5 appears before any AK2 loop.", seg.position, sid)
                current.ack_code = seg.element(1)
                current.status, current.status_text = _status(current.ack_code)
                current.error_codes = [seg.element(i) for i in range(2, 7) if seg.element(i)]
                current.error_descriptions = _describe(current.error_codes, TRANSACTION_ERROR_CODES)
                segment_error = None
            elif sid == "AK9":
                ack.group_ack_code = seg.element(1)
                ack.group_status, ack.group_status_text = _status(ack.group_ack_code)
                ack.transaction_sets_included = _int(seg.element(2))
                ack.transaction_sets_received = _int(seg.element(3))
                ack.transaction_sets_accepted = _int(seg.element(4))
                ack.group_error_codes = [seg.element(i) for i in range(5, 10) if seg.element(i)]
                ack.group_error_descriptions = _describe(ack.group_error_codes, GROUP_ERROR_CODES)
        if not ack.group_ack_code:
            raise X12Error(
                f"999 transaction set {txn.control_number} has no AK9 segment: the group's "
                "verdict is missing.",
                txn.st.position,
                "ST",
            )
        acks.append(ack)
    return Ack999File(
        interchange_control_number=transactions[0].interchange_control_number,
        acknowledgments=acks,
        warnings=[str(p) for p in problems],
    )
