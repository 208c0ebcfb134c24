"""Code families as data, timed ladders at every boundary, same-day edits (NCCI PTP and MUE) and
ICD-10-CM years by date of service (issue 19). Pure table tests over the shipped code sets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from claims import codesets
from claims.coding_edits import check_revenue_code, fiscal_year, icd10_in_effect
from claims.rules import (
    ServiceKind,
    check_billed_code,
    code_in_effect,
    revenue_code,
    suggest_codes,
)
from claims.scrubber import (
    ClaimFacts,
    DiagnosisFacts,
    PayerCoding,
    SameDayLine,
    scrub,
)
from tests.claims.test_scrubber import CLEAN, LINE, PAYER

SETS = codesets.load()


def lines(kind: str, minutes: int, code: str = "", **kw: str) -> list[tuple[str, int]]:
    suggestion = suggest_codes(kind, minutes=minutes, code=code, **kw)
    return [(line.code, line.units) for line in suggestion.lines]


# --- The data files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*codesets.FAMILY_FILES, codesets.REVENUE_FILE])
def test_every_family_file_cites_its_source_and_dates_every_code(name: str) -> None:
    header = [
        line for line in (codesets.HERE / name).read_text().splitlines() if line.startswith("#")
    ]
    assert any("Source:" in line for line in header)
    for row in codesets.rows(name):
        assert row["descriptor"] and row["unit_type"] in codesets.UnitType.ALL
        assert date.fromisoformat(row["effective_from"])


def test_the_issue_families_are_all_there() -> None:
    wanted = {
        "90832", "90833", "90836", "90838", "90839", "90840", "99202", "99215", "99221", "99239",
        "99242", "99255", "99281", "99285", "99304", "99316", "99341", "99350", "96130", "96139",
        "96156", "96171", "97151", "97158", "G0552", "G0554", "99492", "99494", "G0512", "99484",
        "H0001", "H0050", "H2011", "H2036", "S9480", "T1015",
    }  # fmt: skip
    assert wanted <= set(SETS.procedures)
    assert {"0900", "0919", "0944", "0945", "0953", "1001", "1005"} <= set(SETS.revenue_codes)
    assert SETS.procedures["H0015"].unit_type == "per_diem"
    assert SETS.procedures["H2019"].unit_type == "per_15"
    assert SETS.procedures["99492"].unit_type == "monthly"


@pytest.mark.parametrize(
    "em", ["99213", "99232", "99223", "99243", "99254", "99284", "99309", "99349"]
)
def test_psychotherapy_with_em_is_accepted_with_every_em_family(em: str) -> None:
    claim = replace(
        CLEAN,
        lines=(
            replace(LINE, service_code=em, kind="untimed", minutes=None),
            replace(LINE, number=2, service_code="90836", kind="psychotherapy_addon"),
        ),
    )
    assert [f.rule for f in scrub(claim)] == []


def test_psychotherapy_with_em_without_an_em_visit_is_refused() -> None:
    claim = replace(CLEAN, lines=(replace(LINE, service_code="90836", kind="psychotherapy_addon"),))
    assert [f.rule for f in scrub(claim)] == ["addon_without_primary"]


def test_an_add_on_needs_its_first_period_code() -> None:
    alone = replace(
        CLEAN, lines=(replace(LINE, service_code="96131", kind="untimed", minutes=None),)
    )
    assert [f.rule for f in scrub(alone)] == ["addon_without_primary"]


# --- Timed ladders: one minute under, at and over each threshold -------------------------------


@pytest.mark.parametrize(
    ("code", "minutes", "expected"),
    [
        # 96130 first hour (more than half: 31), 96131 each additional hour (31 past 60)
        ("96130", 30, []),
        ("96130", 31, [("96130", 1)]),
        ("96130", 32, [("96130", 1)]),
        ("96130", 90, [("96130", 1)]),
        ("96130", 91, [("96130", 1), ("96131", 1)]),
        ("96130", 150, [("96130", 1), ("96131", 1)]),
        ("96130", 151, [("96130", 1), ("96131", 2)]),
        ("96132", 31, [("96132", 1)]),
        ("96132", 91, [("96132", 1), ("96133", 1)]),
        # 96136 / 96138 first 30 minutes (16), each additional 30 (16 past 30)
        ("96136", 15, []),
        ("96136", 16, [("96136", 1)]),
        ("96136", 45, [("96136", 1)]),
        ("96136", 46, [("96136", 1), ("96137", 1)]),
        ("96136", 75, [("96136", 1), ("96137", 1)]),
        ("96136", 76, [("96136", 1), ("96137", 2)]),
        ("96138", 15, []),
        ("96138", 16, [("96138", 1)]),
        ("96138", 46, [("96138", 1), ("96139", 1)]),
    ],
)
def test_testing_first_period_and_each_additional(
    code: str, minutes: int, expected: list[tuple[str, int]]
) -> None:
    assert lines(ServiceKind.TESTING, minutes, code) == expected


@pytest.mark.parametrize(
    ("code", "minutes", "expected"),
    [
        ("96158", 15, []),
        ("96158", 16, [("96158", 1)]),
        ("96158", 17, [("96158", 1)]),
        ("96158", 37, [("96158", 1)]),
        ("96158", 38, [("96158", 1), ("96159", 1)]),
        ("96158", 39, [("96158", 1), ("96159", 1)]),
        ("96158", 52, [("96158", 1), ("96159", 1)]),
        ("96158", 53, [("96158", 1), ("96159", 2)]),
        ("96164", 38, [("96164", 1), ("96165", 1)]),
        ("96167", 16, [("96167", 1)]),
        ("96170", 53, [("96170", 1), ("96171", 2)]),
    ],
)
def test_health_behavior_first_30_then_each_15(
    code: str, minutes: int, expected: list[tuple[str, int]]
) -> None:
    assert lines(ServiceKind.HEALTH_BEHAVIOR, minutes, code) == expected


@pytest.mark.parametrize(
    ("minutes", "units"), [(7, 0), (8, 1), (9, 1), (22, 1), (23, 2), (24, 2), (37, 2), (38, 3)]
)
@pytest.mark.parametrize("code", ["97151", "97153", "97155", "97158"])
def test_adaptive_behavior_15_minute_units(code: str, minutes: int, units: int) -> None:
    assert lines(ServiceKind.ADAPTIVE_BEHAVIOR, minutes, code) == ([(code, units)] if units else [])


@pytest.mark.parametrize(
    ("rounding", "minutes", "units"),
    [
        ("midpoint", 7, 0),
        ("midpoint", 8, 1),
        ("midpoint", 9, 1),
        ("midpoint", 22, 1),
        ("midpoint", 23, 2),
        ("whole_units", 14, 0),
        ("whole_units", 15, 1),
        ("whole_units", 16, 1),
        ("whole_units", 29, 1),
        ("whole_units", 30, 2),
        ("threshold:10", 9, 0),
        ("threshold:10", 10, 1),
        ("threshold:10", 11, 1),
        ("threshold:10", 24, 1),
        ("threshold:10", 25, 2),
    ],
)
def test_h_codes_per_15_minutes_by_the_payers_rounding(
    rounding: str, minutes: int, units: int
) -> None:
    expected = [("H2019", units)] if units else []
    assert lines(ServiceKind.PER_15_MINUTES, minutes, "H2019", rounding=rounding) == expected


@pytest.mark.parametrize(("minutes", "units"), [(30, 0), (31, 1), (32, 1), (90, 1), (91, 2)])
def test_hourly_h_codes(minutes: int, units: int) -> None:
    assert lines(ServiceKind.PER_15_MINUTES, minutes, "H2012") == (
        [("H2012", units)] if units else []
    )


def test_a_payer_may_bill_a_code_by_another_unit() -> None:
    assert lines(ServiceKind.PER_15_MINUTES, 91, "H2017") == [("H2017", 6)]
    assert lines(ServiceKind.PER_15_MINUTES, 91, "H2017", unit_type="per_hour") == [("H2017", 2)]


def test_a_code_of_another_family_is_refused_with_the_reason() -> None:
    suggestion = suggest_codes(ServiceKind.TESTING, minutes=60, code="97153")
    assert not suggestion.billable and "97153 is not a testing code" in suggestion.reason
    empty = suggest_codes(ServiceKind.ADAPTIVE_BEHAVIOR, minutes=60, code="")
    assert "Choose the adaptive behaviour code" in empty.reason


def test_a_billed_testing_code_that_disagrees_with_the_time_is_an_error() -> None:
    check = check_billed_code(
        ServiceKind.TESTING, billed_code="96130", billed_units=1, minutes=25, code="96130"
    )
    assert not check.ok and "31 minutes" in check.message


def test_the_scrubber_uses_the_payers_rounding_for_one_code() -> None:
    h_line = replace(LINE, service_code="H2019", kind="per_15_minutes", minutes=23, units=2)
    claim = replace(CLEAN, lines=(h_line,))
    assert [f.rule for f in scrub(claim)] == []
    whole = replace(PAYER, coding=PayerCoding(rounding_by_code={"H2019": "whole_units"}))
    assert [f.rule for f in scrub(replace(claim, payer=whole))] == ["time_mismatch"]


def test_a_code_the_payer_does_not_accept() -> None:
    payer = replace(PAYER, coding=PayerCoding(not_accepted=frozenset({"90834"})))
    finding = scrub(replace(CLEAN, payer=payer))[0]
    assert finding.rule == "payer_code_not_accepted" and "does not accept 90834" in finding.message


# --- Procedure codes by their effective dates -----------------------------------------------------


def test_procedure_codes_carry_effective_dates() -> None:
    assert not code_in_effect("G0553", date(2024, 12, 31)).ok
    assert code_in_effect("G0553", date(2025, 1, 1)).ok
    assert code_in_effect("99999", date(2025, 1, 1)).ok  # not ours to judge
    early = replace(
        CLEAN,
        lines=(
            replace(
                LINE,
                service_code="G0552",
                kind="untimed",
                minutes=None,
                date_of_service=date(2024, 12, 31),
            ),
        ),
        coverage_from=date(2024, 1, 1),
        diagnoses=(DiagnosisFacts("F33.1", date(2024, 1, 1), None),),
        today=date(2025, 1, 2),
    )
    assert "code_not_in_effect" in [f.rule for f in scrub(early)]


@pytest.mark.parametrize(
    ("name", "values"),
    [("ncci_ptp.csv", {"yes", "pair", "no"}), ("ncci_mue.csv", {"yes", "units", "no"})],
)
def test_every_ncci_row_says_whether_a_source_confirms_it(name: str, values: set[str]) -> None:
    """A value nobody could check is marked so, and a confirmed one names a source key the
    file's header explains."""
    text = (codesets.HERE / name).read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for row in codesets.rows(name):
        assert row["confirmed"] in values, row
        if row["confirmed"] != "no":
            assert row["source"] and f"{row['source']} =" in header, row
    assert "NOT confirmed" in header


