from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.x12.samples import sample
from x12.reader import X12Error
from x12.remit835 import CLAIM_STATUS_CODES, check_balance, parse_835

D = Decimal


def _text(relative: str) -> str:
    return sample(relative).decode("latin-1")


def test_the_payment_payer_and_payee_are_read():
    (remit,) = parse_835(sample("835/badx12_X221-dollars-and-data-sent-separate.edi")).remittances
    assert remit.handling_code == "I" and remit.payment_amount == D("945")
    assert (remit.credit_debit, remit.payment_method, remit.payment_format) == ("C", "ACH", "CCP")
    assert remit.payment_date == date(2002, 3, 16)
    assert (remit.trace_type, remit.trace_number, remit.payer_identifier) == (
        "1", "71700666555", "1935665544",
    )  # fmt: skip
    assert remit.production_date == date(2002, 3, 14)
    assert remit.payer is not None and remit.payer.name == "RUSHMORE LIFE"
    assert remit.payer.address_lines == ["10 SOUTH AVENUE"]
    assert (remit.payer.city, remit.payer.state, remit.payer.postal_code) == (
        "RAPID CITY", "SD", "55111",
    )  # fmt: skip
    assert remit.payee is not None and remit.payee.name == "ACME MEDICAL CENTER"
    assert (remit.payee.identifier_qualifier, remit.payee.identifier) == ("XX", "5544667733")
    assert remit.payee.references == {"TJ": "777667755"}


def test_claims_lines_and_adjustments_are_read():
    (remit,) = parse_835(sample("835/badx12_X221-dollars-and-data-sent-separate.edi")).remittances
    first, second = remit.claims
    assert first.patient_control_number == "5554555444"
    assert (first.status_code, first.status_text) == ("1", "Processed as primary")
    assert (first.charge, first.paid, first.patient_responsibility) == (
        D("800"),
        D("450"),
        D("300"),
    )
    assert first.claim_filing_indicator == "12"
    assert first.payer_claim_control_number == "94060555410000"
    (claim_cas,) = first.adjustments
    assert (claim_cas.group_code, claim_cas.reason_code, claim_cas.amount) == ("CO", "A2", D("50"))
    assert first.patient is not None
    assert (first.patient.name, first.patient.first_name, first.patient.identifier) == (
        "BUDD", "WILLIAM", "33344555510",
    )  # fmt: skip
    (line,) = first.lines
    assert (line.procedure_qualifier, line.procedure_code) == ("HC", "99211")
    assert (line.charge, line.paid) == (D("800"), D("500"))
    assert (line.service_date_from, line.service_date_to) == (date(2002, 3, 1), date(2002, 3, 4))
    assert [(a.group_code, a.reason_code, a.amount) for a in line.adjustments] == [
        ("PR", "1", D("300"))
    ]
    assert [(a.group_code, a.reason_code, a.amount) for a in second.lines[0].adjustments] == [
        ("PR", "1", D("600")),
        ("CO", "45", D("50")),
    ]
    assert check_balance(remit) == []


def test_provider_adjustments_and_institutional_claim_fields_are_read():
    (remit,) = parse_835(sample("835/badx12_X221-dollars-and-data-sent-together.edi")).remittances
    assert remit.handling_code == "C" and remit.payment_amount == D("150000")
    (plb,) = remit.provider_adjustments
    assert plb.provider_identifier == "6543210903" and plb.fiscal_period_date == date(2002, 12, 31)
    (item,) = plb.items
    assert (item.reason_code, item.reference, item.amount) == ("CV", "CP", D("-1.27"))
    first, second = remit.claims
    assert first.claim_filing_indicator == "MA" and second.claim_filing_indicator == "MB"
    assert (first.facility_code, first.frequency_code) == ("11", "1")
    assert (first.statement_from, first.statement_to) == (date(2002, 8, 16), date(2002, 8, 24))
    assert first.header_number == "110212" and second.header_number == "130212"
    assert second.remark_codes == ["MA02"]
    assert first.patient is not None and first.patient.identifier_qualifier == "HN"
    # 138018.40 + 11980.33 paid, and a negative PLB of -1.27 adds to the payment: 150000.
    assert check_balance(remit) == []


