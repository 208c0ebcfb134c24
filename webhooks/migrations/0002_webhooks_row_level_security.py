from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_webhooks")]

    operations = [
        EnableRowLevelSecurity("webhookendpoint"),
        EnableRowLevelSecurity("webhookdelivery"),
    ]
