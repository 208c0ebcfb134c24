"""The one way Parity writes CSV: every export goes through `csv_response` (or `writer`), which
neutralizes cells a spreadsheet would run as a formula (CSV / formula injection).

The rule (OWASP "CSV Injection"): a text cell whose first character is `=`, `+`, `-`, `@`, a tab
or a carriage return (or their full-width forms U+FF1D, U+FF0B, U+FF0D, U+FF20, which some
spreadsheets also accept) is written with a single quote in front (`'=HYPERLINK(...)`), so the
spreadsheet shows it as text.
The csv module then quotes it as needed, so a separator or a quote inside a cell cannot start a
new cell.

Numbers stay numbers: a cell that is an `int`, `float` or `Decimal` (not a string) is written as
it is, so a real negative amount such as `Decimal("-12.50")` reads `-12.50` and sums in the
spreadsheet. Only values the code produced as numbers escape the rule; a string that looks like
a number (`"-12.50"` typed by a user, or a code) is prefixed like any other text.

`tests/test_csv_export.py` fails on any `csv.writer(` / `csv.DictWriter(` outside this module.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from django.http import HttpResponse

DANGEROUS_FIRST = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def neutralize(value: Any) -> Any:
    """The cell as it is safe to write: numbers unchanged, dangerous text with a `'` in front."""
    if value is None or isinstance(value, bool):
        return "" if value is None else value
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text and text[0] in DANGEROUS_FIRST:
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` with every cell neutralized."""

    def __init__(self, stream: IO[str] | Any) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralize(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """`csv.DictWriter` with every cell (and header) neutralized."""

    def __init__(self, stream: IO[str] | Any, fieldnames: Sequence[str]) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(stream)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"dict contains fields not in fieldnames: {sorted(unknown)}")
        self._writer.writerow([row.get(f, "") for f in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: IO[str] | Any) -> SafeWriter:
    return SafeWriter(stream)


def dict_writer(stream: IO[str] | Any, fieldnames: Sequence[str]) -> SafeDictWriter:
    return SafeDictWriter(stream, fieldnames)


def csv_response(
    filename: str,
    rows: Iterable[Iterable[Any]] = (),
    *,
    header: Sequence[str] | None = None,
) -> HttpResponse:
    """An attachment `filename` with `header` (if given) then `rows`, every cell neutralized.
    Call `writer(response)` on the result to add rows later (e.g. while counting them)."""
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    out = SafeWriter(response)
    if header is not None:
        out.writerow(header)
    out.writerows(rows)
    return response
