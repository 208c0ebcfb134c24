"""The scans Celery beat runs once a day for each organization. An app registers one with
`@scheduled_scan("name", label=..., starts_at=time(...))` on a function `run(today) -> counts`
in a module it imports from its AppConfig.ready(); the catch-up (services.scan_runs_catch_up)
records and starts each organization's run once its local time passes `starts_at`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

ScanFunction = Callable[[date], dict[str, int]]


@dataclass(frozen=True)
class ScheduledScan:
    name: str
    label: str
    starts_at: time  # the organization's local time from which the day's run is due
    run: ScanFunction


_SCANS: dict[str, ScheduledScan] = {}


def scheduled_scan(
    name: str, *, label: str, starts_at: time
) -> Callable[[ScanFunction], ScanFunction]:
    def register(func: ScanFunction) -> ScanFunction:
        _SCANS[name] = ScheduledScan(name=name, label=label, starts_at=starts_at, run=func)
        return func

    return register


def scheduled_scans() -> list[ScheduledScan]:
    return sorted(_SCANS.values(), key=lambda s: (s.starts_at, s.name))


def scan_for(name: str) -> ScheduledScan | None:
    return _SCANS.get(name)


def scan_label(name: str) -> str:
    scan = _SCANS.get(name)
    return scan.label if scan else name
