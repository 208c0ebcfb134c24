"""270 eligibility inquiries written and 271 responses read (005010X279A1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.x12.samples import sample
from x12.eligibility import EligibilityInquiry, Person, parse_271, render_270
from x12.reader import X12Error, read
from x12.writer import Envelope

CREATED = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
ENVELOPE = Envelope(
    sender_id="RB12345",
    receiver_id="842610001",
    interchange_control_number=41,
    group_control_number=41,
    created=CREATED,
    usage="T",
)
SUBSCRIBER = Person(
    last_name="RIVERA",
    first_name="ANA",
    member_id="W123456789",
    birth_date=date(1985, 3, 14),
    gender="F",
)
INQUIRY = EligibilityInquiry(
    trace_number="EQ-2026-000417",
    trace_originator="1987654321",
    payer_name="ABC HEALTH PLAN",
    payer_id="842610001",
    provider_name="RIVERBEND BEHAVIORAL HEALTH",
    provider_npi="1234567893",
    subscriber=SUBSCRIBER,
    service_date=date(2026, 12, 7),
    service_types=("30", "MH", "AI", "A6", "CF"),
)
HANDWRITTEN = "271-handwritten/"


def lines(text: str) -> list[str]:
    return [s for s in text.split("~") if s]


# --- 270 writer -------------------------------------------------------------------------------


def test_a_subscriber_inquiry_names_payer_provider_subscriber_trace_date_and_service_types():
    text = render_270([INQUIRY], ENVELOPE)
    segments = lines(text)
    assert segments[1] == "GS*HS*RB12345*842610001*20261207*1030*41*X*005010X279A1"
    assert segments[2] == "ST*270*0001*005010X279A1"
    assert segments[3:] [:13] == [
        "BHT*0022*13*EQ-2026-000417*20261207*1030",
        "HL*1**20*1",
        "NM1*PR*2*ABC HEALTH PLAN*****PI*842610001",
        "HL*2*1*21*1",
        "NM1*1P*2*RIVERBEND BEHAVIORAL HEALTH*****XX*1234567893",
        "HL*3*2*22*0",
        "TRN*1*EQ-2026-000417*1987654321",
        "NM1*IL*1*RIVERA*ANA****MI*W123456789",
        "DMG*D8*19850314*F",
        "DTP*291*D8*20261207",
        "EQ*30",
        "EQ*MH",
        "EQ*AI",
    ]  # fmt: skip
    assert "EQ*CF" in segments
    # The envelope checks (counts, control numbers) pass.
    assert read(text).transactions[0].id == "270"


def test_a_dependent_inquiry_puts_the_trace_and_the_questions_under_the_dependent():
    child = Person(last_name="RIVERA", first_name="LUCAS", birth_date=date(2014, 6, 2), gender="M")
    segments = lines(render_270([replace(INQUIRY, dependent=child, service_types=("A8",))],
                                ENVELOPE))  # fmt: skip
    start = segments.index("HL*3*2*22*1")
    assert segments[start : start + 8] == [
        "HL*3*2*22*1",
        "NM1*IL*1*RIVERA*ANA****MI*W123456789",
        "DMG*D8*19850314*F",
        "HL*4*3*23*0",
        "TRN*1*EQ-2026-000417*1987654321",
        "NM1*03*1*RIVERA*LUCAS",
        "DMG*D8*20140602*M",
        "DTP*291*D8*20261207",
    ]
    assert segments[start + 8] == "EQ*A8"


def test_several_inquiries_become_several_transaction_sets_with_unique_traces():
    second = replace(INQUIRY, trace_number="EQ-2026-000418")
    x12 = read(render_270([INQUIRY, second], ENVELOPE))
    assert [t.control_number for t in x12.transactions] == ["0001", "0002"]
    with pytest.raises(X12Error, match="unique in a 270: EQ-2026-000417"):
        render_270([INQUIRY, INQUIRY], ENVELOPE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_types": ("ZZ",)}, r"unknown service type code\(s\) \(EQ01\): ZZ"),
        ({"service_types": ()}, r"at least one service type code \(EQ01\)"),
        ({"provider_npi": "1234567890"}, r"provider NPI \(2100B NM109\).*check digit"),
        ({"subscriber": replace(SUBSCRIBER, member_id="")}, r"member id \(2100C NM109\)"),
        ({"trace_originator": "12345"}, r"trace originator \(TRN03\) must be 10"),
        ({"trace_number": " "}, r"trace number \(TRN02\) is empty"),
        ({"dependent": Person(last_name="KID")}, r"dependent's birth date \(2100D DMG02\)"),
        ({"subscriber": replace(SUBSCRIBER, gender="X")}, r"gender \(DMG03\) must be M, F or U"),
        ({"subscriber": replace(SUBSCRIBER, last_name="O*BRIEN")}, r"NM103 contains '\*'"),
    ],
)
def test_an_inquiry_that_cannot_be_sent_is_refused_naming_the_element(change, message):
    with pytest.raises(X12Error, match=message):
        render_270([replace(INQUIRY, **change)], ENVELOPE)


# --- 271 reader: the public samples -----------------------------------------------------------


def test_the_public_subscriber_271_reads_active_coverage_plan_dates_copays_and_the_pcp():
    response = parse_271(sample("271/lfh_subscriber-health-benefit-check.271")).responses[0]
    assert response.source.name == "ABC COMPANY"
    assert response.receiver.identifier == "2000035"
    member = response.patient
    assert (member.level, member.last_name, member.member_id) == ("subscriber", "SMITH",
                                                                  "123456789")  # fmt: skip
    assert member.trace_number == "93175-012547"
    assert member.active is True
    assert member.plan_name == "GOLD 123 PLAN"
    assert member.coverage_begin == date(2006, 1, 1)
    assert member.birth_date == date(1963, 5, 19)
    assert member.copay("MH") == Decimal("10.00")
    assert member.copay("MH", in_network=False) == Decimal("30.00")
    pcp = next(b for b in member.benefits if b.code == "L")
    assert [(p.entity_code, p.name, p.identifier) for p in pcp.related] == [
        ("P3", "JONES", "0202034")
    ]


def test_the_public_dependent_271_puts_the_benefits_on_the_dependent():
    file = parse_271(sample("271/badx12_X279-response-dependent.edi"))
    response = file.responses[0]
    subscriber = response.subscribers[0]
    assert subscriber.benefits == [] and subscriber.active is None
    dependent = subscriber.dependents[0]
    assert (dependent.first_name, dependent.relationship, dependent.gender) == ("MARY", "19", "F")
    assert dependent.active is True
    # The '>' repetition separator of this file splits EB03.
    assert dependent.copay("UC") == Decimal("10")
    assert file.by_trace_number("93175-012547") is dependent


@pytest.mark.parametrize(
    "name",
    [
        "271/lfh_subscriber-health-benefit-check-error.271",
        "271/badx12_X279-error-response-not-eligible-for-inquiries.edi",
    ],
)
def test_the_public_rejections_name_the_provider_ineligible_for_inquiries(name):
    file = parse_271(sample(name), strict=False)
    (rejection,) = file.responses[0].rejections
    assert (rejection.loop, rejection.reason_code, rejection.follow_up_code) == ("2100B", "50", "N")
    assert rejection.text == "Provider ineligible for inquiries (50); Resubmission not allowed (N)"
    assert rejection.valid_request is True


def test_the_public_ims_271_with_a_4010_envelope_still_reads():
    file = parse_271(sample("271/ims_x271.txt"), strict=False)
    assert any("SE01 says 22" in w for w in file.warnings)  # its SE count is wrong
    member = file.responses[0].patient
    assert member.active is True and member.plan_name == "GOLD 123 PLAN"


# --- 271 reader: every element, from the hand-written responses -------------------------------


@pytest.fixture(scope="module")
def rivera():
    file = parse_271(sample(HANDWRITTEN + "subscriber_behavioral_benefits.271"))
    assert file.warnings == []
    return file.responses[0].patient


def test_active_coverage_plan_group_and_coverage_dates(rivera):
    assert rivera.active is True and rivera.coverage_status == "Active coverage"
    assert (rivera.plan_number, rivera.plan_name) == ("PPO-GOLD-500", "GOLD 500 PPO")
    assert (rivera.group_number, rivera.group_name) == ("GRP77821", "ACME MANUFACTURING")
    assert rivera.coverage_begin == date(2025, 6, 1)  # eligibility begin (356) over plan (346)
    assert rivera.coverage_end == date(2026, 12, 31)
    assert rivera.dates["346"] == (date(2026, 1, 1), date(2026, 1, 1))
    assert [t[1] for t in rivera.trace_numbers] == ["EQ-2026-000417", "20261207-88812"]
    assert rivera.trace_number == "EQ-2026-000417"
    assert set(rivera.benefits[0].service_types) >= {"MH", "AI", "A4", "A6", "A8", "CF", "CH"}


def test_deductible_and_out_of_pocket_total_and_remaining_by_network_and_level(rivera):
    deductible = rivera.deductible()
    assert (deductible.total, deductible.remaining) == (Decimal("500"), Decimal("120.5"))
    assert deductible.time_period == "23"
    family = rivera.deductible(coverage_level="FAM")
    assert (family.total, family.remaining) == (Decimal("1500"), Decimal("900"))
    out_of_network = rivera.deductible(in_network=False)
    assert (out_of_network.total, out_of_network.remaining) == (Decimal("1000"), Decimal("1000"))
    pocket = rivera.out_of_pocket()
    assert (pocket.total, pocket.remaining) == (Decimal("3000"), Decimal("2250"))
    assert rivera.out_of_pocket(in_network=False).remaining is None
    # The mental health deductible is the plan's (EB03 30) when none names MH.
    assert rivera.deductible("MH").total == Decimal("500")


def test_copay_and_coinsurance_by_service_type(rivera):
    assert rivera.copay("MH") == Decimal("25")
    assert rivera.copay("A6") == Decimal("25")
    assert rivera.copay("MH", in_network=False) == Decimal("60")
    assert rivera.coinsurance("MH") == Decimal("20")
    assert rivera.coinsurance("MH", in_network=False) == Decimal("40")
    assert rivera.coinsurance("AI") == Decimal("12.5")
    assert rivera.copay("AI") is None


def test_visit_limits_from_eb09_eb10_and_from_hsd(rivera):
    psychotherapy = rivera.visit_limit("A6")
    assert (psychotherapy.total, psychotherapy.remaining) == (Decimal("30"), Decimal("18"))
    outpatient = rivera.visit_limit("CF")
    assert (outpatient.total, outpatient.remaining, outpatient.time_period) == (
        Decimal("20"), None, "23",
    )  # fmt: skip
    assert rivera.visit_limit("MH") is None


def test_authorization_required_messages_and_other_payer(rivera):
    assert rivera.authorization_required("A7") is True
    assert rivera.authorization_required("CG") is True
    assert rivera.authorization_required("A8") is False
    assert rivera.authorization_required("MH") is None
    assert "INPATIENT PSYCHIATRIC ADMISSIONS REQUIRE PRECERTIFICATION WITHIN 24 HOURS" in (
        rivera.messages
    )
    (other,) = rivera.other_payers
    assert (other.name, other.identifier, other.policy_number) == (
        "OTHER MUTUAL INSURANCE", "99887", "XYZ998877",
    )  # fmt: skip
    assert (other.insurance_type, other.begin) == ("C1", date(2024, 1, 1))
    payer = rivera.benefits[-1].related[0]
    assert payer.address == ["PO BOX 4400", "HARTFORD CT 06101"]
    assert payer.contacts == ["TE 8005550000"]
    source = parse_271(sample(HANDWRITTEN + "subscriber_behavioral_benefits.271")).responses[0]
    assert source.source.contacts == ["PROVIDER SERVICES TE 8005551212"]


def test_an_inactive_dependent_with_its_end_date_and_message():
    response = parse_271(sample(HANDWRITTEN + "dependent_inactive.271")).responses[0]
    lily = response.patient
    assert (lily.level, lily.first_name) == ("dependent", "LILY")
    assert lily.active is False and lily.coverage_status == "Inactive"
    assert lily.coverage_end == date(2026, 10, 31)
    assert lily.messages == ["COVERAGE TERMINATED - DEPENDENT AGED OUT OF PLAN"]
    assert response.subscribers[0].group_number == "GRP10001"


def test_aaa_rejections_at_the_subscriber_and_at_the_payer():
    response = parse_271(sample(HANDWRITTEN + "subscriber_not_found.271")).responses[0]
    assert [(r.loop, r.reason_code, r.follow_up_code) for r in response.rejections] == [
        ("2100C", "72", "C"), ("2100C", "58", "C"),
    ]  # fmt: skip
    assert response.rejections[0].text == (
        "Invalid/missing subscriber/insured ID (72); Please correct and resubmit (C)"
    )
    assert response.patient.active is None
    payer = parse_271(sample(HANDWRITTEN + "payer_unavailable.271")).responses[0]
    assert payer.subscribers == []
    assert [r.text for r in payer.rejections] == [
        "Unable to respond at current time (42); Resubmission allowed (R)"
    ]


# --- 271 reader: malformed input --------------------------------------------------------------


def _broken(old: str, new: str) -> str:
    text = sample(HANDWRITTEN + "subscriber_behavioral_benefits.271").decode()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "segment", "message"),
    [
        (
            "EB*C*IND*30***23*500*",
            "EB*C*IND*30***23*5E3*",
            "EB",
            r"EB07 \(benefit amount\) at "
            r"segment 24 is '5E3', which has an exponent",
        ),
        ("EB*C*IND*30***23*500*", "EB*C*IND*30***23*NaN*", "EB", r"EB07 .* not a number"),
        ("****.2****Y", "****1.5****Y", "EB", r"EB08 \(percent\) .* not a fraction"),
        ("*VS*30**Y", "*VS*3.333**Y", "EB", r"EB10 \(benefit quantity\)"),
        ("PR*GOLD 500 PPO~", "PR*GOLD 500 PPO******Q~", "EB", r"EB11 .* is 'Q', which is not Y, N"),
        ("DTP*347*D8*20261231", "DTP*347*D8*20261332", "DTP", r"DTP03 \(date 347\)"),
        ("DTP*347*D8*20261231", "DTP*347*XX*20261231", "DTP", r"DTP02 .* D8 or RD8"),
        ("HSD*VS*20", "HSD*VS*INF", "HSD", r"HSD02 \(quantity\)"),
        ("HL*3*2*22*0", "HL*3*2*99*0", "HL", r"HL03 .* is '99'"),
        ("AAA", "AAA", "", ""),
    ],
)
def test_a_malformed_271_names_the_segment_and_element(old, new, segment, message):
    if not segment:
        text = sample(HANDWRITTEN + "subscriber_not_found.271").decode().replace("AAA*Y**72*C",
                                                                                 "AAA*Y***C")  # fmt: skip
        with pytest.raises(X12Error, match=r"AAA03 \(reject reason\) at segment 12") as caught:
            parse_271(text)
        assert caught.value.segment_id == "AAA"
        return
    with pytest.raises(X12Error, match=message) as caught:
        parse_271(_broken(old, new))
    assert caught.value.segment_id == segment
    assert caught.value.segment_position is not None


def test_benefits_before_the_member_name_or_a_dependent_without_subscriber_are_refused():
    text = _broken("NM1*IL*1*RIVERA*ANA*M***MI*W123456789~", "")
    text = text.replace("SE*53*", "SE*52*")
    with pytest.raises(X12Error, match=r"REF at segment 13 comes before the subscriber name"):
        parse_271(text)
    orphan = _broken("HL*3*2*22*0", "HL*3*2*23*0").replace("SE*53*", "SE*53*")
    with pytest.raises(X12Error, match="dependent \\(23\\) with no subscriber"):
        parse_271(orphan)


def test_a_file_without_a_271_says_what_it_holds():
    with pytest.raises(X12Error, match=r"holds no 271 transaction set \(found: 270\)"):
        parse_271(sample("270/lfh_subscriber-health-benefit-check.270"))


def test_our_own_270_round_trips_through_the_envelope_reader_with_the_samples_layout():
    ours = lines(render_270([replace(INQUIRY, service_types=("30",),
                                     subscriber=replace(SUBSCRIBER, gender=""))], ENVELOPE))  # fmt: skip
    theirs = lines(sample("270/lfh_subscriber-health-benefit-check.270").decode())
    # Same segments in the same order as the public TR3-style sample.
    assert [s.split("*")[0] for s in ours[3:-3]] == [s.strip().split("*")[0] for s in theirs[3:-3]]


def test_a_rejection_inside_a_benefit_loop_and_a_2120_contact_are_kept_with_the_benefit():
    text = _broken("EB*CB*IND*A8*PR*******N*Y~", "EB*CB*IND*A8*PR*******N*Y~AAA*Y**15*C~").replace(
        "SE*53*", "SE*54*"
    )
    member = parse_271(text).responses[0].patient
    benefit = next(b for b in member.benefits if b.service_types == ["A8"])
    assert [(r.loop, r.reason_code) for r in benefit.rejections] == [("2110C", "15")]
    assert [r.reason for r in member.all_rejections] == ["Required application data missing"]
    # A rejected benefit does not hide the others: the member is still active.
    assert member.active is True


def test_an_ls_loop_outside_a_benefit_is_refused():
    text = sample(HANDWRITTEN + "dependent_inactive.271").decode()
    text = text.replace("INS*N*19~", "INS*N*19~LS*2120~").replace("SE*19*", "SE*20*")
    with pytest.raises(X12Error, match=r"LS at segment 17 opens a 2120 loop outside a benefit"):
        parse_271(text)
