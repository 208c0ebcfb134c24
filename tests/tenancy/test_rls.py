"""Row-level security, the second wall, exercised as the application role (never as the
superuser the test runner connects as)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from rcm.audit.models import AuditEvent
from rcm.audit.services import audit_record
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import TenantModel
from tests.conftest import app_role

pytestmark = pytest.mark.usefixtures("requires_postgres")


@pytest.fixture
def messages_in_both(org: Any, other_org: Any) -> None:
    for tenant in (org, other_org):
        with tenant_context(tenant):
            OutboxMessage.objects.create(
                topic="tenancy.welcome_email", payload={}, idempotency_key=f"k-{tenant.slug}"
            )


def test_a_raw_select_with_no_tenant_set_returns_nothing(messages_in_both: None) -> None:
    with app_role(None) as cursor:
        cursor.execute("SELECT count(*) FROM outbox_outboxmessage")
        assert cursor.fetchone()[0] == 0


def test_a_raw_select_returns_only_the_current_tenants_rows(
    messages_in_both: None, org: Any
) -> None:
    with app_role(org) as cursor:
        cursor.execute("SELECT DISTINCT organization_id FROM outbox_outboxmessage")
        assert [row[0] for row in cursor.fetchall()] == [org.pk]


def test_an_insert_with_another_organizations_id_is_refused(org: Any, other_org: Any) -> None:
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        app_role(org) as cursor,
    ):
        cursor.execute(
            "INSERT INTO outbox_outboxmessage (id, organization_id, topic, payload, "
            "idempotency_key, status, attempts, available_at, last_error, created_at, updated_at) "
            "VALUES (gen_random_uuid(), %s, 't', '{}', 'x', 'pending', 0, now(), '', now(), now())",
            [str(other_org.pk)],
        )


def test_an_update_cannot_move_a_row_to_another_organization(
    messages_in_both: None, org: Any, other_org: Any
) -> None:
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        app_role(org) as cursor,
    ):
        cursor.execute("UPDATE outbox_outboxmessage SET organization_id = %s", [str(other_org.pk)])


def test_the_application_role_cannot_update_or_delete_audit_rows(org: Any) -> None:
    with tenant_context(org):
        event = audit_record(action="probe.event")
    for statement in (
        "UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            app_role(org) as cursor,
        ):
            cursor.execute(statement, [str(event.pk)])


def test_the_audit_trigger_refuses_changes_even_from_the_owner(org: Any) -> None:
    with tenant_context(org):
        event = audit_record(action="probe.event")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).action == "probe.event"


def test_the_application_role_may_append_audit_rows_of_its_tenant(org: Any) -> None:
    with app_role(org) as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (id, organization_id, occurred_at, actor_label, role, action, "
            "object_type, object_id, request_id, user_agent, outcome, detail, created_at, updated_at) "
            "VALUES (gen_random_uuid(), %s, now(), '', '', 'probe', '', '', '', '', 'success', '{}', now(), now())",
            [str(org.pk)],
        )
        cursor.execute("SELECT count(*) FROM audit_auditevent WHERE action = 'probe'")
        assert cursor.fetchone()[0] == 1


def test_every_tenant_table_has_forced_rls_and_the_tenant_policy(db: Any) -> None:
    """Fails when a migration creates a tenant table without EnableRowLevelSecurity."""
    missing = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel) or model.rls_exempt_reason:
            continue
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname "
                " AND p.policyname = 'tenant_isolation') "
                "FROM pg_class c WHERE c.relname = %s",
                [table],
            )
            enabled, forced, policies = cursor.fetchone()
        if not (enabled and forced and policies == 1):
            missing.append(table)
    assert not missing, f"tenant tables without forced RLS: {missing}"


def test_the_application_role_is_not_privileged(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
            [settings.DATABASE_APP_ROLE],
        )
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [settings.DATABASE_APP_ROLE],
        )
        assert cursor.fetchone()[0] == 0


def test_sign_in_events_are_written_under_rls_as_the_application_role(
    biller: Any, org: Any
) -> None:
    """Platform events (no organization) and per-organization events both pass the policy."""
    from django.test import Client

    from tests.factories import PASSWORD

    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {settings.DATABASE_APP_ROLE}")
    client = Client()
    client.post("/accounts/login/", {"username": "nobody@example.com", "password": "x" * 12})
    client.post("/accounts/login/", {"username": biller.email, "password": PASSWORD})
    assert client.get("/o/riverbend/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    with tenant_context(org):
        assert AuditEvent.objects.filter(action="auth.sign_in", actor_id=biller.pk).exists()
    assert AuditEvent.all_tenants.filter(action="auth.sign_in_failed", organization=None).exists()
