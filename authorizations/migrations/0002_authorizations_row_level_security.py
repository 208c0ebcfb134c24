"""Row-level security on every authorizations table; the history is append-only (a trigger)."""

from django.db import migrations

from rcm.tenancy.rls import EnableRowLevelSecurity

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION authorization_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'authorization history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER authorization_event_append_only
    BEFORE UPDATE OR DELETE ON authorizations_authorizationevent
    FOR EACH ROW EXECUTE FUNCTION authorization_event_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS authorization_event_append_only ON authorizations_authorizationevent;
DROP FUNCTION IF EXISTS authorization_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("authorizations", "0001_authorizations_reviews_usage_history_settings")]

    operations = [
        *(
            EnableRowLevelSecurity(name)
            for name in (
                "authorization",
                "concurrentreview",
                "authorizationusage",
                "authorizationevent",
                "authorizationsettings",
            )
        ),
        migrations.RunPython(forwards, backwards),
    ]
