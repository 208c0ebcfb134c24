from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from claims import services as claims_services
from claims.models import Claim
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import DOS, Practice, practice  # noqa: F401  (fixture re-export)


@pytest.fixture
def submitted(practice: Practice) -> Callable[..., Any]:  # noqa: F811
    """A submitted claim of Jane Doe's with one 45-minute session (90834, $150) per day given."""

    def make(days: int = 1, start: date = DOS, minutes: int = 45) -> Claim:
        entries = [
            practice.session(minutes, day=start + timedelta(days=7 * i)) for i in range(days)
        ]
        with tenant_context(practice.org):
            report = claims_services.claims_build(
                entry_ids=[e.pk for e in entries], today=date(2026, 10, 30)
            )
            (claim,) = report.claims
            claim.refresh_from_db()
            assert claim.status == "ready", claim.findings.all()
            return claims_services.claim_transition(claim=claim, to_status="submitted")

    return make
