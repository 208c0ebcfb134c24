"""Pure rules: ICD-10-CM validation and the 42 CFR Part 2 consent decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from patients.rules import check_icd10, consent_decision, normalize_icd10


@pytest.mark.parametrize(
    ("raw", "code"),
    [("f1020", "F10.20"), (" F33.1 ", "F33.1"), ("F431.0", "F43.10"), ("z63", "Z63")],
)
def test_codes_are_normalised_with_the_dot_after_three_characters(raw: str, code: str) -> None:
    assert normalize_icd10(raw) == code


def test_a_billable_code_is_accepted_with_its_description() -> None:
    check = check_icd10("F10.20")
    assert check.ok and check.description == "Alcohol dependence, uncomplicated"


def test_an_unknown_code_is_named_in_the_reason() -> None:
    check = check_icd10("F99.99")
    assert not check.ok and check.reason == "F99.99 is not an ICD-10-CM code."


def test_a_category_is_not_billable_and_the_reason_suggests_a_complete_code() -> None:
    check = check_icd10("F10.2")
    assert not check.ok
    assert "F10.2 is a category, not a billable code" in check.reason and "F10.20" in check.reason


def test_a_code_a_later_icd_year_adds_is_accepted_on_the_chart() -> None:
    # F64.A is new in FY2027 and not in the shipped release: the chart records it (the scrubber
    # judges it by each line's date of service), with the description from the year file.
    check = check_icd10("f64a")
    assert check.ok and check.code == "F64.A"
    assert check.description == "Gender identity disorder, in remission"


def test_a_code_no_release_or_year_knows_is_still_refused() -> None:
    assert not check_icd10("F64.B").ok


PAYER_A, PAYER_B = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass
class C:
    recipient_class: str = "all_health_plans"
    recipient_payer_id: object = None
    purpose: str = "payment"
    signed_on: date = date(2026, 1, 1)
    expires_on: date | None = date(2027, 1, 1)
    revoked_at: datetime | None = None


def decide(
    *consents: C, payer: object = PAYER_A, purpose: str = "payment", on: date = date(2026, 5, 1)
):  # type: ignore[no-untyped-def]
    return consent_decision(
        list(consents), payer_id=payer, purpose=purpose, on_date=on, revoked_before=NOW
    )


def test_no_consent_on_file() -> None:
    assert decide().reason == "No Part 2 consent is on file for this patient."


def test_a_class_recipient_covers_any_health_plan() -> None:
    assert decide(C(), payer=PAYER_B).covered


def test_a_named_payer_covers_only_that_payer() -> None:
    consent = C(recipient_class="named_payer", recipient_payer_id=PAYER_A)
    assert decide(consent).covered
    assert decide(consent, payer=PAYER_B).reason == "The consent on file names a different payer."


def test_a_revoked_consent_covers_nothing_from_its_revocation() -> None:
    decision = decide(C(revoked_at=datetime(2026, 5, 20, tzinfo=UTC)))
    assert not decision.covered and decision.reason == "The consent was revoked on 2026-05-20."


def test_an_expired_consent_names_its_expiry_date() -> None:
    decision = decide(C(expires_on=date(2026, 4, 30)))
    assert not decision.covered and decision.reason == "The consent expired on 2026-04-30."


def test_a_consent_signed_after_the_service_does_not_cover_it() -> None:
    assert "signed on 2026-05-02" in decide(C(signed_on=date(2026, 5, 2))).reason


def test_tpo_covers_payment_but_payment_does_not_cover_tpo() -> None:
    assert decide(C(purpose="tpo"), purpose="payment").covered
    assert not decide(C(purpose="payment"), purpose="tpo").covered


def test_a_consent_for_another_recipient_is_not_a_health_plan_consent() -> None:
    assert "another recipient" in decide(C(recipient_class="other")).reason


def test_any_valid_consent_among_several_is_enough() -> None:
    revoked = C(signed_on=date(2026, 3, 1), revoked_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert decide(revoked, C()).covered
