from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_patients_payers_coverage_episodes_consents")]

    operations = [
        EnableRowLevelSecurity(name)
        for name in (
            "payer",
            "patient",
            "coverage",
            "benefitverification",
            "episodeofcare",
            "episodediagnosis",
            "levelofcarestay",
            "consent",
        )
    ]
