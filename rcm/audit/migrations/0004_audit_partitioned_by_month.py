"""The audit table becomes partitioned by month of `occurred_at` (rcm/audit/partitions.py).

PostgreSQL only (SQLite, the embedded demo, keeps the plain table). The rows are copied into the
new partitioned table inside this migration's transaction; the primary key becomes
(id, occurred_at) (a partitioned table's unique keys must hold the partition column; ids stay
random UUIDs), the indexes, the foreign key, forced row-level security with the tenant policy
(on the parent and on every partition) and the append-only trigger (cloned to each partition) are
recreated as they were. Months from the oldest row's to twelve months ahead get a partition; a
DEFAULT partition takes anything else.
"""

from django.db import migrations
from django.utils import timezone

from rcm.audit import partitions
from rcm.tenancy.rls import CURRENT_ORG, POLICY_NAME

T = partitions.TABLE

FORWARDS = f"""
ALTER TABLE {T} RENAME TO audit_auditevent_plain;
CREATE TABLE {T} (LIKE audit_auditevent_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (occurred_at);
ALTER TABLE {T} ADD CONSTRAINT audit_auditevent_pkey_part PRIMARY KEY (id, occurred_at);
CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF {T} DEFAULT;
"""

AFTER_COPY = f"""
DROP TABLE audit_auditevent_plain;
ALTER TABLE {T} RENAME CONSTRAINT audit_auditevent_pkey_part TO audit_auditevent_pkey;
ALTER TABLE {T} ADD CONSTRAINT audit_auditevent_organization_id_4b1fe3b9_fk_tenancy_o
    FOREIGN KEY (organization_id) REFERENCES tenancy_organization(id)
    DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX audit_auditevent_organization_id_4b1fe3b9 ON {T} (organization_id);
CREATE INDEX audit_org_action_idx ON {T} (organization_id, action, occurred_at);
CREATE INDEX audit_org_actor_idx ON {T} (organization_id, actor_id, occurred_at);
CREATE INDEX audit_org_patient_idx ON {T} (organization_id, patient_id, occurred_at);
CREATE INDEX audit_org_time_idx ON {T} (organization_id, occurred_at);
ALTER TABLE {T} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {T} FORCE ROW LEVEL SECURITY;
CREATE POLICY {POLICY_NAME} ON {T} USING (organization_id = {CURRENT_ORG})
    WITH CHECK (organization_id IS NULL OR organization_id = {CURRENT_ORG});
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {T}
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    execute(FORWARDS, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(occurred_at) FROM audit_auditevent_plain")
        (oldest,) = cursor.fetchone()
        # The migration's own day (an edge): the months ahead of it get partitions.
        today = timezone.now().date()
        first = partitions.month_start(oldest.date() if oldest else today)
        month = first
        while month <= partitions.month_start(today, 12):
            partitions._create_month(cursor, month)
            month = partitions.month_start(month, 1)
        partitions._protect(cursor, partitions.DEFAULT_PARTITION)
        cursor.execute(f"INSERT INTO {T} SELECT * FROM audit_auditevent_plain")  # noqa: S608
    execute(AFTER_COPY, params=None)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("audit", "0003_auditevent_part2_flag")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
