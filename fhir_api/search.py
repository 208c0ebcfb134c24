"""FHIR search parameters: which each resource type takes, and parsing them from a query string.

Pure functions over the query's (name, value) pairs: no ORM, no clock. Anything we do not
support or cannot read (an unknown parameter, a modifier, a malformed date, id or number, a NUL
character) is a `FhirError` naming the parameter, answered as an OperationOutcome (400): a
client never gets a silently ignored filter or a 500.

Several values in one parameter (`status=active,cancelled`) match any of them; a parameter given
twice (`created=ge2026-01-01&created=lt2026-02-01`) must match both.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

Kind = Literal["id", "token", "string", "date", "reference", "boolean"]

DEFAULT_COUNT = 50
MAX_COUNT = 200
MAX_OFFSET = 1_000_000
MAX_VALUE_LENGTH = 200

# Financial resource status (Claim, ClaimResponse, Coverage, ExplanationOfBenefit).
FINANCIAL_STATUS = ("active", "cancelled", "draft", "entered-in-error")

# Per resource type: parameter -> kind, and for a reference the resource type it names.
PARAMS: dict[str, dict[str, Kind]] = {
    "Patient": {
        "_id": "id",
        "_lastUpdated": "date",
        "identifier": "token",
        "name": "string",
        "family": "string",
        "given": "string",
        "birthdate": "date",
        "gender": "token",
        "active": "boolean",
    },
    "Coverage": {
        "_id": "id",
        "_lastUpdated": "date",
        "patient": "reference",
        "beneficiary": "reference",
        "payor": "reference",
        "identifier": "token",
        "status": "token",
    },
    "Claim": {
        "_id": "id",
        "_lastUpdated": "date",
        "patient": "reference",
        "created": "date",
        "status": "token",
        "identifier": "token",
        "insurer": "reference",
    },
    "ClaimResponse": {
        "_id": "id",
        "_lastUpdated": "date",
        "patient": "reference",
        "created": "date",
        "status": "token",
        "request": "reference",
        "outcome": "token",
    },
    "ExplanationOfBenefit": {
        "_id": "id",
        "_lastUpdated": "date",
        "patient": "reference",
        "created": "date",
        "service-date": "date",
        "status": "token",
        "claim": "reference",
        "identifier": "token",
    },
    "Practitioner": {
        "_id": "id",
        "_lastUpdated": "date",
        "identifier": "token",
        "name": "string",
        "family": "string",
        "given": "string",
        "active": "boolean",
    },
    "Organization": {
        "_id": "id",
        "identifier": "token",
        "name": "string",
        "type": "token",
        "active": "boolean",
    },
}

REFERENCE_TARGETS = {
    "patient": "Patient",
    "beneficiary": "Patient",
    "payor": "Organization",
    "insurer": "Organization",
    "request": "Claim",
    "claim": "Claim",
}

# The closed sets of token values each takes (a value outside is a 400, not an empty page).
TOKEN_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Patient", "gender"): ("female", "male", "unknown", "other"),
    ("Coverage", "status"): FINANCIAL_STATUS,
    ("Claim", "status"): FINANCIAL_STATUS,
    ("ClaimResponse", "status"): FINANCIAL_STATUS,
    ("ClaimResponse", "outcome"): ("queued", "complete", "error", "partial"),
    ("ExplanationOfBenefit", "status"): FINANCIAL_STATUS,
    ("Organization", "type"): ("prov", "pay"),
}

# Parameters every search takes: paging, and the formats we answer in.
CONTROL = ("_count", "_offset", "_format")
FORMATS = ("json", "application/json", "application/fhir+json")

DATE_PREFIXES = ("eq", "ne", "lt", "gt", "le", "ge", "sa", "eb")
_DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?P<time>T.*)?$"
)


class FhirError(Exception):
    """A request we refuse: answered as an OperationOutcome with `status`."""

    def __init__(
        self, diagnostics: str, *, status: int = 400, code: str = "invalid", expression: str = ""
    ) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.status = status
        self.code = code
        self.expression = expression


@dataclass(frozen=True)
class DateRange:
    """A date search value: `prefix` against the days [start, end)."""

    prefix: str
    start: date
    end: date


@dataclass(frozen=True)
class Criterion:
    """One occurrence of a parameter: any of `values` matches."""

    name: str
    modifier: str
    values: tuple[object, ...]


@dataclass
class Search:
    resource_type: str
    criteria: list[Criterion] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0

    def of(self, name: str) -> list[Criterion]:
        return [c for c in self.criteria if c.name == name]


def parse_uuid(value: str, name: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError) as exc:
        raise FhirError(f"{name}: {value[:64]!r} is not a valid id.", expression=name) from exc
    if str(parsed) != value.lower() and parsed.hex != value.lower():
        raise FhirError(f"{name}: {value[:64]!r} is not a valid id.", expression=name)
    return parsed


def parse_reference(value: str, name: str, target: str) -> uuid.UUID:
    """`Patient/<id>` or `<id>`; a reference to another resource type is refused."""
    if "/" in value:
        resource_type, _, rest = value.rpartition("/")
        # An absolute reference to this server ends with the same two parts.
        resource_type = resource_type.rsplit("/", 1)[-1]
        if resource_type != target:
            raise FhirError(
                f"{name}: a reference to a {target}, not {value[:64]!r}.", expression=name
            )
        value = rest
    return parse_uuid(value, name)


def parse_date(value: str, name: str) -> DateRange:
    """`[prefix]YYYY[-MM[-DD]]` (a time part is refused: our dates are days)."""
    match = _DATE.match(value)
    if match is None or match["time"]:
        raise FhirError(
            f"{name}: {value[:64]!r} is not a date (give [prefix]YYYY, YYYY-MM or YYYY-MM-DD).",
            expression=name,
        )
    prefix = match["prefix"] or "eq"
    if prefix not in DATE_PREFIXES:
        raise FhirError(
            f"{name}: unknown prefix {prefix!r} (one of {', '.join(DATE_PREFIXES)}).",
            expression=name,
        )
    year, month, dom = int(match["year"]), match["month"], match["day"]
    try:
        if dom is not None:
            start = date(year, int(month), int(dom))
            end = start + timedelta(days=1)
        elif month is not None:
            start = date(year, int(month), 1)
            end = date(year + (start.month == 12), start.month % 12 + 1, 1)
        else:
            start, end = date(year, 1, 1), date(year + 1, 1, 1)
    except (ValueError, OverflowError) as exc:
        raise FhirError(f"{name}: {value[:64]!r} is not a calendar date.", expression=name) from exc
    if prefix in {"sa", "eb"}:
        prefix = "gt" if prefix == "sa" else "lt"
    return DateRange(prefix=prefix, start=start, end=end)


def parse_int(value: str, name: str, *, minimum: int, maximum: int) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise FhirError(f"{name}: a whole number from {minimum} to {maximum}.", expression=name)
    number = int(value)
    if not minimum <= number <= maximum:
        raise FhirError(f"{name}: a whole number from {minimum} to {maximum}.", expression=name)
    return number


def _token(value: str, name: str, allowed: tuple[str, ...] | None) -> str:
    # `system|code`: the system is ours (or absent); the code is what we match.
    code = value.rsplit("|", 1)[-1]
    if not code:
        raise FhirError(f"{name}: an empty value.", expression=name)
    if allowed is not None and code not in allowed:
        raise FhirError(
            f"{name}: {code[:64]!r} is not one of {', '.join(allowed)}.", expression=name
        )
    return code


def parse_search(resource_type: str, pairs: Iterable[tuple[str, str]]) -> Search:
    """The search a query string asks for, or a FhirError naming the first bad parameter."""
    known = PARAMS[resource_type]
    search = Search(resource_type=resource_type)
    for raw_name, raw_value in pairs:
        if "\x00" in raw_name or "\x00" in raw_value:
            shown = raw_name.replace("\x00", "\\u0000")
            raise FhirError(f"{shown}: must not contain a NUL character.", expression=shown)
        name, _, modifier = raw_name.partition(":")
        if len(raw_value) > MAX_VALUE_LENGTH:
            raise FhirError(f"{name}: longer than {MAX_VALUE_LENGTH} characters.", expression=name)
        if name == "_count" and not modifier:
            search.count = parse_int(raw_value, name, minimum=1, maximum=MAX_COUNT)
            continue
        if name == "_offset" and not modifier:
            search.offset = parse_int(raw_value, name, minimum=0, maximum=MAX_OFFSET)
            continue
        if name == "_format" and not modifier:
            if raw_value not in FORMATS:
                raise FhirError(
                    f"_format: only JSON ({', '.join(FORMATS)}).", code="not-supported",
                    expression=name,
                )  # fmt: skip
            continue
        kind = known.get(name)
        if kind is None:
            supported = ", ".join([*known, *CONTROL])
            raise FhirError(
                f"Unknown search parameter {name[:64]!r} for {resource_type} "
                f"(supported: {supported}).",
                code="not-supported",
                expression=name[:64],
            )
        if modifier and not (kind == "string" and modifier == "exact"):
            raise FhirError(
                f"{name}: the modifier {modifier[:32]!r} is not supported.",
                code="not-supported",
                expression=name,
            )
        if raw_value == "":
            raise FhirError(f"{name}: an empty value.", expression=name)
        search.criteria.append(
            Criterion(
                name=name,
                modifier=modifier,
                values=tuple(_values(resource_type, name, kind, raw_value)),
            )
        )
    return search


def _values(resource_type: str, name: str, kind: Kind, raw: str) -> Iterable[object]:
    if kind == "date":
        # A comma in a date is not a list (dates have none): refuse it as malformed.
        yield parse_date(raw, name)
        return
    parts = raw.split(",")
    if any(part == "" for part in parts):
        raise FhirError(f"{name}: an empty value in {raw[:64]!r}.", expression=name)
    for part in parts:
        if kind == "id":
            yield parse_uuid(part, name)
        elif kind == "reference":
            yield parse_reference(part, name, REFERENCE_TARGETS[name])
        elif kind == "token":
            yield _token(part, name, TOKEN_VALUES.get((resource_type, name)))
        elif kind == "boolean":
            if part not in {"true", "false"}:
                raise FhirError(f"{name}: true or false.", expression=name)
            yield part == "true"
        else:
            yield part


def date_bounds(value: DateRange) -> tuple[str, date, date]:
    """(prefix, start, end) of a date value, for the selector's lookups."""
    return value.prefix, value.start, value.end


def parse_instant(value: str, name: str) -> datetime:
    """An instant with its time zone (`_since`); anything else is a FhirError naming it."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FhirError(f"{name}: {value[:64]!r} is not an instant.", expression=name) from exc
    if parsed.tzinfo is None:
        raise FhirError(f"{name}: give the time zone (an instant).", expression=name)
    return parsed