def test_the_pairs_a_payer_policy_states_are_marked_confirmed_and_the_rest_are_not() -> None:
    by_pair = {(e.column1, e.column2): e for e in SETS.ptp}
    assert by_pair[("90839", "90791")].confirmed == "pair"
    assert by_pair[("90837", "90847")].confirmed == "pair"
    assert (
        by_pair[("90837", "90847")].modifier_indicator == 1
    )  # "except when separate and distinct"
    assert by_pair[("90791", "90792")].confirmed == "no"
    assert SETS.mue["97153"].max_units == 32 and SETS.mue["97153"].confirmed == "units"
    assert SETS.mue["90837"].confirmed == "no"


# --- NCCI PTP pairs: every pair, with and without a bypass modifier -------------------------------


def _pair(edit: codesets.PtpEdit, second_modifiers: tuple[str, ...]) -> ClaimFacts:
    return replace(
        CLEAN,
        lines=(
            replace(LINE, service_code=edit.column1, kind="untimed", minutes=None),
            replace(
                LINE,
                number=2,
                service_code=edit.column2,
                kind="untimed",
                minutes=None,
                modifiers=second_modifiers,
            ),
        ),
    )


def _ptp(claim: ClaimFacts) -> list[str]:
    return [f.message for f in scrub(claim) if f.rule == "ncci_ptp"]


