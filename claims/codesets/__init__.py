"""Code sets as data: the CSV files beside this module, loaded once (no ORM, no clock).

Every file starts with `#` lines naming its source and how to update it, then a CSV header row.
Procedure families (one file each) share the columns
`code,family,descriptor,unit_type,addon_of,telehealth,effective_from,effective_to`; `addon_of`
lists the primaries an add-on needs the same day, as codes or `@family` for a whole family.
The same-day edits (NCCI PTP pairs and MUEs), the timed ladders, the monthly care-management
thresholds and the ICD-10-CM year changes have their own files. docs/coding.md explains each.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from patients.rules import IcdChange, icd10_year_changes

HERE = Path(__file__).resolve().parent

FAMILY_FILES = (
    "psychotherapy.csv",
    "evaluation_management.csv",
    "testing.csv",
    "health_behavior.csv",
    "adaptive_behavior.csv",
    "digital_mental_health.csv",
    "care_management.csv",
    "medicaid_hcpcs.csv",
)
REVENUE_FILE = "revenue_codes.csv"


class UnitType:
    SESSION = "session"  # one unit per session / encounter / instrument
    LADDER = "ladder"  # the code itself is chosen by the documented minutes
    PER_15 = "per_15"  # units of 15 minutes
    PER_HOUR = "per_hour"  # units of 60 minutes
    PER_DIEM = "per_diem"  # one unit a day
    MONTHLY = "monthly"  # minutes added up across a calendar month

    ALL = frozenset({SESSION, LADDER, PER_15, PER_HOUR, PER_DIEM, MONTHLY})
    MINUTES_PER_UNIT = {PER_15: 15, PER_HOUR: 60}


@dataclass(frozen=True)
class ProcedureCode:
    code: str
    family: str
    descriptor: str
    unit_type: str
    addon_of: frozenset[str]
    telehealth: str  # yes / no / payer (the payer's own list decides)
    effective_from: date
    effective_to: date | None

    @property
    def is_addon(self) -> bool:
        return bool(self.addon_of)

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class PtpEdit:
    column1: str
    column2: str
    modifier_indicator: int  # 0: no bypass; 1: 59/XE/XS/XP/XU bypass with documentation
    effective_from: date
    effective_to: date | None
    quarter: str
    basis: str
    confirmed: str = "no"  # yes / pair (the pair, not the indicator) / no: see ncci_ptp.csv
    source: str = ""

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Mue:
    code: str
    max_units: int
    mai: int  # 1: per line; 2 and 3: per day across claims
    effective_from: date
    effective_to: date | None
    quarter: str
    confirmed: str = "no"  # yes / units (the units, not the MAI) / no: see ncci_mue.csv
    source: str = ""

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Ladder:
    family: str
    first_code: str
    first_minutes: int
    addon_code: str
    addon_minutes: int


@dataclass(frozen=True)
class MonthlyThreshold:
    program: str
    month: str  # first / subsequent
    code: str
    minimum: int
    base: int
    addon_code: str
    addon_threshold: int
    addon_step: int


@dataclass(frozen=True)
class CodeSets:
    procedures: Mapping[str, ProcedureCode]
    revenue_codes: Mapping[str, ProcedureCode]
    ptp: tuple[PtpEdit, ...]
    mue: Mapping[str, Mue]
    ladders: tuple[Ladder, ...]
    monthly: tuple[MonthlyThreshold, ...]
    icd_changes: tuple[IcdChange, ...]

    def family(self, name: str) -> frozenset[str]:
        return frozenset(c for c, p in self.procedures.items() if p.family == name)

    def ladder_for(self, code: str) -> Ladder | None:
        return next((la for la in self.ladders if code in (la.first_code, la.addon_code)), None)


def rows(name: str) -> Iterator[dict[str, str]]:
    """The data rows of one file (its `#` header lines skipped)."""
    with (HERE / name).open(newline="", encoding="utf-8") as handle:
        body = [line for line in handle if not line.startswith("#")]
    yield from csv.DictReader(body)


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


def _procedures(files: tuple[str, ...]) -> dict[str, ProcedureCode]:
    raw = [row for name in files for row in rows(name)]
    families: dict[str, set[str]] = {}
    for row in raw:
        families.setdefault(row["family"], set()).add(row["code"])
    out: dict[str, ProcedureCode] = {}
    for row in raw:
        primaries: set[str] = set()
        for ref in row["addon_of"].split():
            primaries |= families[ref[1:]] if ref.startswith("@") else {ref}
        if row["unit_type"] not in UnitType.ALL:
            raise ValueError(f"{row['code']}: unknown unit type {row['unit_type']!r}")
        if row["code"] in out:
            raise ValueError(f"{row['code']} is listed twice")
        start = _date(row["effective_from"])
        if start is None:
            raise ValueError(f"{row['code']}: effective_from is required")
        out[row["code"]] = ProcedureCode(
            code=row["code"],
            family=row["family"],
            descriptor=row["descriptor"],
            unit_type=row["unit_type"],
            addon_of=frozenset(primaries),
            telehealth=row["telehealth"],
            effective_from=start,
            effective_to=_date(row["effective_to"]),
        )
    return out


def _int(value: str) -> int:
    return int(value) if value.strip() else 0


@cache
def load() -> CodeSets:
    """Every code set, read once per process."""
    ptp = tuple(
        PtpEdit(
            r["column1"],
            r["column2"],
            int(r["modifier_indicator"]),
            date.fromisoformat(r["effective_from"]),
            _date(r["effective_to"]),
            r["quarter"],
            r["basis"],
            r["confirmed"],
            r["source"],
        )
        for r in rows("ncci_ptp.csv")
    )
    mue = {
        r["code"]: Mue(
            r["code"],
            int(r["max_units"]),
            int(r["mai"]),
            date.fromisoformat(r["effective_from"]),
            _date(r["effective_to"]),
            r["quarter"],
            r["confirmed"],
            r["source"],
        )
        for r in rows("ncci_mue.csv")
    }
    ladders = tuple(
        Ladder(
            r["family"],
            r["first_code"],
            int(r["first_minutes"]),
            r["addon_code"],
            int(r["addon_minutes"]),
        )
        for r in rows("ladders.csv")
    )
    monthly = tuple(
        MonthlyThreshold(
            r["program"],
            r["month"],
            r["code"],
            int(r["minimum"]),
            int(r["base"]),
            r["addon_code"],
            _int(r["addon_threshold"]),
            _int(r["addon_step"]),
        )
        for r in rows("monthly_thresholds.csv")
    )
    icd = icd10_year_changes()
    return CodeSets(
        procedures=_procedures(FAMILY_FILES),
        revenue_codes=_procedures((REVENUE_FILE,)),
        ptp=ptp,
        mue=mue,
        ladders=ladders,
        monthly=monthly,
        icd_changes=icd,
    )
