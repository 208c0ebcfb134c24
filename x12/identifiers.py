"""Checks of the identifiers an 837 carries: NPI (with its check digit), EIN, taxonomy code,
street addresses (no PO box), ZIP codes, USPS state codes, phone numbers and names. One implementation for the 837
pre-write checks, the organization's billing identity (rcm.tenancy.rules), credentialing's
providers and facilities, and patients' and payers' addresses. Pure: strings in, a reason (or
None) out.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# The NPI check digit is the Luhn digit over the card-issuer prefix 80840 followed by the first
# nine digits of the NPI (CMS, "Requirements for NPI check digit").
NPI_PREFIX = "80840"
TAXONOMY_RE = re.compile(r"^\d{3}[A-Z0-9]{6}X$")
EIN_RE = re.compile(r"^\d{2}-?\d{7}$")
# A US ZIP code or ZIP+4 (the 837's N403 carries 5 or 9 digits, without the hyphen).
ZIP_RE = re.compile(r"^\d{5}(-?\d{4})?$")
# What people type around the digits of a phone number: spaces, dashes, dots, parentheses.
PHONE_PUNCTUATION_RE = re.compile(r"[\s\-.()]")
# "PO Box", "P.O. Box", "Post Office Box", "POB 12", "Box 12" at the start of a line.
PO_BOX_RE = re.compile(
    r"^\s*(p\.?\s*o\.?\s*b(ox)?\b|post\s+office\s+box\b|box\s+\d)|\bp\.?\s*o\.?\s*box\b",
    re.IGNORECASE,
)


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits + check` pass the Luhn test."""
    total = 0
    # Walk from the right; the digit next to the (missing) check digit is doubled.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def npi_with_check_digit(first_nine: str) -> str:
    """A valid NPI from its first nine digits (for tests and demo data)."""
    return first_nine + str(luhn_check_digit(NPI_PREFIX + first_nine))


def npi_error(value: str) -> str | None:
    """Why `value` is not a valid NPI, or None when it is."""
    if len(value) != 10 or not value.isdigit():
        return "An NPI is exactly 10 digits."
    if value[0] not in "12":
        return "An NPI starts with 1 or 2."
    expected = luhn_check_digit(NPI_PREFIX + value[:9])
    if int(value[9]) != expected:
        return (
            f"{value} fails the NPI check digit (Luhn over 80840 + the first nine digits): "
            f"the last digit should be {expected}. Check for a typo."
        )
    return None


def ein_error(value: str) -> str | None:
    if not EIN_RE.match(value):
        return "An EIN is 9 digits, written 12-3456789."
    if value.replace("-", "")[:2] in {"00", "07", "08", "09", "17", "18", "19", "28", "29"}:
        return f"{value[:2]} is not a prefix the IRS assigns to EINs."
    return None


def normalize_ein(value: str) -> str:
    """'12-3456789' -> '123456789' (stored as digits, as the 837 REF*EI wants it); anything
    malformed is returned stripped, for `ein_error` to name."""
    digits = value.strip().replace("-", "")
    return digits if len(digits) == 9 and digits.isdigit() else value.strip()


def taxonomy_error(value: str) -> str | None:
    if not TAXONOMY_RE.match(value):
        return (
            "A taxonomy code is 10 characters: three digits, six letters or digits, then X "
            "(e.g. 2084P0800X)."
        )
    return None


def po_box_error(value: str) -> str | None:
    if value and PO_BOX_RE.search(value):
        return "A billing or service address must be a street address: the 837 refuses a PO box."
    return None


def zip_code_error(value: str) -> str | None:
    """Why `value` is not a US ZIP code (12345, 12345-6789 or 123456789), or None."""
    if not ZIP_RE.match(value.strip()):
        return "A ZIP code is 5 digits, or 9 for ZIP+4 (12345 or 12345-6789)."
    return None


