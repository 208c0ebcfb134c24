"""Flag the existing appeal-deadline alerts about denials of Part 2 claims (42 CFR Part 2): the
deadline scan sets `Alert.part2` on the alerts it raises from now on; this marks the ones raised
before (subject type "denial", the denial's claim flagged `is_part2`). Alerts are not
append-only, so an UPDATE is fine. Row-level security is forced on both tables, so each
organization is updated with it set as the current tenant (as authorizations 0003 does)."""

from django.db import migrations


def flag_part2_alerts(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Alert = apps.get_model("alerts", "Alert")
    Denial = apps.get_model("denials", "Denial")
    postgres = schema_editor.connection.vendor == "postgresql"
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        part2 = Denial.objects.filter(organization_id=org_id, claim__is_part2=True).values("pk")
        Alert.objects.filter(
            organization_id=org_id, subject_type="denial", subject_id__in=part2
        ).update(part2=True)
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("denials", "0006_secondary_claim_link_and_prior_payer"),
        ("alerts", "0003_alert_part2_flag"),
        ("tenancy", "0001_organizations_users_memberships_api_keys"),
    ]

    operations = [migrations.RunPython(flag_part2_alerts, migrations.RunPython.noop)]
