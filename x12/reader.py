"""A fast X12 5010 tokenizer and envelope checker (pure Python, no database).

The separators are read from the ISA segment, which has a fixed width of 106 characters:
the element separator is the 4th character, the repetition separator is ISA11, the component
separator is ISA16 and the segment terminator is the character right after ISA16. Line breaks
after a terminator (``~\\r\\n``) are tolerated and are not part of the next segment.

Splitting is plain ``str.split`` (no regular expression per element), so a file of a few hundred
thousand segments is read in well under a second.

Byte offsets: bytes input is decoded as Latin-1 so that one character is one byte and
``Segment.offset`` is the byte offset in the file; for ``str`` input it is the character offset
(the same thing for the ASCII files payers send).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import ParamSpec, TypeVar

ISA_LENGTH = 106
ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
# Widths of ISA01..ISA15 (ISA16 is one character, then the segment terminator).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)


P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Reading creates hundreds of thousands of lists and objects without reference cycles; left
    on, the collector rescans them over and over and a 10,000-claim 835 takes three times as
    long. Reference counting still frees everything; the collector resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _collector_paused():
            return function(*args, **kwargs)

    return wrapper


class X12Error(Exception):
    """A file that cannot be read as X12, with a message a biller can act on.

    ``segment_position`` is the 1-based number of the segment in the file (ISA is 1) and
    ``segment_id`` its id, when the problem concerns one segment.
    """

    def __init__(
        self, message: str, segment_position: int | None = None, segment_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment_position = segment_position
        self.segment_id = segment_id

    def __str__(self) -> str:
        if self.segment_position is None:
            return self.message
        return f"{self.message} (segment {self.segment_position}, {self.segment_id})"


@dataclass(frozen=True, slots=True)
class Separators:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


class Segment:
    """One segment. ``fields[0]`` is the segment id, so ``element(1)`` is the first element."""

    __slots__ = (
        "component_separator",
        "fields",
        "id",
        "offset",
        "position",
        "repetition_separator",
    )

    def __init__(
        self,
        fields: list[str],
        position: int,
        offset: int,
        component_separator: str = ":",
        repetition_separator: str = "^",
    ) -> None:
        self.fields = fields
        self.id = fields[0]
        self.position = position
        self.offset = offset
        self.component_separator = component_separator
        self.repetition_separator = repetition_separator

    @property
    def elements(self) -> list[str]:
        """The data elements without the segment id (``elements[0]`` is element 01)."""
        return self.fields[1:]

    def element(self, i: int) -> str:
        """Element ``i`` (1-based, as in ``CLP04``), or ``""`` when the segment is shorter."""
        fields = self.fields
        return fields[i] if i < len(fields) else ""

    def components(self, i: int) -> list[str]:
        """The components of composite element ``i`` (an empty list when the element is empty)."""
        value = self.element(i)
        return value.split(self.component_separator) if value else []

    def component(self, i: int, j: int) -> str:
        """Component ``j`` (1-based) of element ``i``, or ``""``: ``SVC01-2`` is component(1, 2)."""
        value = self.element(i)
        if not value:
            return ""
        parts = value.split(self.component_separator)
        return parts[j - 1] if j <= len(parts) else ""

    def repetitions(self, i: int) -> list[str]:
        """The repeats of a repeatable element ``i``."""
        value = self.element(i)
        if not value:
            return []
        # 4010 files have no repetition separator (ISA11 is "U"): one value, no repeats.
        return value.split(self.repetition_separator) if self.repetition_separator else [value]

    def __repr__(self) -> str:
        return f"Segment({'*'.join(self.fields)!r}, position={self.position}, offset={self.offset})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Segment) and other.fields == self.fields

    __hash__ = None  # type: ignore[assignment]


def _as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        return data.decode("latin-1")
    return data


def read_separators(data: str | bytes) -> tuple[Separators, int]:
    """The separators declared by the ISA segment and the offset where ISA starts.

    Leading whitespace (and a UTF-8 byte order mark) before ISA is tolerated.
    """
    text = _as_text(data)
    start = 0
    length = len(text)
    while start < length and text[start] in " \t\r\n\ufeff\xef\xbb\xbf":
        start += 1
    if text[start : start + 3] != "ISA":
        raise X12Error(
            "This is not an X12 file: it must start with an ISA segment "
            f"but starts with {text[start : start + 20]!r}."
        )
    element = text[start + 3 : start + 4]
    # Control characters (\x1c-\x1f) are legitimate separators; blanks and line breaks are not.
    if not element or element.isalnum() or element in " \t\r\n\x0b\x0c":
        raise X12Error(
            f"The ISA segment is malformed: the character after 'ISA' must be the element "
            f"separator, found {element!r}.",
            1,
            "ISA",
        )
    # ISA is fixed width: naming the first element of the wrong width tells the sender exactly
    # what to fix (a 9-character ISA02 is a classic).
    parts = text[start : start + ISA_LENGTH + 20].split(element, 16)
    if len(parts) < 17:
        raise X12Error(
            f"The ISA segment is cut short: it has {len(parts) - 1} of its 16 elements.",
            1,
            "ISA",
        )
    for number, width in enumerate(ISA_WIDTHS, start=1):
        if len(parts[number]) != width:
            raise X12Error(
                f"The ISA segment is not the fixed {ISA_LENGTH} characters: ISA{number:02d} must "
                f"be {width} characters wide, found {len(parts[number])} ({parts[number]!r}).",
                1,
                "ISA",
            )
    tail = parts[16]
    if len(tail) < 2:
        raise X12Error(
            "The ISA segment is cut short: ISA16 (component separator) and the segment "
            "terminator after it are missing.",
            1,
            "ISA",
        )
    component, terminator = tail[0], tail[1]
    repetition = parts[11]
    if terminator.isalnum() or terminator in (element, component):
        raise X12Error(
            f"The character after ISA16 must be the segment terminator, found {terminator!r}.",
            1,
            "ISA",
        )
    # In 5010 ISA11 is the repetition separator; in 4010 it is the standards id "U".
    if len(repetition) != 1 or repetition.isalnum():
        repetition = ""
    return Separators(element, component, repetition, terminator), start


def tokenize(data: str | bytes) -> Iterator[Segment]:
    """Yield the segments of an X12 file in order, without checking the envelope."""
    yield from segments_of(data)


def segments_of(data: str | bytes) -> list[Segment]:
    """Every segment of an X12 file, in order, without checking the envelope."""
    text = _as_text(data)
    seps, start = read_separators(text)
    element, component, repetition = seps.element, seps.component, seps.repetition
    body = text[start:] if start else text
    # Most files put the same line break after every terminator: splitting on "~\n" (or
    # "~\r\n") then leaves nothing to strip. Files that mix styles take the general path.
    terminator = seps.segment
    for ending in ("\r\n", "\n"):
        candidate = terminator + ending
        if terminator in ending:
            break
        missing = body.count(terminator) - body.count(candidate)
        if missing == 1 and body.endswith(terminator):
            body += ending  # the last segment often has no line break after it
            missing = 0
        if missing == 0:
            terminator = candidate
            break
    step = len(terminator)
    out: list[Segment] = []
    append = out.append
    offset = start
    position = 0
    for piece in body.split(terminator):
        seg_offset = offset
        offset += len(piece) + step
        if not piece:
            continue
        if piece[0] in "\r\n":
            stripped = piece.lstrip("\r\n")
            seg_offset += len(piece) - len(stripped)
            piece = stripped
            if not piece:
                continue
        if piece[-1] in "\r\n":
            piece = piece.rstrip("\r\n")
        position += 1
        append(Segment(piece.split(element), position, seg_offset, component, repetition))
    return out


@dataclass
class Transaction:
    """One transaction set: ST ... SE, with every segment in between (ST and SE included)."""

    st: Segment
    se: Segment | None
    segments: list[Segment]
    interchange_control_number: str = ""
    group_control_number: str = ""

    @property
    def id(self) -> str:
        return self.st.element(1)

    @property
    def control_number(self) -> str:
        return self.st.element(2)

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        end = len(self.segments) - 1 if self.se is not None else len(self.segments)
        return self.segments[1:end]

    def position_in_set(self, segment: Segment) -> int:
        """The position used by 999 IK3-02 and pyx12: ST is 1."""
        return segment.position - self.st.position + 1


@dataclass
class FunctionalGroup:
    gs: Segment
    ge: Segment | None
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        return self.gs.element(1)

    @property
    def control_number(self) -> str:
        return self.gs.element(6)

    @property
    def version(self) -> str:
        return self.gs.element(8)


@dataclass
class Interchange:
    isa: Segment
    iea: Segment | None
    separators: Separators
    groups: list[FunctionalGroup] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.isa.element(13)

    @property
    def transactions(self) -> list[Transaction]:
        return [t for g in self.groups for t in g.transactions]


@dataclass
class X12File:
    """A file read and checked: its interchanges and, when not strict, the problems found."""

    interchanges: list[Interchange]
    problems: list[X12Error]

    @property
    def transactions(self) -> list[Transaction]:
        return [t for i in self.interchanges for t in i.transactions]


def _count(segment: Segment, i: int) -> int | None:
    value = segment.element(i).strip()
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


def _control_numbers_differ(a: str, b: str) -> bool:
    """Control numbers are compared as numbers when both are numeric (GS06 1 = GE02 000001)."""
    a, b = a.strip(), b.strip()
    if a.isascii() and b.isascii() and a.isdigit() and b.isdigit():
        return a.lstrip("0") != b.lstrip("0")
    return a != b


@collector_paused
def read(data: str | bytes, *, strict: bool = True) -> X12File:
    """Tokenize and check the envelope: ISA/IEA, GS/GE and ST/SE nesting, counts and control
    numbers. ``strict`` raises the first problem as X12Error; otherwise problems are collected in
    ``X12File.problems`` and the structure is recovered as well as possible."""
    text = _as_text(data)
    seps, _ = read_separators(text)
    problems: list[X12Error] = []

    def problem(message: str, seg: Segment | None) -> None:
        err = X12Error(message, seg.position if seg else None, seg.id if seg else None)
        if strict:
            raise err
        problems.append(err)

    interchanges: list[Interchange] = []
    isa: Interchange | None = None
    group: FunctionalGroup | None = None
    txn: Transaction | None = None
    last: Segment | None = None

    def close_transaction(at: Segment) -> None:
        nonlocal txn
        if txn is not None:
            problem(
                f"The file is truncated or out of order: transaction set {txn.control_number} "
                f"(ST at segment {txn.st.position}) has no SE segment before {at.id} at "
                f"segment {at.position}.",
                txn.st,
            )
            txn = None

    def close_group(at: Segment) -> None:
        nonlocal group
        if group is not None:
            problem(
                f"The file is truncated or out of order: functional group {group.control_number} "
                f"(GS at segment {group.gs.position}) has no GE segment before {at.id} at "
                f"segment {at.position}.",
                group.gs,
            )
            group = None

    for seg in segments_of(text):
        last = seg
        sid = seg.id
        if sid not in ENVELOPE_IDS:
            if txn is None:
                problem(
                    f"Segment {sid} at segment {seg.position} is outside a transaction set "
                    "(not between ST and SE).",
                    seg,
                )
                continue
            txn.segments.append(seg)
        elif sid == "ISA":
            close_transaction(seg)
            close_group(seg)
            if isa is not None:
                problem(
                    f"The file is truncated or out of order: interchange {isa.control_number} "
                    f"(ISA at segment {isa.isa.position}) has no IEA segment before the next ISA "
                    f"at segment {seg.position}.",
                    isa.isa,
                )
            if len(seg.fields) != 17:
                problem(
                    f"The ISA segment must have 16 elements, it has {len(seg.fields) - 1}.", seg
                )
            isa = Interchange(seg, None, seps)
            interchanges.append(isa)
        elif sid == "GS":
            close_transaction(seg)
            close_group(seg)
            if isa is None:
                problem(f"GS at segment {seg.position} is outside an ISA/IEA interchange.", seg)
                isa = Interchange(seg, None, seps)
                interchanges.append(isa)
            group = FunctionalGroup(seg, None)
            isa.groups.append(group)
        elif sid == "ST":
            close_transaction(seg)
            if group is None:
                problem(f"ST at segment {seg.position} is outside a GS/GE functional group.", seg)
                group = FunctionalGroup(seg, None)
                if isa is None:
                    isa = Interchange(seg, None, seps)
                    interchanges.append(isa)
                isa.groups.append(group)
            txn = Transaction(
                seg,
                None,
                [seg],
                interchange_control_number=(
                    isa.control_number if isa is not None and isa.isa.id == "ISA" else ""
                ),
                group_control_number=group.control_number if group.gs.id == "GS" else "",
            )
            group.transactions.append(txn)
        elif sid == "SE":
            if txn is None:
                problem(f"SE at segment {seg.position} closes no transaction set (no ST).", seg)
                continue
            txn.segments.append(seg)
            txn.se = seg
            declared = _count(seg, 1)
            actual = len(txn.segments)
            if declared is None:
                problem(f"SE01 must be the number of segments, found {seg.element(1)!r}.", seg)
            elif declared != actual:
                problem(
                    f"Wrong segment count in transaction set {txn.control_number}: SE01 says "
                    f"{declared} segments but the set has {actual} (ST through SE).",
                    seg,
                )
            if seg.element(2) != txn.control_number:
                problem(
                    "Transaction set control numbers do not match: ST02 is "
                    f"{txn.control_number!r} but SE02 is {seg.element(2)!r}.",
                    seg,
                )
            txn = None
        elif sid == "GE":
            close_transaction(seg)
            if group is None:
                problem(f"GE at segment {seg.position} closes no functional group (no GS).", seg)
                continue
            group.ge = seg
            declared = _count(seg, 1)
            actual = len(group.transactions)
            if declared is None:
                problem(
                    f"GE01 must be the number of transaction sets, found {seg.element(1)!r}.", seg
                )
            elif declared != actual:
                problem(
                    f"Wrong transaction set count in functional group {group.control_number}: "
                    f"GE01 says {declared} but the group has {actual}.",
                    seg,
                )
            if _control_numbers_differ(seg.element(2), group.control_number):
                problem(
                    "Functional group control numbers do not match: GS06 is "
                    f"{group.control_number!r} but GE02 is {seg.element(2)!r}.",
                    seg,
                )
            group = None
        elif sid == "IEA":
            close_transaction(seg)
            close_group(seg)
            if isa is None:
                problem(f"IEA at segment {seg.position} closes no interchange (no ISA).", seg)
                continue
            isa.iea = seg
            declared = _count(seg, 1)
            actual = len(isa.groups)
            if declared is None:
                problem(
                    f"IEA01 must be the number of functional groups, found {seg.element(1)!r}.",
                    seg,
                )
            elif declared != actual:
                problem(
                    f"Wrong functional group count in interchange {isa.control_number}: IEA01 "
                    f"says {declared} but the interchange has {actual}.",
                    seg,
                )
            if seg.element(2) != isa.control_number:
                problem(
                    "Interchange control numbers do not match: ISA13 is "
                    f"{isa.control_number!r} but IEA02 is {seg.element(2)!r}.",
                    seg,
                )
            isa = None

    if txn is not None:
        problem(
            f"The file is truncated: transaction set {txn.control_number} (ST at segment "
            f"{txn.st.position}) is never closed by an SE segment.",
            txn.st,
        )
    if group is not None:
        problem(
            f"The file is truncated: functional group {group.control_number} (GS at segment "
            f"{group.gs.position}) is never closed by a GE segment.",
            group.gs,
        )
    if isa is not None:
        problem(
            f"The file is truncated: interchange {isa.control_number} (ISA at segment "
            f"{isa.isa.position}) is never closed by an IEA segment.",
            isa.isa if last is None else last,
        )
    return X12File(interchanges, problems)


def transactions_of(
    data: str | bytes, transaction_id: str, *, strict: bool = True
) -> tuple[list[Transaction], list[X12Error]]:
    """The transaction sets with ST01 = ``transaction_id`` and the envelope problems found.

    A file holding no such transaction set is an error even when not strict: feeding a 277CA to
    the 835 reader must say so rather than return nothing.
    """
    x12 = read(data, strict=strict)
    found = [t for t in x12.transactions if t.id == transaction_id]
    if not found:
        kinds = sorted({t.id for t in x12.transactions}) or ["none"]
        raise X12Error(
            f"This file holds no {transaction_id} transaction set (found: {', '.join(kinds)})."
        )
    return found, x12.problems
