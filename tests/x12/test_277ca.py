from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.x12.samples import sample
from x12.ack277ca import (
    ACCEPTED,
    REJECTED,
    STATUS_CATEGORIES,
    explain_status,
    parse_277ca,
)
from x12.reader import X12Error


def test_an_accepted_claim_carries_our_patient_control_number_and_the_payer_claim_number():
    result = parse_277ca(sample("277ca/ims_x12_277CA_accepted.txt"))
    (claim,) = result.claims
    assert claim.patient_control_number == "5781"
    assert claim.outcome == ACCEPTED and claim.accepted
    assert claim.reason == "Accepted into adjudication: Accepted for processing (A2:20)"
    assert claim.payer_claim_control_number == "1107000000014420"
    assert (claim.patient_last_name, claim.patient_first_name) == ("TPATIENT", "THEBE")
    assert claim.patient_member_id == "LL99999X"
    assert claim.billing_provider_npi == "1234567890"
    assert claim.total_charge == Decimal("125")
    (info,) = claim.status_information
    assert info.effective_date == date(2011, 3, 11) and info.action_code == "WQ"
    assert claim.segment_position == 19


def test_the_receiver_and_provider_levels_are_read():
    (report,) = parse_277ca(sample("277ca/ims_x12_277CA_accepted.txt")).reports
    assert report.reference == "000000674" and report.created == date(2011, 3, 11)
    (source,) = report.sources
    assert source.name == "NYSDOH" and source.identifier == "141797357"
    assert source.received_date == date(2011, 3, 11)
    (receiver,) = report.receivers
    assert receiver.trace_number == "000000674"
    assert receiver.accepted_quantity == 1 and receiver.accepted_amount == Decimal("125.0")
    assert receiver.status_information[0].statuses[0].category_code == "A1"
    (provider,) = report.providers
    assert provider.entity_code == "85" and provider.identifier == "1234567890"


def test_a_rejected_claim_says_why_in_words_with_a_pipe_component_separator():
    (claim,) = parse_277ca(sample("277ca/ims_x12_277CA_rejected.txt")).claims
    assert claim.patient_control_number == "3920394930203"
    assert claim.outcome == REJECTED and claim.rejected
    (status,) = claim.status_information[0].statuses
    assert (status.category_code, status.status_code, status.entity_code) == ("A7", "562", "85")
    assert claim.reason == (
        "Rejected for invalid information: National Provider Identifier (NPI) of the billing "
        "provider (A7:562:85)"
    )
    assert claim.payer_claim_control_number == "1107000000001120"
    assert claim.billing_type == "731"
    assert claim.total_charge == Decimal("199.14")
    assert claim.service_date_from == claim.service_date_to == date(2009, 3, 11)


def test_every_rejecting_category_is_listed_as_data():
    rejected = sorted(
        code for code, (outcome, _) in STATUS_CATEGORIES.items() if outcome == "rejected"
    )
    assert {"A3", "A4", "A6", "A7", "A8"} <= set(rejected)
    assert STATUS_CATEGORIES["A1"][0] == STATUS_CATEGORIES["A2"][0] == ACCEPTED


def test_an_unknown_status_code_is_still_explained():
    status = explain_status("A6", "9999", "QC")
    assert status.outcome == REJECTED
    assert status.reason == (
        "Rejected for missing information: status code 9999 of the patient (A6:9999:QC)"
    )


def test_a_claim_with_service_lines_and_several_statuses_is_rejected_if_any_status_rejects():
    text = (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*RB12345        *260303*1000*^*00501"
        "*000000001*0*P*:~GS*HN*PAYER*RB12345*20260303*1000*1*X*005010X214~"
        "ST*277*0001*005010X214~BHT*0085*08*B0001*20260303*1000*TH~"
        "HL*1**20*1~NM1*PR*2*CASCADE HEALTH PLAN*****PI*CHP01~TRN*1*T1~DTP*050*D8*20260303~"
        "DTP*009*D8*20260303~HL*2*1*21*1~NM1*41*2*RIVERBEND*****46*RB12345~TRN*2*B0001~"
        "STC*A1:19:PR*20260303*WQ*150~QTY*AA*1~AMT*YY*150~"
        "HL*3*2*19*1~NM1*85*2*RIVERBEND*****XX*1234567893~TRN*1*P1~"
        "HL*4*3*PT~NM1*QC*1*RIVERA*SAM****MI*CHP778899001~TRN*2*PCN1001~"
        "STC*A1:19*20260303*WQ*150~STC*A7:21:82*20260303*U*150******A6:562:82~"
        "REF*D9*CH7788~DTP*472*RD8*20260224-20260225~"
        "SVC*HC:90834:95*150*****1~STC*A7:454*20260303*U~REF*FJ*L1001-1~DTP*472*D8*20260224~"
        "SE*28*0001~GE*1*1~IEA*1*000000001~"
    )
    (claim,) = parse_277ca(text).claims
    assert claim.outcome == REJECTED
    assert claim.reason == (
        "Rejected for invalid information: Missing or invalid information of the rendering "
        "provider (A7:21:82); Rejected for missing information: National Provider Identifier "
        "(NPI) of the rendering provider (A6:562:82)"
    )
    assert claim.clearinghouse_trace_number == "CH7788"
    assert (claim.service_date_from, claim.service_date_to) == (
        date(2026, 2, 24),
        date(2026, 2, 25),
    )
    (line,) = claim.lines
    assert (line.procedure_code, line.modifiers, line.units) == ("90834", ["95"], Decimal("1"))
    assert line.line_item_control_number == "L1001-1"
    assert line.status_information[0].statuses[0].reason == (
        "Rejected for invalid information: Procedure code (A7:454)"
    )
    (receiver,) = parse_277ca(text).reports[0].receivers
    assert receiver.rejected_quantity == 1 and receiver.rejected_amount == Decimal("150")


def test_a_claim_status_response_277_is_read_with_subscriber_and_dependent_levels():
    result = parse_277ca(sample("277/lfh_claim-level-status.277"))
    claims = {c.patient_control_number: c for c in result.claims}
    assert set(claims) == {"ABCXYZ1", "ABCXYZ2", "ABCXYC3"}
    assert claims["ABCXYZ1"].outcome == "pending"
    assert claims["ABCXYZ2"].payer_claim_control_number == "0529675341"
    assert claims["ABCXYC3"].patient_last_name == "MANN"
    assert len(claims["ABCXYC3"].lines) == 1


def test_a_file_that_is_not_a_277_is_refused():
    with pytest.raises(X12Error, match="holds no 277 transaction set"):
        parse_277ca(sample("999/ims_x12_999_rejected.txt"))
