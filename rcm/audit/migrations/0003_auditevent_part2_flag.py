"""The 42 CFR Part 2 flag on audit events (rcm.part2 redacts flagged rows for a caller without
the grant).

No backfill: the trail is append-only (a trigger refuses UPDATE for every role), so events written
before this migration keep part2 = False and are shown as they were. Only new rows carry the flag,
set by the writer (rcm.audit.services) when the event concerns a Part 2 record. Adding a column
with a constant default rewrites no row and fires no UPDATE trigger on PostgreSQL 11+; the
default is kept in the database too (not db_default: db_default would make Django read
the column back with RETURNING, which RLS refuses for platform rows with no organization), so a
writer that does not name the column (a raw INSERT, a process still on the previous release)
appends unflagged rows instead of failing.
"""

from django.db import migrations, models


def keep_default_in_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditevent ALTER COLUMN part2 SET DEFAULT false")


def drop_default_in_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditevent ALTER COLUMN part2 DROP DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_append_only_and_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="part2",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(keep_default_in_database, drop_default_in_database),
    ]