def test_many_claims_on_one_check_with_rendering_and_insured_names():
    (remit,) = parse_835(sample("835/badx12_X221-multiple-claims-single-check.edi")).remittances
    assert remit.payment_method == "CHK" and remit.payment_amount == D("810.8")
    assert remit.payee is not None and remit.payee.identifier_qualifier == "FI"
    assert len(remit.claims) == 9
    assert sum(len(c.lines) for c in remit.claims) == 33
    second = remit.claims[1]
    assert second.insured is not None and (second.insured.name, second.insured.first_name) == (
        "DOE", "JOHN",
    )  # fmt: skip
    assert second.rendering_provider is not None
    assert second.rendering_provider.identifier == "1811901945"
    assert second.amounts == {"AU": D("74")}
    line = remit.claims[0].lines[0]
    assert (line.procedure_qualifier, line.procedure_code) == ("AD", "D0120")
    assert line.service_date == date(2014, 3, 24) and line.allowed_amount == D("25")
    assert sum((c.paid for c in remit.claims), D("0")) == D("810.8")
    assert check_balance(remit) == []


def test_cas_segments_with_several_triplets_and_modifiers_are_read():
    (remit,) = parse_835(sample("835/badx12_X221-secondary-payments.edi")).remittances
    first, second = remit.claims
    assert first.status_code == "2" and first.lines == []
    assert first.rendering_provider is not None
    assert first.rendering_provider.identifier_qualifier == "BD"
    line_one, line_two = second.lines
    assert (line_one.procedure_code, line_one.modifiers) == ("12345", ["26"])
    assert line_one.units == D("1") and line_one.references == {"1B": "43285"}
    assert [(a.group_code, a.reason_code, a.amount, a.quantity) for a in line_two.adjustments] == [
        ("PR", "1", D("150"), None),
        ("PR", "2", D("70"), None),
        ("CO", "42", D("85"), None),
    ]
    assert line_two.allowed_amount == D("500")
    assert remit.payee is not None and remit.payee.address_lines == ["PO BOX 863382"]
    assert check_balance(remit) == []


def test_a_denied_claim_with_remark_codes_and_a_notification_only_payment():
    (remit,) = parse_835(sample("835/pyx12_835_mult_loops.txt")).remittances
    assert (remit.handling_code, remit.payment_method, remit.payment_amount) == (
        "H", "NON", D("0"),
    )  # fmt: skip
    (claim,) = remit.claims
    assert claim.is_denied and claim.status_text == "Denied"
    assert claim.patient is not None and claim.patient.identifier_qualifier == "MR"
    assert [line.units for line in claim.lines] == [D("68"), D("16"), D("36")]
    assert [line.remark_codes for line in claim.lines] == [["N14"], ["N14"], ["N14"]]
    assert [line.adjustments[0].reason_code for line in claim.lines] == ["16", "A7", "A7"]
    assert check_balance(remit) == []


def test_corrected_patient_and_line_remarks_from_a_medicaid_remittance():
    (remit,) = parse_835(sample("835/e835_emedny_sample.txt")).remittances
    assert len(remit.claims) == 3
    first, second, third = remit.claims
    assert first.corrected_patient is not None
    assert first.corrected_patient.name == "CORRECTED LAST"
    assert first.references == {"EA": "PATIENT ACCOUNT NUMBER"}
    assert first.lines[0].modifiers == ["RB"] and first.lines[3].units == D("2")
    assert second.paid == D("0") and second.lines[0].adjustments[0].reason_code == "29"
    assert third.lines[2].remark_codes == ["N206"]
    assert check_balance(remit) == []


def test_a_greater_than_component_separator_and_trn04_are_honoured():
    (remit,) = parse_835(sample("835/e835_united_healthcare_legacy_sample.txt")).remittances
    assert remit.originating_company_supplemental == "000088888"
    assert remit.payer is not None and remit.payer.identifier == "87726"
    first = remit.claims[0]
    assert first.patient_control_number == "001-18573-358"
    assert first.received_date == date(2021, 1, 14)
    assert first.lines[0].procedure_code == "B4152"
    assert first.lines[0].line_item_control_number == "800941258001"
    last = remit.claims[1].lines[2]
    assert [(a.reason_code, a.amount, a.quantity) for a in last.adjustments] == [
        ("2", D("5.13"), None),
        ("1", D("110"), None),
        ("45", D("184.32"), None),
    ]


def test_an_invalid_date_becomes_none_with_a_warning():
    (remit,) = parse_835(sample("835/lfh_managed-care.835")).remittances
    assert remit.payment_date is None
    assert remit.warnings == [
        "BPR at segment 4 has '20002316', which is not a valid CCYYMMDD date."
    ]


