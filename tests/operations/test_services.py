"""Scheduled scans, recorded once per organization and calendar day and caught up when a run is
missing or failed; jobs that fail for good raise one alert; owners retry or cancel them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from alerts.models import Alert, Area
from alerts.selectors import alerts_readable
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.operations.models import ScanRun, ScanRunStatus
from rcm.operations.services import (
    JOB_FAILED_TOPIC,
    SCAN_RUN_MAX_ATTEMPTS,
    SCAN_RUN_TOPIC,
    job_failures_alert,
    job_label,
    outbox_message_cancel,
    outbox_message_retry,
    scan_run_cancel,
    scan_run_retry,
    scan_runs_catch_up,
)
from rcm.operations.tasks import scan_runs_catch_up_all
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_pending_ids
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role, scopes_for_role
from rcm.tenancy.selectors import organization_now
from tests import clock
from tests.operations.conftest import broken_scan, deliver_pending

pytestmark = pytest.mark.django_db


def _runs(org: Any) -> list[ScanRun]:
    with tenant_context(org):
        return list(ScanRun.objects.order_by("scan", "day"))


def _counting_scan(calls: list[date]) -> Any:
    def scan(today: date) -> dict[str, int]:
        calls.append(today)
        return {"alerts_created": 2}

    return scan


def test_a_scan_runs_once_a_day_however_often_the_catch_up_runs(org: Any, only_scans: Any) -> None:
    calls: list[date] = []
    only_scans(**{"tests.counting": _counting_scan(calls)})

    assert scan_runs_catch_up_all()["scan_runs_sent"] == 1
    assert scan_runs_catch_up_all()["scan_runs_sent"] == 0  # recorded, not yet run: not again
    deliver_pending(org)
    assert scan_runs_catch_up_all()["scan_runs_sent"] == 0  # done: not again
    deliver_pending(org)

    (run,) = _runs(org)
    assert calls == [clock.today()]
    assert (run.scan, run.day, run.status) == ("tests.counting", clock.today(), "done")
    assert run.counts == {"alerts_created": 2} and run.attempts == 1
    assert run.started_at is not None and run.finished_at is not None
    with tenant_context(org):
        (message,) = OutboxMessage.objects.filter(topic=SCAN_RUN_TOPIC)
    assert job_label(message) == f"Tests.Counting for {clock.today().isoformat()}"


def test_every_registered_scan_is_recorded_and_runs_for_an_organization(org: Any) -> None:
    """The real scans (authorizations, credentialing, claims and care-management months, denials)
    on an empty clinic."""
    scan_runs_catch_up_all()
    deliver_pending(org)
    runs = _runs(org)
    assert {r.scan for r in runs} == {
        "authorizations.daily",
        "claims.care_month_rollup",
        "claims.unbillable",
        "credentialing.daily",
        "denials.claim_status",
        "denials.follow_up",
        "denials.small_balances",
        "patients.eligibility_raw_purge",
    }
    assert all(r.status == ScanRunStatus.DONE for r in runs), [(r.scan, r.error) for r in runs]


def test_a_missing_day_is_caught_up_once_on_the_next_tick(org: Any, only_scans: Any) -> None:
    """Yesterday's run happened; today's daily tick was lost (Redis or the worker was down): the
    next catch-up records and runs today's, once."""
    calls: list[date] = []
    only_scans(**{"tests.counting": _counting_scan(calls)})
    with tenant_context(org):
        ScanRun.objects.create(
            scan="tests.counting", day=clock.days_ago(1), status=ScanRunStatus.DONE, attempts=1
        )
    scan_runs_catch_up_all()
    deliver_pending(org)
    scan_runs_catch_up_all()
    deliver_pending(org)
    assert calls == [clock.today()]
    assert [(r.day, r.status) for r in _runs(org)] == [
        (clock.days_ago(1), "done"),
        (clock.today(), "done"),
    ]


