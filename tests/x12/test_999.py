from __future__ import annotations

import pytest

from tests.x12.samples import sample
from x12.ack999 import parse_999
from x12.reader import X12Error

ISA = (
    "ISA*00*          *00*          *ZZ*CLHSE01        *ZZ*RB12345        *260303*1000*^*00501"
    "*000000777*0*P*:~GS*FA*CLHSE01*RB12345*20260303*1000*55*X*005010X231A1~"
)


def test_an_accepted_999_names_the_group_and_transaction_it_accepts():
    # This sample's IEA02 (000000001) does not match its ISA13 (000000286).
    with pytest.raises(X12Error, match="ISA13 is '000000286' but IEA02 is '000000001'"):
        parse_999(sample("999/ims_x12_999_accepted.txt"))
    result = parse_999(sample("999/ims_x12_999_accepted.txt"), strict=False)
    assert result.warnings == [
        "Interchange control numbers do not match: ISA13 is '000000286' but IEA02 is "
        "'000000001'. (segment 10, IEA)"
    ]
    (ack,) = result.acknowledgments
    assert (ack.functional_id_code, ack.group_control_number, ack.group_version) == (
        "HC", "17456", "005010X223A2",
    )  # fmt: skip
    (ts,) = ack.transaction_sets
    assert (ts.transaction_set_id, ts.control_number, ts.version) == ("837", "0001", "005010X223A2")
    assert ts.status == "accepted" and ts.accepted and ts.segment_errors == []
    assert ack.group_status == "accepted"
    assert (ack.transaction_sets_included, ack.transaction_sets_received) == (1, 1)
    assert ack.transaction_sets_accepted == 1


def test_a_rejected_999_points_at_the_segment_in_error():
    result = parse_999(sample("999/ims_x12_999_rejected.txt"))
    assert result.interchange_control_number == "095832987"
    (ack,) = result.acknowledgments
    assert ack.control_number == "95832987" and ack.group_control_number == "28"
    (ts,) = ack.transaction_sets
    assert ts.control_number == "0028" and ts.version == ""
    assert ts.status == "rejected" and not ts.accepted
    assert ts.error_codes == ["5"]
    assert ts.error_descriptions == ["One or more segments in error"]
    (error,) = ts.segment_errors
    assert (error.segment_id, error.segment_position, error.loop_id) == ("NM", 17, "")
    assert error.error_code == "1" and error.description == "Unrecognized segment ID"
    assert ack.group_status == "rejected"
    assert (ack.transaction_sets_received, ack.transaction_sets_accepted) == (1, 0)


def test_a_999_with_several_transaction_sets_and_groups_gives_one_acknowledgment_each():
    result = parse_999(sample("999/pyx12_834_lui_id_5010.999.txt"))
    assert [a.control_number for a in result.acknowledgments] == ["0001", "0002", "0003", "0004"]
    assert {a.group_control_number for a in result.acknowledgments} == {"13360001"}
    assert all(a.transaction_sets[0].transaction_set_id == "834" for a in result.acknowledgments)


def test_a_999_generated_by_pyx12_is_accepted():
    (ack,) = parse_999(sample("999/pyx12_834_ls_le_ls_5010.999.txt")).acknowledgments
    assert ack.functional_id_code == "BE"
    assert ack.transaction_sets[0].control_number == "146001"
    assert ack.transaction_sets[0].status == "accepted"


def test_element_errors_accepted_with_errors_and_claim_context_are_read():
    body = (
        "ST*999*0001*005010X231A1~AK1*HC*12*005010X222A1~AK2*837*0001*005010X222A1~"
        "IK3*NM1*8*2010AA*8~CTX*CLM01:PCN1001~IK4*9*67*7*12345~"
        "IK3*SV1*31*2400*8~IK4*1:2*234*7*90899~"
        "IK5*E*I5~AK2*837*0002*005010X222A1~IK5*R*4~AK9*P*2*2*1*5~SE*13*0001~"
    )
    text = ISA + body + "GE*1*55~IEA*1*000000777~"
    (ack,) = parse_999(text).acknowledgments
    first, second = ack.transaction_sets
    assert first.status == "accepted_with_errors" and first.accepted
    assert first.error_codes == ["I5"]
    nm1, sv1 = first.segment_errors
    assert (nm1.segment_id, nm1.segment_position, nm1.loop_id, nm1.error_code) == (
        "NM1", 8, "2010AA", "8",
    )  # fmt: skip
    assert nm1.patient_control_number == "PCN1001" and nm1.context == ["CTX*CLM01:PCN1001"[4:]]
    (element,) = nm1.element_errors
    assert (element.element_position, element.data_element_reference) == (9, "67")
    assert element.description == "Invalid code value" and element.bad_value == "12345"
    (composite,) = sv1.element_errors
    assert (composite.element_position, composite.component_position) == (1, 2)
    assert composite.repetition_position is None
    assert second.status == "rejected"
    assert second.error_descriptions == [
        "Number of included segments (SE01) does not match the actual count"
    ]
    assert ack.group_status == "partially_accepted"
    assert ack.group_error_codes == ["5"]


def test_a_file_that_is_not_a_999_is_refused():
    with pytest.raises(X12Error, match="holds no 999 transaction set \\(found: 277\\)"):
        parse_999(sample("277ca/ims_x12_277CA_accepted.txt"))


def test_a_999_without_ak9_is_refused():
    text = ISA + "ST*999*0001~AK1*HC*12~AK2*837*0001~IK5*A~SE*5*0001~GE*1*55~IEA*1*000000777~"
    with pytest.raises(X12Error, match="has no AK9 segment"):
        parse_999(text)
