"""Flag the existing alerts about Part 2 authorizations (42 CFR Part 2): the scan sets
`Alert.part2` on the alerts it raises from now on; this marks the ones raised before, whose
subject is an authorization (or one of its concurrent reviews, which name the authorization)
of a substance use or co-occurring episode. Alerts are not append-only, so an UPDATE is fine.

Row-level security is forced on both tables, so each organization is updated with it set as the
current tenant (the owner role that runs migrations is not a superuser in production)."""

from django.db import migrations

PART2_PROGRAMS = ["substance_use", "co_occurring"]
SUBJECT_TYPES = ["authorizations.authorization", "authorizations.concurrentreview"]


def flag_part2_alerts(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Alert = apps.get_model("alerts", "Alert")
    Authorization = apps.get_model("authorizations", "Authorization")
    postgres = schema_editor.connection.vendor == "postgresql"
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        part2 = Authorization.objects.filter(
            organization_id=org_id, episode__program_type__in=PART2_PROGRAMS
        ).values("pk")
        Alert.objects.filter(
            organization_id=org_id, subject_type__in=SUBJECT_TYPES, subject_id__in=part2
        ).update(part2=True)
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("authorizations", "0002_authorizations_row_level_security"),
        ("alerts", "0003_alert_part2_flag"),
        ("tenancy", "0001_organizations_users_memberships_api_keys"),
    ]

    operations = [migrations.RunPython(flag_part2_alerts, migrations.RunPython.noop)]