@pytest.mark.parametrize("edit", SETS.ptp, ids=lambda e: f"{e.column1}-{e.column2}")
def test_every_ptp_pair_without_and_with_a_bypass_modifier(edit: codesets.PtpEdit) -> None:
    found = _ptp(_pair(edit, ()))
    assert len(found) == 1
    assert f"{edit.column1} (line 1)" in found[0] and f"{edit.column2} (line 2)" in found[0]
    assert f"{edit.column1}/{edit.column2} ({edit.quarter})" in found[0]
    bypassed = _ptp(_pair(edit, ("XE",)))
    if edit.modifier_indicator == 1:
        assert bypassed == []
    else:
        assert len(bypassed) == 1 and "XE not allowed" in bypassed[0]


def test_the_bypass_modifier_belongs_on_the_column_two_code() -> None:
    edit = next(e for e in SETS.ptp if e.modifier_indicator == 1)
    claim = _pair(edit, ())
    on_first = replace(claim, lines=(replace(claim.lines[0], modifiers=("59",)), claim.lines[1]))
    assert len(_ptp(on_first)) == 1


def test_a_pair_across_two_claims_of_the_day_names_the_other_claim() -> None:
    other = SameDayLine("PC777", 1, "90839", (), 1, LINE.date_of_service, "prov-1")
    ours = replace(
        CLEAN,
        lines=(replace(LINE, rendering_provider="prov-1"),),
        same_day_lines=(other,),
    )
    found = _ptp(ours)
    assert found and "90839 (claim PC777 line 1)" in found[0] and "90834 (line 1)" in found[0]
    another_provider = replace(ours, same_day_lines=(replace(other, rendering_provider="prov-2"),))
    assert _ptp(another_provider) == []
    another_day = replace(ours, same_day_lines=(replace(other, date_of_service=date(2026, 10, 2)),))
    assert _ptp(another_day) == []


