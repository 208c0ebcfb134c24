"""Create (or bring up to date) the PostgreSQL role the application runs as.

The role owns no table, is not a superuser and has no BYPASSRLS, so row-level security applies to
everything it reads and writes. Run it as the owner, after `migrate`; it is safe to run again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from rcm.audit.models import AuditEvent
from rcm.audit.partitions import existing_partitions, revoke_app_writes


def ensure_app_role(role: str, password: str = "") -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        ident = sql.Identifier(role)
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN").format(ident).as_string(cursor.connection)
            )
        options = "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"
        cursor.execute(
            sql.SQL("ALTER ROLE {} " + options).format(ident).as_string(cursor.connection)
        )
        if password:
            cursor.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}")
                .format(ident, sql.Literal(password))
                .as_string(cursor.connection)
            )
        statements = [
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            # The audit trail is append-only for the application (a trigger backs this up).
            "REVOKE UPDATE, DELETE, TRUNCATE ON {audit} FROM {role}",
        ]
        names = {
            "db": sql.Identifier(connection.settings_dict["NAME"]),
            "role": ident,
            "audit": sql.Identifier(AuditEvent._meta.db_table),
        }
        for statement in statements:
            cursor.execute(sql.SQL(statement).format(**names).as_string(cursor.connection))
        # The audit table's month partitions (rcm/audit/partitions.py) are append-only too.
        for partition in existing_partitions():
            revoke_app_writes(cursor, partition)


class Command(BaseCommand):
    help = "Create or update the application's PostgreSQL role (no ownership, no BYPASSRLS)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--role", default=settings.DATABASE_APP_ROLE)
        parser.add_argument(
            "--password",
            default=settings.DATABASE_APP_PASSWORD,
            help="Give the role LOGIN with this password (default: DATABASE_APP_PASSWORD).",
        )

    def handle(self, *args: Any, role: str, password: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Database roles and row-level security need PostgreSQL.")
        ensure_app_role(role, password)
        self.stdout.write(self.style.SUCCESS(f"Role {role} is ready (row-level security applies)."))
