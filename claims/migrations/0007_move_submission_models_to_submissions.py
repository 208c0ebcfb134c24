"""The six electronic-submission models moved to the submissions app (submissions/models.py).
Their tables keep their names (claims_clearinghouse, claims_submissionbatch, ...), so this
migration only takes them out of the claims app's state; the database is not touched.
submissions/migrations/0001_initial.py puts them back into the state under the submissions app.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0006_claim_secondary_of_primary"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Models that point at others first, so no state model refers to a deleted one.
            state_operations=[
                migrations.DeleteModel(name="ClaimRejection"),
                migrations.DeleteModel(name="BatchClaim"),
                migrations.DeleteModel(name="Acknowledgment"),
                migrations.DeleteModel(name="ControlNumberCounter"),
                migrations.DeleteModel(name="SubmissionBatch"),
                migrations.DeleteModel(name="Clearinghouse"),
            ],
            database_operations=[],
        ),
    ]
