"""Scheduled scans recorded per organization and day (and caught up), and what an owner does with
background work that failed for good: retry it or cancel it with a reason.

Every function works on the organization in context (a task's `for_each_organization` turn, or
a request's tenant) and takes its clock as an argument.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q

from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.operations.models import ScanRun, ScanRunStatus
from rcm.operations.scans import scan_for, scan_label, scheduled_scans
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_enqueue, outbox_send
from rcm.tenancy.context import require_organization_id

logger = logging.getLogger(__name__)

SCAN_RUN_TOPIC = "operations.scan_run"
# A job that failed for good raises one alert in the shared inbox (alerts.handlers).
JOB_FAILED_TOPIC = "operations.job_failed"
# The catch-up hands a failed run to a worker again until it has had this many attempts; after
# that it waits on the operations page for an owner (and has raised its alert).
SCAN_RUN_MAX_ATTEMPTS = 3

TOPIC_LABELS = {
    "submissions.batch_build": "Claim batch build",
    "denials.remittance_post": "835 remittance posting",
    "denials.secondary_claims_build": "Secondary claims build",
    "authorizations.scan": "Authorization scan (run now)",
    "patients.authorization_needed": "Authorization draft for a level of care",
    "authorizations.coverage_changed": "Claims re-scrub after an authorization change",
    "alerts.email": "Alert email",
    "tenancy.welcome_email": "Welcome email",
    "tenancy.invitation_email": "Invitation email",
    "tenancy.password_reset_email": "Password reset email",
    SCAN_RUN_TOPIC: "Scheduled scan",
    JOB_FAILED_TOPIC: "Failure alert",
}


def topic_label(topic: str) -> str:
    return TOPIC_LABELS.get(topic, topic)


def job_label(message: OutboxMessage) -> str:
    """What a person calls the job: its topic's label, and for a scan run which scan and day."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    if message.topic == SCAN_RUN_TOPIC and payload.get("scan"):
        return f"{scan_label(str(payload['scan']))} for {payload.get('day', '')}"
    return topic_label(message.topic)


def _dispatch(run: ScanRun) -> None:
    """Hand the run (already counted in `attempts`) to a worker through the outbox: one message
    per attempt, sent after commit and re-sent by the relay if the broker misses it."""
    outbox_enqueue(
        topic=SCAN_RUN_TOPIC,
        payload={"run_id": str(run.pk), "scan": run.scan, "day": run.day.isoformat()},
        idempotency_key=f"scan-run:{run.pk}:{run.attempts}",
    )


def scan_runs_catch_up(*, now: datetime) -> list[ScanRun]:
    """Start every scheduled scan that is due on the organization's day `now.date()` (its start
    time passed) and has no run that is pending or done: a missing run is recorded and sent, a
    failed run with attempts left is sent again. Returns the runs this call sent; a second call
    sends nothing (the unique (organization, scan, day) row and the conditional updates decide,
    whatever the timing)."""
    today = now.date()
    due = [s for s in scheduled_scans() if now.time() >= s.starts_at]
    if not due:
        return []
    sent: list[ScanRun] = []
    with transaction.atomic():
        existing = {
            r.scan: r for r in ScanRun.objects.filter(day=today, scan__in=[s.name for s in due])
        }
        for scan in due:
            run = existing.get(scan.name)
            if run is None:
                run, created = ScanRun.objects.get_or_create(
                    scan=scan.name, day=today, defaults={"attempts": 1}
                )
                if not created:
                    continue  # A concurrent catch-up recorded it first: it sends it.
            else:
                # A failed run is taken back once, by whichever catch-up updates it first.
                taken = ScanRun.objects.filter(
                    pk=run.pk, status=ScanRunStatus.FAILED, attempts__lt=SCAN_RUN_MAX_ATTEMPTS
                ).update(status=ScanRunStatus.PENDING, attempts=run.attempts + 1)
                if not taken:
                    continue
                run.refresh_from_db()
            _dispatch(run)
            sent.append(run)
    return sent


def scan_run_execute(*, run_id: uuid.UUID | str, clock: Callable[[], datetime]) -> ScanRun | None:
    """Run a pending scan run for its own day (not the worker's), record its counts or its
    error, and raise the failure alert when the last automatic attempt failed. A run that is
    not pending (done, cancelled, retried meanwhile) is left as it is."""
    with transaction.atomic():
        run = ScanRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != ScanRunStatus.PENDING:
            return run
        run.started_at = clock()
        scan = scan_for(run.scan)
        try:
            if scan is None:
                raise LookupError(f"No scheduled scan is named {run.scan!r}.")
            with transaction.atomic():
                counts = scan.run(run.day)
        except Exception as exc:
            logger.exception("scan run %s (%s, %s) failed", run.pk, run.scan, run.day)
            run.status = ScanRunStatus.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            if run.attempts >= SCAN_RUN_MAX_ATTEMPTS:
                _alert_failed_for_good(
                    subject_id=run.pk,
                    title=f"{scan_label(run.scan)} for {run.day:%Y-%m-%d} failed",
                    error=run.error,
                    attempts=run.attempts,
                )
        else:
            run.status = ScanRunStatus.DONE
            run.counts = counts
            run.error = ""
        run.finished_at = clock()
        run.save(
            update_fields=["status", "counts", "error", "started_at", "finished_at", "updated_at"]
        )
    return run


