from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_charges_fee_schedules_claims_findings_history")]

    operations = [
        EnableRowLevelSecurity(name)
        for name in (
            "serviceentry",
            "chargemasteritem",
            "contractrate",
            "claim",
            "claimline",
            "claimfinding",
            "claimevent",
            "savedclaimfilter",
            "payerbillingrule",
        )
    ]
