"""A small, deterministic X12 segment builder and interchange envelope.

A segment is built from an id and elements; an element is a string, a number, None (empty), a
tuple (a composite, joined with the component separator) or a list (repeats, joined with the
repetition separator). Trailing empty elements and components are dropped, as X12 requires.
No element may contain a separator character: that raises X12Error naming the element, because
a stray "*" or "~" in a patient's name would silently shift every following element.

``Envelope.render`` wraps transaction set bodies in ISA/GS/ST...SE/GE/IEA with the counts and
control numbers filled in (ISA13 is nine zero-padded digits, ISA06/ISA08 are padded to 15).
The output depends only on the inputs: the creation time is a parameter, never the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .reader import Separators, X12Error

Element = str | int | Decimal | None | tuple | list
SegmentSpec = Sequence[Element]


def format_amount(value: Decimal | int) -> str:
    """X12 decimal (R) format: no exponent, no trailing zeros, cents at most ("79.04", "100")."""
    quantized = Decimal(value).quantize(Decimal("0.01"))
    text = format(quantized, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _scalar(value: str | int | Decimal | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value)
    return str(value)


class SegmentWriter:
    """Builds segment strings with the given separators; ``newline`` adds "\\n" after each."""

    def __init__(self, separators: Separators | None = None, *, newline: bool = False) -> None:
        self.separators = separators or Separators()
        seps = self.separators
        chars = [seps.element, seps.component, seps.repetition, seps.segment]
        if any(len(c) != 1 for c in chars) or len(set(chars)) != 4:
            raise X12Error(f"Separators must be four different single characters, got {chars!r}.")
        if any(c.isalnum() or c == " " for c in chars):
            raise X12Error(f"Separators cannot be letters, digits or spaces, got {chars!r}.")
        self.forbidden = frozenset(chars) | {"\r", "\n"}
        self.newline = newline

    def _check(self, value: str, segment_id: str, index: int, component: int | None) -> str:
        if self.forbidden.isdisjoint(value):
            return value
        bad = next(c for c in value if c in self.forbidden)
        where = f"{segment_id}{index:02d}" + (f"-{component}" if component else "")
        raise X12Error(
            f"{where} contains {bad!r}, which is an X12 separator (or a line break) in this "
            f"file: {value!r}. Remove it from the data before sending.",
            None,
            segment_id,
        )

    def _element(self, value: Element, segment_id: str, index: int) -> str:
        if isinstance(value, tuple):
            parts = [self._check(_scalar(v), segment_id, index, n) for n, v in enumerate(value, 1)]
            while parts and not parts[-1]:
                parts.pop()
            return self.separators.component.join(parts)
        if isinstance(value, list):
            return self.separators.repetition.join(
                self._element(v, segment_id, index) for v in value
            )
        return self._check(_scalar(value), segment_id, index, None)

    def segment(self, segment_id: str, *elements: Element) -> str:
        """One segment. The fast path formats the scalars and composites in one loop and checks
        every value for separators at once (one set operation per segment, not per element);
        a segment with repeats, or one whose values hold a separator, goes through the
        element-by-element path, which names the element at fault."""
        values: list[str] = []
        checked: list[str] = []  # every value and component, to check for separators at once
        component = self.separators.component
        for value in elements:
            cls = value.__class__
            if cls is str:
                values.append(value)  # type: ignore[arg-type]
            elif value is None:
                values.append("")
            elif cls is tuple:
                parts = [v if v.__class__ is str else _scalar(v) for v in value]  # type: ignore[union-attr]
                checked += parts
                while parts and not parts[-1]:
                    parts.pop()
                values.append(component.join(parts))
                continue
            elif cls is list:
                return self._segment_by_element(segment_id, elements)
            else:
                values.append(_scalar(value))  # type: ignore[arg-type]
            checked.append(values[-1])
        if not self.forbidden.isdisjoint("".join(checked)):
            return self._segment_by_element(segment_id, elements)
        while values and not values[-1]:
            values.pop()
        text = self.separators.element.join([segment_id, *values]) + self.separators.segment
        return text + "\n" if self.newline else text

    def _segment_by_element(self, segment_id: str, elements: Sequence[Element]) -> str:
        values = [self._element(v, segment_id, i) for i, v in enumerate(elements, 1)]
        while values and not values[-1]:
            values.pop()
        text = self.separators.element.join([segment_id, *values]) + self.separators.segment
        return text + "\n" if self.newline else text

    def segments(self, specs: Iterable[SegmentSpec]) -> str:
        return "".join(self.segment(str(spec[0]), *spec[1:]) for spec in specs)


@dataclass(frozen=True)
class TransactionSet:
    """A transaction set body: the segments between ST and SE (the envelope adds those)."""

    transaction_set_id: str
    segments: Sequence[SegmentSpec]
    implementation_reference: str = ""


def _fixed(value: str, width: int, name: str) -> str:
    if len(value) > width:
        raise X12Error(f"{name} must be at most {width} characters, got {value!r}.", None, "ISA")
    return value.ljust(width)


@dataclass(frozen=True)
class Envelope:
    """ISA/GS values. Control numbers are integers; the caller keeps them unique and rising."""

    sender_id: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    created: datetime
    functional_id: str = "HC"
    version: str = "005010X222A1"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender: str = ""
    application_receiver: str = ""
    usage: str = "P"  # P production, T test (ISA15)
    acknowledgment_requested: str = "0"  # ISA14: 1 asks for a TA1
    transaction_control_number: int = 1  # ST02 of the first set; the next sets count up

    def isa(self, writer: SegmentWriter) -> str:
        seps = writer.separators
        if not 0 < self.interchange_control_number <= 999_999_999:
            raise X12Error(
                "The interchange control number (ISA13) must be 1 to 999999999, got "
                f"{self.interchange_control_number}.",
                None,
                "ISA",
            )
        fields = [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            _fixed(self.sender_qualifier, 2, "ISA05"),
            _fixed(self.sender_id, 15, "ISA06 (sender id)"),
            _fixed(self.receiver_qualifier, 2, "ISA07"),
            _fixed(self.receiver_id, 15, "ISA08 (receiver id)"),
            self.created.strftime("%y%m%d"),
            self.created.strftime("%H%M"),
            seps.repetition,
            "00501",
            f"{self.interchange_control_number:09d}",
            _fixed(self.acknowledgment_requested, 1, "ISA14"),
            _fixed(self.usage, 1, "ISA15"),
            seps.component,
        ]
        for i, value in enumerate(fields[1:16], start=1):
            if i != 11:
                writer._check(value, "ISA", i, None)
        text = seps.element.join(fields) + seps.segment
        return text + "\n" if writer.newline else text

    def render(
        self, transaction_sets: Sequence[TransactionSet], writer: SegmentWriter | None = None
    ) -> str:
        writer = writer or SegmentWriter()
        if not 0 < self.group_control_number <= 999_999_999:
            raise X12Error(
                "The group control number (GS06) must be 1 to 999999999, got "
                f"{self.group_control_number}.",
                None,
                "GS",
            )
        out = [self.isa(writer)]
        out.append(
            writer.segment(
                "GS",
                self.functional_id,
                self.application_sender or self.sender_id,
                self.application_receiver or self.receiver_id,
                self.created.strftime("%Y%m%d"),
                self.created.strftime("%H%M"),
                self.group_control_number,
                "X",
                self.version,
            )
        )
        if not 0 < self.transaction_control_number <= 999_999_999 - len(transaction_sets):
            raise X12Error(
                "The transaction set control number (ST02) must be 1 to 999999999, got "
                f"{self.transaction_control_number}.",
                None,
                "ST",
            )
        for number, ts in enumerate(transaction_sets, start=self.transaction_control_number):
            control = f"{number:04d}"
            out.append(
                writer.segment(
                    "ST", ts.transaction_set_id, control, ts.implementation_reference or None
                )
            )
            out.extend(writer.segment(str(spec[0]), *spec[1:]) for spec in ts.segments)
            out.append(writer.segment("SE", len(ts.segments) + 2, control))
        out.append(writer.segment("GE", len(transaction_sets), self.group_control_number))
        out.append(writer.segment("IEA", 1, f"{self.interchange_control_number:09d}"))
        return "".join(out)
