from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.x12.claims_837i import CASES, ENVELOPE_NUMBERS, envelope, with_claim
from tests.x12.pyx12_check import pyx12_errors
from x12.institutional import check_837i, render_837i
from x12.reader import X12Error, read
from x12.writer import SegmentWriter

GOLDEN = Path(__file__).resolve().parent / "golden"


def render(name: str) -> str:
    return render_837i(CASES[name], envelope(ENVELOPE_NUMBERS[name]), SegmentWriter(newline=True))


def test_a_residential_stay_carries_type_of_bill_statement_admission_and_day_units():
    segments = [line.rstrip("~") for line in render("residential_stay_1001").splitlines()]
    assert "CLM*PCN2001*5600***86:A:1**A*Y*Y" in segments
    assert "DTP*434*RD8*20260201-20260207" in segments and "DTP*435*D8*20260120" in segments
    assert "CL1*3*1*30" in segments and "HI*ABJ:F1020" in segments
    assert "SV2*1001*HC:H0019*5600*DA*7" in segments
    assert "DTP*472*RD8*20260201-20260207" in segments and "REF*6R*L2001-1" in segments
    assert "NM1*71*1*OKAFOR*ADA****XX*1543219871" in segments
    assert "NM1*77*2*RIVERBEND RESIDENTIAL*****XX*1124356787" in segments


def test_iop_days_carry_the_condition_code_and_a_line_per_day():
    segments = [line.rstrip("~") for line in render("iop_per_diem_days_0905").splitlines()]
    assert "HI*BG:92" in segments and "CLM*PCN2002*1350***13:A:1**A*Y*Y" in segments
    assert segments.count("SV2*0905*HC:S9480*450*UN*1") == 3
    assert [s for s in segments if s.startswith("REF*6R")] == [
        "REF*6R*L2002-1", "REF*6R*L2002-2", "REF*6R*L2002-3",
    ]  # fmt: skip
    assert "NM1*82*1*NGUYEN*LINH****XX*1987654328" in segments


@pytest.mark.parametrize("name", list(CASES))
def test_each_institutional_claim_kind_passes_pyx12_with_zero_errors(name):
    text = render(name)
    assert read(text).problems == []
    valid, errors = pyx12_errors(text)
    assert errors == []
    assert valid


def test_pyx12_flags_a_broken_837i_so_the_validation_above_means_something():
    lines = render("residential_stay_1001").splitlines(keepends=True)
    broken = "".join(line for line in lines if not line.startswith("DTP*434"))
    valid, errors = pyx12_errors(broken)
    assert not valid and errors


def test_the_checks_refuse_a_wrong_total_a_bad_type_of_bill_and_lines_outside_the_stay():
    batch = CASES["residential_stay_1001"]
    assert check_837i(batch) == []
    messages = [p.message for p in check_837i(with_claim(batch, total_charge=Decimal("1")))]
    assert any("is not the sum of its lines (5600.00)" in m for m in messages)
    messages = [p.message for p in check_837i(with_claim(batch, type_of_bill="86"))]
    assert any("must be three digits" in m for m in messages)
    messages = [p.message for p in check_837i(with_claim(batch, statement_to=date(2026, 2, 5)))]
    assert any("outside the statement period" in m for m in messages)
    messages = [p.message for p in check_837i(with_claim(batch, diagnoses=("F10",)))]
    assert any("is a category, not a billable code" in m for m in messages)
    replacement = with_claim(batch, type_of_bill="0867")
    assert any("REF*F8" in p.message for p in check_837i(replacement))
    with pytest.raises(X12Error, match="was not written"):
        render_837i(replacement, envelope(1))


def test_a_replacement_carries_frequency_7_and_the_payer_claim_number():
    batch = with_claim(
        CASES["residential_stay_1001"], type_of_bill="0867", original_claim_number="PAYER77"
    )
    text = render_837i(batch, envelope(7))
    assert "CLM*PCN2001*5600***86:A:7**A*Y*Y~" in text and "REF*F8*PAYER77~" in text
    assert pyx12_errors(text) == (True, [])


@pytest.mark.parametrize("name", list(CASES))
def test_institutional_golden_files_are_regenerated_byte_identically(name):
    path = GOLDEN / f"{name}.x12"
    rendered = render(name).encode("ascii")
    if os.environ.get("X12_GOLDEN_UPDATE") == "1":
        path.write_bytes(rendered)
    assert path.is_file(), f"{path} is missing: run with X12_GOLDEN_UPDATE=1 once"
    assert path.read_bytes() == rendered
