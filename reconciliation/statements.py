"""Reading bank statements: BAI2 (through the `bai2` package) and CSV (through a bank account's
column mapping) into plain `BankLine`s. No ORM, no clock: text in, lines out, or a
`StatementError` naming the line of the file that is wrong.

BAI2 is the Cash Management Balance Reporting Specification, version 2 (BAI, 2005): records
01 file header, 02 group header (its as-of date dates the group's transactions), 03 account
identifier, 16 transaction detail (type code, amount in cents, funds type, bank reference,
customer reference, text), 88 continuation, 49 account trailer, 98 group trailer, 99 file trailer;
every record ends with "/". An ACH credit from a payer carries the 835's re-association trace in
its addenda (the CCD+ "TRN*1*<trace>*<payer id>\\" of the CAQH CORE EFT & ERA Reassociation
Rule), which banks pass on in the 16 record's text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bai2.bai2 import parse_from_lines
from bai2.constants import TypeCodeTransaction

RECORD_CODES = {"01", "02", "03", "16", "88", "49", "98", "99"}
# The record that may follow each record (88 continues the one before it).
FOLLOWS = {
    None: {"01"},
    "01": {"02"},
    "02": {"03"},
    "03": {"16", "49"},
    "16": {"16", "49"},
    "49": {"03", "98"},
    "98": {"02", "99"},
    "99": set(),
}
RECORD_NAMES = {
    "01": "file header",
    "02": "group header",
    "03": "account identifier",
    "16": "transaction detail",
    "49": "account trailer",
    "98": "group trailer",
    "99": "file trailer",
}

# BAI2 detail type codes by what they are (the rest of the credits are "other").
ACH_CODES = {"142", "143", "145", "147", "155", "156", "164", "165", "166", "167", "168", "169"}
CHECK_CODES = {"115", "116", "171", "172", "173", "174", "175", "176", "177", "178"}
WIRE_CODES = {"191", "195", "196", "198", "199", "206", "208"}

# The CCD+ addenda's TRN segment: TRN01 trace type, TRN02 the trace, TRN03 the payer's id.
TRN = re.compile(r"TRN\*(\d)\*([^*\\~/,]+)(?:\*([^*\\~/,]+))?")
CENTS = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000000")  # the money columns hold 12 digits, 2 after the point


class StatementError(Exception):
    """The file is refused whole; `line` is its line number (1-based)."""

    def __init__(self, message: str, *, line: int | None) -> None:
        where = f"Line {line}: " if line else ""
        super().__init__(where + message)
        self.message = where + message
        self.line = line


@dataclass(frozen=True)
class BankLine:
    line: int
    account_number: str  # BAI2: the 03 record's; CSV: ""
    deposit_date: date
    amount: Decimal  # positive: a credit
    kind: str  # DepositKind value
    type_code: str
    trace_number: str
    payer_identifier: str
    reference: str
    bank_reference: str


@dataclass(frozen=True)
class Statement:
    lines: list[BankLine]  # the credits
    debits_ignored: int


@dataclass(frozen=True)
class CsvMapping:
    date_column: str
    date_format: str
    amount_column: str
    type_column: str
    reference_column: str


def is_bai2(text: str) -> bool:
    return text.lstrip("\ufeff \r\n\t").startswith("01,")


def trace_from_text(text: str) -> tuple[str, str]:
    """(TRN02, TRN03) from a bank line's text, ("", "") without a TRN."""
    found = TRN.search(text or "")
    if not found:
        return "", ""
    return found.group(2).strip(), (found.group(3) or "").strip()


def kind_of_bai2_code(code: str) -> str:
    if code in ACH_CODES:
        return "ach"
    if code in CHECK_CODES:
        return "check"
    if code in WIRE_CODES:
        return "wire"
    return "other"


def kind_of_text(text: str) -> str:
    upper = (text or "").upper()
    if "ACH" in upper or "EFT" in upper or "CCD" in upper:
        return "ach"
    if "CHECK" in upper or "CHK" in upper or "LOCKBOX" in upper:
        return "check"
    if "WIRE" in upper or "FEDWIRE" in upper:
        return "wire"
    return "other"


