from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_alerts")]

    operations = [EnableRowLevelSecurity("alert")]
