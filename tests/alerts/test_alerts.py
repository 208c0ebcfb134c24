"""The alerts inbox: raised once per condition, acknowledged and snoozed, filtered by role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from alerts.models import Alert, Area, Severity
from alerts.services import AlertSpec, alert_snooze, alerts_email, alerts_raise
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now

INBOX = "/o/riverbend/alerts/"


def _spec(key: str, **kwargs: Any) -> AlertSpec:
    defaults = {
        "area": Area.AUTHORIZATIONS,
        "kind": "authorization.expiring",
        "title": f"Auth {key} ends soon",
    }
    return AlertSpec(dedupe_key=key, **{**defaults, **kwargs})


def test_raising_the_same_conditions_twice_creates_nothing_new(
    org: Any, django_assert_max_num_queries: Any
) -> None:
    specs = [_spec(f"k{i}") for i in range(50)]
    with tenant_context(org):
        with django_assert_max_num_queries(6):
            assert len(alerts_raise(specs=specs)) == 50
        assert alerts_raise(specs=specs) == []
        assert Alert.objects.count() == 50


def test_assignees_get_one_email_without_patient_details(org: Any, biller: Any) -> None:
    with tenant_context(org):
        alerts_raise(
            specs=[
                _spec("a", assignee_id=biller.pk, message="Jane Doe's auth"),
                _spec("b", assignee_id=biller.pk),
            ]
        )
        message = OutboxMessage.objects.get(topic="alerts.email")
        assert outbox_process(message_id=message.pk, now=now())
        assert Alert.objects.filter(emailed_at__isnull=False).count() == 2
        # A redelivered message sends nothing twice.
        assert alerts_email(alert_ids=list(Alert.objects.values_list("pk", flat=True))) == 0
        assert AuditEvent.objects.filter(action="alerts.email").count() == 1
    assert len(mail.outbox) == 1
    assert "2 new alerts" in mail.outbox[0].subject
    assert "Jane Doe" not in mail.outbox[0].body


def test_a_biller_acknowledges_an_alert_and_it_leaves_the_open_inbox(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
    client = client_for(biller)
    assert "Auth a ends soon" in client.get(INBOX).content.decode()
    response = client.post(f"{INBOX}{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert "Acknowledged" in response.content.decode()
    assert list(client.get(INBOX).context["page"]) == []
    assert [a.pk for a in client.get(INBOX, {"show": "acknowledged"}).context["page"]] == [alert.pk]


def test_snoozed_alerts_come_back_later(
    org: Any, biller: Any, client_for: Any, time_machine: Any
) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
    client = client_for(biller)
    snoozed_at = now()
    response = client.post(f"{INBOX}{alert.pk}/snooze/", {"for": "3d"}, follow=True)
    assert "Snoozed until" in response.content.decode()
    with tenant_context(org):
        alert.refresh_from_db()
    assert alert.snoozed_until == snoozed_at + timedelta(days=3)
    assert list(client.get(INBOX).context["page"]) == []
    assert [a.pk for a in client.get(INBOX, {"show": "snoozed"}).context["page"]] == [alert.pk]
    # Three days later (signed in afresh: a session does not last that long).
    time_machine.move_to(snoozed_at + timedelta(days=3, minutes=-1), tick=False)
    assert list(client_for(biller).get(INBOX).context["page"]) == []  # a minute before: hidden
    time_machine.move_to(snoozed_at + timedelta(days=3, minutes=1), tick=False)
    assert [a.pk for a in client_for(biller).get(INBOX).context["page"]] == [alert.pk]


def test_snoozing_into_the_past_is_refused(org: Any) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
        with pytest.raises(DomainError, match="future"):
            alert_snooze(alert=alert, until=now() - timedelta(hours=1), now=now())
        # The moment given is the one compared with, not the clock.
        with pytest.raises(DomainError, match="future"):
            alert_snooze(
                alert=alert, until=now() + timedelta(hours=1), now=now() + timedelta(hours=2)
            )
        with pytest.raises(TypeError):
            alert_snooze(alert=alert, until=now() + timedelta(hours=1))  # type: ignore[call-arg]
        assert Alert.objects.get(pk=alert.pk).snoozed_until is None


def test_the_api_snoozes_only_into_the_future(org: Any, api_client_for: Any) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
    api = api_client_for(org, ["authorizations:read", "authorizations:write"])
    url = f"/api/v1/alerts/{alert.pk}/snooze/"
    past = api.post(url, {"until": (now() - timedelta(hours=1)).isoformat()}, format="json")
    assert past.status_code == 400
    until = now() + timedelta(hours=1)
    response = api.post(url, {"until": until.isoformat()}, format="json")
    assert response.status_code == 200
    assert [a["id"] for a in api.get("/api/v1/alerts/", {"show": "snoozed"}).json()["results"]] == [
        str(alert.pk)
    ]


def test_read_only_roles_see_alerts_but_cannot_acknowledge(
    org: Any, manager: Any, client_for: Any
) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
    client = client_for(manager)
    assert "Auth a ends soon" in client.get(INBOX).content.decode()
    assert client.post(f"{INBOX}{alert.pk}/acknowledge/").status_code == 403


def test_alerts_of_an_area_the_role_cannot_read_are_hidden(
    org: Any, clinician: Any, client_for: Any
) -> None:
    with tenant_context(org):
        alerts_raise(specs=[_spec("cred", area=Area.CREDENTIALING, title="Licence expires")])
    assert "Licence expires" not in client_for(clinician).get(INBOX).content.decode()


def test_the_navigation_shows_the_open_count(org: Any, biller: Any, client_for: Any) -> None:
    with tenant_context(org):
        alerts_raise(specs=[_spec("a"), _spec("b", severity=Severity.CRITICAL)])
    html = client_for(biller).get("/o/riverbend/").content.decode()
    assert 'aria-label="2 open"' in html


def test_the_inbox_costs_a_fixed_number_of_queries(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    with tenant_context(org):
        alerts_raise(specs=[_spec(f"k{i}", assignee_id=biller.pk) for i in range(60)])
    client = client_for(biller)
    client.get(INBOX)
    with django_assert_max_num_queries(14):
        response = client.get(INBOX)
    assert len(response.context["page"]) == 50


def test_the_api_lists_and_acknowledges(org: Any, api_client_for: Any) -> None:
    with tenant_context(org):
        alert = alerts_raise(specs=[_spec("a")])[0]
    api = api_client_for(org, ["authorizations:read", "authorizations:write"])
    listed = api.get("/api/v1/alerts/").json()["results"]
    assert [a["id"] for a in listed] == [str(alert.pk)]
    assert api.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").json()["acknowledged_at"]
    read_only = api_client_for(org, ["authorizations:read"])
    assert read_only.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 403


def test_raising_reports_only_the_rows_it_created_when_another_raise_overlaps(
    org: Any, monkeypatch: Any
) -> None:
    """A concurrent scan inserts half the same conditions between this raise's existence check
    and its insert: the raise reports (and emails) only the rows it really created, so two
    overlapping raises report the rows created between them, never double."""
    import alerts.services as alert_services

    specs = [_spec(f"race{i}") for i in range(10)]
    with tenant_context(org):
        assert len(alerts_raise(specs=specs)) == 10
        assert alerts_raise(specs=specs) == []
        Alert.objects.all().delete()

        real = alert_services.require_organization_id
        racer: list[Alert] = []
        raced: list[bool] = []

        def the_other_scan_commits_first() -> Any:
            if not raced:
                raced.append(True)
                racer.extend(alerts_raise(specs=specs[:5]))
            return real()

        monkeypatch.setattr(alert_services, "require_organization_id", the_other_scan_commits_first)
        created = alerts_raise(specs=specs)
        assert len(racer) == 5
        assert len(created) == 5
        assert {a.dedupe_key for a in created} == {f"race{i}" for i in range(5, 10)}
        assert len(racer) + len(created) == Alert.objects.count() == 10
