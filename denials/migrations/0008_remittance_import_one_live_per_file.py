"""At most one import of the same file (organization and SHA-256) is live — waiting, posting or
posted — so two uploads of the same 835 at the same instant cannot both be recorded pending.
Before the constraint, imports that already break it are settled: per file the posted import (else
the first uploaded) stays, the others become `duplicate` (they never posted: posting is one
transaction and the constraint on posted rows already existed). Row-level security is forced, so
each organization is updated with it set as the current tenant (as 0007 does)."""

from django.db import migrations, models
from django.utils import timezone

LIVE = ["pending", "running", "posted"]


def settle_live_duplicates(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    RemittanceImport = apps.get_model("denials", "RemittanceImport")
    postgres = schema_editor.connection.vendor == "postgresql"
    for org_id in Organization.objects.values_list("pk", flat=True):
        if postgres:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org_id)])
        rows = RemittanceImport.objects.filter(organization_id=org_id, status__in=LIVE).order_by(
            "sha256", "created_at", "pk"
        )
        kept: dict[str, tuple[object, str]] = {}
        losers: dict[object, str] = {}
        for pk, sha, status in rows.values_list("pk", "sha256", "status"):
            if sha not in kept:
                kept[sha] = (pk, status)
            elif status == "posted" and kept[sha][1] != "posted":
                losers[kept[sha][0]] = sha
                kept[sha] = (pk, status)
            else:
                losers[pk] = sha
        for pk, sha in losers.items():
            RemittanceImport.objects.filter(pk=pk).update(
                status="duplicate",
                content="",
                summary={"rows_posted": 0, "duplicate_of": str(kept[sha][0])},
                finished_at=timezone.now(),
            )
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("denials", "0007_flag_part2_alerts"),
        ("tenancy", "0004_organization_two_factor_policy"),
    ]

    operations = [
        migrations.RunPython(settle_live_duplicates, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="remittanceimport", name="remitimport_org_sha_posted_uniq"
        ),
        migrations.AddConstraint(
            model_name="remittanceimport",
            constraint=models.UniqueConstraint(
                condition=models.Q(status__in=LIVE),
                fields=("organization", "sha256"),
                name="remitimport_org_sha_live_uniq",
            ),
        ),
    ]
