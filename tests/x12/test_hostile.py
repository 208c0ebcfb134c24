"""The failures X12 fuzzing measured, one test each: every one is now an X12Error naming the
segment (id and position), the element and the reason, or a file read correctly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.x12.mutations import split
from tests.x12.samples import sample
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999
from x12.reader import X12Error, read
from x12.remit835 import check_balance, parse_835
from x12.values import MONEY, QUANTITY, read_decimal, to_int

SAMPLE_835 = "835/badx12_X221-multiple-claims-single-check.edi"
SAMPLE_277CA = "277ca/ims_x12_277CA_accepted.txt"
SAMPLE_277 = "277/lfh_claim-level-status.277"


def replaced(relative: str, segment_id: str, element: int, value: str, occurrence: int = 0) -> str:
    """The sample with element ``element`` of the ``occurrence``-th ``segment_id`` set."""
    parts = split(sample(relative).decode("latin-1"))
    found = [s for s in parts.segments if s[0] == segment_id]
    seg = found[occurrence]
    while len(seg) <= element:
        seg.append("")
    seg[element] = value
    return parts.join()


def position_of(text: str, segment_id: str, occurrence: int = 0) -> int:
    """The 1-based segment number (ISA is 1) of a segment, as X12Error reports it."""
    positions = [
        s.position for t in read(text, strict=False).transactions for s in t.segments
        if s.id == segment_id
    ]  # fmt: skip
    return positions[occurrence]


@pytest.mark.parametrize(
    ("segment_id", "element", "what"),
    [
        ("CLP", 4, "claim paid"),
        ("CLP", 3, "claim charge"),
        ("SVC", 3, "line paid"),
        ("CAS", 3, "adjustment amount"),
        ("BPR", 2, "payment amount"),
    ],
)
def test_snan_in_835_money_is_an_x12_error_not_invalid_operation(segment_id, element, what):
    text = replaced(SAMPLE_835, segment_id, element, "sNaN")
    with pytest.raises(X12Error) as caught:
        check_balance(parse_835(text).remittances[0])
    error = caught.value
    assert error.segment_id == segment_id
    assert error.segment_position == position_of(text, segment_id)
    assert f"{segment_id}{element:02d} ({what})" in error.message
    assert "'sNaN'" in error.message and "not a number" in error.message
    assert str(error).endswith(f"(segment {error.segment_position}, {segment_id})")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1E+400", "12.5", "9" * 5000])
def test_nan_and_infinity_in_a_277ca_quantity_are_x12_errors(value):
    text = replaced(SAMPLE_277CA, "QTY", 2, value)
    with pytest.raises(X12Error) as caught:
        parse_277ca(text)
    assert caught.value.segment_id == "QTY"
    assert caught.value.message.startswith("QTY02 (quantity) at segment ")


def test_an_empty_svc01_is_read_in_a_277_and_an_835():
    ack = parse_277ca(replaced(SAMPLE_277, "SVC", 1, ""), strict=False)
    line = next(c for c in ack.claims if c.lines).lines[0]
    assert (line.procedure_qualifier, line.procedure_code, line.modifiers) == ("", "", [])
    remit = parse_835(replaced(SAMPLE_835, "SVC", 1, "")).remittances[0]
    first = remit.claims[0].lines[0]
    assert (first.procedure_qualifier, first.procedure_code) == ("", "")
    check_balance(remit)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Infinity", "not a number"),
        ("1E+400", "has an exponent"),
        ("1e5", "has an exponent"),
        ("99999999", "too large: at most 7 digits before the decimal point"),
        ("1" * 16, "has 16 digits: an X12 quantity has at most 15"),
        ("1.234", "has 3 decimal places"),
    ],
)
def test_infinity_exponents_and_oversized_svc05_units_are_refused_when_read(value, reason):
    text = replaced(SAMPLE_835, "SVC", 5, value)
    with pytest.raises(X12Error) as caught:
        parse_835(text)
    assert caught.value.segment_id == "SVC"
    assert caught.value.message.startswith("SVC05 (units paid) at segment ")
    assert reason in caught.value.message


def test_amt_b6_nan_is_refused_not_stored():
    parts = split(sample(SAMPLE_835).decode("latin-1"))
    next(s for s in parts.segments if s[:2] == ["AMT", "B6"])[2] = "NaN"
    text = parts.join()
    assert "AMT*B6*NaN~" in text
    with pytest.raises(X12Error, match=r"^AMT02 \(amount\) at segment \d+ is 'NaN'"):
        parse_835(text)


def test_an_835_with_component_separator_gt_reads_the_same_as_with_colon():
    text = sample(SAMPLE_835).decode("latin-1")
    assert text[104] == ":" and ">" not in text
    other = text.replace(":", ">")
    assert other[104] == ">"
    a, b = parse_835(text), parse_835(other)
    assert repr(a.remittances) == repr(b.remittances)
    line = b.remittances[0].claims[0].lines[0]
    assert (line.procedure_qualifier, line.procedure_code) == ("AD", "D0120")
    assert check_balance(b.remittances[0]) == check_balance(a.remittances[0])


def test_every_separator_comes_from_the_isa():
    text = sample(SAMPLE_835).decode("latin-1")
    table = str.maketrans({"*": "|", ":": ">", "~": "!", "^": "{"})
    other = text.translate(table)
    assert other[3] == "|" and other[104] == ">" and other[105] == "!"
    assert repr(parse_835(other).remittances) == repr(parse_835(text).remittances)


def test_999_counts_that_are_not_ascii_digits_or_huge_read_as_unknown():
    text = sample("999/ims_x12_999_rejected.txt").decode("latin-1")
    parts = split(text)
    ak9 = next(s for s in parts.segments if s[0] == "AK9")
    ak9[2], ak9[3] = "\xb2", "9" * 5000
    ack = parse_999(parts.join()).acknowledgments[0]
    assert ack.transaction_sets_included is None and ack.transaction_sets_received is None
    se = next(s for s in parts.segments if s[0] == "SE")
    se[1] = "\xb2"
    with pytest.raises(X12Error, match="SE01 must be the number of segments"):
        parse_999(parts.join())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "0"), ("-12.5", "-12.5"), (".5", "0.5"), ("12.", "12"), ("0000000000012.50", "12.50"),
     ("9999999999.99", "9999999999.99"), ("12.500", "12.500")],
)  # fmt: skip
def test_valid_r_values_are_read(value, expected):
    assert read_decimal(value, MONEY) == Decimal(expected)


@pytest.mark.parametrize(
    "value",
    ["NaN", "sNaN", "-sNaN", "Infinity", "inf", "1E+400", "1e2", "+12", " 12", "12 ", "1_000",
     "\u0661\u0662", "\xb2", "-", ".", "-.", "1.2.3", "10000000000", "12.345", "9" * 19, ""],
)  # fmt: skip
def test_invalid_r_values_are_refused(value):
    with pytest.raises(ValueError, match=r"^which "):
        read_decimal(value, MONEY)


def test_quantity_and_count_limits():
    assert read_decimal("9999999.99", QUANTITY) == Decimal("9999999.99")
    with pytest.raises(ValueError):
        read_decimal("10000000", QUANTITY)
    assert to_int("\xb2") is None and to_int("9" * 5000) is None and to_int("0042") == 42
