"""The audit table is partitioned by month: rows land in their month, every partition is as
append-only and tenant-isolated as the parent, rows the default partition caught move to their
month, and months past the retention are dropped whole."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from rcm.audit import partitions
from rcm.audit.models import AuditEvent
from rcm.audit.services import audit_record
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.conftest import app_role

pytestmark = [pytest.mark.usefixtures("requires_postgres"), pytest.mark.django_db]


def _partition_of(event: AuditEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_auditevent WHERE id = %s", [event.pk]
        )
        return str(cursor.fetchone()[0])


def _maintain(**overrides: Any) -> partitions.MaintenanceResult:
    options = {"today": clock.today(), "months_ahead": 2, "retention_years": 6, **overrides}
    return partitions.audit_partitions_maintain(**options)


def test_the_audit_table_is_partitioned_and_a_row_lands_in_its_month(org: Any) -> None:
    assert partitions.is_partitioned()
    _maintain()
    with tenant_context(org):
        audit_record(action="patient.view", detail={})
        event = AuditEvent.objects.get(action="patient.view")
    month = partitions.month_start(event.occurred_at.astimezone(UTC).date())
    assert _partition_of(event) == partitions.partition_name(month)


def test_every_partition_refuses_update_and_delete(org: Any) -> None:
    _maintain()
    with tenant_context(org):
        audit_record(action="claim.view", detail={})
        event = AuditEvent.objects.get(action="claim.view")
    name = _partition_of(event)
    for statement in (
        f'UPDATE "{name}" SET action = %s WHERE id = %s',
        f'DELETE FROM "{name}" WHERE id = %s AND action <> %s',
    ):
        params = ["forged", event.pk] if statement.startswith("UPDATE") else [event.pk, "x"]
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, params)
    with tenant_context(org):
        assert AuditEvent.objects.get(pk=event.pk).action == "claim.view"


def test_a_partition_named_directly_shows_only_the_tenants_rows(org: Any, other_org: Any) -> None:
    _maintain()
    for tenant in (org, other_org):
        with tenant_context(tenant):
            audit_record(action="patient.view", detail={"who": tenant.slug})
    with tenant_context(org):
        event = AuditEvent.objects.get(action="patient.view")
    name = _partition_of(event)
    with transaction.atomic(), app_role(org) as cursor:
        cursor.execute(f'SELECT organization_id FROM "{name}" WHERE action = %s', ["patient.view"])
        assert [row[0] for row in cursor.fetchall()] == [org.pk]
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f'UPDATE "{name}" SET action = %s', ["forged"])


def test_rows_the_default_partition_caught_move_into_their_month(org: Any) -> None:
    far = partitions.month_start(clock.today(), 30)
    with tenant_context(org):
        event = AuditEvent.objects.create(
            action="far.future", occurred_at=datetime(far.year, far.month, 15, tzinfo=UTC)
        )
    assert _partition_of(event) == partitions.DEFAULT_PARTITION
    first = _maintain()
    assert partitions.partition_name(far) in first.created and first.moved == 1
    assert _partition_of(event) == partitions.partition_name(far)
    second = _maintain()
    assert second.created == [] and second.moved == 0 and second.dropped == []


def test_months_past_the_retention_are_dropped_whole(org: Any) -> None:
    today = clock.today()
    old = partitions.month_start(date(today.year - 7, today.month, 1))
    kept = partitions.month_start(date(today.year - 5, today.month, 1))
    with connection.cursor() as cursor:
        for month in (old, kept):
            if partitions.partition_name(month) not in partitions.existing_partitions():
                partitions._create_month(cursor, month)
    with tenant_context(org):
        gone = AuditEvent.objects.create(
            action="old", occurred_at=datetime(old.year, old.month, 3, tzinfo=UTC)
        )
        stays = AuditEvent.objects.create(
            action="kept", occurred_at=datetime(kept.year, kept.month, 3, tzinfo=UTC)
        )
    result = _maintain(retention_years=6)
    assert partitions.partition_name(old) in result.dropped
    assert partitions.partition_name(kept) not in result.dropped
    with tenant_context(org):
        assert not AuditEvent.objects.filter(pk=gone.pk).exists()
        assert AuditEvent.objects.filter(pk=stays.pk).exists()


def test_the_command_is_safe_to_run_twice(capsys: Any) -> None:
    call_command("audit_partitions")
    call_command("audit_partitions")
    assert "created 0 (none), moved 0 rows" in capsys.readouterr().out.splitlines()[-1]
