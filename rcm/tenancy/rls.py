"""Row-level security, the second wall behind the tenant manager (docs/tenancy.md).

`EnableRowLevelSecurity("model_name")` is a migration operation: on PostgreSQL it enables and
forces RLS on the model's table and creates the tenant policy; on SQLite it does nothing. Every
migration that creates a tenant table adds one; tests/tenancy/test_rls.py fails when a tenant
table has no policy.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# An unset or empty app.current_org matches nothing: NULLIF turns '' into NULL, and
# `organization_id = NULL` is never true.
CURRENT_ORG = "NULLIF(current_setting('app.current_org', true), '')::uuid"
POLICY_NAME = "tenant_isolation"


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, *, allow_null_organization_writes: bool = False) -> None:
        self.model_name = model_name
        # The audit trail records platform events (a failed sign-in for an unknown email) with no
        # organization; such rows may be written but are never visible through the policy.
        self.allow_null_organization_writes = allow_null_organization_writes

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        check = f"organization_id = {CURRENT_ORG}"
        if self.allow_null_organization_writes:
            check = f"organization_id IS NULL OR {check}"
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY {POLICY_NAME} ON {table} "
            f"USING (organization_id = {CURRENT_ORG}) WITH CHECK ({check})"
        )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rls_{self.model_name.lower()}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if self.allow_null_organization_writes:
            kwargs["allow_null_organization_writes"] = True
        # The class name alone, as Django's own operations do: the migration writer (squashmigrations)
        # puts the module in front of it.
        return (self.__class__.__name__, [self.model_name], kwargs)
