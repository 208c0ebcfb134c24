"""Mutating the real X12 samples: what the fuzz runner (tests/x12/fuzz.py) and the property-based
tests (tests/x12/test_fuzz.py) feed the readers.

Every mutation takes a ``random.Random`` so a run is reproduced by its seed. The readers must
answer each mutated file with a parsed result or an ``X12Error``, never anything else, and every
amount and quantity they return must be a finite decimal the database columns can hold
(``check_result``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.x12.samples import SAMPLES
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999
from x12.claimstatus import parse_277
from x12.eligibility import parse_271
from x12.reader import X12Error, read, read_separators
from x12.remit835 import check_balance, parse_835
from x12.values import MONEY, QUANTITY

# What the measured failures were made of, and their cousins.
JUNK = (
    "",
    "NaN",
    "nan",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1E+400",
    "1e5",
    "-1E-400",
    "9" * 19,
    "9" * 5000,
    "0" * 30 + "1",
    "99999999999.99",
    "12.345",
    "-",
    ".",
    "-.",
    "1.2.3",
    "+12",
    " 12",
    "12 ",
    "0x10",
    "\xb2",
    "\xb9\xb3",
    "\x00",
    "-0",
    "1_000",
    "١٢",
    "A7:562:85",
    "HC:99213:25",
    "::::",
    "X" * 300,
)

KINDS = {
    "835": ("835",),
    "999": ("999",),
    "277CA": ("277ca", "277"),
    "271": ("271", "271-handwritten"),
    "277": ("277",),
}
ALL_KINDS = tuple(KINDS)


def sample_texts(kinds: tuple[str, ...] = ALL_KINDS) -> list[tuple[str, str, str]]:
    """(kind, file name, text) of every sample of those kinds, in a stable order."""
    out = []
    for kind in kinds:
        for folder in KINDS[kind]:
            for path in sorted((SAMPLES / folder).iterdir()):
                if path.is_file() and path.suffix != ".md":
                    out.append((kind, path.name, path.read_bytes().decode("latin-1")))
    return out


@dataclasses.dataclass
class Parts:
    """A file cut into segments with its separators, to mutate and put back together."""

    prefix: str
    segments: list[list[str]]
    element: str
    component: str
    repetition: str
    terminator: str
    newline: str

    def join(self) -> str:
        end = self.terminator + self.newline
        return self.prefix + "".join(self.element.join(s) + end for s in self.segments)


def split(text: str) -> Parts:
    try:
        seps, start = read_separators(text)
        element, component, repetition, terminator = (
            seps.element,
            seps.component,
            seps.repetition,
            seps.segment,
        )
    except X12Error:
        start, element, component, repetition, terminator = 0, "*", ":", "^", "~"
    body = text[start:]
    newline = "\r\n" if terminator + "\r\n" in body else "\n" if terminator + "\n" in body else ""
    pieces = [p.strip("\r\n") for p in body.split(terminator)]
    segments = [p.split(element) for p in pieces if p]
    return Parts(text[:start], segments, element, component, repetition, terminator, newline)


def _pick_segment(rnd: random.Random, parts: Parts) -> int:
    """A segment index, most often one inside the transaction (where the data is)."""
    n = len(parts.segments)
    inside = [i for i, s in enumerate(parts.segments) if s[0] not in ("ISA", "GS", "GE", "IEA")]
    if inside and rnd.random() < 0.85:
        return rnd.choice(inside)
    return rnd.randrange(n)


def junk(rnd: random.Random) -> str:
    if rnd.random() < 0.8:
        return rnd.choice(JUNK)
    size = rnd.randint(1, 12)
    return "".join(chr(rnd.randint(32, 255)) for _ in range(size))


def delete_segment(rnd: random.Random, parts: Parts) -> None:
    del parts.segments[_pick_segment(rnd, parts)]


def duplicate_segment(rnd: random.Random, parts: Parts) -> None:
    i = _pick_segment(rnd, parts)
    parts.segments.insert(rnd.randrange(len(parts.segments) + 1), list(parts.segments[i]))


def swap_segments(rnd: random.Random, parts: Parts) -> None:
    i, j = _pick_segment(rnd, parts), _pick_segment(rnd, parts)
    parts.segments[i], parts.segments[j] = parts.segments[j], parts.segments[i]


def truncate_segments(rnd: random.Random, parts: Parts) -> None:
    del parts.segments[rnd.randrange(len(parts.segments)) :]


def truncate_segment(rnd: random.Random, parts: Parts) -> None:
    seg = parts.segments[_pick_segment(rnd, parts)]
    del seg[rnd.randint(1, max(1, len(seg))) :]


def replace_element(rnd: random.Random, parts: Parts) -> None:
    seg = parts.segments[_pick_segment(rnd, parts)]
    i = rnd.randint(1, max(1, len(seg)))
    while len(seg) <= i:
        seg.append("")
    seg[i] = junk(rnd)


def replace_component(rnd: random.Random, parts: Parts) -> None:
    seg = parts.segments[_pick_segment(rnd, parts)]
    i = rnd.randrange(len(seg))
    pieces = seg[i].split(parts.component) if parts.component else [seg[i]]
    pieces[rnd.randrange(len(pieces))] = junk(rnd)
    seg[i] = parts.component.join(pieces)


def replace_numbers(rnd: random.Random, parts: Parts) -> None:
    """Every numeric-looking element of one segment becomes junk (sNaN in CLP04...)."""
    seg = parts.segments[_pick_segment(rnd, parts)]
    for i in range(1, len(seg)):
        if seg[i].replace(".", "", 1).lstrip("-").isdigit() and rnd.random() < 0.7:
            seg[i] = junk(rnd)


def insert_segment(rnd: random.Random, parts: Parts) -> None:
    ids = ["SVC", "CLP", "CAS", "AMT", "QTY", "STC", "IK3", "IK4", "AK9", "PLB", "HL", "SE", "ST"]
    seg = [rnd.choice(ids)] + [junk(rnd) for _ in range(rnd.randint(0, 8))]
    parts.segments.insert(rnd.randrange(len(parts.segments) + 1), seg)


SEPARATOR_CHOICES = "*|^~:>!+\\{}#&\x1d\x1e\x1f\n"


def change_separators(rnd: random.Random, parts: Parts) -> None:
    """A different element, component, repetition or terminator, used consistently."""
    used = {c for s in parts.segments for f in s for c in f}
    free = [c for c in SEPARATOR_CHOICES if c not in used]
    which = rnd.choice(["element", "component", "repetition", "terminator"])
    current = {
        parts.element,
        parts.component,
        parts.repetition,
        parts.terminator,
    }
    free = [c for c in free if c not in current]
    if not free:
        return
    new = rnd.choice(free)
    if which == "component" and parts.component:
        old = parts.component
        parts.segments = [[f.replace(old, new) for f in s] for s in parts.segments]
        parts.component = new
        _set_isa(parts, 16, new)
    elif which == "repetition" and parts.repetition:
        old = parts.repetition
        parts.segments = [[f.replace(old, new) for f in s] for s in parts.segments]
        parts.repetition = new
        _set_isa(parts, 11, new)
    elif which == "element":
        parts.element = new
    elif which == "terminator" and new != "\n":
        parts.terminator = new


def break_separators(rnd: random.Random, parts: Parts) -> None:
    """Separators used inconsistently: the ISA declares one thing, the file uses another."""
    choice = rnd.randrange(4)
    new = rnd.choice(SEPARATOR_CHOICES)
    if choice == 0:
        _set_isa(parts, 16, new)  # ISA16 says '>' but the composites use ':'
    elif choice == 1:
        _set_isa(parts, 11, new)
    else:
        text = parts.join()
        old = rnd.choice([parts.element, parts.component, parts.terminator])
        positions = [i for i, c in enumerate(text) if c == old]
        if positions:
            for i in rnd.sample(positions, min(len(positions), rnd.randint(1, 3))):
                text = text[:i] + new + text[i + 1 :]
        replaced = split(text)
        parts.prefix, parts.segments = replaced.prefix, replaced.segments
        parts.element, parts.component = replaced.element, replaced.component
        parts.repetition, parts.terminator = replaced.repetition, replaced.terminator
        parts.newline = replaced.newline


def _set_isa(parts: Parts, number: int, value: str) -> None:
    for seg in parts.segments:
        if seg[0] == "ISA" and len(seg) > number:
            seg[number] = value
            return


MUTATIONS: dict[str, Callable[[random.Random, Parts], None]] = {
    "delete_segment": delete_segment,
    "duplicate_segment": duplicate_segment,
    "swap_segments": swap_segments,
    "truncate_segments": truncate_segments,
    "truncate_segment": truncate_segment,
    "replace_element": replace_element,
    "replace_component": replace_component,
    "replace_numbers": replace_numbers,
    "insert_segment": insert_segment,
    "change_separators": change_separators,
    "break_separators": break_separators,
}


def mutate(rnd: random.Random, text: str, count: int | None = None) -> str:
    """``text`` with 1-3 random mutations; sometimes also cut at a random character."""
    parts = split(text)
    for _ in range(count or rnd.randint(1, 3)):
        if not parts.segments:
            break
        MUTATIONS[rnd.choice(sorted(MUTATIONS))](rnd, parts)
    out = parts.join()
    if rnd.random() < 0.05:
        out = out[: rnd.randrange(len(out) + 1)]
    return out


def check_result(result: Any) -> None:
    """Every Decimal in a parsed result is finite and fits the columns: an amount's 10 digits
    before the point and 2 after at most (quantities fit in that too)."""
    biggest = Decimal(10) ** MONEY.integer_digits
    cent = Decimal(1).scaleb(-max(MONEY.decimal_places, QUANTITY.decimal_places))
    for value in _walk(result):
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise AssertionError(f"non-finite decimal {value!r} in a parsed result")
            if abs(value) >= biggest or value != value.quantize(cent):
                raise AssertionError(f"decimal {value!r} does not fit a column")


def _walk(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    else:
        yield value


def _ask_every_question(parsed: Any) -> None:
    """The 271 summaries (deductible, copay, visits...) must answer on any file that reads."""
    for response in parsed.responses:
        _ = response.rejections, response.patient
        for member in response.members:
            for service_type in ("30", "MH", "A6"):
                check_result(
                    [
                        member.deductible(service_type),
                        member.out_of_pocket(service_type, in_network=False),
                        member.copay(service_type),
                        member.coinsurance(service_type),
                        member.visit_limit(service_type),
                    ]
                )
                member.authorization_required(service_type)
            _ = (member.active, member.coverage_begin, member.coverage_end, member.other_payers)
            _ = (member.plan_name, member.group_number, member.messages, member.trace_number)


def feed(kind: str, data: str | bytes) -> None:
    """Every reader that applies to ``kind``, strict and not; X12Error is the only way out."""
    for strict in (True, False):
        with contextlib.suppress(X12Error):
            read(data, strict=strict)
        try:
            if kind == "835":
                parsed835 = parse_835(data, strict=strict)
                for remittance in parsed835.remittances:
                    check_balance(remittance)
                check_result(parsed835)
            elif kind == "999":
                check_result(parse_999(data, strict=strict))
            elif kind == "271":
                parsed271 = parse_271(data, strict=strict)
                check_result(parsed271)
                _ask_every_question(parsed271)
            elif kind == "277":
                check_result(parse_277(data, strict=strict))
            else:
                check_result(parse_277ca(data, strict=strict))
        except X12Error as error:
            if not error.message:
                raise AssertionError("an X12Error without a message") from error
