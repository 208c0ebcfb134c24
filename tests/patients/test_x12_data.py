"""Data an 837 accepts, checked the same way by the patient form, the API, the CSV import and
the services (rcm.validators over x12.identifiers): a US ZIP of 5 or 9 digits stored without its
hyphen, a USPS state code, a phone number stored in E.164, names without X12 separators."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from patients import services
from patients.importer import patients_import_csv
from patients.models import Patient
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.validators import clean_phone, clean_state, clean_zip_code, name_cleaner
from tests.clock import today

LIST = "/o/riverbend/patients/"
API = "/api/v1"
PERSON = {"mrn": "N1", "first_name": "Ana", "last_name": "Lopez", "date_of_birth": "1990-02-03",
          "sex": "F"}  # fmt: skip


@pytest.mark.parametrize("value", ["ABCDE", "123456", "1234", "97204-12", "9720a"])
def test_a_zip_that_is_not_5_or_9_digits_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="A ZIP code is 5 digits, or 9"):
        clean_zip_code(value)


def test_a_zip_plus_4_is_stored_without_its_hyphen_and_shown_with_it() -> None:
    assert clean_zip_code("97204-1234") == "972041234"
    assert clean_zip_code(" 97204 ") == "97204"
    shown = Template("{{ z|zip_code }} {{ f|zip_code }}").render(
        Context({"z": "972041234", "f": "97204"})
    )
    assert shown == "97204-1234 97204"


@pytest.mark.parametrize("value", ["XX", "Oregon", "O", "ZZ"])
def test_a_state_that_is_not_a_usps_code_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="not a US state code"):
        clean_state(value)


@pytest.mark.parametrize("value,stored", [("or", "OR"), ("DC", "DC"), ("pr", "PR"), ("GU", "GU")])
def test_states_dc_and_territories_pass_in_capitals(value: str, stored: str) -> None:
    assert clean_state(value) == stored


@pytest.mark.parametrize("value", ["555-0100", "12", "call me", "103-555-0100"])
def test_a_bad_phone_number_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        clean_phone(value)


def test_a_phone_number_is_stored_in_e164_and_shown_nationally() -> None:
    assert clean_phone("(503) 555-0100") == "+15035550100"
    assert clean_phone("+44 20 7946 0958") == "+442079460958"
    assert Template("{{ p|phone }}").render(Context({"p": "+15035550100"})) == "(503) 555-0100"


@pytest.mark.parametrize("value", ["Do*e", "Do~e", "Do:e", "Do^e", "Do\te", "Zoë", "123"])
def test_a_name_x12_cannot_carry_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        name_cleaner("last")(value)


def test_names_with_apostrophes_hyphens_and_spaces_pass() -> None:
    assert name_cleaner("last")(" O'Neil-De La Cruz ") == "O'Neil-De La Cruz"


def test_a_first_name_longer_than_nm104_allows_is_refused() -> None:
    with pytest.raises(ValidationError, match="at most 35"):
        name_cleaner("first")("A" * 36)


def test_the_patient_form_shows_every_bad_value_beside_its_field(
    org: Any, biller: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{LIST}new/",
        {**PERSON, "last_name": "Lo*pez", "postal_code": "ABCDE", "state": "XX",
         "phone": "555-0100", "status": "active"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"last_name", "postal_code", "state", "phone"}
    assert "X12 separator" in errors["last_name"][0]
    with tenant_context(org):
        assert not Patient.objects.exists()


def test_the_patient_form_stores_zip_and_phone_normalized(
    org: Any, biller: Any, client_for: Any
) -> None:
    response = client_for(biller).post(
        f"{LIST}new/",
        {**PERSON, "postal_code": "97204-1234", "state": "or", "phone": "(503) 555-0100",
         "status": "active"},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_context(org):
        patient = Patient.objects.get()
    assert (patient.postal_code, patient.state, patient.phone) == (
        "972041234",
        "OR",
        "+15035550100",
    )
    page = client_for(biller).get(f"{LIST}{patient.pk}/").content.decode()
    assert "97204-1234" in page and "(503) 555-0100" in page


def test_the_api_names_each_bad_field(org: Any, api_client_for: Any) -> None:
    response = api_client_for(org).post(
        f"{API}/patients/",
        {**PERSON, "postal_code": "123456", "state": "Oregon", "phone": "12"},
        format="json",
    )
    assert response.status_code == 400, response.content
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"postal_code", "state", "phone"}
    with tenant_context(org):
        assert not Patient.objects.exists()


def test_the_service_refuses_what_the_form_refuses(org: Any) -> None:
    with tenant_context(org):
        with pytest.raises(DomainError) as refused:
            services.patient_create(
                today=today(), mrn="S1", first_name="A", last_name="B",
                date_of_birth=date(1990, 1, 1), sex="F", postal_code="ABCDE",
            )  # fmt: skip
        assert refused.value.field == "postal_code"


def test_an_import_row_with_a_bad_zip_refuses_the_whole_file_naming_the_row(org: Any) -> None:
    text = "\n".join(
        [
            "mrn,first_name,last_name,date_of_birth,sex,state,postal_code,phone",
            "A-1,Ana,Lopez,1990-02-03,F,OR,97204,503-555-0100",
            "A-2,Ben,Kim,2001-07-04,M,OR,ABCDE,503-555-0101",
            "A-3,Cal,O*de,1960-12-31,U,XX,97204,",
        ]
    )
    with tenant_context(org):
        report = patients_import_csv(text=text, today=today())
        assert not Patient.objects.exists()
    problems = {(p.row, p.column) for p in report.problems}
    assert problems == {(3, "postal_code"), (4, "last_name"), (4, "state")}
    assert "row 3, column postal_code: A ZIP code is 5 digits" in str(report.problems[0])
