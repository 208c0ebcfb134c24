"""One way for a Celery task or a command to visit every active organization.

`for_each_organization(fn)` calls `fn(turn)` once per active organization, inside that
organization's tenant context (so its own transaction and row-level security), with the
organization and its clock read once (`turn.now`, `turn.today`: the organization's own time zone).

A failure is kept to its organization: the exception is logged with the organization's id, its
transaction is rolled back, and the other organizations still run. When every organization has had
its turn, the first failure is raised again (a note says how many failed), so the task still ends
in error as it did before, but one broken tenant no longer stops the scan of all the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_now

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class OrganizationTurn:
    """One organization's turn: the organization and its clock, read once for the turn."""

    organization: Organization
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


def for_each_organization(
    fn: Callable[[OrganizationTurn], T], *, name: str | None = None
) -> list[tuple[Organization, T]]:
    """`fn(turn)` for every active organization (by id order), each inside its own tenant
    context. Returns `(organization, result)` for each organization in order; raises the first
    failure again after every organization has run. `name` labels the log lines."""
    label = name or getattr(fn, "__qualname__", repr(fn))
    results: list[tuple[Organization, T]] = []
    failures: list[tuple[Organization, Exception]] = []
    for organization in Organization.objects.filter(is_active=True).order_by("pk"):
        turn = OrganizationTurn(organization=organization, now=organization_now(organization))
        try:
            with tenant_context(organization.pk):
                results.append((organization, fn(turn)))
        except Exception as exc:
            logger.exception("%s failed for organization %s", label, organization.pk)
            failures.append((organization, exc))
    if failures:
        first_organization, first = failures[0]
        first.add_note(
            f"{label}: {len(failures)} of {len(results) + len(failures)} organizations failed "
            f"(first: {first_organization.pk}); the others ran."
        )
        raise first
    return results