# --- MUE: units a day across every claim ---------------------------------------------------------


def _assessment(units: int, modifiers: tuple[str, ...] = ()) -> ClaimFacts:
    return replace(
        CLEAN,
        lines=(
            replace(
                LINE,
                service_code="96127",
                kind="untimed",
                minutes=None,
                units=units,
                modifiers=modifiers,
                rendering_provider="prov-1",
            ),
        ),
    )


def test_mue_counts_units_across_two_claims_the_same_day() -> None:
    assert SETS.mue["96127"].max_units == 3
    assert [f.rule for f in scrub(_assessment(3))] == []
    assert [f.rule for f in scrub(_assessment(4))] == ["ncci_mue"]
    other = SameDayLine("PC900", 2, "96127", ("59",), 2, LINE.date_of_service, "prov-1")
    one = replace(_assessment(1), same_day_lines=(other,))
    assert [f.rule for f in scrub(one)] == []  # 1 + 2 = 3
    two = replace(_assessment(2), same_day_lines=(other,))
    finding = scrub(two)[0]
    assert finding.rule == "ncci_mue" and finding.line_number == 1
    assert "4 units of 96127" in finding.message and "claim PC900 line 2" in finding.message
    elsewhere = replace(two, same_day_lines=(replace(other, rendering_provider="prov-2"),))
    assert scrub(elsewhere) == []


