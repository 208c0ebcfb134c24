"""Benchmark: what partitioning the audit table by month costs an insert. The same rows are
appended, in batches as the services write them, to the partitioned audit table and to a plain
table with the same columns, indexes, forced row-level security and append-only trigger, in the
same run (interleaved rounds).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parity_bench .venv/bin/python bench/audit_insert.py

Prints rows per second for both and the ratio (partitioned / plain). The plain copy is dropped at
the end; the rows appended to the audit table stay (they cannot be deleted: append-only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from rcm.tenancy.models import Organization  # noqa: E402

PLAIN = "audit_bench_plain"
INSERT = """
INSERT INTO {table} (id, created_at, updated_at, occurred_at, actor_id, actor_label, api_key_id, role, action, object_type,
                     object_id, patient_id, request_id, ip_address, user_agent, outcome, detail,
                     organization_id, part2)
SELECT gen_random_uuid(), now(), now(), clock_timestamp(), gen_random_uuid(), 'bench', NULL, 'biller',
       'patient.view', 'patients.patient', g::text, gen_random_uuid(), '', '127.0.0.1', 'bench',
       'success', '{{}}'::jsonb, %(org)s, false
FROM generate_series(1, %(rows)s) g
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--rows", type=int, default=5000, help="rows per batch")
    parser.add_argument("--batches", type=int, default=10, help="batches per round and table")
    args = parser.parse_args()
    org = Organization.objects.order_by("slug").first()
    assert org is not None, "seed an organization first (seed_demo)"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        cursor.execute(f"CREATE TABLE {PLAIN} (LIKE audit_auditevent INCLUDING ALL)")
        cursor.execute(f"ALTER TABLE {PLAIN} ENABLE ROW LEVEL SECURITY")
        cursor.execute(f"ALTER TABLE {PLAIN} FORCE ROW LEVEL SECURITY")
        cursor.execute(
            f"CREATE POLICY p ON {PLAIN} USING (organization_id = "
            "NULLIF(current_setting('app.current_org', true), '')::uuid)"
        )
        cursor.execute(
            f"CREATE TRIGGER t BEFORE UPDATE OR DELETE ON {PLAIN} FOR EACH ROW "
            "EXECUTE FUNCTION audit_event_append_only()"
        )
        cursor.execute("ANALYZE audit_auditevent")
    print("ANALYZE run on the audit table first (autovacuum is off on this machine).")
    rates: dict[str, list[float]] = {"audit_auditevent": [], PLAIN: []}
    try:
        for round_ in range(args.rounds):
            order = list(rates) if round_ % 2 == 0 else list(reversed(rates))
            for table in order:
                started = time.perf_counter()
                for _ in range(args.batches):
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(
                            INSERT.format(table=table), {"org": org.pk, "rows": args.rows}
                        )
                elapsed = time.perf_counter() - started
                rates[table].append(args.rows * args.batches / elapsed)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
    part = statistics.median(rates["audit_auditevent"])
    plain = statistics.median(rates[PLAIN])
    print(f"{args.rounds} rounds x {args.batches} batches x {args.rows} rows, interleaved")
    print(f"partitioned by month: {part:10.0f} rows/s (median of rounds)")
    print(f"plain table:          {plain:10.0f} rows/s")
    print(f"ratio partitioned / plain: {part / plain:.3f}")


if __name__ == "__main__":
    main()
