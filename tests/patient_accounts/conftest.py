"""Patient accounts fixtures: Riverbend's practice (tests.claims.conftest) with claims paid by
Blue Plan with a coinsurance (an 835 PR-2) and the ledger synced from them."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from denials import services as denials_services
from patient_accounts import services
from patient_accounts.models import ChargeBalance
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, dos, practice  # noqa: F401  (fixture re-export)
from tests.clock import today
from tests.denials.conftest import reference_codes, submitted  # noqa: F401
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
_traces = itertools.count(1)
COINSURANCE = D("30.00")


def post_835(clinic: Practice, claim: Any, *, paid: Decimal, pr: Decimal, co: Decimal) -> Any:
    """Blue Plan's 835 for the claim's first line: paid, CO-45 and PR-2 as given."""
    with tenant_context(clinic.org):
        line = claim.lines.order_by("line_number").first()
        charge = paid + pr + co
        cas = [("CO", "45", co)] if co else []
        cas += [("PR", "2", pr)] if pr else []
        clp = Clp(
            claim.patient_control_number,
            "1",
            charge,
            paid,
            pr,
            lines=[Svc(line.service_code, charge, paid, lcn=line.line_control_number, cas=cas)],
        )
        trace = f"PA{next(_traces):06d}"
        imp = denials_services.remittance_import_create(
            file_name=f"{trace}.835", content=build_835([clp], trace=trace)
        )
        denials_services.remittance_post(import_id=imp.pk, today=today())
        return imp


@pytest.fixture
def coinsured(practice: Practice, submitted: Callable[..., Any]) -> Callable[..., ChargeBalance]:  # noqa: F811
    """A claim for a session `days_ago` (a 90834 billed $150) paid by Blue Plan with `pr` of
    coinsurance, the ledger synced on `synced_on`: the patient's charge balance."""

    def make(
        pr: Decimal = COINSURANCE, days_ago: int = 20, synced_on: date | None = None
    ) -> ChargeBalance:
        claim = submitted(start=today() - timedelta(days=days_ago))
        co = D("40.00") if pr <= D("110") else D("0.00")
        post_835(practice, claim, paid=D("150.00") - pr - co, pr=pr, co=co)
        with tenant_context(practice.org):
            services.ledger_sync_claim(claim_id=claim.pk, today=synced_on or today())
            return ChargeBalance.objects.get(claim=claim)

    return make
