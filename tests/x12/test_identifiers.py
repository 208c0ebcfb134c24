"""ZIP codes and phone numbers: the one check every app uses (x12.identifiers)."""

from __future__ import annotations

import pytest

from x12.identifiers import normalize_phone, phone_error, zip_code_error


@pytest.mark.parametrize("value", ["97204", "97204-1234", "972041234", " 62701 "])
def test_five_and_nine_digit_zip_codes_pass(value: str) -> None:
    assert zip_code_error(value) is None


@pytest.mark.parametrize("value", ["9720", "97204-12", "ABCDE", "97204 1234", ""])
def test_other_zip_codes_are_refused(value: str) -> None:
    assert zip_code_error(value) == "A ZIP code is 5 digits, or 9 for ZIP+4 (12345 or 12345-6789)."


@pytest.mark.parametrize(
    "value", ["503-555-0100", "(503) 555-0100", "+1 503.555.0100", "15035550100", "5035550100"]
)
def test_us_phone_numbers_pass_however_punctuated(value: str) -> None:
    assert phone_error(value) is None
    assert normalize_phone(value) == "5035550100"


def test_a_number_without_its_area_code_is_refused() -> None:
    assert phone_error("555-0100") == (
        "A phone number is 10 digits with its area code, e.g. 503-555-0100."
    )
    assert normalize_phone(" 555-0100 ") == "555-0100"


def test_an_area_code_or_exchange_starting_with_0_or_1_is_refused() -> None:
    assert "area code and exchange start with 2-9" in (phone_error("103-555-0100") or "")
    assert "area code and exchange start with 2-9" in (phone_error("503-155-0100") or "")
