"""The dashboard's tables as rows, for the page and for CSV export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dashboards.rules import AGING_BUCKETS
from dashboards.selectors import Breakdown, Dashboard


def _rates(rows: list[Breakdown], title: str) -> Iterator[list[Any]]:
    yield [title, "denied claims", "adjudicated claims", "denial rate %"]
    for b in rows:
        yield [b.label, b.numerator, b.denominator, "no data" if b.rate is None else b.rate]


def _aging(d: Dashboard) -> Iterator[list[Any]]:
    yield ["payer", *AGING_BUCKETS, "total"]
    for row in d.ar_by_payer:
        yield [row["payer"], *(row[b] for b in AGING_BUCKETS), row["total"]]


def _aging_split(d: Dashboard) -> Iterator[list[Any]]:
    yield ["bucket", "insurance", "patient"]
    for bucket, values in d.ar_buckets.items():
        yield [bucket, values["insurance"], values["patient"]]


def _cash(d: Dashboard) -> Iterator[list[Any]]:
    yield ["week starting", "cash posted"]
    for week, amount in d.cash_by_week:
        yield [week.isoformat(), amount]


def _cash_month(d: Dashboard) -> Iterator[list[Any]]:
    yield ["month", "cash posted"]
    for month, amount in d.cash_by_month:
        yield [month.strftime("%Y-%m"), amount]


def _not_billable(d: Dashboard) -> Iterator[list[Any]]:
    yield ["payer", "providers not billable today"]
    yield from ([name, n] for name, n in d.not_billable)


def _backlog(d: Dashboard) -> Iterator[list[Any]]:
    yield ["age (days)", "open work items"]
    yield from ([bucket, n] for bucket, n in d.backlog.items())


def _headline(d: Dashboard) -> Iterator[list[Any]]:
    yield ["figure", "value"]
    for name, value in d.headline().items():
        yield [name, "no data" if value is None else value]


TABLES: dict[str, Callable[[Dashboard], Iterator[list[Any]]]] = {
    "headline": _headline,
    "denials_by_payer": lambda d: _rates(d.denial_by_payer, "payer"),
    "denials_by_category": lambda d: _rates(d.denial_by_category, "category"),
    "denials_by_provider": lambda d: _rates(d.denial_by_provider, "provider"),
    "denials_by_level": lambda d: _rates(d.denial_by_level, "level of care"),
    "denials_by_month": lambda d: _rates(d.denial_by_month, "month of service"),
    "ar_aging": _aging,
    "ar_aging_split": _aging_split,
    "cash_by_week": _cash,
    "cash_by_month": _cash_month,
    "not_billable": _not_billable,
    "work_backlog": _backlog,
}


def table_rows(name: str, dashboard: Dashboard) -> Iterator[list[Any]]:
    return TABLES[name](dashboard)
