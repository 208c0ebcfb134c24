"""Each scrubber rule firing and not firing, from one clean claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from claims.scrubber import ClaimFacts, Decision, DiagnosisFacts, LineFacts, PayerEdits, scrub

DOS = date(2026, 10, 1)
LINE = LineFacts(
    number=1,
    service_code="90834",
    modifiers=(),
    units=1,
    charge=Decimal("150.00"),
    date_of_service=DOS,
    place_of_service="11",
    kind="psychotherapy",
    minutes=45,
    telehealth="",
    diagnosis_pointers=(1,),
    level="1",
    documentation_signed=True,
)
PAYER = PayerEdits(
    name="Blue Plan",
    telehealth_pos="10",
    telehealth_modifier="95",
    audio_only_modifier="93",
    timely_filing_days=90,
)
CLEAN = ClaimFacts(
    lines=(LINE,),
    diagnoses=(DiagnosisFacts("F33.1", date(2026, 1, 1), None),),
    payer=PAYER,
    coverage_from=date(2026, 1, 1),
    coverage_to=None,
    has_supervising_provider=False,
    part2_consent=None,
    today=date(2026, 10, 15),
)


def rules_of(claim: ClaimFacts) -> list[str]:
    return [f.rule for f in scrub(claim)]


def with_line(**changes: object) -> ClaimFacts:
    return replace(CLEAN, lines=(replace(LINE, **changes),))


def test_a_clean_claim_has_no_findings() -> None:
    assert scrub(CLEAN) == []


def test_coverage_not_active_on_the_date_of_service() -> None:
    finding = scrub(replace(CLEAN, coverage_to=date(2026, 9, 30)))[0]
    assert (finding.rule, finding.severity, finding.field) == (
        "coverage_inactive",
        "error",
        "coverage",
    )


def test_authorization_reason_is_passed_through() -> None:
    claim = with_line(
        authorization=Decision(False, "Authorization A1 expired on 2026-09-30.", "expired")
    )
    finding = scrub(claim)[0]
    assert (
        finding.rule == "authorization_expired"
        and finding.message == "Authorization A1 expired on 2026-09-30."
    )
    assert rules_of(with_line(authorization=Decision(True, "covered", "covered"))) == []


def test_provider_not_billable_and_supervisor_path() -> None:
    assert rules_of(
        with_line(billability=Decision(False, "Not enrolled with Blue Plan.", "not_enrolled"))
    ) == ["provider_not_enrolled"]
    assert rules_of(with_line(supervisor_required="Dr Smith")) == ["provider_needs_supervisor"]
    assert (
        rules_of(replace(with_line(supervisor_required="Dr Smith"), has_supervising_provider=True))
        == []
    )


def test_part2_claim_is_held_without_a_covering_consent() -> None:
    held = scrub(
        replace(CLEAN, part2_consent=Decision(False, "The consent was revoked on 2026-09-01."))
    )
    assert held[0].rule == "part2_consent" and "revoked" in held[0].message
    assert scrub(replace(CLEAN, part2_consent=Decision(True))) == []


def test_billed_code_disagreeing_with_documented_minutes() -> None:
    assert rules_of(with_line(service_code="90837")) == ["time_mismatch"]


def test_addon_needs_its_primary_on_the_same_day() -> None:
    addon = replace(LINE, number=2, service_code="90833", kind="psychotherapy_addon", minutes=30)
    em = replace(LINE, number=1, service_code="99214", kind="untimed", minutes=None)
    assert rules_of(replace(CLEAN, lines=(addon,))) == ["addon_without_primary"]
    assert rules_of(replace(CLEAN, lines=(em, addon))) == []
    crisis_addon = replace(LINE, service_code="90840", kind="untimed", minutes=None)
    assert rules_of(replace(CLEAN, lines=(crisis_addon,))) == ["addon_without_primary"]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"diagnosis_pointers": ()}, "pointer_missing"),
        ({"diagnosis_pointers": (2,)}, "pointer_invalid"),
        ({"diagnosis_pointers": (1, 1, 1, 1, 1)}, "pointer_too_many"),
    ],
)
def test_diagnosis_pointers(changes: dict[str, object], rule: str) -> None:
    assert rule in rules_of(with_line(**changes))


def test_diagnosis_validity_and_dates() -> None:
    assert rules_of(replace(CLEAN, diagnoses=(DiagnosisFacts("F33", date(2026, 1, 1), None),))) == [
        "diagnosis_invalid"
    ]
    assert rules_of(
        replace(CLEAN, diagnoses=(DiagnosisFacts("F33.1", date(2026, 1, 1), date(2026, 6, 30)),))
    ) == ["diagnosis_not_current"]
    assert rules_of(replace(CLEAN, diagnoses=())) == ["no_diagnosis"]


def test_payer_required_modifiers_are_data() -> None:
    licensure = replace(CLEAN, payer=replace(PAYER, expected_licensure_modifier="HO"))
    assert rules_of(licensure) == ["licensure_modifier"]
    assert rules_of(replace(licensure, lines=(replace(LINE, modifiers=("HO",)),))) == []
    program = replace(CLEAN, payer=replace(PAYER, required_modifiers={"90834": ("HF",)}))
    assert rules_of(program) == ["payer_modifier"]


def test_telehealth_must_follow_the_payers_convention() -> None:
    assert set(rules_of(with_line(telehealth="audio_video"))) == {
        "telehealth_pos",
        "telehealth_modifier",
    }
    assert (
        rules_of(with_line(telehealth="audio_video", place_of_service="10", modifiers=("95",)))
        == []
    )
    assert (
        rules_of(with_line(telehealth="audio_only", place_of_service="10", modifiers=("93",))) == []
    )
    assert rules_of(with_line(place_of_service="10")) == ["telehealth_inconsistent"]


def test_per_diem_days_need_the_minimum_hours() -> None:
    iop = {"service_code": "H0015", "kind": "untimed", "minutes": None, "level": "2.1"}
    assert rules_of(with_line(program_minutes=170, **iop)) == ["per_diem_short_day"]
    assert rules_of(with_line(program_minutes=180, **iop)) == []
    php = {"service_code": "H0035", "kind": "untimed", "minutes": None, "level": "2.5"}
    strict = replace(
        with_line(program_minutes=250, **php),
        payer=replace(PAYER, per_diem_minimum_minutes={"2.5": 300}),
    )
    assert rules_of(strict) == ["per_diem_short_day"]


def test_unsigned_documentation_blocks() -> None:
    assert rules_of(with_line(documentation_signed=False)) == ["documentation_unsigned"]


def test_timely_filing_passed_and_warning_fourteen_days_before() -> None:
    passed = replace(CLEAN, today=date(2026, 12, 31))
    assert [(f.rule, f.severity) for f in scrub(passed)] == [("timely_filing_passed", "error")]
    soon = replace(CLEAN, today=date(2026, 12, 20))
    assert [(f.rule, f.severity) for f in scrub(soon)] == [("timely_filing_soon", "warning")]
    assert scrub(replace(CLEAN, today=date(2026, 12, 15))) == []


def test_duplicate_lines_within_and_across_claims() -> None:
    twice = replace(CLEAN, lines=(LINE, replace(LINE, number=2)))
    assert rules_of(twice) == ["duplicate_line"]
    distinct = replace(CLEAN, lines=(LINE, replace(LINE, number=2, modifiers=("59",))))
    # 59 makes the lines distinct, but two sessions of the code exceed its MUE of 1 a day.
    assert rules_of(distinct) == ["ncci_mue"]
    assert rules_of(with_line(duplicate_of="PC123")) == ["duplicate_claim_line"]


def test_zero_units_or_charge() -> None:
    assert "zero_charge" in rules_of(with_line(charge=Decimal("0.00")))
    assert "zero_units" in rules_of(with_line(units=0, kind="untimed", minutes=None))
