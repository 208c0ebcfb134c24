"""The auditor's page: filters, pagination, CSV export; other roles cannot see it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, time
from typing import Any

import pytest

from rcm.audit.context import Actor, acting_as
from rcm.audit.models import AuditEvent
from rcm.audit.services import audit_record
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, days_from_now, today

URL = "/o/riverbend/audit/"


@pytest.fixture
def trail(org: Any, other_org: Any, biller: Any, manager: Any) -> dict[str, Any]:
    patient_id = uuid.uuid4()
    with tenant_context(org):
        with acting_as(Actor(user_id=biller.pk, label=biller.email, role="biller")):
            audit_record(
                action="patient.view",
                object_type="patients.patient",
                object_id=str(patient_id),
                patient_id=patient_id,
            )
            audit_record(action="claim.submit", object_type="claims.claim", object_id="c1")
        with acting_as(Actor(user_id=manager.pk, label=manager.email, role="manager")):
            audit_record(
                action="patient.view",
                object_type="patients.patient",
                object_id="p2",
                patient_id=uuid.uuid4(),
            )
    with tenant_context(other_org):
        audit_record(action="patient.view", detail={"secret": "harborview-only"})
    return {"patient_id": patient_id}


def test_an_auditor_filters_by_user_patient_and_action(
    auditor: Any, biller: Any, trail: Any, client_for: Any
) -> None:
    client = client_for(auditor)
    by_user = client.get(URL, {"actor": str(biller.pk)}).context["page"]
    assert {e.actor_label for e in by_user} == {biller.email}
    by_patient = client.get(URL, {"patient": str(trail["patient_id"])}).context["page"]
    assert [e.action for e in by_patient] == ["patient.view"]
    by_action = client.get(URL, {"action": "claim."}).context["page"]
    assert [e.object_id for e in by_action] == ["c1"]


def test_the_date_filter_uses_the_organizations_day(
    auditor: Any, trail: Any, client_for: Any, org: Any, time_machine: Any
) -> None:
    # 03:00 UTC today is still yesterday evening in Chicago, Riverbend's zone.
    time_machine.move_to(datetime.combine(today(), time(3), tzinfo=UTC), tick=False)
    with tenant_context(org):
        audit_record(action="claim.late_evening", object_type="claims.claim", object_id="c9")
    time_machine.move_to(datetime.combine(today(), time(12), tzinfo=UTC), tick=False)
    client = client_for(auditor)

    def actions(**params: Any) -> set[str]:
        return {e.action for e in client.get(URL, params).context["page"]}

    # The trail was written at noon UTC, the same day in Chicago.
    assert {"patient.view", "claim.submit"} <= actions(date_from=today(), date_to=today())
    assert "claim.late_evening" not in actions(date_from=today())
    assert "claim.late_evening" in actions(date_from=days_ago(1), date_to=days_ago(1))
    assert actions(date_from=days_from_now(1)) == set()
    response = client.get(URL, {"date_from": days_from_now(1), "date_to": today()})
    assert "before the start date" in response.content.decode()


def test_the_export_is_a_csv_of_the_filtered_rows_and_is_itself_audited(
    auditor: Any, biller: Any, trail: Any, client_for: Any, org: Any
) -> None:
    response = client_for(auditor).get(URL + "export.csv", {"actor": str(biller.pk)})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["action"] for r in rows} == {"patient.view", "claim.submit"}
    assert "harborview-only" not in response.content.decode()
    with tenant_context(org):
        assert AuditEvent.objects.get(action="audit.export").detail["rows"] == 2


def test_only_auditors_and_owners_read_the_trail(
    manager: Any, biller: Any, owner: Any, auditor: Any, client_for: Any
) -> None:
    assert client_for(manager).get(URL).status_code == 403
    assert client_for(biller).get(URL).status_code == 403
    assert client_for(owner).get(URL).status_code == 200
    assert client_for(auditor).get(URL).status_code == 200


def test_the_page_is_paginated_with_a_constant_number_of_queries(
    auditor: Any, org: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    with tenant_context(org):
        for i in range(120):
            audit_record(action="probe.event", object_id=str(i))
    client = client_for(auditor)
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"page": 2})
    page = response.context["page"]
    assert page.number == 2 and len(page) == 50 and page.paginator.count >= 120


def test_an_empty_trail_says_so(auditor: Any, client_for: Any) -> None:
    response = client_for(auditor).get(URL, {"action": "nothing.like.this"})
    assert "No events match these filters." in response.content.decode()