def test_negative_adjustments_balance():
    (remit,) = parse_835(sample("835/lfh_cob-contractural-adjustment.835")).remittances
    line = remit.claims[0].lines[0]
    assert [a.amount for a in line.adjustments] == [D("516.00"), D("-9.00")]
    assert check_balance(remit) == []


def test_an_835_without_an_envelope_is_refused_but_its_original_procedure_reads_when_wrapped():
    body = _text("835/e835_blue_cross_nc_sample.txt")
    with pytest.raises(X12Error, match="not an X12 file"):
        parse_835(body)
    wrapped = (
        "ISA*00*          *00*          *ZZ*BCBSNC         *ZZ*XYZ            *110108*1200*^*00501"
        "*000000001*0*P*:~GS*HP*BCBSNC*XYZ*20110108*1200*1*X*005010X221A1~"
        + body.strip()
        + "GE*1*1~IEA*1*000000001~"
    )
    result = parse_835(wrapped, strict=False)
    # The sample's own SE01 is one too many.
    assert result.warnings == [
        "Wrong segment count in transaction set 1234: SE01 says 33 segments but the set has 32 "
        "(ST through SE). (segment 34, SE)"
    ]
    (remit,) = result.remittances
    (claim,) = remit.claims
    assert claim.received_date == date(2011, 1, 3)
    first = claim.lines[0]
    assert (first.procedure_code, first.original_procedure_code) == ("59430", "59410")
    assert first.line_item_control_number == "0001"
    assert first.allowed_amount == D("1175.4")
    assert check_balance(remit) == []


def test_the_claim_status_codes_include_reversals_and_forwarded_claims():
    for code in ("1", "2", "3", "4", "19", "20", "21", "22", "23"):
        assert code in CLAIM_STATUS_CODES


def test_a_payment_that_does_not_match_its_claims_is_reported_with_its_position():
    text = _text("835/badx12_X221-dollars-and-data-sent-separate.edi").replace(
        "BPR*I*945*", "BPR*I*946.50*"
    )
    (remit,) = parse_835(text).remittances
    (discrepancy,) = check_balance(remit)
    assert discrepancy.level == "payment" and discrepancy.segment_position == 4
    assert discrepancy.message == (
        "Payment 71700666555 (BPR at segment 4) does not balance: BPR02 is 946.50 but the claims "
        "paid 945 less provider adjustments (PLB) of 0 make 945 (off by 1.50)."
    )


def test_a_line_and_its_claim_that_do_not_balance_are_reported():
    text = _text("835/badx12_X221-dollars-and-data-sent-separate.edi").replace(
        "CAS*PR*1*300~", "CAS*PR*1*290~"
    )
    (remit,) = parse_835(text).remittances
    line, claim = check_balance(remit)
    assert line.level == "line" and line.segment_position == 17
    assert line.message == (
        "Claim 5554555444 line 1 (99211, SVC at segment 17) does not balance: charge 800 - "
        "paid 500 = 300, but its adjustments (CAS) total 290 (off by 10)."
    )
    assert claim.level == "claim" and claim.segment_position == 14
    assert (claim.expected, claim.actual) == (D("350"), D("340"))


def test_a_reversal_claim_has_negative_amounts_and_balances():
    text = _text("835/badx12_X221-dollars-and-data-sent-separate.edi")
    text = text.replace("CLP*8765432112*1*1200*495*600*", "CLP*8765432112*22*-1200*-495*-600*")
    text = text.replace("SVC*HC:93555*1200*550~", "SVC*HC:93555*-1200*-550~")
    text = text.replace("CAS*CO*A2*55~", "CAS*CO*A2*-55~")
    text = text.replace("CAS*PR*1*600~CAS*CO*45*50~", "CAS*PR*1*-600~CAS*CO*45*-50~")
    text = text.replace("BPR*I*945*", "BPR*I*-45*")
    (remit,) = parse_835(text).remittances
    reversal = remit.claims[1]
    assert reversal.is_reversal and reversal.paid == D("-495")
    assert check_balance(remit) == []


def test_a_file_that_is_not_an_835_is_refused():
    with pytest.raises(X12Error, match="holds no 835 transaction set \\(found: 999\\)"):
        parse_835(sample("999/ims_x12_999_rejected.txt"))


def test_an_835_must_begin_with_bpr():
    text = _text("835/badx12_X221-dollars-and-data-sent-separate.edi")
    text = text.replace("ST*835*112233~", "ST*835*112233~TRN*1*X*Y~").replace("SE*27*", "SE*28*")
    with pytest.raises(X12Error, match="must begin with a BPR segment"):
        parse_835(text)


