"""Point the `replica` alias at the real standby (tests/settings.py makes it a test mirror so
that Django neither creates nor flushes a database there)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import environ
import pytest
from django.db import connections

from rcm import replica


@pytest.fixture(scope="session", autouse=True)
def _replica_is_the_standby(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    if "replica" not in connections.settings:
        yield
        return
    url = environ.Env.db_url_config(os.environ["DATABASE_REPLICA_URL"])
    standby = {**connections["default"].settings_dict}
    standby.update(HOST=url["HOST"], PORT=url["PORT"])
    with django_db_blocker.unblock():
        connections["replica"].close()
        connections["replica"].settings_dict = standby
    yield


@pytest.fixture(autouse=True)
def _fresh_lag_reading() -> Iterator[None]:
    replica.forget_replica_lag()
    yield
    replica.forget_replica_lag()


def wait_until_replayed(timeout: float = 15.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"the standby did not replay up to {target} within {timeout} s")
