"""The raw 270/271 kept encrypted at rest (Fernet, settings.CREDENTIALS_KEY) and purgeable; each
verification keeps a snapshot of the benefits it left, so the next one is compared with it."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import migrations, models


def encrypt_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Encrypt the raw texts already stored. Row-level security is forced, so each organization
    is visited as the current tenant (as submissions 0002 does)."""
    fernet = Fernet(settings.CREDENTIALS_KEY.encode())
    Organization = apps.get_model("tenancy", "Organization")
    EligibilityRequest = apps.get_model("patients", "EligibilityRequest")
    postgres = schema_editor.connection.vendor == "postgresql"
    names = ("raw_request_encrypted", "raw_response_encrypted")
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        for row in EligibilityRequest.all_tenants.filter(organization_id=org_id):
            for name in names:
                text = getattr(row, name)
                if text:
                    setattr(row, name, fernet.encrypt(text.encode()).decode())
            row.save(update_fields=list(names))
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0008_eligibility_requests"),
        ("tenancy", "0004_organization_two_factor_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="benefitverification",
            name="benefits",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RenameField(
            model_name="eligibilityrequest",
            old_name="raw_request",
            new_name="raw_request_encrypted",
        ),
        migrations.RenameField(
            model_name="eligibilityrequest",
            old_name="raw_response",
            new_name="raw_response_encrypted",
        ),
        migrations.AlterField(
            model_name="eligibilityrequest",
            name="raw_request_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="eligibilityrequest",
            name="raw_response_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="eligibilityrequest",
            name="raw_purged_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
