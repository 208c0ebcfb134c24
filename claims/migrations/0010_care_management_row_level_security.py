from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("claims", "0009_care_management_months")]

    operations = [EnableRowLevelSecurity(name) for name in ("careminutes", "caremonth")]
