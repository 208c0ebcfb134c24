"""The current tenant: one context variable, set by middleware for requests and by
`tenant_context()` for tasks and commands, always reset in `finally`.

On PostgreSQL the same organization id is written into the transaction with
`set_config('app.current_org', <id>, true)` so that row-level security sees it; `true` makes the
setting local to the transaction, so a pooled connection never carries a tenant over.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection, transaction

if TYPE_CHECKING:
    from rcm.tenancy.models import Organization

_current_org: ContextVar[uuid.UUID | None] = ContextVar("parity_current_org", default=None)


class TenantNotSet(RuntimeError):
    """A tenant-owned table was queried with no organization in context (fail closed)."""


def current_organization_id() -> uuid.UUID | None:
    return _current_org.get()


def require_organization_id() -> uuid.UUID:
    org_id = _current_org.get()
    if org_id is None:
        raise TenantNotSet(
            "No organization in context: wrap the work in tenant_context(org) or use a bypass "
            "manager (all_tenants) with a comment saying why."
        )
    return org_id


def _set_db_tenant(org_id: uuid.UUID | None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.current_org', %s, true)", [str(org_id) if org_id else ""]
        )


@contextmanager
def tenant_context(organization: Organization | uuid.UUID | str) -> Iterator[uuid.UUID]:
    """Run the block as `organization`, inside one transaction (a savepoint when nested)."""
    org_id = organization if isinstance(organization, uuid.UUID) else None
    if org_id is None:
        org_id = uuid.UUID(str(getattr(organization, "pk", organization)))
    previous = _current_org.get()
    token = _current_org.set(org_id)
    try:
        with transaction.atomic():
            _set_db_tenant(org_id)
            yield org_id
            # Restore the outer tenant for the rest of an enclosing transaction. On an error the
            # savepoint rollback already undoes the setting.
            _set_db_tenant(previous)
    finally:
        _current_org.reset(token)