# --- BAI2 -------------------------------------------------------------------------------------


def _lines(text: str) -> list[tuple[int, str]]:
    """The file's non-blank lines with their line numbers, as the bai2 package reads them."""
    return [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]


def _check_structure(lines: list[tuple[int, str]]) -> None:
    """The checks that need a line number the bai2 package cannot give: record codes, their
    order, and the numbers of each transaction detail."""
    if not lines:
        raise StatementError("The file is empty.", line=None)
    previous: str | None = None
    for number, line in lines:
        code = line[:2]
        if code not in RECORD_CODES or line[2:3] != ",":
            raise StatementError(
                f"“{line[:20]}” is not a BAI2 record (each record starts with its code: 01, 02, "
                "03, 16, 88, 49, 98 or 99, and a comma).",
                line=number,
            )
        if code == "88":
            if previous is None:
                raise StatementError("A continuation (88) with no record before it.", line=number)
            continue
        if code not in FOLLOWS[previous]:
            expected = (
                " or ".join(f"{c} ({RECORD_NAMES[c]})" for c in sorted(FOLLOWS[previous]))
                or "nothing"
            )
            raise StatementError(
                f"A {code} ({RECORD_NAMES[code]}) record where {expected} must come.", line=number
            )
        if code == "16":
            fields = line[3:].rstrip("/").split(",")
            type_code = fields[0]
            amount = fields[1] if len(fields) > 1 else ""
            if not (len(type_code) == 3 and type_code.isdigit()):
                raise StatementError(
                    f"The type code “{type_code}” is not three digits.", line=number
                )
            if amount and not amount.isdigit():
                raise StatementError(
                    f"The amount “{amount}” is not a whole number of cents.", line=number
                )
        previous = code
    if previous != "99":
        raise StatementError(
            "The file ends without its 99 (file trailer) record: it is truncated.",
            line=lines[-1][0],
        )