def test_the_adaptive_behavior_mue_from_its_source() -> None:
    def day(units: int) -> ClaimFacts:
        line = replace(LINE, service_code="97153", kind="untimed", minutes=None, units=units)
        return replace(CLEAN, lines=(line,))

    assert [f.rule for f in scrub(day(32)) if f.rule == "ncci_mue"] == []
    (finding,) = [f for f in scrub(day(33)) if f.rule == "ncci_mue"]
    assert "the MUE is 32 a day" in finding.message


# --- ICD-10-CM by the year in effect on the date of service ---------------------------------------


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2024, 9, 30), 2024),
        (date(2024, 10, 1), 2025),
        (date(2025, 9, 30), 2025),
        (date(2025, 10, 1), 2026),
        (date(2026, 9, 30), 2026),
        (date(2026, 10, 1), 2027),
    ],
)
def test_the_code_set_year_turns_on_1_october(day: date, year: int) -> None:
    assert fiscal_year(day) == year


def test_a_code_added_on_1_october_is_refused_the_day_before() -> None:
    assert not icd10_in_effect("F50.810", date(2024, 9, 30)).ok
    assert icd10_in_effect("F50.810", date(2024, 10, 1)).ok
    assert icd10_in_effect("F50.81", date(2024, 9, 30)).ok
    refused = icd10_in_effect("F50.81", date(2024, 10, 1))
    assert not refused.ok and "FY2025" in refused.reason


def test_the_30_september_1_october_2026_boundary_with_a_year_file() -> None:
    fy2027 = (
        codesets.IcdChange(2027, "added", "F99.01", "test row"),
        codesets.IcdChange(2027, "deleted", "F33.1", "test row"),
    )
    assert not icd10_in_effect("F99.01", date(2026, 9, 30), fy2027).ok
    assert icd10_in_effect("F99.01", date(2026, 10, 1), fy2027).ok
    assert icd10_in_effect("F33.1", date(2026, 9, 30), fy2027).ok
    assert not icd10_in_effect("F33.1", date(2026, 10, 1), fy2027).ok


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        ("Z59.71", date(2025, 9, 30), date(2025, 10, 1)),  # FY2026
        ("Z59.72", date(2025, 9, 30), date(2025, 10, 1)),  # FY2026
        ("F64.A", date(2026, 9, 30), date(2026, 10, 1)),  # FY2027
    ],
)
def test_a_code_the_year_files_add_is_refused_on_30_september_and_accepted_on_1_october(
    code: str, before: date, after: date
) -> None:
    refused = icd10_in_effect(code, before)
    assert not refused.ok and f"from {after}" in refused.reason
    assert icd10_in_effect(code, after).ok


def test_z59_7_is_billable_until_fy2026_made_it_a_header() -> None:
    assert icd10_in_effect("Z59.7", date(2025, 9, 30)).ok
    refused = icd10_in_effect("Z59.7", date(2025, 10, 1))
    assert not refused.ok and "FY2026" in refused.reason


def test_the_scrubber_refuses_an_fy2027_code_on_a_line_before_1_october_2026() -> None:
    def on(day: date) -> ClaimFacts:
        return replace(
            CLEAN,
            lines=(replace(LINE, date_of_service=day),),
            diagnoses=(DiagnosisFacts("F64.A", date(2026, 1, 1), None),),
            today=date(2026, 10, 15),
        )

    found = [f for f in scrub(on(date(2026, 9, 30))) if f.rule.startswith("diagnosis")]
    assert [(f.rule, f.line_number) for f in found] == [("diagnosis_code_year", 1)]
    assert [f for f in scrub(on(date(2026, 10, 1))) if f.rule.startswith("diagnosis")] == []


