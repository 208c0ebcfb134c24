"""The schema stays ready to be distributed by `organization_id` (Citus; docs/scaling.md): read
from the live PostgreSQL catalog, so a migration that breaks the plan fails here the day it is
written.

Citus requires, on a distributed table, that every unique constraint include the distribution
column; foreign keys between distributed tables must be co-located (on it too), and a
distributed table may point at a reference table (replicated to every node). The catalog is
checked for exactly that, with each exception listed and justified below."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from rcm.tenancy.models import TenantModel

pytestmark = pytest.mark.usefixtures("requires_postgres")

# Shared, tenant-free tables distributed as Citus *reference* tables (a copy on every node): the
# code tables and the identities every tenant's rows point at.
REFERENCE_TABLES = {
    "denials_adjustmentreason": "CARC code table, shared by every organization",
    "denials_remarkcode": "RARC code table, shared by every organization",
    "tenancy_organization": "the tenants themselves: one small row each, read on every request",
    "tenancy_user": "a person may belong to several organizations; rows point at users as actors",
    "django_content_type": "Django's table of models (audit and permissions refer to it)",
}

# Unique constraints on a tenant table that do not include organization_id, and why each is safe.
UNIQUE_EXCEPTIONS = {
    ("tenancy_apikey", "prefix"): (
        "an API key is looked up by its prefix before the tenant is known; the key table stays on "
        "the coordinator (Citus local table), docs/scaling.md"
    ),
    (
        "denials_denial",
        "remittance_line_id",
    ): "one-to-one with a remittance line of the same tenant",
    ("denials_secondaryclaim", "remittance_claim_id"): "one-to-one with a remittance claim",
    ("denials_secondaryclaim", "claim_id"): "one-to-one with a claim of the same tenant",
    ("denials_linebalance", "claim_line_id"): "one-to-one with a claim line of the same tenant",
    ("patients_eligibilityrequest", "verification_id"): "one-to-one with a verification",
    ("interfaces_heldmessage", "message_id"): "one-to-one with an HL7 message of the same tenant",
    ("patient_accounts_chargebalance", "claim_line_id"): "one-to-one with a claim line",
    ("patient_accounts_guarantor", "patient_id"): "one-to-one with a patient of the same tenant",
    ("reconciliation_underpaymentitem", "remittance_line_id"): "one-to-one with a remittance line",
}
# Tenant tables whose organization_id may be NULL, and why.
NULLABLE_ORGANIZATION = {
    "audit_auditevent": (
        "platform events (a failed sign-in for an unknown e-mail) belong to no organization; "
        "distribution moves them to their own coordinator table (docs/scaling.md)"
    ),
}
# Citus local tables (kept on the coordinator, not distributed): read before the tenant is known.
COORDINATOR_TABLES = {"tenancy_apikey", "tenancy_membership"}


def _tenant_tables() -> set[str]:
    return {
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy
    }


def _rows(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@pytest.mark.django_db
def test_every_tenant_model_has_a_not_null_organization_id_and_a_uuid_primary_key() -> None:
    tables = _tenant_tables()
    assert len(tables) >= 40
    rows = _rows(
        """
        SELECT c.relname, a.attnotnull,
               (SELECT array_agg(pa.attname::text ORDER BY pa.attname)
                  FROM pg_index i JOIN pg_attribute pa
                    ON pa.attrelid = i.indrelid AND pa.attnum = ANY(i.indkey)
                 WHERE i.indrelid = c.oid AND i.indisprimary),
               (SELECT format_type(pa.atttypid, pa.atttypmod) FROM pg_attribute pa
                 WHERE pa.attrelid = c.oid AND pa.attname = 'id')
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id'
         WHERE c.relname = ANY(%s)
        """,
        [sorted(tables)],
    )
    found = {name: (not_null, pk, id_type) for name, not_null, pk, id_type in rows}
    assert set(found) == tables, f"tables without organization_id: {tables - set(found)}"
    nullable = sorted(name for name, (not_null, _, _) in found.items() if not not_null)
    assert nullable == sorted(NULLABLE_ORGANIZATION)
    # The primary key is a random UUID (never a sequence, which Citus would have to coordinate):
    # distribution adds organization_id to it at the SQL level (docs/scaling.md, step 2).
    odd_keys = sorted(
        name for name, (_, pk, id_type) in found.items() if pk != ["id"] or id_type != "uuid"
    )
    # The audit table is partitioned by month: its key holds the partition column too.
    assert odd_keys == ["audit_auditevent"]
    assert found["audit_auditevent"][1:] == (["id", "occurred_at"], "uuid")


@pytest.mark.django_db
def test_every_unique_constraint_of_a_tenant_table_includes_organization_id() -> None:
    rows = _rows(
        """
        SELECT t.relname,
               array_agg(a.attname::text ORDER BY a.attname)
          FROM pg_index i
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
         WHERE t.relname = ANY(%s) AND i.indisunique AND NOT i.indisprimary
         GROUP BY t.relname, i.indexrelid
        """,
        [sorted(_tenant_tables())],
    )
    # An expression or partial unique index lists its columns too; those holding organization_id
    # are fine whatever else they hold.
    missing = sorted(
        (table, ",".join(columns)) for table, columns in rows if "organization_id" not in columns
    )
    assert missing == sorted((t, c) for t, c in UNIQUE_EXCEPTIONS), (
        "a unique constraint without organization_id cannot be enforced on a distributed table: "
        "add organization to it, or justify it in UNIQUE_EXCEPTIONS and docs/scaling.md"
    )


@pytest.mark.django_db
def test_tenant_tables_point_only_at_tenant_or_reference_tables() -> None:
    tenant = _tenant_tables()
    rows = _rows(
        """
        SELECT src.relname, dst.relname
          FROM pg_constraint con
          JOIN pg_class src ON src.oid = con.conrelid
          JOIN pg_class dst ON dst.oid = con.confrelid
         WHERE con.contype = 'f' AND src.relname = ANY(%s)
        """,
        [sorted(tenant)],
    )
    assert rows
    stray = sorted({(s, d) for s, d in rows if d not in tenant and d not in REFERENCE_TABLES})
    assert stray == [], (
        "a tenant table points at a table that is neither co-located nor a reference"
    )


@pytest.mark.django_db
def test_reference_tables_hold_no_tenant_data() -> None:
    for table in REFERENCE_TABLES:
        columns = {
            name
            for (name,) in _rows(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped",
                [table],
            )
        }
        assert columns, table
        assert "organization_id" not in columns, table
        # A reference table may not point at a distributed table.
        pointing = _rows(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = %s::regclass",
            [table],
        )
        assert not {d for (d,) in pointing} & _tenant_tables(), table


def test_the_exceptions_are_documented_in_the_distribution_plan() -> None:
    from pathlib import Path

    plan = (Path(__file__).resolve().parents[2] / "docs" / "scaling.md").read_text()
    for table, column in UNIQUE_EXCEPTIONS:
        assert f"{table}.{column}" in plan
    for table in REFERENCE_TABLES:
        assert table in plan
    for table in [*COORDINATOR_TABLES, *NULLABLE_ORGANIZATION]:
        assert table in plan
