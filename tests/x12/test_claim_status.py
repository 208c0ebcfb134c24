"""276 claim status requests written and 277 claim status responses read (005010X212)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.x12.samples import sample
from x12.claimstatus import (
    DENIED,
    FINALIZED,
    INFORMATION_REQUESTED,
    NOT_FOUND,
    PAID,
    StatusInquiry,
    StatusRequest,
    action_of,
    explain,
    parse_277,
    render_276,
)
from x12.eligibility import Person
from x12.reader import X12Error, read
from x12.writer import Envelope

ENVELOPE = Envelope(
    sender_id="RB12345",
    receiver_id="842610001",
    interchange_control_number=51,
    group_control_number=51,
    created=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
    usage="T",
)
SUBSCRIBER = Person(
    last_name="RIVERA", first_name="ANA", member_id="W123456789", birth_date=date(1985, 3, 14),
    gender="F",
)  # fmt: skip
CLAIM = StatusInquiry(
    trace_number="CS-2026-0001",
    patient_account_number="PCN1001",
    total_charge=Decimal("150.00"),
    service_date_from=date(2026, 10, 5),
    service_date_to=None,
    provider_name="RIVERBEND BEHAVIORAL HEALTH",
    provider_npi="1234567893",
    subscriber=SUBSCRIBER,
    payer_claim_control_number="2026278000123",
)
REQUEST = StatusRequest(
    reference="CSB-0001",
    payer_name="ABC HEALTH PLAN",
    payer_id="842610001",
    receiver_name="RIVERBEND BEHAVIORAL HEALTH",
    receiver_id="RB12345",
    claims=[CLAIM],
)


def lines(text: str) -> list[str]:
    return [s for s in text.split("~") if s]


# --- 276 writer -------------------------------------------------------------------------------


def test_a_276_for_a_subscriber_claim_has_trace_payer_number_account_amount_and_dates():
    text = render_276([REQUEST], ENVELOPE)
    segments = lines(text)
    assert segments[1] == "GS*HR*RB12345*842610001*20261207*0600*51*X*005010X212"
    assert segments[2] == "ST*276*0001*005010X212"
    assert segments[3:-3] == [
        "BHT*0010*13*CSB-0001*20261207*0600",
        "HL*1**20*1",
        "NM1*PR*2*ABC HEALTH PLAN*****PI*842610001",
        "HL*2*1*21*1",
        "NM1*41*2*RIVERBEND BEHAVIORAL HEALTH*****46*RB12345",
        "HL*3*2*19*1",
        "NM1*1P*2*RIVERBEND BEHAVIORAL HEALTH*****XX*1234567893",
        "HL*4*3*22*0",
        "DMG*D8*19850314*F",
        "NM1*IL*1*RIVERA*ANA****MI*W123456789",
        "TRN*1*CS-2026-0001",
        "REF*1K*2026278000123",
        "REF*EJ*PCN1001",
        "AMT*T3*150",
        "DTP*472*D8*20261005",
    ]
    assert read(text).transactions[0].id == "276"


def test_a_dependent_claim_and_a_date_range_and_claims_grouped_by_provider():
    child = Person(last_name="RIVERA", first_name="LUCAS", birth_date=date(2014, 6, 2), gender="M")
    second = replace(
        CLAIM,
        trace_number="CS-2026-0002",
        patient_account_number="PCN1002",
        dependent=child,
        service_date_to=date(2026, 10, 9),
        payer_claim_control_number="",
        bill_type="111",
    )
    segments = lines(render_276([replace(REQUEST, claims=[CLAIM, second])], ENVELOPE))
    assert segments.count("HL*3*2*19*1") == 1  # one provider level for both claims
    start = segments.index("HL*5*3*22*1")
    assert segments[start : start + 10] == [
        "HL*5*3*22*1",
        "NM1*IL*1*RIVERA*ANA****MI*W123456789",
        "HL*6*5*23",
        "DMG*D8*20140602*M",
        "NM1*QC*1*RIVERA*LUCAS",
        "TRN*1*CS-2026-0002",
        "REF*BLT*111",
        "REF*EJ*PCN1002",
        "AMT*T3*150",
        "DTP*472*RD8*20261005-20261009",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider_npi": "123"}, r"provider NPI \(2100C NM109\)"),
        ({"patient_account_number": ""}, r"patient account number \(REF\*EJ\) is empty"),
        ({"subscriber": replace(SUBSCRIBER, member_id="")}, r"member id \(2100D NM109\)"),
        ({"subscriber": replace(SUBSCRIBER, birth_date=None)}, r"birth date \(DMG02\)"),
        ({"total_charge": Decimal("-1")}, r"total charge \(AMT\*T3\) cannot be negative"),
        ({"service_date_to": date(2026, 1, 1)}, r"end before they start"),
        ({"patient_account_number": "PCN~1"}, r"REF02 contains '~'"),
    ],
)
def test_a_claim_that_cannot_be_asked_about_is_refused_naming_the_element(change, message):
    with pytest.raises(X12Error, match=message):
        render_276([replace(REQUEST, claims=[replace(CLAIM, **change)])], ENVELOPE)


def test_a_276_needs_claims_and_unique_traces():
    with pytest.raises(X12Error, match="at least one claim"):
        render_276([replace(REQUEST, claims=[])], ENVELOPE)
    with pytest.raises(X12Error, match="unique in a 276: CS-2026-0001"):
        render_276([replace(REQUEST, claims=[CLAIM, CLAIM])], ENVELOPE)


# --- 277 reader -------------------------------------------------------------------------------


def test_the_public_277_gives_each_claims_status_numbers_amounts_and_dates():
    file = parse_277(sample("277/lfh_claim-level-status.277"))
    assert file.warnings == []
    pended, finalized, denied = file.claims
    assert (pended.trace_number, pended.patient_account_number,
            pended.payer_claim_control_number) == ("ABCXYZ1", "SM123456", "05347006051")  # fmt: skip
    assert pended.category_code == "P3" and pended.action == INFORMATION_REQUESTED
    assert pended.total_charge == Decimal("8513.88")
    assert (pended.service_date_from, pended.service_date_to) == (date(2005, 8, 31),
                                                                  date(2005, 9, 6))  # fmt: skip
    assert pended.bill_type == "111"
    assert pended.answers[0].effective_date == date(2005, 9, 13)
    assert (finalized.action, finalized.payment_amount) == (FINALIZED, Decimal("7599.00"))
    assert finalized.reason == "Finalized: Adjudicated, awaiting the payment cycle (F0:3)"
    assert denied.action == DENIED
    assert denied.reason == (
        "Finalized: denied: Entity not eligible for benefits for the submitted dates of service "
        "of the patient (F2:88:QC)"
    )
    assert (denied.patient_last_name, denied.patient_first_name) == ("MANN", "JOSEPH")
    assert (denied.member_id, denied.provider_npi) == ("345678901", "166666666")
    (line,) = denied.lines
    assert (line.procedure_code, line.charge, line.payment_amount) == (
        "99203", Decimal("150.00"), Decimal("0.00"),
    )  # fmt: skip
    assert line.service_date_from == date(2005, 5, 1)
    assert line.answers[0].statuses[0].category_code == "F2"
    assert file.by_trace_number("ABCXYZ2") == [finalized]


def test_the_public_ims_277_reads_every_claim_with_its_message():
    file = parse_277(sample("277/ims_x12_277_x212.txt"), strict=False)
    assert len(file.claims) == 8
    first = file.claims[0]
    assert (first.trace_number, first.patient_account_number, first.clearinghouse_trace_number) == (
        "0000001", "12345", "12345",
    )  # fmt: skip
    assert first.answers[0].message == "PAYER ACKNOWLEDGED RECEIPT OF THE CLAIM"
    assert first.answers[0].action_code == "WQ"
    assert first.payer_name == "UTD HEALTHCARE" and first.provider_npi == "1111111111"
    assert any("IEA02" in w for w in file.warnings)  # the sample's IEA02 does not match ISA13


def _paid_277(stc: str) -> str:
    body = [
        "ST*277*0001*005010X212",
        "BHT*0010*08*CSB-0001*20261207*0610*DG",
        "HL*1**20*1",
        "NM1*PR*2*ABC HEALTH PLAN*****PI*842610001",
        "HL*2*1*21*1",
        "NM1*41*2*RIVERBEND BEHAVIORAL HEALTH*****46*RB12345",
        "HL*3*2*19*1",
        "NM1*1P*2*RIVERBEND BEHAVIORAL HEALTH*****XX*1234567893",
        "HL*4*3*22*0",
        "NM1*IL*1*RIVERA*ANA****MI*W123456789",
        "TRN*2*CS-2026-0001",
        stc,
        "REF*1K*2026278000123",
        "REF*EJ*PCN1001",
        "DTP*472*D8*20261005",
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    isa = ("ISA*00*          *00*          *PI*842610001      *ZZ*RB12345        *261207*0610*^*"
           "00501*000000061*0*T*:")  # fmt: skip
    return "~".join([isa, "GS*HN*842610001*RB12345*20261207*0610*61*X*005010X212", *body,
                     "GE*1*61", "IEA*1*000000061"]) + "~"  # fmt: skip


def test_a_paid_answer_gives_adjudication_and_paid_dates_and_the_check_number():
    (claim,) = parse_277(
        _paid_277("STC*F1:65*20261201**150*112.5*20261128*CHK*20261202*000884321")
    ).claims
    assert claim.action == PAID
    assert (claim.total_charge, claim.payment_amount) == (Decimal("150"), Decimal("112.5"))
    assert claim.adjudication_date == date(2026, 11, 28)
    assert claim.paid_date == date(2026, 12, 2)
    assert claim.check_number == "000884321"
    assert claim.answers[0].payment_method == "CHK"
    assert claim.reason == "Finalized: paid: Claim or line has been paid (F1:65)"


def test_not_found_and_requests_for_information_map_to_their_actions():
    (claim,) = parse_277(_paid_277("STC*A4:35*20261201")).claims
    assert claim.action == NOT_FOUND and claim.reason == "Not found: Claim not found (A4:35)"
    (claim,) = parse_277(_paid_277("STC*R4:21*20261201")).claims
    assert claim.action == INFORMATION_REQUESTED
    assert action_of("D0") == NOT_FOUND and action_of("F2") == DENIED
    assert explain("Z9").reason == "Category Z9 (Z9)"


@pytest.mark.parametrize(
    ("stc", "message"),
    [
        ("STC*F1:65*20261201**150*1E3", r"STC05 \(payment amount\) at segment 14 .*exponent"),
        ("STC*F1:65*20261201**NaN", r"STC04 \(total charge\) at segment 14 .*not a number"),
        ("STC*F1:65*20261201**150*100*20261399", r"STC06 \(adjudication date\) at segment 14"),
        ("STC**20261201", r"STC01 \(claim status\) at segment 14 is empty"),
    ],
)
def test_a_malformed_277_names_the_segment_and_element(stc, message):
    with pytest.raises(X12Error, match=message) as caught:
        parse_277(_paid_277(stc))
    assert caught.value.segment_id == "STC"


def test_a_status_before_its_trace_number_or_an_unknown_level_is_refused():
    text = (
        _paid_277("STC*F1:65*20261201")
        .replace("TRN*2*CS-2026-0001~", "")
        .replace("SE*16*", "SE*15*")
    )
    with pytest.raises(X12Error, match=r"STC at segment 13 .* before its trace number \(TRN\)"):
        parse_277(text)
    with pytest.raises(X12Error, match=r"HL03 at segment 11 is 'PT'"):
        parse_277(_paid_277("STC*F1:65").replace("HL*4*3*22*0", "HL*4*3*PT"))
