"""The 42 CFR Part 2 flag on audit events (rcm.part2 redacts flagged rows for a caller without
the grant).

No backfill: the trail is append-only (a trigger refuses UPDATE for every role), so events written
before this migration keep part2 = False and are shown as they were. Only new rows carry the flag,
set by the writer (rcm.audit.services) when the event concerns a Part 2 record. Adding a column
with a constant default rewrites no row and fires no UPDATE trigger on PostgreSQL 11+.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_append_only_and_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="part2",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
