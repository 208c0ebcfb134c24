"""Dashboards, reports and exports read from a real streaming replica (`make test-replica`:
tests/replica/cluster.py starts a primary and a hot standby made with pg_basebackup), and fall
back to the primary when the standby lags or is down. Skipped where no replica is configured."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Patient
from rcm import replica
from rcm.tenancy.context import tenant_context
from tests.patients.factories import PatientFactory
from tests.replica import cluster
from tests.replica.conftest import wait_until_replayed

pytestmark = [
    pytest.mark.skipif(
        "replica" not in settings.DATABASES,
        reason="needs a streaming replica: make test-replica",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def test_reads_inside_replica_reads_come_from_the_standby(org: Any, other_org: Any) -> None:
    PatientFactory(organization=org, last_name="Okafor")
    PatientFactory(organization=other_org, last_name="Lindqvist")
    wait_until_replayed()
    assert _in_recovery("replica") and not _in_recovery("default")
    with (
        tenant_context(org),
        CaptureQueriesContext(connections["replica"]) as on_replica,
        replica.replica_reads() as alias,
    ):
        assert alias == "replica"
        assert list(Patient.objects.values_list("last_name", flat=True)) == ["Okafor"]
        assert router.db_for_write(Patient) == "default"
    assert any("patients_patient" in q["sql"] for q in on_replica.captured_queries)


def test_row_level_security_holds_on_the_standby(org: Any, other_org: Any) -> None:
    for tenant, name in ((org, "Okafor"), (other_org, "Lindqvist")):
        PatientFactory(organization=tenant, last_name=name)
    wait_until_replayed()
    with tenant_context(org), replica.replica_reads(), connections["replica"].cursor() as cursor:
        # As the application role (no BYPASSRLS), with only the tenant setting to go by.
        cursor.execute(f"SET LOCAL ROLE {settings.DATABASE_APP_ROLE}")
        cursor.execute("SELECT last_name FROM patients_patient")
        assert [row[0] for row in cursor.fetchall()] == ["Okafor"]


def test_writes_inside_replica_reads_go_to_the_primary(org: Any) -> None:
    with tenant_context(org), replica.replica_reads():
        PatientFactory(organization=org, last_name="Written")
    with tenant_context(org):
        assert Patient.objects.filter(last_name="Written").exists()


def test_the_dashboard_reads_its_figures_from_the_standby(
    org: Any, manager: Any, client_for: Any
) -> None:
    wait_until_replayed()
    client = client_for(manager)
    url = reverse("dashboards:dashboard", kwargs={"org_slug": org.slug})
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get(url)
    assert response.status_code == 200
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "claims_claim" in replica_sql
    assert "claims_claim" not in " ".join(q["sql"] for q in on_primary.captured_queries)


def test_a_lagging_standby_is_passed_over_for_the_primary(org: Any, settings: Any) -> None:
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    wait_until_replayed()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        time.sleep(1.0)  # the last commit the standby replayed is now over a second old
        PatientFactory(organization=org, last_name="Fresh")
        time.sleep(1.0)  # received by the standby, not replayed
        assert (replica.replica_lag() or 0) > 0.5
        with tenant_context(org), replica.replica_reads() as alias:
            assert alias == "default"
            assert Patient.objects.filter(last_name="Fresh").exists()
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    replica.forget_replica_lag()
    wait_until_replayed()
    with tenant_context(org), replica.replica_reads() as alias:
        assert alias == "replica"
        assert Patient.objects.filter(last_name="Fresh").exists()


def test_a_standby_that_is_down_is_passed_over_for_the_primary(org: Any) -> None:
    PatientFactory(organization=org, last_name="Still-here")
    connections["replica"].close()
    cluster.pg_ctl("standby", "stop")
    try:
        assert replica.replica_lag() is None
        with tenant_context(org), replica.replica_reads() as alias:
            assert alias == "default"
            assert Patient.objects.filter(last_name="Still-here").exists()
    finally:
        cluster.pg_ctl("standby", "start")
    replica.forget_replica_lag()
    wait_until_replayed()
    with tenant_context(org), replica.replica_reads() as alias:
        assert alias == "replica"
