"""42 CFR Part 2 in the audit trail: the writer flags events about Part 2 records, and an auditor
without the grant still sees every row (who, when, action, outcome, the kind of record) but not a
Part 2 row's patient, record id or detail, on the page, in the export and through a filter."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from patients import services as patient_services
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.audit.services import audit_read, audit_record, audit_record_many
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership
from tests.clock import days_ago, today

URL = "/o/riverbend/audit/"


@pytest.fixture
def chart(org: Any) -> dict[str, Any]:
    """Sam Sud (MRN S-1) admitted to a substance use program with F10.20 (Part 2), and Mia Mental
    (MRN M-1) to a mental health program with F33.1."""
    with tenant_context(org):
        sam = patient_services.patient_create(
            today=today(),
            mrn="S-1",
            first_name="Sam",
            last_name="Sud",
            date_of_birth=date(1980, 5, 1),
            sex="M",
        )
        sud = patient_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=today(),
            patient=sam,
            program_type="substance_use",
            admission_date=days_ago(10),
            level="3.5",
            diagnosis="F10.20",
        )
        mia = patient_services.patient_create(
            today=today(),
            mrn="M-1",
            first_name="Mia",
            last_name="Mental",
            date_of_birth=date(1985, 2, 3),
            sex="F",
        )
        mh = patient_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=today(),
            patient=mia,
            program_type="mental_health",
            admission_date=days_ago(10),
            level="1",
            diagnosis="F33.1",
        )
    return {"sam": sam, "sud": sud, "mia": mia, "mh": mh}


def _export(client: Any, **params: str) -> list[dict[str, str]]:
    response = client.get(URL + "export.csv", params)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _grant(org: Any, user: Any) -> None:
    with tenant_context(org):
        Membership.objects.filter(user=user).update(part2_access=True)


def test_the_writer_flags_events_about_part2_records(org: Any, chart: Any) -> None:
    with tenant_context(org):
        flags = dict(
            AuditEvent.objects.filter(action__in=["episode.open", "diagnosis.add"]).values_list(
                "object_id", "part2"
            )
        )
        assert flags[str(chart["sud"].pk)] is True
        assert flags[str(chart["mh"].pk)] is False
        diagnosis = chart["sud"].diagnoses.get()
        assert flags[str(diagnosis.pk)] is True
        # The patient is not a Part 2 record: creating one is not flagged.
        assert (
            AuditEvent.objects.get(action="patient.create", object_id=str(chart["sam"].pk)).part2
            is False
        )


def test_a_part2_argument_is_the_column_not_detail(org: Any, chart: Any) -> None:
    with tenant_context(org):
        event = audit_read(obj=chart["sam"], patient_id=chart["sam"].pk, part2=True, via="api")
        assert (event.part2, event.detail) == (True, {"via": "api"})
        plain = audit_record(action="x", obj=chart["sud"], part2=False)
        assert plain.part2 is False  # the caller's word wins over the object's
        audit_record_many("y", [(chart["sud"], {}), (chart["mh"], {})])
        assert dict(AuditEvent.objects.filter(action="y").values_list("object_id", "part2")) == {
            str(chart["sud"].pk): True,
            str(chart["mh"].pk): False,
        }


def test_the_export_redacts_part2_rows_for_an_auditor_without_the_grant(
    org: Any, auditor: Any, chart: Any, client_for: Any
) -> None:
    rows = _export(client_for(auditor))
    text = str(rows)
    sud_rows = [
        r
        for r in rows
        if r["action"] == "episode.open"
        and r["object_type"].endswith("episodeofcare")
        and r["patient_id"] == part2.RESTRICTED
    ]
    assert len(sud_rows) == 1
    row = sud_rows[0]
    assert row["occurred_at"] and row["actor_label"] is not None and row["outcome"] == "success"
    assert (row["object_id"], row["detail"]) == (part2.RESTRICTED, part2.RESTRICTED)
    for secret in (str(chart["sud"].pk), "F10.20", "substance_use", "Sud", "S-1"):
        assert secret not in text, secret
    # Nothing of the mental health episode is redacted.
    assert str(chart["mh"].pk) in text and "mental_health" in text


def test_with_the_grant_the_auditor_sees_everything(
    org: Any, auditor: Any, chart: Any, client_for: Any
) -> None:
    _grant(org, auditor)
    rows = _export(client_for(auditor))
    text = str(rows)
    assert str(chart["sud"].pk) in text and "substance_use" in text
    assert part2.RESTRICTED not in text


def test_the_page_redacts_part2_rows_and_keeps_them_listed(
    org: Any, auditor: Any, chart: Any, client_for: Any
) -> None:
    response = client_for(auditor).get(URL, {"action": "episode.open"})
    html = response.content.decode()
    assert len(response.context["page"]) == 2
    assert part2.RESTRICTED in html
    assert str(chart["sud"].pk)[:8] not in html and str(chart["sam"].pk)[:8] not in html
    assert str(chart["mh"].pk)[:8] in html


def test_a_filter_by_patient_finds_no_part2_row_without_the_grant(
    org: Any, auditor: Any, chart: Any, client_for: Any
) -> None:
    sam = str(chart["sam"].pk)
    actions = [r["action"] for r in _export(client_for(auditor), patient=sam)]
    assert actions == ["patient.create"]  # not the Part 2 admission and diagnosis
    _grant(org, auditor)
    granted = [r["action"] for r in _export(client_for(auditor), patient=sam)]
    assert sorted(granted) == ["diagnosis.add", "episode.open", "patient.create"]
