from __future__ import annotations

import pytest

from tests.x12.samples import sample
from x12.reader import X12Error, read, read_separators, tokenize

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260302*0930*^*00501"
    "*000000042*0*T*:~"
)


def _file(
    body: str,
    *,
    se_count: int | None = None,
    st02: str = "0001",
    se02: str = "0001",
    ge01: str = "1",
    ge02: str = "7",
    iea01: str = "1",
    iea02: str = "000000042",
) -> str:
    segments = [s for s in body.split("~") if s]
    count = se_count if se_count is not None else len(segments) + 2
    return (
        ISA
        + "GS*HP*SENDER*RECEIVER*20260302*0930*7*X*005010X221A1~"
        + f"ST*835*{st02}~"
        + body
        + f"SE*{count}*{se02}~GE*{ge01}*{ge02}~IEA*{iea01}*{iea02}~"
    )


def test_it_reads_separators_from_the_isa_segment():
    text = sample("277ca/ims_x12_277CA_rejected.txt")
    seps, start = read_separators(text)
    assert (seps.element, seps.repetition, seps.component, seps.segment) == ("*", "^", "|", "~")
    assert start == 0


def test_it_yields_segments_with_positions_and_byte_offsets_tolerating_line_breaks():
    data = sample("999/ims_x12_999_rejected.txt")
    segments = list(tokenize(data))
    assert [s.id for s in segments] == [
        "ISA", "GS", "ST", "AK1", "AK2", "IK3", "IK5", "AK9", "SE", "GE", "IEA",
    ]  # fmt: skip
    gs = segments[1]
    # ISA is 106 characters with its "~", then a line break: GS starts at byte 107.
    assert gs.position == 2 and gs.offset == 107
    assert data[gs.offset : gs.offset + 3] == b"GS*"
    ik3 = segments[5]
    assert ik3.elements == ["NM", "17", "", "1"]
    assert ik3.element(2) == "17" and ik3.element(3) == "" and ik3.element(9) == ""
    assert data[ik3.offset : ik3.offset + 4] == b"IK3*"


def test_it_splits_composites_with_the_declared_component_separator():
    segments = list(tokenize(sample("277ca/ims_x12_277CA_rejected.txt")))
    stc = [s for s in segments if s.id == "STC"][1]
    assert stc.components(1) == ["A7", "562", "85"]
    assert stc.component(1, 2) == "562"
    assert stc.component(1, 4) == "" and stc.component(7, 1) == ""


def test_it_splits_repetitions_with_isa11():
    text = ISA + "GS*HC*A*B*20260302*0930*1*X*005010X222A1~ST*837*0001~HI*ABK:F329^ABF:F411~"
    hi = next(s for s in tokenize(text) if s.id == "HI")
    assert hi.repetitions(1) == ["ABK:F329", "ABF:F411"]


def test_it_refuses_a_file_without_an_isa_segment():
    with pytest.raises(X12Error, match="not an X12 file: it must start with an ISA segment"):
        read(sample("malformed/badx12_bad_file.edi"))
    with pytest.raises(X12Error, match="starts with 'GS\\*HC"):
        read(sample("837p/malformed/ims_x12_no_isa_line.txt"))


def test_it_names_the_isa_element_of_the_wrong_width():
    with pytest.raises(X12Error) as caught:
        read(sample("837p/malformed/ims_x12_bad_first_line.txt"))
    assert "ISA02 must be 10 characters wide, found 9" in caught.value.message
    assert caught.value.segment_position == 1 and caught.value.segment_id == "ISA"


def test_it_refuses_an_isa_cut_short():
    with pytest.raises(X12Error, match="cut short"):
        read(ISA[:60])


def test_it_reports_a_file_that_stops_after_the_isa_segment_as_truncated():
    with pytest.raises(X12Error, match=r"truncated.*never closed by an IEA"):
        read(sample("malformed/badx12_segment_terminator.edi"))


def test_it_reports_a_missing_se_ge_and_iea():
    text = ISA + "GS*HP*SENDER*RECEIVER*20260302*0930*7*X*005010X221A1~ST*835*0001~BPR*I*0*C*NON~"
    with pytest.raises(X12Error, match=r"transaction set 0001 .* never closed by an SE") as caught:
        read(text)
    assert caught.value.segment_id == "ST" and caught.value.segment_position == 3
    problems = read(text, strict=False).problems
    assert [p.message.split(":")[0] for p in problems] == ["The file is truncated"] * 3
    assert "GE" in problems[1].message and "IEA" in problems[2].message


def test_it_checks_se01_against_the_segments_in_the_transaction():
    with pytest.raises(X12Error) as caught:
        read(_file("BPR*I*0*C*NON~", se_count=5))
    assert caught.value.message == (
        "Wrong segment count in transaction set 0001: SE01 says 5 segments but the set has 3 "
        "(ST through SE)."
    )
    assert caught.value.segment_id == "SE" and caught.value.segment_position == 5


