"""The 837 coordination-of-benefits loops: balancing checks before writing, the snapshot kept on
a secondary claim, and a payer's own modifiers on the secondary's lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from claims import cob, rules
from tests.x12.claims_837p import CASES, PRIMARY_ADJUDICATION, envelope, with_claim
from tests.x12.pyx12_check import pyx12_errors
from x12.cob import Adjustment, cob_problems
from x12.professional import check_837p, render_837p
from x12.writer import SegmentWriter

D = Decimal
LINES = [("L1011-1", D("200.00")), ("L1011-2", D("30.00"))]


TOTAL = D("230.00")


def problems(payers=(PRIMARY_ADJUDICATION,), responsibility="S", total=TOTAL, lines=LINES):
    return cob_problems(
        pcn="PCN1011",
        responsibility=responsibility,
        total_charge=total,
        line_charges=lines,
        payers=payers,
    )


def test_a_balanced_adjudication_has_no_problems():
    assert problems() == []


def test_a_secondary_claim_without_the_primary_adjudication_is_refused():
    ((field, message),) = problems(payers=())
    assert field == "claim PCN1011.other_payers"
    assert "secondary payer but carries no primary adjudication" in message
    assert problems(payers=(), responsibility="P") == []


def test_a_line_whose_paid_and_adjustments_miss_its_charge_is_named():
    line = PRIMARY_ADJUDICATION.lines["L1011-2"]
    short = replace(line, adjustments=(Adjustment("CO", "45", D("5.00")),))  # PR 5 missing
    other = replace(PRIMARY_ADJUDICATION, lines={**PRIMARY_ADJUDICATION.lines, "L1011-2": short})
    found = dict(problems(payers=(other,)))
    assert (
        "do not add up to the claim's charge (230.00)"
        in found["claim PCN1011.other_payers[CHP01].balance"]
    )
    assert found["claim PCN1011.lines[2].adjudication"] == (
        "Claim PCN1011 line 2: CASCADE HEALTH PLAN paid 20.00 and adjusted 5.00, which is not "
        "the line charge 30.00."
    )


def test_every_line_needs_its_adjudication_when_the_payer_adjudicated_lines():
    only_first = replace(
        PRIMARY_ADJUDICATION, lines={"L1011-1": PRIMARY_ADJUDICATION.lines["L1011-1"]}
    )
    ((field, message),) = problems(payers=(only_first,))
    assert field == "claim PCN1011.other_payers[CHP01].lines"
    assert "not line(s) 2" in message


def test_claim_level_adjustments_balance_the_claim_not_each_line():
    lines = {lcn: replace(adj, adjustments=()) for lcn, adj in PRIMARY_ADJUDICATION.lines.items()}
    claim_level = replace(
        PRIMARY_ADJUDICATION,
        lines=lines,
        claim_adjustments=(Adjustment("CO", "45", D("55")), Adjustment("PR", "2", D("35"))),
    )
    assert problems(payers=(claim_level,)) == []
    off = replace(claim_level, claim_adjustments=(Adjustment("CO", "45", D("55")),))
    assert [f for f, _ in problems(payers=(off,))] == ["claim PCN1011.other_payers[CHP01].balance"]


def test_the_writer_refuses_an_unbalanced_secondary_claim_before_writing():
    batch = CASES["secondary_cob_2320_2430"]
    bad = replace(PRIMARY_ADJUDICATION, paid=D("140"), lines={})
    assert check_837p(batch) == []
    no_lines = check_837p(with_claim(batch, other_payers=(bad,)))
    assert no_lines == []  # claim-level only (no 2430) is allowed: DTP*573 goes in 2330B
    text = render_837p(with_claim(batch, other_payers=(bad,)), envelope(901), SegmentWriter())
    assert "DTP*573*D8*20260320~REF*F8*CHP2026031900017~" in text
    assert pyx12_errors(text) == (True, [])
    missing = check_837p(with_claim(batch, other_payers=()))
    assert [p.field for p in missing] == ["claim PCN1011.other_payers"]


def test_the_snapshot_puts_each_2430_on_the_line_of_the_same_service():
    snapshot = {
        "payer_name": "Blue Plan",
        "payer_id": "BP001",
        "subscriber_last_name": "Doe",
        "subscriber_first_name": "Jane",
        "member_id": "W1",
        "paid": "80",
        "patient_responsibility": "30",
        "adjudication_date": "2026-10-20",
        "payer_claim_number": "BP-1",
        "claim_adjustments": [],
        "lines": [
            {
                "service_entry_id": "e-1",
                "service_code": "90834",
                "units": "1",
                "paid": "80",
                "adjustments": [
                    {"group": "CO", "reason": "45", "amount": "40"},
                    {"group": "PR", "reason": "2", "amount": "30"},
                ],
            }
        ],
    }
    other = cob.other_payer(snapshot, [("NEW-1", "e-1"), ("NEW-2", "e-2")])
    assert other is not None
    assert other.payer_name == "BLUE PLAN" and other.subscriber_last_name == "DOE"
    assert list(other.lines) == ["NEW-1"]
    assert other.lines["NEW-1"].adjudication_date == date(2026, 10, 20)
    assert other.lines["NEW-1"].adjusted == D("70")
    assert cob.prior_payer_settled(snapshot) == {"e-1": D("120")}  # paid 80 + CO 40
    assert cob.other_payer({}, []) is None


def test_a_secondary_payers_telehealth_and_licensure_conventions_replace_the_primarys():
    coded = rules.recode_for_payer(
        ["95", "59"],
        "10",
        telehealth="audio_video",
        payer_pos="02",
        payer_modifier="GT",
        payer_audio_only_modifier="93",
        licensure="HO",
    )
    assert coded == rules.PlaceAndModifiers("02", ("59", "GT", "HO"))
    in_person = rules.recode_for_payer(
        ["HO", "25"],
        "11",
        telehealth="",
        payer_pos="10",
        payer_modifier="95",
        payer_audio_only_modifier="93",
        licensure=None,
    )
    assert in_person == rules.PlaceAndModifiers("11", ("25",))