def test_the_scrubber_checks_each_line_against_its_own_years_code_set() -> None:
    before, after = date(2024, 9, 30), date(2024, 10, 1)
    claim = replace(
        CLEAN,
        lines=(
            replace(LINE, date_of_service=before),
            replace(
                LINE,
                number=2,
                date_of_service=after,
                modifiers=("XE",),
                service_code="90832",
                minutes=30,
            ),
        ),
        diagnoses=(DiagnosisFacts("F50.810", date(2024, 1, 1), None),),
        coverage_from=date(2024, 1, 1),
        today=date(2024, 10, 15),
    )
    found = [(f.rule, f.line_number) for f in scrub(claim) if f.rule.startswith("diagnosis")]
    assert found == [("diagnosis_code_year", 1)]


def test_the_scrubber_applies_same_day_edits_across_the_days_claims(practice: Any) -> None:
    """A 45-minute session billed on one claim and a crisis session the same day on another:
    the second claim carries the PTP finding naming the first claim's line."""
    from claims import services
    from claims.models import Claim
    from rcm import part2
    from rcm.tenancy.context import tenant_context
    from tests.claims.conftest import dos

    practice.session(45)
    with tenant_context(practice.org):
        (first,) = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims
    practice.session(80, kind="crisis")
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        second = Claim.objects.exclude(pk=first.pk).get()
        findings = [(f.rule, f.message) for f in second.findings.all()]
    assert [rule for rule, _ in findings] == ["ncci_ptp"]
    assert f"90834 (claim {first.patient_control_number} line 1)" in findings[0][1]
    assert "90839 (line 1)" in findings[0][1]


def test_payer_overrides_are_validated_and_reach_the_scrubber(practice: Any) -> None:
    from claims import services
    from claims.models import PayerBillingRule
    from rcm.errors import DomainError
    from rcm.tenancy.context import tenant_context

    with tenant_context(practice.org):
        payer = practice.payer
        with pytest.raises(DomainError, match="threshold:N") as bad_rounding:
            services.payer_billing_rule_create(payer=payer, rule_type="unit_rounding", value="half")
        assert bad_rounding.value.field == "value"
        with pytest.raises(DomainError, match="names its service code"):
            services.payer_billing_rule_create(payer=payer, rule_type="unit_type", value="per_hour")
        with pytest.raises(DomainError, match="Name the service code"):
            services.payer_billing_rule_create(payer=payer, rule_type="not_accepted", value="x")
        services.payer_billing_rule_create(
            payer=payer, rule_type="unit_rounding", service_code="H2019", value="threshold:10"
        )
        services.payer_billing_rule_create(
            payer=payer, rule_type="unit_type", service_code="H2017", value="per_hour"
        )
        services.payer_billing_rule_create(
            payer=payer, rule_type="not_accepted", service_code="H0004", value=""
        )
        edits = services.payer_edits(
            payer, PayerBillingRule.objects.filter(payer=payer), licensure_modifier=None
        )
    assert edits.rounding_for("H2019") == "threshold:10"
    assert edits.rounding_for("H2017") == "midpoint"
    assert edits.coding.unit_types == {"H2017": "per_hour"}
    assert edits.coding.not_accepted == frozenset({"H0004"})


def test_the_live_suggestion_uses_the_payers_unit_for_a_code(practice: Any) -> None:
    from datetime import timedelta

    from claims import services
    from rcm.tenancy.context import tenant_context
    from tests.claims.conftest import at, dos

    def preview() -> list[tuple[str, int]]:
        found = services.charge_preview(
            patient=practice.patient,
            rendering_provider=practice.provider,
            date_of_service=dos(),
            kind="per_15_minutes",
            service_code="H2017",
            start_at=at(dos(), 9),
            end_at=at(dos(), 9) + timedelta(minutes=91),
        )
        return [(x.code, x.units) for x in found.suggestion.lines]

    with tenant_context(practice.org):
        assert preview() == [("H2017", 6)]
        services.payer_billing_rule_create(
            payer=practice.payer, rule_type="unit_type", service_code="H2017", value="per_hour"
        )
        assert preview() == [("H2017", 2)]