class _Counting:
    """The lines handed to the bai2 package, counting how far it read."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.read = 0
        self.done = False

    def __iter__(self) -> Iterator[str]:
        for _, line in self.lines:
            self.read += 1
            yield line
        self.done = True


def _failed_line(lines: list[tuple[int, str]], counter: _Counting, message: str) -> int:
    """The line of the record the package was at when it failed. It reads one record ahead, so
    that is the record before the one holding the last line read; a count that fails is checked
    once its trailer is read, so then it is the last trailer of that kind."""
    starts = [i for i, (_, line) in enumerate(lines) if not line.startswith("88,")]
    read = counter.read - 1  # index of the last line read
    holding = max((k for k, i in enumerate(starts) if i <= read), default=0)
    current = holding if counter.done else max(holding - 1, 0)
    trailer = next(
        (
            code
            for word, code in (("Account", "49"), ("Group", "98"), ("Bai2File", "99"))
            if word in message
        ),
        "",
    )
    if "Invalid" in message and trailer:
        for k in range(current, -1, -1):
            if lines[starts[k]][1].startswith(trailer + ","):
                return lines[starts[k]][0]
    return lines[starts[current]][0]


def parse_bai2(text: str) -> Statement:
    """The credits of a BAI2 file, or StatementError naming the line (nothing is read from a
    file with any error)."""

    lines = _lines(text.lstrip("\ufeff"))
    _check_structure(lines)
    counter = _Counting(lines)
    try:
        parsed = parse_from_lines(iter(counter), check_integrity=True)
    except Exception as exc:  # the package raises its own, ValueError and StopIteration alike
        line = _failed_line(lines, counter, str(exc))
        raise StatementError(
            f"The file is not valid BAI2: {exc or type(exc).__name__}.", line=line
        ) from exc
    found: list[BankLine] = []
    debits = 0
    detail_lines = iter(n for n, line in lines if line.startswith("16,"))
    group_lines = [n for n, line in lines if line.startswith("02,")]
    for group, group_line in zip(parsed.children, group_lines, strict=True):
        as_of = group.header.as_of_date
        if as_of is None:
            raise StatementError(
                "The group header has no as-of date, so its deposits have no date.",
                line=group_line,
            )
        for account in group.children:
            number = (account.header.customer_account_number or "").strip()
            for detail in account.children:
                line_number = next(detail_lines)
                code = detail.type_code.code if detail.type_code else ""
                if detail.type_code is None or (
                    detail.type_code.transaction != TypeCodeTransaction.credit
                ):
                    debits += 1
                    continue
                amount = (Decimal(detail.amount or 0) / 100).quantize(CENTS)
                if amount <= 0:
                    continue
                if amount >= MAX_AMOUNT:
                    raise StatementError(f"The amount {amount} is too large.", line=line_number)
                text_value = " ".join(str(detail.text or "").split())
                trace, payer = trace_from_text(text_value)
                found.append(
                    BankLine(
                        line=line_number,
                        account_number=number,
                        deposit_date=as_of,
                        amount=amount,
                        kind=kind_of_bai2_code(code),
                        type_code=code,
                        trace_number=trace[:80],
                        payer_identifier=payer[:80],
                        reference=text_value[:500],
                        bank_reference=str(detail.bank_reference or "")[:80],
                    )
                )
    return Statement(found, debits)


# --- CSV --------------------------------------------------------------------------------------


def _amount(value: str) -> Decimal:
    text = value.strip().replace("$", "").replace(",", "").replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    amount = Decimal(text)
    if not amount.is_finite() or amount != amount.quantize(CENTS):
        raise InvalidOperation
    return -amount if negative else amount


def parse_csv(text: str, mapping: CsvMapping) -> Statement:
    """The credits of a bank's CSV export read through the account's mapping, or
    StatementError naming the line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    if not headers:
        raise StatementError("The file is empty.", line=None)
    reader.fieldnames = headers
    wanted = {
        "date": mapping.date_column,
        "amount": mapping.amount_column,
        "type": mapping.type_column,
        "reference": mapping.reference_column,
    }
    for what, column in wanted.items():
        if column and column not in headers:
            raise StatementError(
                f"No “{column}” column (the {what} column of this bank account's mapping); "
                f"the file's columns are: {', '.join(headers)}.",
                line=1,
            )
    if not mapping.date_column or not mapping.amount_column:
        raise StatementError(
            "The bank account's CSV mapping names no date or amount column.", line=None
        )
    found: list[BankLine] = []
    debits = 0
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # a stray quote or line break inside a cell, an oversized cell
            raise StatementError(f"Not readable as CSV: {exc}.", line=reader.line_num) from None
        number = reader.line_num
        values: dict[str, Any] = {k: (v or "") for k, v in row.items() if k is not None}
        if not any(str(v).strip() for v in values.values()):
            continue
        if None in row:
            raise StatementError("More cells than the header has columns.", line=number)
        raw_date = str(values.get(mapping.date_column, "")).strip()
        try:
            when = datetime.strptime(raw_date, mapping.date_format).date()  # noqa: DTZ007
        except ValueError:
            raise StatementError(
                f"The date “{raw_date}” does not read as {mapping.date_format}.", line=number
            ) from None
        raw_amount = str(values.get(mapping.amount_column, ""))
        try:
            amount = _amount(raw_amount)
        except (InvalidOperation, ValueError):
            raise StatementError(
                f"The amount “{raw_amount.strip()}” is not an amount in dollars and cents.",
                line=number,
            ) from None
        if abs(amount) >= MAX_AMOUNT:
            raise StatementError(f"The amount {amount} is too large.", line=number)
        if amount <= 0:
            debits += 1
            continue
        type_text = str(values.get(mapping.type_column, "")).strip() if mapping.type_column else ""
        reference = (
            " ".join(str(values.get(mapping.reference_column, "")).split())
            if mapping.reference_column
            else ""
        )
        trace, payer = trace_from_text(reference)
        found.append(
            BankLine(
                line=number,
                account_number="",
                deposit_date=when,
                amount=amount,
                kind=kind_of_text(type_text) if type_text else kind_of_text(reference),
                type_code=type_text[:40],
                trace_number=trace[:80],
                payer_identifier=payer[:80],
                reference=reference[:500],
                bank_reference="",
            )
        )
    return Statement(found, debits)
