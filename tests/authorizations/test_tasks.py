"""The daily scan: each alert rule, idempotence (twice -> nothing new), a fixed query count
whatever the number of authorizations, the Celery tasks and the assignee's email."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from authorizations.models import Authorization, AuthorizationEvent
from authorizations.services import (
    authorization_record_usage,
    authorization_scan,
    authorization_settings_update,
    review_schedule,
)
from authorizations.tasks import authorization_scan_all, authorization_scan_organization
from patients import services as patient_services
from rcm import part2
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.authorizations.factories import day, make_authorization
from tests.clock import days_ago, days_from_now, today
from tests.patients.factories import CoverageFactory


def _scan(org: Any, on: date | None = None) -> list[str]:
    """The scan as of `on`; by default today, day(12): the factory's authorization has two days
    left."""
    with tenant_context(org):
        authorization_scan(today=on or today())
        return sorted(Alert.objects.values_list("dedupe_key", flat=True))


def test_an_authorization_ending_in_two_days_raises_the_three_day_alert_once(org: Any) -> None:
    auth = make_authorization(org)
    keys = _scan(org)
    assert keys == [f"auth-ending:{auth.pk}:3"]
    assert _scan(org) == keys  # twice: nothing new
    with tenant_context(org):
        alert = Alert.objects.get()
        assert alert.title == f"Authorization A-100 ends in 2 days ({day(14)})"
        assert alert.due_on == day(14) and alert.patient_id == auth.episode.patient_id
    # The next day crosses the 1-day threshold: a new alert, the old one stays.
    assert _scan(org, day(13)) == sorted([f"auth-ending:{auth.pk}:3", f"auth-ending:{auth.pk}:1"])


def test_thresholds_come_from_the_organization_setting(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        authorization_settings_update(expiry_alert_days=[14, 5], low_units_percent=20)
    assert _scan(org) == [f"auth-ending:{auth.pk}:5"]


def test_units_below_twenty_percent_and_a_fast_burn_raise_their_alerts(org: Any) -> None:
    auth = make_authorization(
        org,
        unit_type="sessions",
        units_requested=20,
        units_approved=20,
        end_date=day(31),
    )
    with tenant_context(org):
        for n in range(1, 13):
            for _ in range(1 if n > 10 else 2):
                authorization_record_usage(
                    episode=auth.episode,
                    payer=auth.payer,
                    level="3.5",
                    unit_type="sessions",
                    service_code="H0018",
                    date_of_service=day(n),
                    units=1,
                )
    keys = _scan(org)
    # 22 sessions used of 20 -> none remain; at 22/14 a day they ran out today, before day 31.
    assert f"auth-units-low:{auth.pk}:20" in keys
    assert f"auth-forecast:{auth.pk}:{day(31)}:20" in keys
    assert _scan(org) == keys


def test_reviews_due_tomorrow_and_overdue_are_raised(org: Any) -> None:
    auth = make_authorization(org, end_date=day(31), units_requested=31, units_approved=31)
    with tenant_context(org):
        tomorrow = review_schedule(
            authorization=auth, review_type="concurrent", scheduled_on=day(13)
        )
        late = review_schedule(authorization=auth, review_type="peer_to_peer", scheduled_on=day(10))
        later = review_schedule(authorization=auth, review_type="concurrent", scheduled_on=day(17))
    keys = _scan(org)
    assert f"review-due:{tomorrow.pk}:{day(13)}" in keys
    assert f"review-overdue:{late.pk}:{day(10)}" in keys
    assert not [k for k in keys if str(later.pk) in k]


def test_services_after_expiry_are_a_lapse_and_the_authorization_expires(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level="3.5",
            unit_type="days",
            date_of_service=day(16),
            units=1,
            authorization=auth,
        )
    keys = _scan(org, day(17))
    assert keys == [f"auth-lapse:{auth.pk}"]
    with tenant_context(org):
        auth.refresh_from_db()
        assert auth.status == "expired"
        assert AuthorizationEvent.objects.filter(authorization=auth, action="expired").count() == 1
    assert _scan(org, day(18)) == keys
    with tenant_context(org):
        assert AuthorizationEvent.objects.filter(action="expired").count() == 1


def test_services_no_authorization_covers_are_a_lapse(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level="2.5",
            unit_type="per_diem",
            date_of_service=day(5),
            units=1,
        )
    assert f"auth-lapse-none:{auth.episode_id}:2.5" in _scan(org, day(6))


def test_a_level_the_payer_authorizes_with_no_authorization_is_raised(org: Any) -> None:
    with tenant_context(org):
        payer = patient_services.payer_create(
            name="Strict Plan",
            payer_id="SP1",
            payer_type="commercial",
            auth_required_levels=["3.5"],
        )
        coverage = CoverageFactory(organization=org, payer=payer, effective_date=days_ago(400))
        # The outbox event is not delivered here, as if the consumer were down: the scan still sees it.
        episode = patient_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=coverage.patient,
            program_type="mental_health",
            admission_date=day(1),
            level="3.5",
        )
        stay = episode.stays.get()
    assert _scan(org) == [f"auth-unauthorized-stay:{stay.pk}"]
    # Once the draft exists (the event delivered), nothing new is raised for the stay.
    make_authorization(
        org,
        episode=episode,
        coverage=coverage,
        status="requested",
        units_approved=None,
        decided_on=None,
    )
    with tenant_context(org):
        Alert.objects.all().delete()
    assert not [k for k in _scan(org) if k.startswith("auth-unauthorized-stay")]


def _bulk_authorizations(org: Any, count: int) -> None:
    with tenant_context(org):
        coverage = CoverageFactory(organization=org, effective_date=days_ago(400))
        episode = patient_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=coverage.patient,
            program_type="mental_health",
            admission_date=days_ago(70),
            level="3.5",
        )
    for i in range(count):
        start = days_ago(70) + timedelta(days=i)
        auth = make_authorization(
            org,
            episode=episode,
            coverage=coverage,
            unit_type="sessions",
            start_date=start,
            end_date=today() + timedelta(days=i % 9),
            units_requested=10,
            units_approved=10,
            auth_number=f"N{i}",
            overlap_reason="bulk",
        )
        with tenant_context(org):
            review_schedule(
                authorization=auth,
                review_type="concurrent",
                scheduled_on=days_ago(i % 3),
            )
            authorization_record_usage(
                episode=episode,
                payer=auth.payer,
                level="3.5",
                unit_type="sessions",
                service_code="H0018",
                date_of_service=days_ago(1),
                units=9,
                authorization=auth,
            )


def _scan_queries(org: Any) -> tuple[int, int]:
    with tenant_context(org), CaptureQueriesContext(connection) as ctx:
        result = authorization_scan(today=today())
    return len(ctx.captured_queries), result.alerts_created


def test_the_scan_costs_the_same_queries_for_3_or_30_authorizations(
    org: Any, other_org: Any, django_assert_max_num_queries: Any
) -> None:
    _bulk_authorizations(org, 3)
    _bulk_authorizations(other_org, 30)
    small, small_alerts = _scan_queries(org)
    large, large_alerts = _scan_queries(other_org)
    assert large_alerts > small_alerts > 0
    assert small == large
    with tenant_context(org), django_assert_max_num_queries(16):
        authorization_scan(today=today())


def test_the_daily_task_visits_every_organization_and_is_idempotent(
    org: Any, other_org: Any, biller: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for tenant in (org, other_org):
        make_authorization(
            tenant,
            start_date=days_ago(5),
            end_date=days_from_now(2),
            units_requested=8,
            units_approved=8,
            requested_on=days_ago(6),
            decided_on=days_ago(6),
            assigned_to=biller if tenant == org else None,
        )
    first = authorization_scan_all()
    assert first["organizations"] == 2 and first["alerts_created"] == 2
    second = authorization_scan_all()
    assert second["alerts_created"] == 0
    assert authorization_scan_organization(str(org.pk))["alerts_created"] == 0
    # The assignee gets an email through the outbox.
    with tenant_context(org):
        message = OutboxMessage.objects.get(topic="alerts.email")
        assert outbox_process(message_id=message.pk, now=clock.now())
    assert [m.to for m in mail.outbox] == [[biller.email]]


@pytest.mark.parametrize("count", [0, 1])
def test_a_scan_with_no_authorizations_raises_nothing(org: Any, count: int) -> None:
    if count:
        make_authorization(org, end_date=day(61), units_requested=40, units_approved=40)
    assert _scan(org) == []
    with tenant_context(org):
        assert Authorization.objects.count() == count
