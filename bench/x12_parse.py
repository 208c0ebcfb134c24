"""Benchmark: our 835 reader against pyx12 on the same synthetic 835.

Synthesises one 835 with 10,000 claims and 30,000 service lines (each with DTM, CAS, REF*6R,
AMT*B6 and some LQ remarks), then times, in the same run:

- ours: parse_835 (tokenize, envelope checks, loop-aware mapping into dataclasses) + check_balance;
- pyx12 loop-aware parse: X12ContextReader.iter_segments("2100"), reading CLP01/CLP04 and each
  SVC's charge and payment, i.e. the pyx12 equivalent of what parse_835 returns;
- pyx12 tokenizer only: X12Reader, iterating raw segments (no loops, no values), for context.

Run:  .venv/bin/python bench/x12_parse.py [claims]
"""

from __future__ import annotations

import io
import random
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from x12.remit835 import check_balance, parse_835
from x12.writer import Envelope, SegmentWriter, TransactionSet

CODES = ["90834", "90837", "90832", "90853", "99214", "90833", "90791", "90839"]


def synthesise_835(claims: int, lines_per_claim: int = 3, seed: int = 835) -> str:
    rng = random.Random(seed)
    body: list[tuple] = [
        ("BPR", "I", None, "C", "ACH", "CCP", "01", "999999992", "DA", "123456", "1512345678",
         None, "01", "999988880", "DA", "98765", "20260301"),
        ("TRN", "1", "EFT0000001", "1512345678"),
        ("DTM", "405", "20260228"),
        ("N1", "PR", "CASCADE HEALTH PLAN"),
        ("N3", "1 MAIN STREET"),
        ("N4", "PORTLAND", "OR", "97204"),
        ("PER", "BL", None, "TE", "8005551212"),
        ("N1", "PE", "RIVERBEND BEHAVIORAL HEALTH", "XX", "1234567893"),
        ("REF", "TJ", "931234567"),
        ("LX", "1"),
    ]  # fmt: skip
    total_paid = Decimal("0")
    for n in range(claims):
        lines = []
        claim_charge = claim_paid = claim_pr = Decimal("0")
        for i in range(lines_per_claim):
            charge = Decimal(rng.randrange(8000, 30000)) / 100
            contractual = (charge * Decimal("0.2")).quantize(Decimal("0.01"))
            copay = Decimal(rng.choice([0, 10, 20, 30]))
            paid = charge - contractual - copay
            claim_charge += charge
            claim_paid += paid
            claim_pr += copay
            line = [
                ("SVC", ("HC", rng.choice(CODES), "95" if i % 2 else None), charge, paid, None, 1),
                ("DTM", "472", "20260224"),
                ("CAS", "CO", "45", contractual) if not copay else
                ("CAS", "CO", "45", contractual, None, "253", 0),
                ("REF", "6R", f"L{n:06d}-{i + 1}"),
                ("AMT", "B6", charge - contractual),
            ]  # fmt: skip
            if copay:
                line.insert(3, ("CAS", "PR", "3", copay))
                line.append(("LQ", "HE", "N130"))
            lines += line
        total_paid += claim_paid
        body += [
            ("CLP", f"PCN{n:07d}", "1", claim_charge, claim_paid, claim_pr, "12",
             f"PAYER{n:09d}", "11", "1"),
            ("NM1", "QC", "1", "PATIENT", f"P{n}", None, None, None, "MI", f"M{n:08d}"),
            ("NM1", "82", "1", "NGUYEN", "LINH", None, None, None, "XX", "1987654328"),
            ("DTM", "232", "20260224"),
            ("DTM", "233", "20260224"),
            *lines,
        ]  # fmt: skip
    body[0] = (*body[0][:2], total_paid, *body[0][3:])
    envelope = Envelope(
        "CHP01", "RB12345", 1, 1, datetime(2026, 3, 1, 8, 0), functional_id="HP",  # noqa: DTZ001
        version="005010X221A1",
    )  # fmt: skip
    return envelope.render([TransactionSet("835", body)], SegmentWriter(newline=True))


def time_ours(text: str) -> tuple[float, float, int, int]:
    """First run and best of three (pyx12 runs once: at ~20 s a run, three would be a minute)."""
    runs = []
    result = None
    for _ in range(3):
        result = None  # free the previous run's objects before the clock starts
        start = time.perf_counter()
        result = parse_835(text)
        problems = [d for r in result.remittances for d in check_balance(r)]
        runs.append(time.perf_counter() - start)
    assert problems == [], problems[:3]
    assert result is not None
    claims = result.claims
    return runs[0], min(runs), len(claims), sum(len(c.lines) for c in claims)


def time_pyx12_context(text: str) -> tuple[float, int, int]:
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    start = time.perf_counter()
    reader = pyx12.x12context.X12ContextReader(
        pyx12.params.params(), pyx12.error_handler.errh_null(), io.StringIO(text)
    )
    claims = lines = 0
    paid = Decimal("0")
    for loop in reader.iter_segments("2100"):
        if loop.id != "2100":
            continue
        claims += 1
        paid += Decimal(loop.get_value("CLP04"))
        for line in loop.select("2110"):
            lines += 1
            line.get_value("SVC02")
            line.get_value("SVC03")
    return time.perf_counter() - start, claims, lines


def time_pyx12_tokenizer(text: str) -> tuple[float, int]:
    import pyx12.x12file

    start = time.perf_counter()
    count = sum(1 for _ in pyx12.x12file.X12Reader(io.StringIO(text)))
    return time.perf_counter() - start, count


def main() -> None:
    claims = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.perf_counter()
    text = synthesise_835(claims)
    print(f"synthesised 835: {len(text) / 1e6:.1f} MB, {text.count('~')} segments "
          f"in {time.perf_counter() - started:.2f} s")  # fmt: skip
    first, ours, n_claims, n_lines = time_ours(text)
    print(f"ours  parse_835 + check_balance: first run {first:.3f} s, best of 3 {ours:.3f} s "
          f"({n_claims} claims, {n_lines} lines)")  # fmt: skip
    theirs, p_claims, p_lines = time_pyx12_context(text)
    print(f"pyx12 X12ContextReader 2100/2110 loops:      {theirs:.3f} s "
          f"({p_claims} claims, {p_lines} lines)")  # fmt: skip
    tokens, count = time_pyx12_tokenizer(text)
    print(f"pyx12 X12Reader tokenizer only:              {tokens:.3f} s ({count} segments)")
    print(f"ratio pyx12 loop parse / ours: {theirs / ours:.1f}x best, "
          f"{theirs / first:.1f}x first run (target >= 20x)")  # fmt: skip
    print(f"ratio pyx12 tokenizer only / ours: {tokens / ours:.1f}x")


if __name__ == "__main__":
    main()
