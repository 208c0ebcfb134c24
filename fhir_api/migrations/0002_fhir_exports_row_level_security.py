from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("fhir_api", "0001_fhir_exports")]

    operations = [
        EnableRowLevelSecurity("fhirexport"),
        EnableRowLevelSecurity("fhirexportfile"),
    ]
