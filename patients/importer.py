"""CSV import of patients with their coverages, the way clinics migrate from spreadsheets.

Every row is checked before anything is written; the import is all or nothing; matching on MRN
(and payer + member id for coverages) makes a second run of the same file change nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from patients import services
from patients.models import Coverage, Patient, Payer, Sex, SubscriberRelationship
from patients.services import PATIENT_FIELDS
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.validators import PATIENT_CLEANERS, SUBSCRIBER_NAME_CLEANERS, clean_fields

PATIENT_COLUMNS = [name for name in PATIENT_FIELDS if name != "status"]
COVERAGE_COLUMNS = [
    "payer_id",
    "member_id",
    "group_number",
    "plan_name",
    "priority",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_date_of_birth",
    "coverage_effective_date",
    "coverage_termination_date",
]
COLUMNS = PATIENT_COLUMNS + COVERAGE_COLUMNS
REQUIRED = ["mrn", "first_name", "last_name", "date_of_birth", "sex"]
# The template's example row: one patient without coverage, so the template imports as it is.
TEMPLATE_EXAMPLE = {
    "mrn": "EXAMPLE-1",
    "first_name": "Jane",
    "last_name": "Example",
    "date_of_birth": "1980-05-01",
    "sex": "F",
    "address_line1": "12 Main St",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}


def template_rows() -> list[list[str]]:
    """The import template: the columns, then one example row to overwrite."""
    return [COLUMNS, [TEMPLATE_EXAMPLE.get(column, "") for column in COLUMNS]]


PRIORITY_WORDS = {"1": 1, "2": 2, "3": 3, "primary": 1, "secondary": 2, "tertiary": 3}
RELATIONSHIP_WORDS = {"self": "18", "spouse": "01", "child": "19", "other": "G8"} | {
    code: code for code in SubscriberRelationship.values
}
MAX_ROWS = 20_000


@dataclass(frozen=True)
class ImportProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    patients_created: int = 0
    patients_updated: int = 0
    patients_unchanged: int = 0
    coverages_created: int = 0
    coverages_updated: int = 0
    coverages_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Row:
    number: int
    patient: dict[str, Any]
    coverage: dict[str, Any] | None


def _parse_date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007  (a date, no time zone)
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD or MM/DD/YYYY)")


def _check_row(
    number: int,
    raw: dict[str, str],
    payers: dict[str, Payer],
    today: date,
    problems: list[ImportProblem],
) -> _Row | None:
    start = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(ImportProblem(number, column, message))

    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for name in REQUIRED:
        if not values[name]:
            problem(name, "is required")
    patient: dict[str, Any] = {k: values[k] for k in PATIENT_COLUMNS}
    if values["date_of_birth"]:
        try:
            patient["date_of_birth"] = _parse_date(values["date_of_birth"])
            if patient["date_of_birth"] > today:
                problem("date_of_birth", "is in the future")
        except ValueError as exc:
            problem("date_of_birth", str(exc))
    sex = values["sex"].upper()[:1]
    if values["sex"] and sex not in Sex.values:
        problem("sex", f"'{values['sex']}' is not F, M or U")
    patient["sex"] = sex
    # The same checks as the patient form and the API (ZIP, state, phone, names an 837 accepts).
    for column, message in clean_fields(patient, PATIENT_CLEANERS).items():
        problem(column, message)

    coverage: dict[str, Any] | None = None
    if any(values[c] for c in COVERAGE_COLUMNS):
        coverage = {}
        payer = payers.get(values["payer_id"])
        if not values["payer_id"]:
            problem("payer_id", "is required when the row has coverage")
        elif payer is None:
            problem(
                "payer_id",
                f"no payer with X12 payer id '{values['payer_id']}' (add it under Payers first)",
            )
        coverage["payer"] = payer
        if not values["member_id"]:
            problem("member_id", "is required when the row has coverage")
        coverage["member_id"] = values["member_id"]
        for name in ("group_number", "plan_name", "subscriber_first_name", "subscriber_last_name"):
            coverage[name] = values[name]
        for column, message in clean_fields(coverage, SUBSCRIBER_NAME_CLEANERS).items():
            problem(column, message)
        priority = PRIORITY_WORDS.get(values["priority"].lower() or "1")
        if priority is None:
            problem("priority", f"'{values['priority']}' is not primary, secondary or tertiary")
        coverage["priority"] = priority
        relationship = RELATIONSHIP_WORDS.get(
            values["relationship"].lower() or "self"
        ) or RELATIONSHIP_WORDS.get(values["relationship"])
        if relationship is None:
            problem(
                "relationship", f"'{values['relationship']}' is not self, spouse, child or other"
            )
        coverage["relationship"] = relationship
        for column, key in (
            ("coverage_effective_date", "effective_date"),
            ("coverage_termination_date", "termination_date"),
            ("subscriber_date_of_birth", "subscriber_date_of_birth"),
        ):
            coverage[key] = None
            if values[column]:
                try:
                    coverage[key] = _parse_date(values[column])
                except ValueError as exc:
                    problem(column, str(exc))
        if not values["coverage_effective_date"]:
            problem("coverage_effective_date", "is required when the row has coverage")
        if (
            coverage["termination_date"]
            and coverage["effective_date"]
            and coverage["termination_date"] < coverage["effective_date"]
        ):
            problem("coverage_termination_date", "is before the effective date")
    return _Row(number, patient, coverage) if len(problems) == start else None


def _changed(instance: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if getattr(instance, k) != v}


def _rows(reader: csv.DictReader[str], problems: list[ImportProblem]) -> Any:
    """The rows with their numbers; a row the csv module refuses (a value over its field size
    limit, 128 KB) ends the file with a problem naming that row instead of an exception."""
    number = 1
    while True:
        number += 1
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(ImportProblem(number, "", f"cannot be read: {exc}"))
            return
        yield number, raw


def patients_import_csv(*, text: str, today: date) -> ImportReport:
    """Check every row, then import all of them in one transaction, or none."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if not header or unknown or missing:
        detail = []
        if missing:
            detail.append("missing " + ", ".join(missing))
        if unknown:
            detail.append("unknown " + ", ".join(unknown))
        report.problems.append(
            ImportProblem(1, "", "wrong header: " + ("; ".join(detail) or "the file is empty"))
        )
        return report
    payers = {p.payer_id: p for p in Payer.objects.filter(is_active=True)}
    rows: list[_Row] = []
    seen_coverage: dict[tuple[str, str, str], int] = {}
    first_patient_row: dict[str, _Row] = {}
    for number, raw in _rows(reader, report.problems):
        if number - 1 > MAX_ROWS:
            report.problems.append(
                ImportProblem(number, "", f"more than {MAX_ROWS} rows; split the file")
            )
            break
        if None in raw:
            report.problems.append(
                ImportProblem(number, "", "has more values than the header has columns")
            )
            continue
        row = _check_row(number, raw, payers, today, report.problems)
        if row is None:
            continue
        mrn = row.patient["mrn"]
        earlier = first_patient_row.get(mrn)
        if earlier and earlier.patient != row.patient:
            report.problems.append(
                ImportProblem(
                    number,
                    "mrn",
                    f"MRN {mrn} has different patient details than row {earlier.number}",
                )
            )
            continue
        first_patient_row.setdefault(mrn, row)
        if row.coverage:
            key = (mrn, row.coverage["payer"].payer_id, row.coverage["member_id"])
            if key in seen_coverage:
                report.problems.append(
                    ImportProblem(
                        number, "member_id", f"repeats the coverage of row {seen_coverage[key]}"
                    )
                )
                continue
            seen_coverage[key] = number
        rows.append(row)
    report.rows = len(rows) + len({p.row for p in report.problems})
    if report.problems:
        return report
    try:
        with transaction.atomic():
            _write(rows, report, today)
            audit_record(
                action="patients.import",
                detail={
                    "rows": report.rows,
                    "patients_created": report.patients_created,
                    "patients_updated": report.patients_updated,
                    "coverages_created": report.coverages_created,
                    "coverages_updated": report.coverages_updated,
                },
            )
    except _RowError as exc:
        report.problems.append(exc.problem)
        report.patients_created = report.patients_updated = report.patients_unchanged = 0
        report.coverages_created = report.coverages_updated = report.coverages_unchanged = 0
    return report