def test_an_835_without_its_trn_trace_is_refused_with_the_position():
    text = _text("835/badx12_X221-dollars-and-data-sent-separate.edi")
    text = text.replace("TRN*1*71700666555*1935665544~", "").replace("SE*27*", "SE*26*")
    with pytest.raises(X12Error, match="has no TRN \\(reassociation trace number\\)") as caught:
        parse_835(text)
    assert caught.value.segment_position is not None


def test_every_835_sample_parses_and_balances():
    names = [
        "835/badx12_X221-dollars-and-data-sent-separate.edi",
        "835/badx12_X221-dollars-and-data-sent-together.edi",
        "835/badx12_X221-multiple-claims-single-check.edi",
        "835/badx12_X221-secondary-payment-with-higher-fee-schedule.edi",
        "835/badx12_X221-secondary-payments.edi",
        "835/e835_emedny_sample.txt",
        "835/e835_united_healthcare_legacy_sample.txt",
        "835/lfh_cob-contractural-adjustment.835",
        "835/lfh_managed-care.835",
        "835/lfh_medicare-part-a.835",
        "835/pyx12_835_mult_loops.txt",
    ]
    for name in names:
        for remit in parse_835(sample(name)).remittances:
            assert check_balance(remit) == [], name


def test_the_malformed_835_is_refused_when_strict_and_read_when_not():
    with pytest.raises(X12Error, match="SE01 says 30 segments but the set has 27"):
        parse_835(sample("malformed/badx12_error_validation.edi"))
    result = parse_835(sample("malformed/badx12_error_validation.edi"), strict=False)
    assert len(result.warnings) == 6
    assert [c.patient_control_number for c in result.claims] == ["5554555444", "8765432112"]


def test_the_benchmark_835_is_valid_for_pyx12_and_balances_for_us():
    import importlib.util

    from tests.x12.pyx12_check import pyx12_errors

    path = Path(__file__).resolve().parents[2] / "bench" / "x12_parse.py"
    spec = importlib.util.spec_from_file_location("x12_parse_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.synthesise_835(20)
    assert pyx12_errors(text) == (True, [])
    (remit,) = parse_835(text).remittances
    assert len(remit.claims) == 20 and sum(len(c.lines) for c in remit.claims) == 60
    assert check_balance(remit) == []


def test_revenue_code_lines_crossover_carrier_and_several_plb_items_are_read():
    text = (
        "ISA*00*          *00*          *ZZ*CHP01          *ZZ*RB12345        *260301*0800*^*00501"
        "*000000009*0*P*:~GS*HP*CHP01*RB12345*20260301*0800*9*X*005010X221A1~ST*835*0001~"
        "BPR*I*290*C*CHK************20260301~TRN*1*CHK7788*1999999999~"
        "N1*PR*CASCADE HEALTH PLAN~N1*PE*RIVERBEND*XX*1234567893~LX*1~"
        "CLP*PCN2001*19*500*300*50*MC*PAYER55*13*1~NM1*QC*1*RIVERA*SAM****MI*M1~"
        "NM1*TT*2*STATE MEDICAID*****PI*MCD01~DTM*050*20260225~"
        "SVC*NU:0906*500*300*0906*4~DTM*472*20260224~CAS*CO*45*150~CAS*PR*3*50~"
        "PLB*1234567893*20261231*WO:PCN1999*15.5*72:ADV1*-5.5~SE*16*0001~GE*1*9~IEA*1*000000009~"
    )
    (remit,) = parse_835(text).remittances
    (claim,) = remit.claims
    assert claim.status_text == "Processed as primary, forwarded to additional payer(s)"
    assert claim.crossover_carrier is not None
    assert (claim.crossover_carrier.name, claim.crossover_carrier.identifier) == (
        "STATE MEDICAID", "MCD01",
    )  # fmt: skip
    assert claim.received_date == date(2026, 2, 25)
    assert (claim.facility_code, claim.frequency_code) == ("13", "1")
    (line,) = claim.lines
    assert (line.procedure_qualifier, line.procedure_code, line.revenue_code) == (
        "NU", "0906", "0906",
    )  # fmt: skip
    assert line.units == D("4")
    (plb,) = remit.provider_adjustments
    assert [(i.reason_code, i.reference, i.amount) for i in plb.items] == [
        ("WO", "PCN1999", D("15.5")),
        ("72", "ADV1", D("-5.5")),
    ]
    # 300 paid - (15.50 - 5.50) withheld = 290.
    assert remit.provider_adjustment_total == D("10.0")
    assert check_balance(remit) == []
