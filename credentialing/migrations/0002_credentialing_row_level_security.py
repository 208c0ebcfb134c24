from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("credentialing", "0001_providers_credentials_enrollments")]

    operations = [
        EnableRowLevelSecurity(name)
        for name in (
            "provider",
            "servicefacility",
            "credential",
            "payerenrollment",
            "enrollmentevent",
            "payerproviderrule",
        )
    ]
