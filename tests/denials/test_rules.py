from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from denials import rules
from denials.rules import Cas, Reason

D = Decimal
TODAY = date(2026, 11, 1)
REASONS = {
    "45": Reason("contractual"),
    "1": Reason("patient_share"),
    "197": Reason("denial", "authorization"),
    "16": Reason("denial", "information_missing"),
    "18": Reason("denial", "duplicate"),
    "50": Reason("denial", "medical_necessity"),
}


def test_patient_share_contract_and_denials_are_split_apart():
    split = rules.split_adjustments(
        [
            Cas("CO", "45", D("10")),
            Cas("PR", "1", D("20")),
            Cas("CO", "197", D("30")),
            Cas("OA", "197", D("5")),
            Cas("CR", "45", D("1")),
        ],
        REASONS,
    )
    assert (
        split.contractual,
        split.patient_responsibility,
        split.denied,
        split.other_adjusted,
    ) == (
        D("10"),
        D("20"),
        D("35"),
        D("1"),
    )
    assert (split.denial_group, split.denial_reason) == ("CO", "197")


def test_an_unknown_carc_in_a_payer_group_counts_as_denied_so_a_person_sees_it():
    assert rules.split_adjustments([Cas("CO", "ZZ9", D("7"))], REASONS).denied == D("7")


def test_the_rarc_refines_an_information_missing_carc():
    assert (
        rules.denial_category("16", ["N54"], REASONS, {"N54": "authorization"}) == "authorization"
    )
    assert rules.denial_category("16", [], REASONS, {}) == "information_missing"
    assert (
        rules.denial_category("50", ["N54"], REASONS, {"N54": "authorization"})
        == "medical_necessity"
    )
    assert rules.denial_category("XX", [], REASONS, {}) == "other"


def test_priority_orders_by_amount_recoverability_and_deadline():
    def score(amount, category, days):
        return rules.priority_score(
            amount=D(amount), category=category, deadline=TODAY + timedelta(days=days), today=TODAY
        )

    ranked = sorted(
        [
            ("big coding, far", score("1000", "coding", 90)),
            ("big duplicate, near", score("1000", "duplicate", 3)),
            ("small auth, far", score("100", "authorization", 90)),
            ("small auth, near", score("100", "authorization", 2)),
            ("big coding, near", score("1000", "coding", 5)),
        ],
        key=lambda kv: kv[1],
        reverse=True,
    )
    assert [name for name, _ in ranked] == [
        "big coding, near",
        "big coding, far",
        "small auth, near",
        "big duplicate, near",
        "small auth, far",
    ]


def test_a_passed_deadline_sinks_the_item():
    late = rules.priority_score(
        amount=D("500"), category="coding", deadline=TODAY - timedelta(days=1), today=TODAY
    )
    assert late == D("40.00")


@pytest.mark.parametrize(
    ("lines", "code", "status"),
    [
        ([(D("100"), D("0"))], "1", "paid"),
        ([(D("100"), D("0")), (D("0"), D("150"))], "1", "partially_paid"),
        ([(D("0"), D("150"))], "1", "denied"),
        ([(D("0"), D("0"))], "4", "denied"),
    ],
)
def test_claim_outcome(lines, code, status):
    assert rules.claim_outcome(lines, status_code=code) == status


@pytest.mark.parametrize(
    ("days", "threshold"), [(20, None), (14, 14), (8, 14), (7, 7), (3, 3), (0, 3), (-1, None)]
)
def test_escalation_thresholds(days, threshold):
    assert rules.escalation_threshold(TODAY + timedelta(days=days), TODAY) == threshold


def test_recoverability_marks_duplicates_and_timely_filing_as_not_recoverable():
    assert not rules.is_recoverable("duplicate") and not rules.is_recoverable("timely_filing")
    assert rules.is_recoverable("authorization") and rules.is_recoverable("coding")


def test_parity_rules():
    assert rules.is_parity_sensitive_denial("medical_necessity", "1")
    assert not rules.is_parity_sensitive_denial("medical_necessity", "3.5")
    assert not rules.is_parity_sensitive_denial("coding", "1")
    assert rules.rate_far_above(denied=8, total=20, baseline_denied=10, baseline_total=100)
    assert not rules.rate_far_above(denied=3, total=5, baseline_denied=10, baseline_total=100)
    assert not rules.rate_far_above(denied=12, total=100, baseline_denied=10, baseline_total=100)


def test_write_off_rules():
    assert rules.write_off_needs_approval(D("100.01"), D("100"))
    assert not rules.write_off_needs_approval(D("100"), D("100"))
    assert rules.is_small_balance(D("4.99"), D("5")) and not rules.is_small_balance(D("0"), D("5"))
