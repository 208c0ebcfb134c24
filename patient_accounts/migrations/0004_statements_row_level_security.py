from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("patient_accounts", "0003_statements")]

    operations = [
        EnableRowLevelSecurity("statementrun"),
        EnableRowLevelSecurity("statement"),
    ]