def normalize_zip(value: str) -> str:
    """'97204-1234' -> '972041234': stored as the 837's N403 carries it (5 or 9 digits, no
    hyphen); anything malformed is returned stripped, for `zip_code_error` to name."""
    text = value.strip()
    return text.replace("-", "") if ZIP_RE.match(text) else text


def format_zip(value: str) -> str:
    """'972041234' -> '97204-1234' (how people read a ZIP+4); other values unchanged."""
    text = (value or "").strip()
    if len(text) == 9 and text.isdigit():
        return f"{text[:5]}-{text[5:]}"
    return text


# USPS two-letter codes: the 50 states, the District of Columbia, the territories and freely
# associated states, and the armed forces "states" (USPS Publication 28, appendix B).
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
        "UM",
        "FM",
        "MH",
        "PW",
        "AA",
        "AE",
        "AP",
    ]
)


def state_error(value: str) -> str | None:
    """Why `value` is not a USPS state code (N402), or None. Lowercase is accepted."""
    if value.strip().upper() not in US_STATES:
        return (
            f"{value.strip()!r} is not a US state code: use the two-letter USPS code "
            "(e.g. OR, NY, DC, PR)."
        )
    return None


def normalize_state(value: str) -> str:
    return value.strip().upper()


# The X12 delimiters an 837 uses (element, component, repetition, segment): a name holding one
# would shift every element after it.
X12_SEPARATORS = frozenset("*:^~")
# Name elements of the 837 (NM103 last or organization name, NM104 first, NM105 middle).
NAME_LENGTHS = {"last": 60, "first": 35, "middle": 25}


def name_error(value: str, *, max_length: int = 60) -> str | None:
    """Why `value` cannot be a name element of an 837 (NM103-NM105), or None: it must hold a
    letter, fit the element, and use only the X12 basic and extended character sets (printable
    ASCII) without the separators ~ * : ^ or control characters."""
    text = value.strip()
    for char in text:
        if char in X12_SEPARATORS:
            return f"{char!r} is an X12 separator and cannot be in a name sent on a claim."
        if unicodedata.category(char).startswith("C"):
            return "A name cannot hold control characters (tabs, line breaks...)."
        if not char.isascii():
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            hint = f" (write {plain!r})" if plain else ""
            return (
                f"{char!r} is outside the X12 character set the 837 uses: write the name in "
                f"plain letters{hint}."
            )
    if text and not any(c.isalpha() for c in text):
        return "A name must hold at least one letter."
    if len(text) > max_length:
        return f"A claim carries at most {max_length} characters of this name."
    return None


def phone_e164(value: str) -> str:
    """The number in E.164 ('(503) 555-0100' -> '+15035550100'); a value that is no phone
    number is returned stripped, for `phone_error` to name."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """A stored E.164 number as people read it: (503) 555-0100 for a US one."""
    text = (value or "").strip()
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def normalize_phone(value: str) -> str:
    """The ten digits of a US phone number ('+1 (503) 555-0100' -> '5035550100', as the 837's
    PER segment wants them); anything that is not one is returned stripped, for `phone_error`."""
    digits = PHONE_PUNCTUATION_RE.sub("", value.strip()).removeprefix("+")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 and digits.isdigit() else value.strip()


def phone_error(value: str) -> str | None:
    """Why `value` is not a phone number, or None (the `phonenumbers` package, US by default).
    Punctuation and a leading +1 are allowed; a US number has its area code, and the area code
    and exchange start with 2-9 (North American Numbering Plan)."""
    text = value.strip()
    ten_digits = "A phone number is 10 digits with its area code, e.g. 503-555-0100."
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return ten_digits
    if number.country_code == 1:
        digits = str(number.national_number)
        if len(digits) != 10:
            return ten_digits
        if digits[0] in "01" or digits[3] in "01":
            return f"{text} is not a US number: the area code and exchange start with 2-9."
    if not phonenumbers.is_valid_number(number):
        return f"{text} is not a valid phone number."
    return None
