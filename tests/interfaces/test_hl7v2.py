"""The HL7 v2 helpers, without a database: timestamps, ICD-10 codes, escaping, the ACK's
segments, and refusals of messages that are not HL7."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from interfaces import hl7v2
from interfaces.hl7v2 import Hl7Problem, Location

CHICAGO = ZoneInfo("America/Chicago")
HERE = Location("FT1", 1, 4)


def test_timestamps_are_read_in_the_organizations_zone_unless_an_offset_is_sent() -> None:
    local = hl7v2.to_datetime("202611300900", tz=CHICAGO, location=HERE)
    assert local == datetime(2026, 11, 30, 9, 0, tzinfo=CHICAGO)
    utc = hl7v2.to_datetime("20261130150000+0000", tz=CHICAGO, location=HERE)
    assert utc == local
    assert hl7v2.to_datetime("20261130", tz=CHICAGO, location=HERE) is None
    assert hl7v2.to_date("20261130093000", location=HERE) == date(2026, 11, 30)


@pytest.mark.parametrize("text", ["2026", "20261340", "abc", "20260230"])
def test_a_bad_date_names_its_field(text: str) -> None:
    with pytest.raises(Hl7Problem) as refused:
        hl7v2.to_date(text, location=HERE)
    assert str(refused.value.location) == "FT1-4" and refused.value.code == "102"


def test_icd10_codes_get_their_dot() -> None:
    assert hl7v2.icd10("f331") == "F33.1"
    assert hl7v2.icd10("F10.20") == "F10.20"
    assert hl7v2.icd10("F32") == "F32"


def test_the_ack_escapes_what_it_echoes_and_names_the_location() -> None:
    head = hl7v2.Header("DFT", "P03", "C|1", "2.5.1", "EHR", "CLINIC", "PARITY", "ORG")
    problem = Hl7Problem("Unknown code A^B", location=Location("FT1", 2, 7), code="103")
    ack = hl7v2.ack(
        code="AE",
        header=head,
        now=datetime(2026, 12, 1, 9, tzinfo=CHICAGO),
        ack_control_id="X1",
        text=problem.text,
        problem=problem,
    )
    msh, msa, err = ack.rstrip("\r").split("\r")
    assert msh.split("|")[2:6] == ["PARITY", "ORG", "EHR", "CLINIC"]
    assert msh.split("|")[8] == "ACK^P03^ACK"
    assert msa == "MSA|AE|C\\F\\1|FT1-7: Unknown code A\\S\\B"
    assert err.split("|")[2] == "FT1^2^7"


@pytest.mark.parametrize("raw", ["", "PID|1", "MSH", "MSH|^~\\&|A\x00B"])
def test_text_that_is_not_hl7_is_rejected(raw: str) -> None:
    with pytest.raises(Hl7Problem) as refused:
        hl7v2.parse(raw)
    assert refused.value.reject