def test_a_lost_message_is_sent_again_by_the_relay_not_recorded_twice(
    org: Any, only_scans: Any, settings: Any
) -> None:
    settings.OUTBOX_RELAY_AFTER_SECONDS = 0
    only_scans(**{"tests.counting": _counting_scan([])})
    scan_runs_catch_up_all()  # its commit hook never reached the broker (no worker ran it)
    with tenant_context(org):
        assert len(outbox_pending_ids(now=clock.now())) == 1
    assert scan_runs_catch_up_all()["scan_runs_sent"] == 0
    assert len(_runs(org)) == 1


def test_a_scan_is_not_due_before_its_local_start_time(org: Any) -> None:
    """Riverbend is in Chicago: at 04:45 there, only the scans starting earlier are due (the
    authorization scan starts at 05:00)."""
    with tenant_context(org):
        now = organization_now(org).replace(hour=4, minute=45)
        sent = {r.scan for r in scan_runs_catch_up(now=now)}
    assert "credentialing.daily" in sent and "authorizations.daily" not in sent


def test_a_run_is_dated_by_each_organizations_own_calendar(
    org: Any, other_org: Any, only_scans: Any, time_machine: Any
) -> None:
    """03:00 UTC on the 8th is still the 7th in Chicago, already the 8th in Auckland."""
    other_org.time_zone = "Pacific/Auckland"
    other_org.save()
    only_scans(**{"tests.counting": _counting_scan([])})
    instant = datetime.combine(clock.days_from_now(1), datetime.min.time(), tzinfo=UTC)
    time_machine.move_to(instant + timedelta(hours=3), tick=False)
    scan_runs_catch_up_all()
    assert [r.day for r in _runs(org)] == [instant.date() - timedelta(days=1)]
    assert [r.day for r in _runs(other_org)] == [instant.date()]


def test_a_failed_run_is_retried_by_the_catch_up_then_alerts_once(
    org: Any, owner: Any, only_scans: Any
) -> None:
    only_scans(**{"tests.broken": broken_scan})
    for attempt in range(1, SCAN_RUN_MAX_ATTEMPTS + 1):
        assert scan_runs_catch_up_all()["scan_runs_sent"] == 1
        deliver_pending(org)
        (run,) = _runs(org)
        assert (run.status, run.attempts) == ("failed", attempt)
        assert run.error == "RuntimeError: the payer directory is unreachable"
    # Out of automatic attempts: the catch-up leaves it to an owner, and the alert is raised once.
    assert scan_runs_catch_up_all() == {
        "organizations": 1,
        "scan_runs_sent": 0,
        "alerts_raised": 0,
    }
    deliver_pending(org)
    scan_runs_catch_up_all()
    deliver_pending(org)
    with tenant_context(org):
        alerts = list(Alert.objects.all())
        assert OutboxMessage.objects.filter(topic=JOB_FAILED_TOPIC).count() == 1
    assert len(alerts) == 1
    assert alerts[0].area == Area.OPERATIONS and alerts[0].severity == "critical"
    assert alerts[0].title == f"Tests.Broken for {clock.today():%Y-%m-%d} failed"
    assert "payer directory is unreachable" in alerts[0].message


def test_a_run_left_failed_on_an_earlier_day_raises_its_alert(org: Any, only_scans: Any) -> None:
    only_scans(**{"tests.broken": broken_scan})
    with tenant_context(org):
        ScanRun.objects.create(
            scan="tests.broken", day=clock.days_ago(2), status="failed", attempts=1, error="boom"
        )
        assert job_failures_alert(today=clock.today()) == 1
        assert job_failures_alert(today=clock.today()) == 0


def test_a_job_failing_for_good_raises_one_alert_for_the_owners_only(org: Any, owner: Any) -> None:
    with tenant_context(org):
        message = OutboxMessage.objects.create(
            topic="submissions.batch_build",
            idempotency_key="batch:1",
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="OSError: the clearinghouse folder is full",
        )
    assert scan_runs_catch_up_all()["alerts_raised"] == 1
    assert scan_runs_catch_up_all()["alerts_raised"] == 0
    deliver_pending(org)
    deliver_pending(org)
    with tenant_context(org):
        (alert,) = Alert.objects.all()
        assert alert.subject_id == message.pk
        assert alert.title == "Claim batch build failed"
        owners = alerts_readable(scopes=scopes_for_role(Role.OWNER))
        billers = alerts_readable(scopes=scopes_for_role(Role.BILLER, part2_access=True))
        assert list(owners) == [alert] and list(billers) == []


