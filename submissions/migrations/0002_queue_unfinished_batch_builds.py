"""Batches left `queued` or `building` before batch builds went through the outbox have no outbox
message, so nothing would ever build them: give each one the message `batches_create` now writes
(same topic, payload and idempotency key, so a batch never gets two). The relay sends them once
the workers run. Row-level security is forced, so each organization is visited as the current
tenant (as the alert backfills do)."""

from django.db import migrations

TOPIC = "submissions.batch_build"
UNFINISHED = ["queued", "building"]


def queue_unfinished_builds(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    SubmissionBatch = apps.get_model("submissions", "SubmissionBatch")
    OutboxMessage = apps.get_model("outbox", "OutboxMessage")
    postgres = schema_editor.connection.vendor == "postgresql"
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        for batch_id in SubmissionBatch.objects.filter(
            organization_id=org_id, status__in=UNFINISHED
        ).values_list("pk", flat=True):
            OutboxMessage.objects.get_or_create(
                organization_id=org_id,
                idempotency_key=f"batch-build:{batch_id}",
                defaults={"topic": TOPIC, "payload": {"batch_id": str(batch_id)}},
            )
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0001_initial"),
        ("outbox", "0002_outbox_row_level_security"),
        ("tenancy", "0001_organizations_users_memberships_api_keys"),
    ]

    operations = [migrations.RunPython(queue_unfinished_builds, migrations.RunPython.noop)]
