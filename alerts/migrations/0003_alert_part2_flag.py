"""The 42 CFR Part 2 flag on alerts: set by the scan that raises an alert about a Part 2 record.
Existing alerts are flagged by the app that owns their subject (authorizations 0003 for
authorizations, reviews, stays and episodes)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_alerts_row_level_security")]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="part2",
            field=models.BooleanField(default=False),
        ),
    ]