@pytest.fixture
def failed_email(org: Any) -> OutboxMessage:
    with tenant_context(org):
        return OutboxMessage.objects.create(
            topic="tenancy.welcome_email",
            idempotency_key="welcome:1",
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="SMTPException: relay refused",
        )


def test_retry_makes_a_failed_job_pending_now_and_sends_it_after_commit(
    org: Any, failed_email: OutboxMessage, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(org), django_capture_on_commit_callbacks() as hooks:
        message = outbox_message_retry(message=failed_email, now=clock.now())
        assert (message.status, message.attempts, message.last_error) == ("pending", 0, "")
        assert message.available_at == clock.now()
        event = AuditEvent.objects.get(action="outbox.retry")
        assert event.detail["error"] == "SMTPException: relay refused"
        assert event.detail["attempts"] == 5
    assert len(hooks) == 1


def test_only_a_failed_job_can_be_retried_or_cancelled(org: Any) -> None:
    with tenant_context(org):
        done = OutboxMessage.objects.create(
            topic="tenancy.welcome_email", idempotency_key="welcome:2", status=OutboxStatus.DONE
        )
        with pytest.raises(DomainError, match="Only a failed job can be retried"):
            outbox_message_retry(message=done, now=clock.now())
        with pytest.raises(DomainError, match="Only a failed job can be cancelled"):
            outbox_message_cancel(message=done, reason="not needed")
        done.refresh_from_db()
        assert done.status == OutboxStatus.DONE


def test_cancel_needs_a_reason_and_is_final(
    org: Any, failed_email: OutboxMessage, settings: Any
) -> None:
    settings.OUTBOX_RELAY_AFTER_SECONDS = 0
    with tenant_context(org):
        with pytest.raises(DomainError, match="Say why") as error:
            outbox_message_cancel(message=failed_email, reason="   ")
        assert error.value.field == "reason"
        message = outbox_message_cancel(message=failed_email, reason="The member left")
        assert (message.status, message.cancel_reason) == ("cancelled", "The member left")
        assert message.last_error == "SMTPException: relay refused"  # the reason it failed stays
        assert outbox_pending_ids(now=clock.now()) == []
        with pytest.raises(DomainError):
            outbox_message_retry(message=message, now=clock.now())


def test_a_failed_scan_run_retried_by_an_owner_runs_for_its_own_day(
    org: Any, only_scans: Any
) -> None:
    calls: list[date] = []
    only_scans(**{"tests.counting": _counting_scan(calls)})
    with tenant_context(org):
        run = ScanRun.objects.create(
            scan="tests.counting", day=clock.days_ago(3), status="failed", attempts=3, error="x"
        )
        run = scan_run_retry(run=run)
        assert (run.status, run.attempts, run.error) == ("pending", 4, "")
        with pytest.raises(DomainError, match="Only a failed scan run"):
            scan_run_retry(run=run)
    deliver_pending(org)
    assert calls == [clock.days_ago(3)]
    assert _runs(org)[0].status == "done"


def test_a_cancelled_scan_run_is_not_caught_up(org: Any, only_scans: Any) -> None:
    only_scans(**{"tests.broken": broken_scan})
    scan_runs_catch_up_all()
    deliver_pending(org)
    with tenant_context(org):
        run = scan_run_cancel(run=ScanRun.objects.get(), reason="Payer directory retired")
        assert run.status == ScanRunStatus.CANCELLED
        assert AuditEvent.objects.filter(action="scan_run.cancel").count() == 1
    assert scan_runs_catch_up_all()["scan_runs_sent"] == 0


def test_the_database_refuses_a_second_run_of_a_scan_for_one_day(org: Any) -> None:
    with tenant_context(org):
        ScanRun.objects.create(scan="authorizations.daily", day=clock.today())
        with pytest.raises(IntegrityError), transaction.atomic():
            ScanRun.objects.create(scan="authorizations.daily", day=clock.today())
        ScanRun.objects.create(scan="authorizations.daily", day=clock.days_ago(1))
        assert ScanRun.objects.count() == 2
