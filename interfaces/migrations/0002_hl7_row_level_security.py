from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("interfaces", "0001_hl7_messages")]

    operations = [
        EnableRowLevelSecurity("hl7message"),
        EnableRowLevelSecurity("heldmessage"),
    ]