def _alert_failed_for_good(*, subject_id: uuid.UUID, title: str, error: str, attempts: int) -> None:
    """One alert per job (the key names the job, not the attempt), raised by the alerts app."""
    outbox_enqueue(
        topic=JOB_FAILED_TOPIC,
        payload={
            "subject_id": str(subject_id),
            "title": title[:180],
            "error": error[:500],
            "attempts": attempts,
        },
        idempotency_key=f"job-failed:{subject_id}",
    )


def job_failures_alert(*, today: date) -> int:
    """Raise the failure alert of every job that failed for good and has none yet: outbox
    messages that are `failed` (the alert message itself excepted), and failed scan runs the
    catch-up will not take again (out of attempts, or of a day before `today`). Returns how many
    were raised; a second call raises none."""
    failed = [
        (pk, f"{topic_label(topic)} failed", error, attempts)
        for pk, topic, error, attempts in OutboxMessage.objects.filter(status=OutboxStatus.FAILED)
        .exclude(topic=JOB_FAILED_TOPIC)
        .values_list("pk", "topic", "last_error", "attempts")[:500]
    ]
    failed += [
        (pk, f"{scan_label(scan)} for {day:%Y-%m-%d} failed", error, attempts)
        for pk, scan, day, error, attempts in ScanRun.objects.filter(status=ScanRunStatus.FAILED)
        .filter(Q(attempts__gte=SCAN_RUN_MAX_ATTEMPTS) | Q(day__lt=today))
        .values_list("pk", "scan", "day", "error", "attempts")[:500]
    ]
    if not failed:
        return 0
    raised = set(
        OutboxMessage.objects.filter(
            idempotency_key__in=[f"job-failed:{pk}" for pk, *_ in failed]
        ).values_list("idempotency_key", flat=True)
    )
    count = 0
    with transaction.atomic():
        for pk, title, error, attempts in failed:
            if f"job-failed:{pk}" in raised:
                continue
            _alert_failed_for_good(subject_id=pk, title=title, error=error, attempts=attempts)
            count += 1
    return count


def outbox_message_retry(*, message: OutboxMessage, now: datetime) -> OutboxMessage:
    """A failed message runs again: pending, due at `now`, attempts and error cleared, sent after
    commit. Only a failed message can be retried."""
    with transaction.atomic():
        before = {"attempts": message.attempts, "error": message.last_error[:500]}
        taken = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.FAILED).update(
            status=OutboxStatus.PENDING,
            attempts=0,
            available_at=now,
            processed_at=None,
            last_error="",
        )
        if not taken:
            raise DomainError("Only a failed job can be retried.", field="status")
        message.refresh_from_db()
        audit_record(action="outbox.retry", obj=message, detail={"topic": message.topic, **before})
        org_id = require_organization_id()
        transaction.on_commit(lambda: outbox_send(org_id, message.pk, topic=message.topic))
    return message


def outbox_message_cancel(*, message: OutboxMessage, reason: str) -> OutboxMessage:
    """Give up on a failed message for good (final state `cancelled`), saying why."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the job is cancelled.", field="reason")
    with transaction.atomic():
        taken = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.FAILED).update(
            status=OutboxStatus.CANCELLED, cancel_reason=reason[:1000]
        )
        if not taken:
            raise DomainError("Only a failed job can be cancelled.", field="status")
        message.refresh_from_db()
        audit_record(
            action="outbox.cancel",
            obj=message,
            detail={"topic": message.topic, "reason": reason[:500]},
        )
    return message


def scan_run_retry(*, run: ScanRun) -> ScanRun:
    """A failed scan run runs again for its own day, sent after commit."""
    with transaction.atomic():
        previous = run.error[:500]
        taken = ScanRun.objects.filter(pk=run.pk, status=ScanRunStatus.FAILED).update(
            status=ScanRunStatus.PENDING, attempts=run.attempts + 1, error=""
        )
        if not taken:
            raise DomainError("Only a failed scan run can be retried.", field="status")
        run.refresh_from_db()
        audit_record(
            action="scan_run.retry",
            obj=run,
            detail={"scan": run.scan, "day": run.day.isoformat(), "error": previous},
        )
        _dispatch(run)
    return run


def scan_run_cancel(*, run: ScanRun, reason: str) -> ScanRun:
    """Give up on a failed scan run (final state `cancelled`; the catch-up leaves it), saying
    why."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the scan run is cancelled.", field="reason")
    with transaction.atomic():
        taken = ScanRun.objects.filter(pk=run.pk, status=ScanRunStatus.FAILED).update(
            status=ScanRunStatus.CANCELLED, cancel_reason=reason[:1000]
        )
        if not taken:
            raise DomainError("Only a failed scan run can be cancelled.", field="status")
        run.refresh_from_db()
        audit_record(
            action="scan_run.cancel",
            obj=run,
            detail={"scan": run.scan, "day": run.day.isoformat(), "reason": reason[:500]},
        )
    return run
