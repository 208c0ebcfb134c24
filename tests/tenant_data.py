"""One row of every tenant-owned model for an organization: the isolation probe fetches these
ids from another organization and must get 404 every time.

An app that adds tenant models adds `tests/<app>/probe_data.py` with a `build(org)` function (run
inside the organization's context); tests/tenancy/test_isolation.py fails when a tenant model has
no row, so no new model escapes the probe.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rcm.audit.services import audit_record
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import api_key_create, invitation_create
from tests import clock
from tests.factories import MembershipFactory, UserFactory


def _tenancy(org: Organization) -> None:
    MembershipFactory(
        organization=org, role=Role.BILLER, user=UserFactory(email=f"probe@{org.slug}.example")
    )
    api_key_create(
        name=f"{org.name} probe key", scopes=["patients:read"], created_by=None, now=clock.now()
    )
    invitation_create(
        email=f"invitee@{org.slug}.example",
        role=Role.BILLER,
        part2_access=False,
        invited_by=None,
        now=clock.now(),
    )


def _audit_and_outbox(org: Organization) -> None:
    audit_record(action="probe.event", detail={"org": org.slug})
    OutboxMessage.objects.create(
        topic="tenancy.welcome_email", payload={}, idempotency_key=f"probe:{org.slug}"
    )


def _builders() -> list[Callable[[Organization], Any]]:
    builders: list[Callable[[Organization], Any]] = [_tenancy, _audit_and_outbox]
    tests_dir = Path(__file__).resolve().parent
    for path in sorted(tests_dir.glob("*/probe_data.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.probe_data")
        builders.append(module.build)
    return builders


def build_tenant_data(org: Organization) -> None:
    with tenant_context(org):
        for build in _builders():
            build(org)
