"""The authorization pages: list and filters, the review calendar, the authorization page with its
utilization bar and history, forms with inline errors, Part 2, and who may change what."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from alerts.models import Alert
from authorizations.models import Authorization, ConcurrentReview
from authorizations.services import authorization_record_usage, review_schedule
from patients import services as patient_services
from rcm.tenancy.context import tenant_context
from tests.authorizations.factories import make_authorization
from tests.clock import days_ago, today
from tests.patients.factories import CoverageFactory, EpisodeFactory

BASE = "/o/riverbend/authorizations/"


def _current(org: Any, days_left: int = 2, **overrides: Any) -> Authorization:
    """An approved authorization running now, ending in `days_left` days."""
    data = {
        "start_date": today() - timedelta(days=5),
        "end_date": today() + timedelta(days=days_left),
        "units_requested": 5 + days_left + 1,
        "units_approved": 5 + days_left + 1,
        "requested_on": today() - timedelta(days=6),
        "decided_on": today() - timedelta(days=6),
    }
    data.update(overrides)
    return make_authorization(org, **data)


def test_the_list_filters_authorizations_expiring_soon(
    org: Any, biller: Any, client_for: Any
) -> None:
    soon = _current(org, 2, auth_number="SOON-1")
    _current(org, 20, auth_number="LATER-1")
    client = client_for(biller)
    html = client.get(BASE).content.decode()
    assert "SOON-1" in html and "LATER-1" in html
    filtered = client.get(BASE, {"expiring_within": "7"})
    assert [a.pk for a in filtered.context["page"]] == [soon.pk]


def test_the_list_costs_a_fixed_number_of_queries(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        _current(org, i, auth_number=f"Q{i}")
    client = client_for(biller)
    client.get(BASE)
    with django_assert_max_num_queries(16):
        response = client.get(BASE, {"status": "approved"})
    assert len(response.context["page"]) == 12


def test_the_authorization_page_shows_utilization_reviews_and_history(
    org: Any, biller: Any, client_for: Any
) -> None:
    auth = _current(org, 5, unit_type="sessions", units_requested=20, units_approved=20)
    with tenant_context(org):
        for offset in range(1, 5):
            authorization_record_usage(
                episode=auth.episode,
                payer=auth.payer,
                level="3.5",
                unit_type="sessions",
                service_code="H0018",
                date_of_service=today() - timedelta(days=offset),
                units=3,
            )
        review_schedule(
            authorization=auth, review_type="concurrent", scheduled_on=today() + timedelta(days=1)
        )
    html = client_for(biller).get(f"{BASE}{auth.pk}/").content.decode()
    assert "<strong>12</strong> used of <strong>20</strong> approved sessions (8 remaining)" in html
    # 12 units in 14 days = 0.86 a day; 8 remaining last 8 * 14 / 12 = 9 days, after the end.
    assert "0.86 a day" in html
    assert (today() + timedelta(days=9)).isoformat() in html
    assert "Concurrent" in html and "usage_recorded" in html and "review_scheduled" in html


def test_a_part2_authorization_and_its_diagnoses_are_404_without_the_grant(
    org: Any, biller: Any, manager: Any, client_for: Any
) -> None:
    auth = _current(org)
    with tenant_context(org):
        patient_services.diagnosis_add(episode=auth.episode, code="F10.20")
    assert auth.episode.is_part2
    url = f"{BASE}{auth.pk}/"
    assert "F10.20" in client_for(biller).get(url).content.decode()  # Bill has Part 2 access
    response = client_for(manager).get(url)
    assert response.status_code == 404
    assert "F10.20" not in response.content.decode() and "A-100" not in response.content.decode()


def test_a_new_authorization_with_bad_dates_shows_the_error_inline(
    org: Any, biller: Any, client_for: Any
) -> None:
    with tenant_context(org):
        episode = EpisodeFactory(organization=org)
        coverage = CoverageFactory(organization=org, patient=episode.patient)
    data = {
        "episode": episode.pk,
        "coverage": coverage.pk,
        "status": "requested",
        "level": "2.1",
        "unit_type": "per_diem",
        "units_requested": 5,
        "start_date": today(),
        "end_date": today() - timedelta(days=1),
        "requested_on": today(),
        "service_codes": "h0015, s9480",
    }
    client = client_for(biller)
    response = client.post(f"{BASE}new/", data)
    assert response.status_code == 200
    assert "is before the start date" in response.content.decode()
    with tenant_context(org):
        assert not Authorization.objects.exists()
    data["end_date"] = today() + timedelta(days=6)
    response = client.post(f"{BASE}new/", data)
    assert response.status_code == 302
    with tenant_context(org):
        auth = Authorization.objects.get()
    assert auth.service_codes == ["H0015", "S9480"] and auth.payer_id == coverage.payer_id


def test_the_pages_date_their_defaults_in_the_clinics_day(
    org: Any, biller: Any, client_for: Any, time_machine: Any
) -> None:
    """At 03:00 UTC it is still yesterday evening in Chicago, Riverbend's time zone: a request
    saved without its date, and the decision form's default, are dated in the clinic's day."""
    with tenant_context(org):
        episode = EpisodeFactory(organization=org, admission_date=days_ago(10))
        coverage = CoverageFactory(
            organization=org, patient=episode.patient, effective_date=days_ago(400)
        )
    time_machine.move_to(datetime.combine(today(), time(3), tzinfo=UTC), tick=False)
    clinic_day = days_ago(1)
    client = client_for(biller)
    response = client.post(
        f"{BASE}new/",
        {
            "episode": episode.pk,
            "coverage": coverage.pk,
            "status": "requested",
            "level": "2.1",
            "unit_type": "per_diem",
            "units_requested": 5,
            "start_date": clinic_day,
            "end_date": clinic_day + timedelta(days=4),
        },
    )
    assert response.status_code == 302
    with tenant_context(org):
        auth = Authorization.objects.get()
    assert auth.requested_on == clinic_day
    form = client.get(f"{BASE}{auth.pk}/decide/").context["form"]
    assert form.initial["decided_on"] == clinic_day


def test_a_biller_records_the_decision_and_completes_a_review(
    org: Any, biller: Any, client_for: Any
) -> None:
    auth = _current(
        org, 3, status="requested", units_approved=None, decided_on=None, auth_number=""
    )
    client = client_for(biller)
    response = client.post(
        f"{BASE}{auth.pk}/decide/",
        {
            "status": "approved",
            "decided_on": today(),
            "units_approved": auth.units_requested,
            "auth_number": "NEW-9",
        },
    )
    assert response.status_code == 302
    client.post(f"{BASE}{auth.pk}/reviews/", {"review_type": "concurrent", "scheduled_on": today()})
    with tenant_context(org):
        review = ConcurrentReview.objects.get()
    response = client.post(
        f"{BASE}reviews/{review.pk}/complete/",
        {
            "outcome": "extended",
            "completed_on": today(),
            "new_end_date": auth.end_date + timedelta(days=7),
            "added_units": 7,
        },
    )
    assert response.status_code == 302
    with tenant_context(org):
        auth.refresh_from_db()
    assert (auth.status, auth.auth_number, auth.units_approved) == (
        "approved",
        "NEW-9",
        auth.units_requested,
    )
    assert auth.end_date == today() + timedelta(days=10)


def test_an_extension_of_a_denied_authorization_is_refused_on_the_page(
    org: Any, biller: Any, client_for: Any
) -> None:
    auth = _current(org, status="denied", units_approved=None)
    with tenant_context(org):
        review = review_schedule(authorization=auth, review_type="appeal", scheduled_on=today())
    response = client_for(biller).post(
        f"{BASE}reviews/{review.pk}/complete/",
        {
            "outcome": "extended",
            "completed_on": today(),
            "new_end_date": today() + timedelta(days=9),
            "added_units": 3,
        },
    )
    assert response.status_code == 200
    assert "denied; a review cannot extend it" in response.content.decode()


def test_the_calendar_groups_open_reviews(org: Any, biller: Any, client_for: Any) -> None:
    auth = _current(org, 20)
    with tenant_context(org):
        for offset in (-2, 0, 1, 4, 12):
            review_schedule(
                authorization=auth,
                review_type="concurrent",
                scheduled_on=today() + timedelta(days=offset),
            )
    calendar = client_for(biller).get(f"{BASE}reviews/").context["calendar"]
    assert [
        len(calendar.overdue),
        len(calendar.today),
        len(calendar.tomorrow),
        len(calendar.this_week),
    ] == [1, 1, 1, 1]


def test_read_only_roles_cannot_change_anything(
    org: Any, manager: Any, clinician: Any, client_for: Any
) -> None:
    from rcm.tenancy.models import Membership

    auth = _current(org)  # a substance use episode's: Mona needs the Part 2 grant to read it
    with tenant_context(org):
        Membership.objects.filter(user=manager).update(part2_access=True)
    manager_client = client_for(manager)
    assert manager_client.get(f"{BASE}{auth.pk}/").status_code == 200
    assert manager_client.post(f"{BASE}{auth.pk}/usage/", {}).status_code == 403
    assert manager_client.post(f"{BASE}{auth.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert manager_client.post(f"{BASE}scan/").status_code == 403
    assert client_for(clinician).get(BASE).status_code == 403


def test_the_navigation_links_authorizations_and_reviews(
    org: Any, biller: Any, clinician: Any, client_for: Any
) -> None:
    html = client_for(biller).get("/o/riverbend/").content.decode()
    assert f'href="{BASE}"' in html and f'href="{BASE}reviews/"' in html
    assert f'href="{BASE}"' not in client_for(clinician).get("/o/riverbend/").content.decode()


@pytest.fixture
def eager(settings: Any) -> Any:
    from rcm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_scan_button_raises_alerts_for_the_organization(
    org: Any, biller: Any, client_for: Any, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    auth = _current(org, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(biller).post(f"{BASE}scan/", follow=True)
    assert "The scan will start shortly" in response.content.decode()
    with tenant_context(org):
        assert Alert.objects.get().dedupe_key == f"auth-ending:{auth.pk}:3"


def test_alert_settings_are_saved_per_organization(org: Any, biller: Any, client_for: Any) -> None:
    client = client_for(biller)
    assert (
        "not a"
        not in client.post(
            f"{BASE}settings/", {"expiry_alert_days": "10, 2", "low_units_percent": 25}
        ).content.decode()
    )
    response = client.post(
        f"{BASE}settings/", {"expiry_alert_days": "soon", "low_units_percent": 25}
    )
    assert "Whole numbers of days" in response.content.decode()
    from authorizations.models import AuthorizationSettings

    with tenant_context(org):
        assert AuthorizationSettings.objects.get().thresholds == [10, 2]


def test_the_calendar_shows_authorizations_ending_this_week(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    ending = _current(org, 2, auth_number="WEEK-2")
    _current(org, 1, auth_number="TOMORROW-1")
    client = client_for(biller)
    client.get(f"{BASE}reviews/")
    with django_assert_max_num_queries(14):
        response = client.get(f"{BASE}reviews/")
    calendar = response.context["calendar"]
    assert [(e.kind, e.authorization.pk) for e in calendar.this_week] == [("ends", ending.pk)]
    assert [e.authorization.auth_number for e in calendar.tomorrow] == ["TOMORROW-1"]
    assert "Authorization ends" in response.content.decode()


def test_the_authorization_page_costs_a_fixed_number_of_queries(
    org: Any, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    auth = _current(org, 9, unit_type="sessions", units_requested=40, units_approved=40)
    with tenant_context(org):
        for offset in range(1, 9):
            authorization_record_usage(
                episode=auth.episode,
                payer=auth.payer,
                level="3.5",
                unit_type="sessions",
                date_of_service=today() - timedelta(days=offset),
                units=2,
                authorization=auth,
            )
            review_schedule(
                authorization=auth,
                review_type="concurrent",
                scheduled_on=today() + timedelta(days=offset),
            )
    client = client_for(biller)
    client.get(f"{BASE}{auth.pk}/")
    with django_assert_max_num_queries(22):
        response = client.get(f"{BASE}{auth.pk}/")
    assert response.status_code == 200


def test_run_now_answers_while_the_broker_is_down(
    org: Any,
    biller: Any,
    client_for: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from kombu.exceptions import OperationalError

    from rcm.celery import app
    from rcm.outbox.models import OutboxMessage, OutboxStatus

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(app, "send_task", refuse)
    client = client_for(biller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}scan/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The scan will start shortly" in page
    with tenant_context(org):
        message = OutboxMessage.objects.get(topic="authorizations.scan")
    assert message.status == OutboxStatus.PENDING
