from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.x12.claims_837p import BILLING, CASES, ENVELOPE_NUMBERS, envelope, with_claim
from tests.x12.pyx12_check import pyx12_errors
from x12.professional import (
    Address,
    check_837p,
    diagnosis_problem,
    npi_is_valid,
    render_837p,
)
from x12.reader import Separators, X12Error, read
from x12.writer import Envelope, SegmentWriter, TransactionSet, format_amount

GOLDEN = Path(__file__).resolve().parent / "golden"


def render(name: str) -> str:
    return render_837p(CASES[name], envelope(ENVELOPE_NUMBERS[name]), SegmentWriter(newline=True))


# Segment builder


def test_it_joins_composites_and_repeats_and_drops_trailing_empty_elements():
    writer = SegmentWriter()
    assert writer.segment("SV1", ("HC", "90834", "95", None), Decimal("150.00"), "UN", 1, None,
                          None, (1, 2)) == "SV1*HC:90834:95*150*UN*1***1:2~"  # fmt: skip
    assert writer.segment("NM1", "87", "2", None, None) == "NM1*87*2~"
    assert writer.segment("HI", [("ABK", "F329"), ("ABF", "F411")]) == "HI*ABK:F329^ABF:F411~"


def test_amounts_are_written_without_trailing_zeros():
    assert [format_amount(Decimal(v)) for v in ("150.00", "79.04", "95.50", "0", "-9.00")] == [
        "150", "79.04", "95.5", "0", "-9",
    ]  # fmt: skip


def test_separators_and_a_newline_after_each_segment_are_configurable():
    writer = SegmentWriter(Separators("|", ">", "!", "\\"), newline=True)
    assert writer.segment("SV1", ("HC", "90837"), 200) == "SV1|HC>90837|200\\\n"


def test_an_element_containing_a_separator_is_refused_with_its_name():
    writer = SegmentWriter()
    with pytest.raises(X12Error) as caught:
        writer.segment("NM1", "IL", "1", "O*BRIEN", "PAT")
    assert caught.value.message.startswith("NM103 contains '*', which is an X12 separator")
    with pytest.raises(X12Error, match="SV101-2 contains ':'"):
        writer.segment("SV1", ("HC", "908:34"))
    with pytest.raises(X12Error, match="N301 contains '~'"):
        writer.segment("N3", "12 ELM~AVE")
    with pytest.raises(X12Error, match="N301 contains '\\\\n'"):
        writer.segment("N3", "12 ELM\nAVE")


def test_separators_must_be_distinct_single_characters():
    with pytest.raises(X12Error, match="four different single characters"):
        SegmentWriter(Separators("*", "*", "^", "~"))
    with pytest.raises(X12Error, match="cannot be letters"):
        SegmentWriter(Separators("*", ":", "A", "~"))


# Envelope

CREATED = datetime(2026, 3, 2, 9, 5)  # noqa: DTZ001 - X12 dates carry no zone


def _envelope(**changes) -> Envelope:
    base = Envelope("RB12345", "CLHSE01", 42, 7, CREATED, functional_id="HP",
                    version="005010X221A1")  # fmt: skip
    return replace(base, **changes)


def test_the_envelope_pads_isa_fields_and_counts_segments_and_sets():
    body = [("BPR", "I", 0, "C", "NON"), ("TRN", "1", "T1", "1999999999")]
    text = _envelope().render([TransactionSet("835", body), TransactionSet("835", body)])
    isa = text[: text.index("~") + 1]
    assert len(isa) == 106
    assert isa == (
        "ISA*00*          *00*          *ZZ*RB12345        *ZZ*CLHSE01        *260302*0905*^"
        "*00501*000000042*0*P*:~"
    )
    assert text[106:].split("~")[:-1] == [
        "GS*HP*RB12345*CLHSE01*20260302*0905*7*X*005010X221A1",
        "ST*835*0001", "BPR*I*0*C*NON", "TRN*1*T1*1999999999", "SE*4*0001",
        "ST*835*0002", "BPR*I*0*C*NON", "TRN*1*T1*1999999999", "SE*4*0002",
        "GE*2*7",
        "IEA*1*000000042",
    ]  # fmt: skip
    assert read(text).problems == []


def test_the_envelope_refuses_ids_and_control_numbers_that_do_not_fit():
    with pytest.raises(X12Error, match="ISA06 \\(sender id\\) must be at most 15 characters"):
        _envelope(sender_id="A" * 16).render([])
    with pytest.raises(X12Error, match="ISA13\\) must be 1 to 999999999"):
        _envelope(interchange_control_number=1_000_000_000).render([])
    with pytest.raises(X12Error, match="GS06\\) must be 1 to 999999999"):
        _envelope(group_control_number=0).render([])


def test_the_envelope_honours_custom_separators_and_reads_back():
    writer = SegmentWriter(Separators("|", ">", "!", "\\"), newline=True)
    text = _envelope().render([TransactionSet("835", [("SVC", ("HC", "90834"), 1)])], writer)
    assert text.splitlines()[0][-3:] == "|>\\"
    (txn,) = read(text).transactions
    assert txn.body[0].component(1, 2) == "90834"


# 837P pre-write checks


def test_the_npi_check_digit_is_verified_with_the_80840_prefix():
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789") and not npi_is_valid("12345678AB")