def test_it_checks_that_st02_matches_se02():
    with pytest.raises(X12Error, match="ST02 is '0001' but SE02 is '0002'"):
        read(_file("BPR*I*0*C*NON~", se02="0002"))


def test_it_checks_ge01_and_gs06_against_ge02():
    with pytest.raises(X12Error, match="GE01 says 2 but the group has 1"):
        read(_file("BPR*I*0*C*NON~", ge01="2"))
    with pytest.raises(X12Error, match="GS06 is '7' but GE02 is '8'"):
        read(_file("BPR*I*0*C*NON~", ge02="8"))


def test_it_checks_iea01_and_isa13_against_iea02():
    with pytest.raises(X12Error, match="IEA01 says 3 but the interchange has 1"):
        read(_file("BPR*I*0*C*NON~", iea01="3"))
    with pytest.raises(X12Error, match="ISA13 is '000000042' but IEA02 is '000000043'"):
        read(_file("BPR*I*0*C*NON~", iea02="000000043"))


def test_a_well_formed_file_has_no_problems():
    x12 = read(_file("BPR*I*0*C*NON~TRN*1*1*1~"))
    assert x12.problems == []
    (txn,) = x12.transactions
    assert txn.id == "835" and [s.id for s in txn.body] == ["BPR", "TRN"]
    assert txn.interchange_control_number == "000000042" and txn.group_control_number == "7"


def test_it_collects_every_envelope_problem_of_a_malformed_file_when_not_strict():
    x12 = read(sample("malformed/badx12_error_validation.edi"), strict=False)
    assert [str(p) for p in x12.problems] == [
        "Wrong segment count in transaction set 112233: SE01 says 30 segments but the set has "
        "27 (ST through SE). (segment 29, SE)",
        "Transaction set control numbers do not match: ST02 is '112233' but SE02 is '112223'. "
        "(segment 29, SE)",
        "Wrong transaction set count in functional group 20413: GE01 says 2 but the group has 1. "
        "(segment 30, GE)",
        "Functional group control numbers do not match: GS06 is '20413' but GE02 is '20213'. "
        "(segment 30, GE)",
        "Wrong functional group count in interchange 000010216: IEA01 says 2 but the interchange "
        "has 1. (segment 31, IEA)",
        "Interchange control numbers do not match: ISA13 is '000010216' but IEA02 is "
        "'000010215'. (segment 31, IEA)",
    ]


def test_it_reports_segments_outside_a_transaction_set():
    with pytest.raises(X12Error) as caught:
        read(sample("malformed/badx12_unknown_segment_error.edi"))
    assert caught.value.message == (
        "Segment HL at segment 3 is outside a transaction set (not between ST and SE)."
    )


def test_it_reads_several_groups_and_transactions():
    x12 = read(sample("999/pyx12_834_lui_id_5010.999.txt"))
    (interchange,) = x12.interchanges
    assert [g.control_number for g in interchange.groups] == ["344666205", "102"]
    assert [t.control_number for t in x12.transactions] == ["0001", "0002", "0003", "0004"]
    assert interchange.control_number == "308082146"


def test_it_reads_every_sample_that_has_an_envelope_without_crashing():
    from tests.x12.samples import all_samples

    files = all_samples()
    assert len(files) >= 50
    readable = 0
    for path in files:
        try:
            x12 = read(path.read_bytes(), strict=False)
        except X12Error as error:
            # Only the files SOURCES.md lists as "not X12 / no ISA" or a broken ISA may fail.
            assert "ISA" in error.message, path
            continue
        readable += 1
        for problem in x12.problems:
            assert problem.message, path
    assert readable >= 45


def test_offsets_are_right_whatever_the_line_break_style():
    segments = ["ST*835*0001", "BPR*I*0*C*NON", "SE*3*0001", "GE*1*7", "IEA*1*000000042"]
    head = ISA + "GS*HP*SENDER*RECEIVER*20260302*0930*7*X*005010X221A1"
    styles = {
        "none": "~".join([head, *segments]) + "~",
        "lf": "~\n".join([head, *segments]) + "~\n",
        "crlf without a final break": "~\r\n".join([head, *segments]) + "~",
        "mixed": head + "~\n" + "~".join(segments[:2]) + "~\r\n" + "~".join(segments[2:]) + "~",
    }
    for style, text in styles.items():
        parsed = list(tokenize(text))
        assert [s.id for s in parsed] == ["ISA", "GS", "ST", "BPR", "SE", "GE", "IEA"], style
        for seg in parsed:
            assert text[seg.offset :].startswith("*".join(seg.fields) + "~"), style
        assert read(text).problems == [], style


def test_a_4010_file_without_a_repetition_separator_still_reads():
    isa_4010 = ISA.replace("*^*00501*", "*U*00401*")
    hi = next(s for s in tokenize(isa_4010 + "HI*BK:29630~") if s.id == "HI")
    assert read_separators(isa_4010)[0].repetition == ""
    assert hi.repetitions(1) == ["BK:29630"]
