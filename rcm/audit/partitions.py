"""The audit table is partitioned by month (PostgreSQL declarative partitioning): the trail grows
fastest of all tables, and a month partition past the retention period is dropped whole instead
of deleted row by row (which the append-only trigger refuses anyway).

Each partition gets the same forced row-level security and tenant policy as the parent (a query
naming a partition directly would otherwise skip the parent's policy), and the append-only
trigger is cloned to every partition by PostgreSQL. A DEFAULT partition takes any row whose month
has no partition yet, so an insert never fails; `audit_partitions_maintain` (run by
`manage.py audit_partitions`, monthly, as the role that owns the tables) creates the months
ahead, moves rows out of the default partition into their month, and drops months past the
retention (docs/operations.md, "The audit table").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import connection, transaction

from rcm.tenancy.rls import CURRENT_ORG, POLICY_NAME

TABLE = "audit_auditevent"
DEFAULT_PARTITION = f"{TABLE}_default"
# The months of the rows the default partition caught; moving them (fixed table names only).
STRANDED_SQL = f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION}"  # noqa: S608
MOVE_SQL = f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE occurred_at >= %s RETURNING *) INSERT INTO {TABLE} SELECT * FROM moved"  # noqa: S608


def month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def _protect(cursor: object, name: str) -> None:
    """Forced RLS with the tenant policy on one partition (the parent's policy does not apply to
    a query that names the partition)."""
    execute = cursor.execute  # type: ignore[attr-defined]
    execute(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY')
    execute(f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY')
    execute(f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{name}"')
    execute(
        f'CREATE POLICY {POLICY_NAME} ON "{name}" USING (organization_id = {CURRENT_ORG}) '
        f"WITH CHECK (organization_id IS NULL OR organization_id = {CURRENT_ORG})"
    )


def revoke_app_writes(cursor: object, name: str) -> None:
    """The application role may only read and append: new tables get UPDATE and DELETE from the
    schema's default privileges (setup_db_roles), so a partition takes them back."""
    execute = cursor.execute  # type: ignore[attr-defined]
    execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.DATABASE_APP_ROLE])
    if cursor.fetchone() is not None:  # type: ignore[attr-defined]
        execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{name}" FROM "{settings.DATABASE_APP_ROLE}"')


def existing_partitions() -> dict[str, str]:
    """Partition name -> its bound expression."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        return dict(cursor.fetchall())


def is_partitioned() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass)",
            [TABLE],
        )
        return bool(cursor.fetchone()[0])


@dataclass
class MaintenanceResult:
    created: list[str] = field(default_factory=list)
    moved: int = 0
    dropped: list[str] = field(default_factory=list)


def _create_month(cursor: object, month: date) -> str:
    name = partition_name(month)
    cursor.execute(  # type: ignore[attr-defined]
        f'CREATE TABLE "{name}" PARTITION OF {TABLE} '
        f"FOR VALUES FROM ('{month:%Y-%m-%d}') TO ('{month_start(month, 1):%Y-%m-%d}')"
    )
    _protect(cursor, name)
    revoke_app_writes(cursor, name)
    return name


def audit_partitions_maintain(
    *, today: date, months_ahead: int, retention_years: int
) -> MaintenanceResult:
    """Create the month partitions from the oldest month with rows (or this month) to
    `months_ahead` after this one, move rows the default partition holds into them, and drop
    the months that ended more than `retention_years` before `today`. Safe to run again."""
    result = MaintenanceResult()
    if connection.vendor != "postgresql" or not is_partitioned():
        return result
    this_month = month_start(today)
    cutoff = month_start(date(today.year - retention_years, today.month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        # Deferred checks of rows written earlier in the same transaction (the organization
        # foreign key) would block the DDL below ("pending trigger events"): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(STRANDED_SQL)
        stranded = sorted(row[0] for row in cursor.fetchall())
        have = existing_partitions()
        wanted = [month_start(this_month, k) for k in range(months_ahead + 1)]
        wanted += [m for m in stranded if m >= cutoff and m not in wanted]
        missing = [m for m in sorted(set(wanted)) if partition_name(m) not in have]
        if stranded:
            # A month partition cannot be attached while the default partition holds rows of
            # that month: take the default partition off, create the months, move its rows
            # (the append-only trigger is disabled for the move only: rows change partition,
            # not content), and put it back.
            cursor.execute(f'ALTER TABLE {TABLE} DETACH PARTITION "{DEFAULT_PARTITION}"')
        for month in missing:
            result.created.append(_create_month(cursor, month))
        if stranded:
            cursor.execute(f'ALTER TABLE "{DEFAULT_PARTITION}" DISABLE TRIGGER USER')
            cursor.execute(MOVE_SQL, [cutoff])
            result.moved = cursor.rowcount
            cursor.execute(f'ALTER TABLE "{DEFAULT_PARTITION}" ENABLE TRIGGER USER')
            cursor.execute(f'ALTER TABLE {TABLE} ATTACH PARTITION "{DEFAULT_PARTITION}" DEFAULT')
        for name in sorted(existing_partitions()):
            if name == DEFAULT_PARTITION:
                continue
            year_text, month_text = name.rsplit("_", 2)[-2:]
            if month_start(date(int(year_text), int(month_text), 1), 1) <= cutoff:
                cursor.execute(f'DROP TABLE "{name}"')
                result.dropped.append(name)
    return result
