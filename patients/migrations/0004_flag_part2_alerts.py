"""Flag the existing alerts about Part 2 episodes (42 CFR Part 2): the authorization scan sets
`Alert.part2` from now on; this marks the ones raised before whose subject is a level-of-care
stay of a substance use or co-occurring episode, or the episode itself (an "authorization
lapse" alert with no authorization names the episode in its dedupe key). Alerts about
authorizations are flagged by authorizations 0003.

Row-level security is forced on both tables, so each organization is updated with it set as the
current tenant (the owner role that runs migrations is not a superuser in production)."""

from django.db import migrations

PART2_PROGRAMS = ["substance_use", "co_occurring"]


def flag_part2_alerts(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Alert = apps.get_model("alerts", "Alert")
    EpisodeOfCare = apps.get_model("patients", "EpisodeOfCare")
    LevelOfCareStay = apps.get_model("patients", "LevelOfCareStay")
    postgres = schema_editor.connection.vendor == "postgresql"
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        stays = LevelOfCareStay.objects.filter(
            organization_id=org_id, episode__program_type__in=PART2_PROGRAMS
        ).values("pk")
        Alert.objects.filter(
            organization_id=org_id, subject_type="patients.levelofcarestay", subject_id__in=stays
        ).update(part2=True)
        # "auth-lapse-none:<episode id>:<level>"
        lapses = {
            pk: key.split(":")[1]
            for pk, key in Alert.objects.filter(
                organization_id=org_id, dedupe_key__startswith="auth-lapse-none:"
            ).values_list("pk", "dedupe_key")
        }
        part2_episodes = {
            str(pk)
            for pk in EpisodeOfCare.objects.filter(
                organization_id=org_id,
                program_type__in=PART2_PROGRAMS,
                pk__in=set(lapses.values()),
            ).values_list("pk", flat=True)
        }
        Alert.objects.filter(
            pk__in=[pk for pk, episode in lapses.items() if episode in part2_episodes]
        ).update(part2=True)
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_constraint_messages"),
        ("alerts", "0003_alert_part2_flag"),
        ("tenancy", "0001_organizations_users_memberships_api_keys"),
    ]

    operations = [migrations.RunPython(flag_part2_alerts, migrations.RunPython.noop)]
