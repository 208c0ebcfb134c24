"""The checks of data an 837 must accept, for every way data comes in: forms
(rcm.form_fields), API serializers (rcm.api_fields), the patient CSV import and the services.

Each cleaner takes the raw text and returns it normalized (ZIP without its hyphen, state in
capitals, phone in E.164, name stripped), or raises Django's ValidationError with a message that
says what is wrong. The rules themselves are the X12 library's (x12.identifiers), so the 837
writer and the scrubber refuse exactly what these refuse."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from x12.identifiers import (
    NAME_LENGTHS,
    name_error,
    normalize_state,
    normalize_zip,
    phone_e164,
    phone_error,
    state_error,
    zip_code_error,
)

Cleaner = Callable[[str], str]


def _checked(value: str, error: str | None, normalized: str) -> str:
    if error:
        raise ValidationError(error, code="invalid")
    return normalized


def clean_zip_code(value: str) -> str:
    """A US ZIP code (5 or 9 digits, a hyphen allowed) stored without the hyphen."""
    return _checked(value, zip_code_error(value), normalize_zip(value))


def clean_state(value: str) -> str:
    """A two-letter USPS state code (states, DC, territories, armed forces), in capitals."""
    return _checked(value, state_error(value), normalize_state(value))


def clean_phone(value: str) -> str:
    """A phone number (the `phonenumbers` package, US by default) stored in E.164."""
    return _checked(value, phone_error(value), phone_e164(value))


def name_cleaner(part: str) -> Cleaner:
    """The cleaner of one part of a person's name ("last", "first", "middle"): what the 837's
    NM103 / NM104 / NM105 accept."""
    max_length = NAME_LENGTHS[part]

    def clean_name(value: str) -> str:
        return _checked(value, name_error(value, max_length=max_length), value.strip())

    return clean_name


# Which cleaner each field of a mailing address or a person takes, by field name: forms,
# serializers, the import and the services look them up here.
ADDRESS_CLEANERS: dict[str, Cleaner] = {"state": clean_state, "postal_code": clean_zip_code}
PERSON_NAME_CLEANERS: dict[str, Cleaner] = {
    "first_name": name_cleaner("first"),
    "middle_name": name_cleaner("middle"),
    "last_name": name_cleaner("last"),
}
SUBSCRIBER_NAME_CLEANERS: dict[str, Cleaner] = {
    "subscriber_first_name": name_cleaner("first"),
    "subscriber_last_name": name_cleaner("last"),
}
PATIENT_CLEANERS: dict[str, Cleaner] = {
    **PERSON_NAME_CLEANERS,
    **ADDRESS_CLEANERS,
    "phone": clean_phone,
}
# A payer's name is NM103 of loop 2010BB.
PAYER_CLEANERS: dict[str, Cleaner] = {
    "name": name_cleaner("last"),
    **ADDRESS_CLEANERS,
    "phone": clean_phone,
}


def clean_fields(data: dict[str, object], cleaners: dict[str, Cleaner]) -> dict[str, str]:
    """Clean the non-blank values of `data` that have a cleaner, in place; returns
    {field: message} for every value refused (all of them, not only the first)."""
    errors: dict[str, str] = {}
    for field, cleaner in cleaners.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            data[field] = cleaner(value)
        except ValidationError as error:
            errors[field] = error.messages[0]
    return errors