# --- Revenue codes on 837I lines ----------------------------------------------------------------


def _facility(*codes: str, form: str = "837I") -> ClaimFacts:
    return replace(
        CLEAN,
        claim_form=form,
        lines=tuple(
            replace(
                LINE,
                number=n,
                service_code="H0019",
                kind="per_diem",
                minutes=None,
                level="3.5",
                revenue_code=code,
                date_of_service=date(2026, 10, n),
            )
            for n, code in enumerate(codes, start=1)
        ),
    )


def _revenue(claim: ClaimFacts) -> list[tuple[int | None, str]]:
    return [(f.line_number, f.message) for f in scrub(claim) if f.rule == "revenue_code"]


@pytest.mark.parametrize("code", sorted(SETS.revenue_codes))
def test_every_revenue_code_of_the_data_goes_on_an_837i_line(code: str) -> None:
    assert _revenue(_facility(code)) == []


@pytest.mark.parametrize(
    ("codes", "line", "says"),
    [
        (("1001", ""), 2, "has no revenue code"),
        (("0123", "1001"), 1, "revenue code 0123, which is not one of"),
        (("1001", "1001", "9999"), 3, "revenue code 9999"),
    ],
)
def test_an_837i_line_without_a_known_revenue_code_is_refused_by_line(
    codes: tuple[str, ...], line: int, says: str
) -> None:
    (found,) = _revenue(_facility(*codes))
    assert found[0] == line and f"Line {line} (H0019 on 2026-10-0{line})" in found[1]
    assert says in found[1]


def test_an_837p_claim_needs_no_revenue_code() -> None:
    assert _revenue(_facility("", "0123", form="837P")) == []


def test_a_revenue_code_outside_its_dates_is_refused() -> None:
    entry = SETS.revenue_codes["0905"]
    ended = {"0905": replace(entry, effective_to=date(2026, 9, 30))}
    assert check_revenue_code("0905", date(2026, 9, 30), ended) == ""
    reason = check_revenue_code("0905", date(2026, 10, 1), ended)
    assert "in effect only from 2007-05-23 to 2026-09-30, not on 2026-10-01" in reason
    assert "in effect only from" in check_revenue_code("0905", date(2007, 5, 22))


@pytest.mark.parametrize(
    "level", ["3.2-WM", "3.7-WM", "4-WM", "3.1", "3.3", "3.5", "3.7", "2.5", "2.1"]
)
@pytest.mark.parametrize("substance_use", [False, True])
def test_the_revenue_code_a_built_claim_gets_is_in_the_data(
    level: str, substance_use: bool
) -> None:
    code = revenue_code(level, substance_use=substance_use)
    assert check_revenue_code(code, date(2026, 12, 7)) == ""


def test_the_scrubber_refuses_a_built_837i_line_without_a_revenue_code(practice: Any) -> None:
    from claims import services
    from claims.models import Claim, ClaimStatus
    from rcm import part2
    from rcm.tenancy.context import tenant_context
    from tests.claims.conftest import dos

    practice.session(45)
    with tenant_context(practice.org):
        (claim,) = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims
        assert not claim.findings.filter(rule="revenue_code").exists()
        Claim.objects.filter(pk=claim.pk).update(claim_form="837I")
        services.claims_scrub(claim_ids=[claim.pk], today=dos())
        (finding,) = claim.findings.filter(rule="revenue_code")
        assert finding.line.line_number == 1 and "has no revenue code" in finding.message
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.DRAFT
        claim.lines.update(revenue_code="0914")
        services.claims_scrub(claim_ids=[claim.pk], today=dos())
        assert not claim.findings.filter(rule="revenue_code").exists()
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY
