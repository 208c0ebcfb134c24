from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("denials", "0003_load_carc_rarc_codes")]

    operations = [
        migrations.AddField(
            model_name="remittanceline",
            name="original_service_code",
            field=models.CharField(
                blank=True,
                help_text="SVC06: the code we billed when the payer adjudicated another one",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="remittanceline",
            name="segment_position",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterModelOptions(
            name="remittanceline",
            options={"ordering": ["remittance_claim", "segment_position", "created_at"]},
        ),
    ]
