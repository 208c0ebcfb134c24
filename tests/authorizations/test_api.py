"""The authorizations API: CRUD, `?expiring_within=`, decisions, reviews, usage, utilization,
the coverage check for partners, problem+json for bad input, and another tenant's ids as 404."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from authorizations.models import Authorization
from rcm.tenancy.context import tenant_context
from tests.authorizations.factories import day, make_authorization
from tests.clock import days_ago, today
from tests.patients.factories import CoverageFactory, EpisodeFactory

API = "/api/v1/authorizations/"
REVIEWS = "/api/v1/authorization-reviews/"
# The factories' episodes are substance use (42 CFR Part 2): partner keys here carry the grant;
# tests/authorizations/test_part2.py is about keys without it.
READ = ["authorizations:read", "part2:read"]
WRITE = [*READ, "authorizations:write"]


def _current(org: Any, days_left: int, **overrides: Any) -> Authorization:
    data = {
        "start_date": today() - timedelta(days=3),
        "end_date": today() + timedelta(days=days_left),
        "units_requested": days_left + 4,
        "units_approved": days_left + 4,
        "requested_on": today() - timedelta(days=4),
        "decided_on": today() - timedelta(days=4),
    }
    data.update(overrides)
    return make_authorization(org, **data)


def test_expiring_within_lists_only_approvals_ending_in_that_window(
    org: Any, api_client_for: Any
) -> None:
    soon = _current(org, 5, auth_number="S1")
    _current(org, 12, auth_number="L1")
    api = api_client_for(org, READ)
    assert [a["id"] for a in api.get(API, {"expiring_within": 7}).json()["results"]] == [
        str(soon.pk)
    ]
    assert len(api.get(API).json()["results"]) == 2
    bad = api.get(API, {"expiring_within": "soon"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"


def test_a_partner_creates_decides_and_extends_an_authorization(
    org: Any, api_client_for: Any
) -> None:
    with tenant_context(org):
        episode = EpisodeFactory(organization=org)
        coverage = CoverageFactory(organization=org, patient=episode.patient)
    api = api_client_for(org, WRITE)
    created = api.post(
        API,
        {
            "episode": str(episode.pk),
            "coverage": str(coverage.pk),
            "level": "2.1",
            "unit_type": "per_diem",
            "units_requested": 10,
            "start_date": str(day(1)),
            "end_date": str(day(20)),
            "service_codes": ["h0015"],
            "requested_on": str(day(-1)),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    auth_id = created.json()["id"]
    assert created.json()["service_codes"] == ["H0015"] and created.json()["status"] == "requested"
    decided = api.post(
        f"{API}{auth_id}/decide/",
        {
            "status": "partial",
            "decided_on": str(day(0)),
            "units_approved": 8,
            "auth_number": "Z-1",
        },
        format="json",
    )
    assert decided.status_code == 200 and decided.json()["units_approved"] == 8
    review = api.post(
        REVIEWS,
        {"authorization": auth_id, "review_type": "concurrent", "scheduled_on": str(day(15))},
        format="json",
    )
    assert review.status_code == 201
    done = api.post(
        f"{REVIEWS}{review.json()['id']}/complete/",
        {
            "outcome": "extended",
            "completed_on": str(day(15)),
            "new_end_date": str(day(27)),
            "added_units": 5,
        },
        format="json",
    )
    assert done.status_code == 200, done.json()
    auth = api.get(f"{API}{auth_id}/").json()
    assert (auth["end_date"], auth["units_approved"]) == (str(day(27)), 13)
    patched = api.patch(f"{API}{auth_id}/", {"payer_contact": "Lee at UM"}, format="json")
    assert patched.json()["payer_contact"] == "Lee at UM"


def test_a_request_sent_without_its_date_is_dated_in_the_clinics_day(
    org: Any, api_client_for: Any, time_machine: Any
) -> None:
    """At 03:00 UTC it is still yesterday evening in Chicago, Riverbend's time zone."""
    with tenant_context(org):
        episode = EpisodeFactory(organization=org, admission_date=days_ago(10))
        coverage = CoverageFactory(
            organization=org, patient=episode.patient, effective_date=days_ago(400)
        )
    api = api_client_for(org, WRITE)
    time_machine.move_to(datetime.combine(today(), time(3), tzinfo=UTC), tick=False)
    clinic_day = days_ago(1)
    created = api.post(
        API,
        {
            "episode": str(episode.pk),
            "coverage": str(coverage.pk),
            "level": "2.1",
            "unit_type": "per_diem",
            "units_requested": 5,
            "start_date": str(clinic_day),
            "end_date": str(clinic_day + timedelta(days=4)),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["requested_on"] == str(clinic_day)


def test_bad_input_is_problem_json_naming_the_field_and_changes_nothing(
    org: Any, api_client_for: Any
) -> None:
    auth = make_authorization(org)
    api = api_client_for(org, WRITE)
    response = api.patch(f"{API}{auth.pk}/", {"end_date": str(day(-27))}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "end_date"
    assert "before the start date" in body["detail"]
    usage = api.post(
        f"{API}{auth.pk}/usage/",
        {"date_of_service": str(day(3)), "units": 4, "unit_type": "units_15min"},
        format="json",
    )
    assert usage.status_code == 400 and usage.json()["errors"][0]["field"] == "unit_type"
    assert api.get(f"{API}{auth.pk}/").json()["end_date"] == str(day(14))


def test_usage_and_utilization(org: Any, api_client_for: Any) -> None:
    auth = _current(org, 10, unit_type="sessions")
    api = api_client_for(org, WRITE)
    for offset in range(2):
        response = api.post(
            f"{API}{auth.pk}/usage/",
            {
                "date_of_service": str(today() - timedelta(days=offset)),
                "units": 7,
                "unit_type": "sessions",
                "source": "claim",
                "source_id": f"L{offset}",
            },
            format="json",
        )
        assert response.status_code == 201
    again = api.post(
        f"{API}{auth.pk}/usage/",
        {
            "date_of_service": str(today()),
            "units": 7,
            "unit_type": "sessions",
            "source": "claim",
            "source_id": "L0",
        },
        format="json",
    )
    assert again.json()["units_used"] == 14
    util = api.get(f"{API}{auth.pk}/utilization/").json()
    assert util["units_remaining"] == 0 and util["daily_pace"] == "1.00"
    assert util["runs_out_before_end"] is True


def test_the_coverage_check_answers_partners_with_a_reason(org: Any, api_client_for: Any) -> None:
    auth = make_authorization(org)
    api = api_client_for(org, READ)
    with tenant_context(org):
        params = {
            "episode": str(auth.episode_id),
            "payer": str(auth.payer_id),
            "level": "3.5",
            "service_code": "H0018",
        }
    url = f"{API}coverage-check/"
    covered = api.get(url, {**params, "date_of_service": str(day(5))}).json()
    assert covered == {
        "covered": True,
        "reason": "covered",
        "message": "Covered: 14 units remain.",
        "authorization": str(auth.pk),
        "auth_number": "A-100",
        "units_remaining": 14,
    }
    expired = api.get(url, {**params, "date_of_service": str(day(20))}).json()
    assert (expired["covered"], expired["reason"]) == (False, "expired")
    assert expired["message"] == f"The authorization expired on {day(14)}."
    missing = api.get(url, {"level": "3.5"})
    assert missing.status_code == 400 and missing["Content-Type"] == "application/problem+json"


def test_another_tenants_ids_are_404_or_refused(
    org: Any, other_org: Any, api_client_for: Any
) -> None:
    theirs = make_authorization(other_org)
    with tenant_context(other_org):
        review_id = theirs.reviews.create(review_type="concurrent", scheduled_on=day(10)).pk
    api = api_client_for(org, WRITE)
    assert api.get(f"{API}{theirs.pk}/").status_code == 404
    assert api.patch(f"{API}{theirs.pk}/", {"payer_contact": "x"}, format="json").status_code == 404
    assert api.post(f"{API}{theirs.pk}/usage/", {}, format="json").status_code == 404
    assert api.get(f"{REVIEWS}{review_id}/").status_code == 404
    assert api.get(API).json()["results"] == []
    with tenant_context(other_org):
        params = {"episode": str(theirs.episode_id), "payer": str(theirs.payer_id)}
    check = api.get(
        f"{API}coverage-check/",
        {**params, "level": "3.5", "service_code": "H0018", "date_of_service": str(day(5))},
    )
    assert check.status_code == 400 and "Not found in this organization" in check.json()["detail"]
    created = api.post(
        REVIEWS,
        {
            "authorization": str(theirs.pk),
            "review_type": "concurrent",
            "scheduled_on": str(day(10)),
        },
        format="json",
    )
    assert created.status_code == 400


def test_a_read_only_key_cannot_write(org: Any, api_client_for: Any) -> None:
    auth = make_authorization(org)
    api = api_client_for(org, READ)
    assert api.get(f"{API}{auth.pk}/").status_code == 200
    assert api.post(f"{API}{auth.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403
    assert api_client_for(org, ["patients:read"]).get(API).status_code == 403


def test_a_biller_key_runs_the_scan_on_demand_and_twice_creates_nothing(
    org: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from alerts.models import Alert
    from rcm.celery import app

    _current(org, 2)
    api = api_client_for(org, WRITE)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = api.post(f"{API}scan/")
        with django_capture_on_commit_callbacks(execute=True):
            second = api.post(f"{API}scan/")
    finally:
        app.conf.task_always_eager = False
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert first.json()["detail"].startswith("The scan will start shortly")
    assert second.status_code == 202
    with tenant_context(org):
        assert Alert.objects.count() == 1
    assert api_client_for(org, READ).post(f"{API}scan/").status_code == 403


def test_the_api_run_now_answers_202_while_the_broker_is_down(
    org: Any, api_client_for: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kombu.exceptions import OperationalError

    from rcm.celery import app
    from rcm.outbox.models import OutboxMessage, OutboxStatus
    from rcm.outbox.services import outbox_process

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    _current(org, 2)
    monkeypatch.setattr(app, "send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(org, WRITE).post(f"{API}scan/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    with tenant_context(org):
        message = OutboxMessage.objects.get(topic="authorizations.scan")
        assert message.status == OutboxStatus.PENDING
        # The relay's delivery, once the broker is back, runs the scan.
        from alerts.models import Alert

        assert outbox_process(message_id=message.pk, now=message.available_at) is True
        assert Alert.objects.count() == 1
