from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("patient_accounts", "0001_patient_accounts")]

    operations = [
        EnableRowLevelSecurity("guarantor"),
        EnableRowLevelSecurity("chargebalance"),
        EnableRowLevelSecurity("collectionplacement"),
        EnableRowLevelSecurity("patientpayment"),
        EnableRowLevelSecurity("patientrefund"),
        EnableRowLevelSecurity("patientwriteoff"),
        EnableRowLevelSecurity("ledgerentry"),
        EnableRowLevelSecurity("accountsettings"),
    ]