class _RowError(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _write(rows: list[_Row], report: ImportReport, today: date) -> None:
    existing = {p.mrn: p for p in Patient.objects.filter(mrn__in={r.patient["mrn"] for r in rows})}
    coverages = {
        (c.patient_id, c.payer_id, c.member_id): c
        for c in Coverage.objects.filter(patient__in=existing.values())
    }
    done: set[str] = set()
    for row in rows:
        try:
            mrn = row.patient["mrn"]
            patient = existing.get(mrn)
            if mrn not in done:
                done.add(mrn)
                if patient is None:
                    patient = services.patient_create(today=today, **row.patient)
                    existing[mrn] = patient
                    report.patients_created += 1
                elif changes := _changed(patient, row.patient):
                    patient = services.patient_update(patient=patient, data=changes, today=today)
                    existing[mrn] = patient
                    report.patients_updated += 1
                else:
                    report.patients_unchanged += 1
            if row.coverage:
                data = dict(row.coverage)
                key = (existing[mrn].pk, data["payer"].pk, data["member_id"])
                current = coverages.get(key)
                if current is None:
                    coverages[key] = services.coverage_create(patient=existing[mrn], **data)
                    report.coverages_created += 1
                elif changes := _changed(current, {k: v for k, v in data.items() if k != "payer"}):
                    coverages[key] = services.coverage_update(coverage=current, data=changes)
                    report.coverages_updated += 1
                else:
                    report.coverages_unchanged += 1
        except DomainError as exc:
            raise _RowError(ImportProblem(row.number, exc.field or "", exc.message)) from exc
