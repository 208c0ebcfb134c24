"""The Celery times agree (rcm/settings.py, system check rcm.E001-E003 in rcm/tenancy/checks.py)
and the worker is configured to survive a broker restart (docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import checks
from django.test import override_settings

from rcm.tenancy.checks import celery_times_check, outbox_recovery_check

ROOT = Path(__file__).resolve().parent.parent


def _transport(visibility: int | None) -> dict[str, Any]:
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if visibility is None:
        options.pop("visibility_timeout", None)
    else:
        options["visibility_timeout"] = visibility
    return options


def _ids(**overrides: Any) -> list[str]:
    visibility = overrides.pop("visibility", 600)
    with override_settings(CELERY_BROKER_TRANSPORT_OPTIONS=_transport(visibility), **overrides):
        return [message.id or "" for message in celery_times_check()]


def test_the_defaults_agree() -> None:
    assert celery_times_check() == []
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility == settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility
    assert visibility > settings.OUTBOX_RELAY_AFTER_SECONDS


def test_the_check_is_registered() -> None:
    assert celery_times_check in checks.registry.registry.get_checks()


@pytest.mark.parametrize("hard", [600, 601, 3600])
def test_a_time_limit_not_shorter_than_the_visibility_timeout_is_an_error(hard: int) -> None:
    ids = _ids(CELERY_TASK_TIME_LIMIT=hard, CELERY_TASK_SOFT_TIME_LIMIT=hard - 60)
    assert ids == ["rcm.E001"]


def test_a_time_limit_just_under_the_visibility_timeout_passes() -> None:
    assert _ids(CELERY_TASK_TIME_LIMIT=599, CELERY_TASK_SOFT_TIME_LIMIT=598) == []


def test_no_visibility_timeout_or_no_time_limit_is_an_error() -> None:
    assert _ids(visibility=None) == ["rcm.E001"]
    assert _ids(CELERY_TASK_TIME_LIMIT=None) == ["rcm.E001"]


@pytest.mark.parametrize("soft", [540, 541])
def test_a_soft_limit_not_shorter_than_the_hard_limit_is_an_error(soft: int) -> None:
    assert _ids(CELERY_TASK_TIME_LIMIT=540, CELERY_TASK_SOFT_TIME_LIMIT=soft) == ["rcm.E002"]


def test_no_soft_limit_passes() -> None:
    assert _ids(CELERY_TASK_TIME_LIMIT=540, CELERY_TASK_SOFT_TIME_LIMIT=None) == []


def test_a_relay_age_not_shorter_than_the_visibility_timeout_is_an_error() -> None:
    assert _ids(OUTBOX_RELAY_AFTER_SECONDS=600) == ["rcm.E003"]
    assert _ids(OUTBOX_RELAY_AFTER_SECONDS=599) == []


def test_every_rule_broken_reports_each() -> None:
    ids = _ids(
        visibility=300,
        CELERY_TASK_TIME_LIMIT=900,
        CELERY_TASK_SOFT_TIME_LIMIT=900,
        OUTBOX_RELAY_AFTER_SECONDS=300,
    )
    assert ids == ["rcm.E001", "rcm.E002", "rcm.E003"]


def test_the_worker_reconnects_forever() -> None:
    from rcm.celery import app

    conf = app.conf
    assert conf.broker_connection_retry is True
    assert conf.broker_connection_retry_on_startup is True
    assert conf.broker_connection_max_retries is None
    assert conf.broker_channel_error_retry is True
    # A task running when Redis drops finishes (cancelling it could send an email twice).
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    options = conf.broker_transport_options
    assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    assert options["health_check_interval"] > 0
    assert options["socket_keepalive"] is True
    assert options["retry_on_timeout"] is True
    assert conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT


def _recovery_ids(**overrides: Any) -> list[str]:
    with override_settings(**overrides):
        return [message.id or "" for message in outbox_recovery_check()]


def test_the_outbox_defaults_pick_up_a_dead_workers_job_within_two_minutes() -> None:
    assert outbox_recovery_check() == []
    assert outbox_recovery_check in checks.registry.registry.get_checks()
    lease, relay_every = settings.OUTBOX_LEASE_SECONDS, settings.OUTBOX_RELAY_INTERVAL_SECONDS
    assert lease >= settings.OUTBOX_HEARTBEAT_SECONDS * 3
    assert max(lease, settings.OUTBOX_RELAY_AFTER_SECONDS) + relay_every < 120
    assert settings.CELERY_BEAT_SCHEDULE["outbox-relay"]["schedule"] == relay_every


@pytest.mark.parametrize(("lease", "heartbeat"), [(60, 31), (60, 60), (30, 20)])
def test_a_heartbeat_slower_than_half_the_lease_is_an_error(lease: int, heartbeat: int) -> None:
    assert _recovery_ids(OUTBOX_LEASE_SECONDS=lease, OUTBOX_HEARTBEAT_SECONDS=heartbeat) == [
        "rcm.E004"
    ]
    assert _recovery_ids(OUTBOX_LEASE_SECONDS=lease, OUTBOX_HEARTBEAT_SECONDS=lease // 2) == []


@pytest.mark.parametrize("missing", ["OUTBOX_LEASE_SECONDS", "OUTBOX_HEARTBEAT_SECONDS"])
def test_an_unset_or_zero_lease_or_heartbeat_is_an_error(missing: str) -> None:
    assert _recovery_ids(**{missing: 0}) == ["rcm.E004"]
    assert _recovery_ids(**{missing: None}) == ["rcm.E004"]


def test_a_lease_and_relay_interval_beyond_two_minutes_is_an_error() -> None:
    schedule = {"outbox-relay": {"task": "rcm.outbox.tasks.outbox_relay", "schedule": 60.0}}
    # The old lease (the hard time limit + 60 s) and the old minutely relay.
    assert _recovery_ids(
        OUTBOX_LEASE_SECONDS=600,
        OUTBOX_HEARTBEAT_SECONDS=200,
        OUTBOX_RELAY_INTERVAL_SECONDS=60,
        CELERY_BEAT_SCHEDULE=schedule,
    ) == ["rcm.E005"]
    assert _recovery_ids(
        OUTBOX_LEASE_SECONDS=60, OUTBOX_RELAY_INTERVAL_SECONDS=60, CELERY_BEAT_SCHEDULE=schedule
    ) == ["rcm.E005"]
    # A long relay age counts as much as a long lease.
    assert _recovery_ids(OUTBOX_RELAY_AFTER_SECONDS=90) == ["rcm.E005"]
    assert _recovery_ids(OUTBOX_RELAY_AFTER_SECONDS=70) == []


def test_beat_must_run_the_relay_at_the_configured_interval() -> None:
    other = {"outbox-relay": {"task": "rcm.outbox.tasks.outbox_relay", "schedule": 45.0}}
    assert _recovery_ids(CELERY_BEAT_SCHEDULE=other) == ["rcm.E006"]
    assert _recovery_ids(CELERY_BEAT_SCHEDULE={}) == ["rcm.E006"]


def _run_check(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "OUTBOX_"))}
    environ.update(DJANGO_SETTINGS_MODULE="tests.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_times_come_from_the_environment_and_manage_check_refuses_a_disagreement() -> None:
    ok = _run_check(
        CELERY_VISIBILITY_TIMEOUT="300",
        CELERY_TASK_TIME_LIMIT="240",
        CELERY_TASK_SOFT_TIME_LIMIT="200",
    )
    assert ok.returncode == 0, ok.stderr
    bad = _run_check(CELERY_VISIBILITY_TIMEOUT="300")  # the default hard limit is 540 s
    assert bad.returncode != 0
    assert "rcm.E001" in bad.stderr
    slow_relay = _run_check(OUTBOX_LEASE_SECONDS="120", OUTBOX_HEARTBEAT_SECONDS="40")
    assert slow_relay.returncode != 0
    assert "rcm.E005" in slow_relay.stderr
