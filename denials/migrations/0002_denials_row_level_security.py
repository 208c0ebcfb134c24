from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("denials", "0001_remittance_denials_work_queue_appeals")]

    # Every tenant table; the CARC/RARC reference tables are global and stay without a policy.
    operations = [
        EnableRowLevelSecurity(name)
        for name in (
            "remittanceimport",
            "payment",
            "remittanceclaim",
            "remittanceline",
            "remittanceadjustment",
            "provideradjustment",
            "remittanceexception",
            "linebalance",
            "secondaryclaim",
            "denial",
            "workitem",
            "workitemevent",
            "appeal",
            "writeoff",
            "denialsettings",
        )
    ]
