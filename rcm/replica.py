"""Read replicas: dashboards, reports and exports read from a streaming replica when one is set
(`DATABASE_REPLICA_URL`) and fresh enough, and from the primary otherwise.

A view opts in with `@reads_from_replica` (or a block with `replica_reads()`): inside it, every
read the router routes goes to the `replica` alias, in one read-only transaction that carries the
same `app.current_org` setting as the primary's, so row-level security holds there too. Writes
(audit rows of a record view, for instance) always go to the primary. Before each use the
replica's lag is read (cached a few seconds per process); a replica more than
`DATABASE_REPLICA_MAX_LAG_SECONDS` behind, unreachable or not a standby at all is passed over and
the primary serves the read (docs/scaling.md, "Read replicas").
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, transaction

from rcm.tenancy.context import current_organization_id

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
_reading_from_replica: ContextVar[bool] = ContextVar("parity_replica_reads", default=False)
# (checked at, monotonic seconds; lag in seconds or None when unusable)
_lag_cache: dict[str, tuple[float, float | None]] = {}

# Seconds the replica's standby has not yet replayed: 0 when it replayed all it received (an idle
# primary writes no new commits, and the last replay time would otherwise grow for ever).
LAG_SQL = """
    SELECT pg_is_in_recovery(),
           CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
                THEN 0
                ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
           END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """The replica's lag in seconds (cached for DATABASE_REPLICA_CHECK_SECONDS); None when it is
    unreachable or not a standby."""
    checked = _lag_cache.get(REPLICA)
    now = time.monotonic()
    if checked is not None and now - checked[0] < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return checked[1]
    lag: float | None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, seconds = cursor.fetchone()
        lag = float(seconds or 0) if in_recovery else None
    except DatabaseError:
        logger.warning("replica: unreachable, reading from the primary", exc_info=True)
        connections[REPLICA].close()
        lag = None
    _lag_cache[REPLICA] = (now, lag)
    return lag


def replica_usable() -> bool:
    if not replica_configured():
        return False
    lag = replica_lag()
    return lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS


def forget_replica_lag() -> None:
    _lag_cache.clear()


@contextmanager
def replica_reads() -> Iterator[str]:
    """Route the block's reads to the replica when it is usable; yields the alias used."""
    if _reading_from_replica.get() or not replica_usable():
        yield REPLICA if _reading_from_replica.get() else PRIMARY
        return
    token = _reading_from_replica.set(True)
    try:
        with transaction.atomic(using=REPLICA):
            org_id = current_organization_id()
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute(
                    "SELECT set_config('app.current_org', %s, true)",
                    [str(org_id) if org_id else ""],
                )
            yield REPLICA
    finally:
        _reading_from_replica.reset(token)


View = TypeVar("View", bound=Callable[..., Any])


def reads_from_replica(view: View) -> View:
    """A view whose reads may come from the replica (dashboards, reports, exports)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class ReplicaRouter:
    """Reads inside `replica_reads()` go to the replica; everything else to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return REPLICA if _reading_from_replica.get() else PRIMARY

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by replication
