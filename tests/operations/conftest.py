"""Shared pieces of the operations tests: delivering what the outbox holds, as a worker would,
and a scan that always fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest

from rcm.operations import scans
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from tests import clock


def deliver_pending(org: Organization) -> int:
    """Run every pending, due message of `org` once (what a worker does after the relay)."""
    with tenant_context(org):
        ids = list(
            OutboxMessage.objects.filter(
                status=OutboxStatus.PENDING, available_at__lte=clock.now()
            ).values_list("pk", flat=True)
        )
    return sum(outbox_process(message_id=pk, now=clock.now(), organization_id=org.pk) for pk in ids)


@pytest.fixture
def only_scans(monkeypatch: Any) -> Callable[..., None]:
    """Replace the registered scans with the ones given as name -> function (each due from
    midnight), so a test counts only its own."""

    def install(**functions: Callable[[date], dict[str, int]]) -> None:
        registry = {
            name: scans.ScheduledScan(name=name, label=name.title(), starts_at=time(0), run=fn)
            for name, fn in functions.items()
        }
        monkeypatch.setattr(scans, "_SCANS", registry)

    return install


def broken_scan(today: date) -> dict[str, int]:
    raise RuntimeError("the payer directory is unreachable")
