"""pyx12 validates the 270 and 276 we write, for a subscriber and a dependent, against the 5010
maps derived in tests/x12/pyx12_maps.py (pyx12 4.0.0 ships none for these two guides)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.x12.pyx12_check import pyx12_errors
from tests.x12.pyx12_maps import map_path
from tests.x12.samples import sample
from tests.x12.test_claim_status import CLAIM, REQUEST
from tests.x12.test_claim_status import ENVELOPE as ENVELOPE_276
from tests.x12.test_eligibility import ENVELOPE, INQUIRY
from x12.claimstatus import render_276
from x12.eligibility import SERVICE_TYPES, Person, render_270

CHILD = Person(last_name="RIVERA", first_name="LUCAS", birth_date=date(2014, 6, 2), gender="M")


def validate(text: str) -> list[str]:
    valid, errors = pyx12_errors(text, map_path())
    assert valid == (not errors), errors
    return errors


def test_pyx12_validates_our_270_for_a_subscriber_with_every_behavioral_service_type():
    everything = replace(INQUIRY, service_types=tuple(SERVICE_TYPES), group_number="GRP77821")
    assert validate(render_270([INQUIRY, replace(everything, trace_number="EQ-2")], ENVELOPE)) == []


def test_pyx12_validates_our_270_for_a_dependent():
    text = render_270([replace(INQUIRY, dependent=CHILD, service_types=("MH", "A8", "CG"))],
                      ENVELOPE)  # fmt: skip
    assert validate(text) == []


@pytest.mark.parametrize(
    "name",
    ["270/lfh_subscriber-health-benefit-check.270", "270/lfh_dependent-health-benefit-check.270"],
)
def test_the_public_tr3_style_270_samples_validate_against_the_same_map(name):
    assert validate(sample(name).decode()) == []


def test_the_derived_map_still_refuses_a_bad_270():
    text = render_270([INQUIRY], ENVELOPE)
    assert any("EQ01" in e for e in validate(text.replace("EQ*MH~", "EQ*ZZ~")))
    no_subscriber_name = text.replace("NM1*IL*1*RIVERA*ANA****MI*W123456789~", "").replace(
        "SE*17*", "SE*16*"
    )
    assert any('Subscriber Name" (2100C) missing' in e for e in validate(no_subscriber_name))
    assert any("DTP*999 not found" in e for e in validate(text.replace("DTP*291*", "DTP*999*")))


def test_pyx12_validates_our_276_for_a_subscriber_and_a_dependent():
    dependent = replace(
        CLAIM,
        trace_number="CS-2026-0002",
        patient_account_number="PCN1002",
        dependent=CHILD,
        service_date_to=date(2026, 10, 9),
        bill_type="111",
    )
    text = render_276([replace(REQUEST, claims=[CLAIM, dependent])], ENVELOPE_276)
    assert validate(text) == []
    assert validate(text.replace("AMT*T3*150~", "AMT*XX*150~")) != []
