"""One row of every tenant-owned model for an organization: the isolation probe fetches these
ids from another organization and must get 404 every time.

Each app that adds a tenant model adds a builder here; tests/tenancy/test_isolation.py fails when
a tenant model has no row, so no new model escapes the probe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcm.audit.services import audit_record
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import api_key_create
from tests.factories import MembershipFactory, UserFactory


def _tenancy(org: Organization) -> None:
    MembershipFactory(
        organization=org, role=Role.BILLER, user=UserFactory(email=f"probe@{org.slug}.example")
    )
    api_key_create(name=f"{org.name} probe key", scopes=["patients:read"], created_by=None)


def _audit_and_outbox(org: Organization) -> None:
    audit_record(action="probe.event", detail={"org": org.slug})
    OutboxMessage.objects.create(
        topic="tenancy.welcome_email", payload={}, idempotency_key=f"probe:{org.slug}"
    )


BUILDERS: list[Callable[[Organization], Any]] = [_tenancy, _audit_and_outbox]


def build_tenant_data(org: Organization) -> None:
    with tenant_context(org):
        for build in BUILDERS:
            build(org)
