"""The one CSV writer (rcm/csv_export.py): formula cells are neutralized, numbers stay numbers,
and no code writes CSV any other way."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

from rcm.csv_export import csv_response, dict_writer, neutralize, writer

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = '=HYPERLINK("http://x")'


def test_dangerous_first_characters_get_a_quote_in_front() -> None:
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\uff1dcmd"]:
        assert neutralize(text) == "'" + text
    assert neutralize("Blue Plan") == "Blue Plan"
    assert neutralize("CO-45") == "CO-45"
    assert neutralize("") == ""
    assert neutralize(None) == ""


def test_real_numbers_stay_numbers_and_numeric_looking_text_does_not() -> None:
    assert neutralize(Decimal("-12.50")) == Decimal("-12.50")
    assert neutralize(-3) == -3
    assert neutralize(-1.5) == -1.5
    assert neutralize("-12.50") == "'-12.50"


def test_the_writers_and_the_response_neutralize_every_cell_header_included() -> None:
    out = io.StringIO()
    w = writer(out)
    w.writerow([PAYLOAD, Decimal("-1.00"), "a,b"])
    d = dict_writer(out, ["=h", "b"])
    d.writeheader()
    d.writerow({"=h": "@x", "b": 2})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'" + PAYLOAD, "-1.00", "a,b"], ["'=h", "b"], ["'@x", "2"]]
    response = csv_response("t.csv", [["+1"]], header=["-h"])
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'
    assert response.content.decode().splitlines() == ["'-h", "'+1"]


def test_no_code_writes_csv_but_the_helper() -> None:
    pattern = re.compile(r"csv\s*\.\s*(writer|DictWriter)\s*\(")
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "node_modules", "staticfiles"} or rel == Path(
            "rcm/csv_export.py"
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path == Path(__file__).resolve():
            continue
        if pattern.search(text):
            offenders.append(str(rel))
    assert offenders == [], f"write CSV with rcm.csv_export, not the csv module: {offenders}"
