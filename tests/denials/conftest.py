from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps

from claims import services as claims_services
from claims.models import Claim
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import DOS, Practice, practice  # noqa: F401  (fixture re-export)


@pytest.fixture(autouse=True)
def reference_codes(db: Any) -> None:
    """The CARC/RARC tables come from a data migration; a transactional test (live server,
    SKIP LOCKED) flushes every table when it ends, so reload them when they are gone."""
    from denials.models import AdjustmentReason

    if not AdjustmentReason.objects.exists():
        importlib.import_module("denials.migrations.0003_load_carc_rarc_codes").load(apps, None)


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


def add_medicaid(practice: Practice, *, enrolled: bool = True) -> Any:  # noqa: F811
    """State Medicaid as Jane Doe's secondary coverage (priority 2) from 2026-01-01, with Lena
    enrolled unless `enrolled` is False."""
    from patients import services as patients_services
    from tests.credentialing.factories import EnrollmentFactory

    with tenant_context(practice.org):
        medicaid = patients_services.payer_create(
            name="State Medicaid", payer_id="SMCD1", payer_type="medicaid"
        )
        patients_services.coverage_create(
            patient=practice.patient,
            payer=medicaid,
            member_id="MCD0042",
            effective_date=date(2026, 1, 1),
            priority=2,
        )
        if enrolled:
            EnrollmentFactory(organization=practice.org, provider=practice.provider, payer=medicaid)
    return medicaid