def test_icd10_codes_must_exist_and_be_billable():
    assert diagnosis_problem("F32.1") is None and diagnosis_problem("F4310") is None
    assert (
        diagnosis_problem("F32")
        == "'F32' is a category, not a billable code: use one of its more specific codes."
    )
    assert diagnosis_problem("XYZ.9") == "'XYZ.9' is not an ICD-10-CM code."


def test_a_clean_batch_has_no_problems():
    for batch in CASES.values():
        assert check_837p(batch) == []


def test_the_claim_total_must_be_the_sum_of_the_lines():
    batch = with_claim(CASES["psychotherapy_90834"], total_charge=Decimal("140.00"))
    (problem,) = check_837p(batch)
    assert problem.field == "claim PCN1001.total_charge"
    assert problem.message == "Claim PCN1001 total 140.00 is not the sum of its lines (150.00)."
    with pytest.raises(X12Error, match="The claim file was not written: Claim PCN1001 total"):
        render_837p(batch, envelope(1))


def test_a_po_box_billing_address_and_a_bad_npi_are_refused():
    billing = replace(
        BILLING, npi="1234567890", address=Address("P.O. Box 12", "PORTLAND", "OR", "97204")
    )
    batch = replace(CASES["psychotherapy_90834"], billing_provider=billing)
    assert [p.field for p in check_837p(batch)] == [
        "billing_provider.npi",
        "billing_provider.address",
    ]


def test_replacement_and_void_claims_need_the_payer_claim_number():
    batch = with_claim(CASES["replacement_frequency_7"], original_claim_number="")
    (problem,) = check_837p(batch)
    assert problem.message == (
        "Claim PCN1001 is a replacement: it needs the payer's original claim number (REF*F8)."
    )
    assert [p.field for p in check_837p(with_claim(batch, frequency_code="3"))] == [
        "claim PCN1001.frequency_code"
    ]


def test_diagnosis_codes_and_pointers_are_checked():
    batch = with_claim(CASES["psychotherapy_90834"], diagnoses=("F32", "F41.1"))
    assert [p.message for p in check_837p(batch)] == [
        "Claim PCN1001: 'F32' is a category, not a billable code: use one of its more specific codes."
    ]
    lines = [
        replace(
            CASES["psychotherapy_90834"].submissions[0].claim.lines[0], diagnosis_pointers=(1, 3)
        )
    ]
    (problem,) = check_837p(with_claim(CASES["psychotherapy_90834"], lines=lines))
    assert problem.field == "claim PCN1001.lines[1].diagnosis_pointers"
    too_many = with_claim(CASES["psychotherapy_90834"], diagnoses=("F32.1",) * 13)
    assert "at most 12" in check_837p(too_many)[0].message


# 837P rendering


def test_the_837p_carries_the_bh_specific_segments():
    text = render("em_99214_addon_90833")
    segments = [line.rstrip("~") for line in text.splitlines()]
    assert "CLM*PCN1004*275.5***11:B:1*Y*A*Y*Y" in segments
    assert "HI*ABK:F3181*ABF:F411" in segments
    assert "NM1*82*1*OKAFOR*ADA****XX*1543219871" in segments
    assert "SV1*HC:99214*180*UN*1***1:2" in segments
    assert "SV1*HC:90833*95.5*UN*1***1" in segments
    assert "REF*6R*L1004-2" in segments and "DTP*472*D8*20260224" in segments
    telehealth = render("telehealth_95_pos10").splitlines()
    assert "CLM*PCN1002*200***10:B:1*Y*A*Y*Y~" in telehealth
    assert "SV1*HC:90837:95*200*UN*1***1~" in telehealth
    void = render("void_frequency_8").splitlines()
    assert "CLM*PCN1002*200***10:B:8*Y*A*Y*Y~" in void and "REF*F8*PAYER20260002~" in void
    replacement = render("replacement_frequency_7").splitlines()
    assert "REF*F8*PAYER20260001~" in replacement and "REF*G1*PA77881~" in replacement
    assert "NM1*DQ*1*HALE*JORDAN****XX*1678901236~" in render("supervising_provider_2310d")
    crisis = render("crisis_90839_90840x2").splitlines()
    assert "SV1*HC:90840*280*UN*2***1~" in crisis and "PAT*19~" in crisis


@pytest.mark.parametrize("name", list(CASES))
def test_each_claim_kind_passes_pyx12_validation_with_zero_errors(name):
    text = render(name)
    assert read(text).problems == []
    valid, errors = pyx12_errors(text)
    assert errors == []
    assert valid


def test_pyx12_does_flag_a_broken_837p_so_the_validation_above_means_something():
    lines = render("psychotherapy_90834").splitlines(keepends=True)
    broken = "".join(line for line in lines if not line.startswith("NM1*PR"))
    valid, errors = pyx12_errors(broken)
    assert not valid
    assert any("SE count of 28 for SE02=0001 is wrong. I count 27" in e for e in errors), errors
    assert any("2010BB" in e or "Payer Name" in e for e in errors), errors


@pytest.mark.parametrize("name", list(CASES))
def test_golden_files_are_regenerated_byte_identically(name):
    path = GOLDEN / f"{name}.x12"
    rendered = render(name).encode("ascii")
    if os.environ.get("X12_GOLDEN_UPDATE") == "1":
        path.write_bytes(rendered)
    assert path.is_file(), f"{path} is missing: run with X12_GOLDEN_UPDATE=1 once"
    assert path.read_bytes() == rendered
