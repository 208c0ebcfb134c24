"""CSV import: every row checked first, all or nothing, safe to run twice."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patients import services
from patients.importer import patients_import_csv
from patients.models import Coverage, Patient
from rcm.tenancy.context import tenant_context

HEADER = "mrn,first_name,last_name,date_of_birth,sex,city,state,payer_id,member_id,priority,relationship,subscriber_first_name,subscriber_last_name,subscriber_date_of_birth,coverage_effective_date"
GOOD = "\n".join(
    [
        HEADER,
        "A-1,Ana,Lopez,1990-02-03,F,Springfield,il,BP001,W1,primary,self,,,,2026-01-01",
        "A-1,Ana,Lopez,1990-02-03,F,Springfield,il,MCD01,Q9,secondary,self,,,,01/15/2026",
        "A-2,Ben,Kim,07/04/2001,M,Springfield,IL,BP001,W2,primary,child,Sue,Kim,1970-01-01,2026-01-01",
        "A-3,Cal,Ode,1960-12-31,U,,,,,,,,,,",
    ]
)
TODAY = date(2026, 11, 24)


@pytest.fixture
def payers(org: Any) -> None:
    with tenant_context(org):
        services.payer_create(name="Blue Plan", payer_id="BP001", payer_type="commercial")
        services.payer_create(name="State Medicaid", payer_id="MCD01", payer_type="medicaid")


def _import(org: Any, text: str) -> Any:
    with tenant_context(org):
        return patients_import_csv(text=text, today=TODAY)


def test_a_good_file_imports_patients_with_their_coverages(org: Any, payers: None) -> None:
    report = _import(org, GOOD)
    assert report.ok, report.problems
    assert (report.patients_created, report.coverages_created) == (3, 3)
    with tenant_context(org):
        ana = Patient.objects.get(mrn="A-1")
        assert ana.state == "IL"
        assert [c.priority for c in Coverage.objects.filter(patient=ana).order_by("priority")] == [
            1,
            2,
        ]
        assert Coverage.objects.get(member_id="W2").subscriber_first_name == "Sue"


def test_importing_the_same_file_twice_changes_nothing(org: Any, payers: None) -> None:
    _import(org, GOOD)
    second = _import(org, GOOD)
    assert second.ok
    assert (second.patients_created, second.patients_updated, second.patients_unchanged) == (
        0,
        0,
        3,
    )
    assert (second.coverages_created, second.coverages_updated, second.coverages_unchanged) == (
        0,
        0,
        3,
    )
    with tenant_context(org):
        assert Patient.objects.count() == 3 and Coverage.objects.count() == 3


def test_a_changed_row_updates_the_matching_patient(org: Any, payers: None) -> None:
    _import(org, GOOD)
    report = _import(
        org,
        GOOD.replace(
            "Ana,Lopez,1990-02-03,F,Springfield", "Ana,Lopez-Diaz,1990-02-03,F,Springfield"
        ),
    )
    assert report.ok and report.patients_updated == 1


def test_a_wrong_header_is_refused_naming_the_columns(org: Any, payers: None) -> None:
    report = _import(org, "mrn,first,last\nA,B,C")
    assert not report.ok
    problem = report.problems[0]
    assert (
        problem.row == 1
        and "missing first_name, last_name, date_of_birth, sex" in problem.message
        and "unknown first, last" in problem.message
    )


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("A-9,Zed,Q,1990-13-01,F,,,,,,,,,,", "date_of_birth", "is not a date"),
        ("A-9,Zed,Q,2999-01-01,F,,,,,,,,,,", "date_of_birth", "in the future"),
        ("A-9,Zed,Q,1990-01-01,X,,,,,,,,,,", "sex", "not F, M or U"),
        (
            "A-9,Zed,Q,1990-01-01,F,,,NOPE,W9,,,,,,2026-01-01",
            "payer_id",
            "no payer with X12 payer id 'NOPE'",
        ),
        ("A-9,Zed,Q,1990-01-01,F,,,BP001,,,,,,,2026-01-01", "member_id", "is required"),
        ("A-9,,Q,1990-01-01,F,,,,,,,,,,", "first_name", "is required"),
    ],
)
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_imported(
    org: Any, payers: None, row: str, column: str, words: str
) -> None:
    report = _import(org, GOOD + "\n" + row)
    assert not report.ok
    assert [(p.row, p.column) for p in report.problems] == [(6, column)]
    assert words in report.problems[0].message
    with tenant_context(org):
        assert not Patient.objects.exists()


def test_a_rule_broken_while_writing_rolls_back_every_row(org: Any, payers: None) -> None:
    overlapping = "A-1,Ana,Lopez,1990-02-03,F,Springfield,il,MCD01,Q8,primary,self,,,,2026-03-01"
    report = _import(org, GOOD + "\n" + overlapping)
    assert not report.ok
    assert report.problems[0].row == 6 and report.problems[0].column == "priority"
    with tenant_context(org):
        assert not Patient.objects.exists() and not Coverage.objects.exists()


def test_the_import_page_shows_the_summary(
    org: Any, payers: None, biller: Any, client_for: Any
) -> None:
    upload = SimpleUploadedFile("patients.csv", GOOD.encode(), content_type="text/csv")
    response = client_for(biller).post("/o/riverbend/patients/import/", {"file": upload})
    html = response.content.decode()
    assert "Imported 4 rows" in html and "3 new" in html


def test_the_import_page_lists_problems_and_a_non_utf8_file_is_named(
    org: Any, payers: None, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    bad = SimpleUploadedFile("p.csv", (HEADER + "\nA-9,,Q,1990-01-01,F,,,,,,,,,,").encode())
    assert (
        "Nothing was imported"
        in client.post("/o/riverbend/patients/import/", {"file": bad}).content.decode()
    )
    latin = SimpleUploadedFile("p.csv", "mrn,first_name\nA,Jos\xe9".encode("latin-1"))
    assert (
        "not UTF-8"
        in client.post("/o/riverbend/patients/import/", {"file": latin}).content.decode()
    )
