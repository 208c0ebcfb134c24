from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("claims", "0003_submission_batches_acknowledgments")]

    operations = [
        EnableRowLevelSecurity(name)
        for name in (
            "clearinghouse",
            "controlnumbercounter",
            "submissionbatch",
            "batchclaim",
            "acknowledgment",
            "claimrejection",
        )
    ]
