"""Exhaustive table tests of code selection at every minute boundary (domain.md section 3)."""

from __future__ import annotations

import pytest

from claims.rules import (
    CodedLine,
    ServiceKind,
    check_billed_code,
    fifteen_minute_units,
    licensure_modifier,
    per_diem_day,
    suggest_codes,
    telehealth_coding,
)


def lines(kind: str, minutes: int, **kw: object) -> list[tuple[str, int]]:
    suggestion = suggest_codes(kind, minutes=minutes, **kw)  # type: ignore[arg-type]
    return [(line.code, line.units) for line in suggestion.lines]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, []),
        (15, []),
        (16, [("90832", 1)]),
        (37, [("90832", 1)]),
        (38, [("90834", 1)]),
        (45, [("90834", 1)]),
        (52, [("90834", 1)]),
        (53, [("90837", 1)]),
        (90, [("90837", 1)]),
    ],
)
def test_psychotherapy_by_the_midpoint_rule(minutes: int, expected: list[tuple[str, int]]) -> None:
    assert lines(ServiceKind.PSYCHOTHERAPY, minutes) == expected


@pytest.mark.parametrize(
    ("minutes", "code"), [(16, "90833"), (37, "90833"), (38, "90836"), (52, "90836"), (53, "90838")]
)
def test_add_on_psychotherapy_with_an_em_visit(minutes: int, code: str) -> None:
    assert lines(ServiceKind.PSYCHOTHERAPY_ADDON, minutes) == [(code, 1)]


def test_under_16_minutes_is_not_billable_and_says_why() -> None:
    suggestion = suggest_codes(ServiceKind.PSYCHOTHERAPY, minutes=15)
    assert not suggestion.billable and "under the 16-minute minimum" in suggestion.reason


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (15, []),
        (16, [("90832", 1)]),
        (29, [("90832", 1)]),
        (30, [("90839", 1)]),
        (74, [("90839", 1)]),
        (75, [("90839", 1), ("90840", 1)]),
        (104, [("90839", 1), ("90840", 1)]),
        (105, [("90839", 1), ("90840", 2)]),
        (134, [("90839", 1), ("90840", 2)]),
        (135, [("90839", 1), ("90840", 3)]),
    ],
)
def test_crisis_psychotherapy(minutes: int, expected: list[tuple[str, int]]) -> None:
    assert lines(ServiceKind.CRISIS, minutes) == expected


@pytest.mark.parametrize(
    ("minutes", "with_patient", "expected"),
    [(25, True, []), (26, True, [("90847", 1)]), (25, False, []), (26, False, [("90846", 1)])],
)
def test_family_psychotherapy_needs_26_minutes(
    minutes: int, with_patient: bool, expected: list[tuple[str, int]]
) -> None:
    kind = ServiceKind.FAMILY_WITH_PATIENT if with_patient else ServiceKind.FAMILY_WITHOUT_PATIENT
    assert lines(kind, minutes) == expected


@pytest.mark.parametrize(
    ("minutes", "units"),
    [(7, 0), (8, 1), (15, 1), (22, 1), (23, 2), (30, 2), (37, 2), (38, 3), (60, 4)],
)
def test_fifteen_minute_units_count_from_the_midpoint(minutes: int, units: int) -> None:
    assert fifteen_minute_units(minutes) == units


@pytest.mark.parametrize(("minutes", "units"), [(14, 0), (15, 1), (29, 1), (30, 2)])
def test_a_payer_counting_whole_units_only(minutes: int, units: int) -> None:
    assert fifteen_minute_units(minutes, rounding="whole_units") == units


def test_per_15_minute_hcpcs_lines() -> None:
    assert lines(ServiceKind.PER_15_MINUTES, 50, code="H0004") == [("H0004", 3)]
    assert not suggest_codes(ServiceKind.PER_15_MINUTES, minutes=7, code="H0004").billable


def test_untimed_codes_need_no_minutes() -> None:
    assert suggest_codes(ServiceKind.UNTIMED, code="90791").lines == (CodedLine("90791", 1),)


def test_timed_codes_need_times() -> None:
    assert "start and end times" in suggest_codes(ServiceKind.PSYCHOTHERAPY, minutes=None).reason


def test_a_billed_code_that_disagrees_with_documented_time_is_an_error() -> None:
    check = check_billed_code(
        ServiceKind.PSYCHOTHERAPY, billed_code="90837", billed_units=1, minutes=45
    )
    assert not check.ok and check.message == "45 documented minutes support 90834, not 90837."
    assert check_billed_code(
        ServiceKind.PSYCHOTHERAPY, billed_code="90834", billed_units=1, minutes=45
    ).ok
    units = check_billed_code(
        ServiceKind.PER_15_MINUTES, billed_code="H0004", billed_units=4, minutes=50
    )
    assert not units.ok and "3 unit(s) of H0004, not 4" in units.message


def test_telehealth_place_and_modifier_follow_the_payer() -> None:
    assert telehealth_coding(
        "audio_video",
        in_person_pos="11",
        payer_pos="10",
        payer_modifier="95",
        payer_audio_only_modifier="93",
    ).modifiers == ("95",)
    audio = telehealth_coding(
        "audio_only",
        in_person_pos="11",
        payer_pos="02",
        payer_modifier="GT",
        payer_audio_only_modifier="93",
    )
    assert (audio.place_of_service, audio.modifiers) == ("02", ("93",))
    assert (
        telehealth_coding(
            "",
            in_person_pos="11",
            payer_pos="10",
            payer_modifier="95",
            payer_audio_only_modifier="93",
        ).place_of_service
        == "11"
    )


def test_licensure_modifier_only_when_the_payer_wants_one() -> None:
    assert licensure_modifier("masters", payer_requires=True) == "HO"
    assert licensure_modifier("doctoral", payer_requires=True) == "HP"
    assert licensure_modifier("masters", payer_requires=False) is None


@pytest.mark.parametrize(("minutes", "billable"), [(179, False), (180, True)])
def test_an_iop_day_needs_three_hours(minutes: int, billable: bool) -> None:
    decision = per_diem_day("2.1", documented_minutes=minutes, payer_minimum_minutes=None)
    assert decision.billable is billable
    if not billable:
        assert (
            decision.reason
            == "Short day: 2.98 hours documented, the minimum for level 2.1 is 3.00 hours."
        )


def test_a_payer_minimum_overrides_the_default() -> None:
    assert not per_diem_day("2.5", documented_minutes=299, payer_minimum_minutes=300).billable
    assert per_diem_day("2.5", documented_minutes=300, payer_minimum_minutes=300).billable
