from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0001_reconciliation")]

    operations = [
        EnableRowLevelSecurity("bankaccount"),
        EnableRowLevelSecurity("statementimport"),
        EnableRowLevelSecurity("deposit"),
        EnableRowLevelSecurity("match"),
        EnableRowLevelSecurity("matchdeposit"),
        EnableRowLevelSecurity("matchpayment"),
        EnableRowLevelSecurity("reconciliationsettings"),
    ]
