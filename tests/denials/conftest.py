from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps

from claims import services as claims_services
from claims.models import Claim
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, dos, practice  # noqa: F401  (fixture re-export)
from tests.clock import years_ago


@pytest.fixture(autouse=True)
def reference_codes(db: Any) -> None:
    """The CARC/RARC tables come from a data migration; a transactional test (live server,
    SKIP LOCKED) flushes every table when it ends, so reload them when they are gone."""
    from denials.models import AdjustmentReason

    if not AdjustmentReason.objects.exists():
        importlib.import_module("denials.migrations.0003_load_carc_rarc_codes").load(apps, None)


@pytest.fixture
def submitted(practice: Practice) -> Callable[..., Any]:  # noqa: F811
    """A submitted claim of Jane Doe's with one 45-minute session (90834, $150) a week for the
    number of `days` given, from `start` (default `dos()`); built on the day of the last one."""

    def make(days: int = 1, start: date | None = None, minutes: int = 45) -> Claim:
        start = start or dos()
        entries = [
            practice.session(minutes, day=start + timedelta(days=7 * i)) for i in range(days)
        ]
        with tenant_context(practice.org):
            report = claims_services.claims_build(
                scopes=part2.ORGANIZATION,
                entry_ids=[e.pk for e in entries],
                today=max(e.date_of_service for e in entries),
            )
            (claim,) = report.claims
            claim.refresh_from_db()
            assert claim.status == "ready", claim.findings.all()
            return claims_services.claim_transition(claim=claim, to_status="submitted")

    return make


def add_medicaid(practice: Practice, *, enrolled: bool = True) -> Any:  # noqa: F811
    """State Medicaid as Jane Doe's secondary coverage (priority 2) since a year ago, with Lena
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
            effective_date=years_ago(1),
            priority=2,
        )
        if enrolled:
            EnrollmentFactory(
                organization=practice.org,
                provider=practice.provider,
                payer=medicaid,
                submitted_on=years_ago(2),
                approved_on=years_ago(1),
                effective_date=years_ago(1),
            )
    return medicaid


def lost() -> date:
    """A date of service none of our claim lines has (long before Jane Doe's admission)."""
    return years_ago(2)


HUNDRED = Decimal("100")


@pytest.fixture
def half_matched(practice: Practice, submitted: Callable[..., Any]) -> Callable[..., Any]:  # noqa: F811
    """A two-line claim whose 835 pays line 1 (REF*6R) and sends `second` for line 2; give it an
    unknown REF*6R and a wrong date and line 2 is an exception. `second` may be a function of
    claim line 2."""
    from tests.denials.test_posting import post
    from tests.denials.x835 import Clp, Svc, build_835

    def make(
        second: Any, paid_first: Decimal = HUNDRED, start: date | None = None, trace: str = "TRACE1"
    ) -> Claim:
        claim = submitted(days=2, start=start)
        with tenant_context(practice.org):
            first, line_two = claim.lines.order_by("line_number")
        second = second(line_two) if callable(second) else second
        svcs = [
            Svc(
                "90834",
                Decimal("150"),
                paid_first,
                lcn=first.line_control_number,
                cas=[("CO", "45", Decimal("150") - paid_first)],
            ),
            second,
        ]
        clp = Clp(
            claim.patient_control_number, "1", Decimal("300"), paid_first + second.paid, lines=svcs
        )
        post(practice.org, build_835([clp], trace=trace))
        return claim

    return make


@pytest.fixture
def unmatched_claim(practice: Practice) -> Callable[..., Any]:  # noqa: F811
    """Post an 835 whose CLP01 is a typo of `claim`'s control number (so the CLP is a claim
    exception) and whose SVCs would match its lines: line 1 by REF*6R, line 2 by code, date and
    charge; `extra` SVCs are added. Returns the exception."""
    from denials.models import RemittanceException
    from tests.denials.test_posting import post
    from tests.denials.x835 import Clp, Svc, build_835

    def make(claim: Claim, extra: list[Any] | None = None, trace: str = "TRACE1") -> Any:
        with tenant_context(practice.org):
            first, second = claim.lines.order_by("line_number")
        svcs = [
            Svc(
                "90834",
                Decimal("150"),
                Decimal("100"),
                lcn=first.line_control_number,
                cas=[("CO", "45", Decimal("50"))],
            ),
            Svc(
                "90834",
                Decimal("150"),
                Decimal("90"),
                dos=second.date_of_service,
                cas=[("CO", "45", Decimal("50")), ("PR", "2", Decimal("10"))],
            ),
            *(extra or []),
        ]
        paid = sum((s.paid for s in svcs), Decimal("0"))
        charge = sum((s.charge for s in svcs), Decimal("0"))
        pcn = "TYPO-" + claim.patient_control_number
        post(practice.org, build_835([Clp(pcn, "1", charge, paid, lines=svcs)], trace=trace))
        with tenant_context(practice.org):
            return RemittanceException.objects.select_related("remittance_claim").get(
                kind="unmatched_claim", remittance_claim__patient_control_number=pcn
            )

    return make
