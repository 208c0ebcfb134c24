"""The 42 CFR Part 2 flag on alerts: set by the scan that raises an alert about a Part 2 record.
Existing alerts are flagged by the app that owns their subject (authorizations 0003 for
authorizations, reviews, stays and episodes). The default stays in the database too, so a writer
that does not name the column (a process still on the previous release) raises unflagged alerts
instead of failing."""

from django.db import migrations, models


def keep_default_in_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alerts_alert ALTER COLUMN part2 SET DEFAULT false")


def drop_default_in_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE alerts_alert ALTER COLUMN part2 DROP DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_alerts_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="part2",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(keep_default_in_database, drop_default_in_database),
    ]
