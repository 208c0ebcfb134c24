from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_outbox_messages")]

    operations = [EnableRowLevelSecurity("outboxmessage")]
