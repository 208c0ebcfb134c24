from __future__ import annotations

from decimal import Decimal as D

from claims.models import ContractRate
from denials.models import RemittanceLine
from rcm.tenancy.models import Organization
from reconciliation import services
from reconciliation.models import Deposit, UnderpaymentItem
from tests.clock import days_ago, now
from tests.reconciliation.helpers import bank_account, era, three_ach_credits


def build(org: Organization) -> None:
    """A bank account, a statement import with its deposits, a match (live, and an undone one
    through its links) and the settings row."""
    bank_account()
    services.statement_import(
        file_name="probe.bai",
        content=three_ach_credits(days_ago(1)),
        bank_account_id=None,
        uploaded_by=None,
        now=now(),
    )
    payment = era("PROBE-ERA", "99.99", days_ago(2))
    deposit = Deposit.objects.get(trace_number="TRC9999")
    services.match_create(
        deposit_ids=[deposit.pk], payment_ids=[payment.pk], reason="", actor=None, now=now()
    )
    services.reconciliation_settings_update(era_without_deposit_days=5, suggestion_window_days=3)
    # An underpayment item on the remittance line the denials probe posted.
    line = (
        RemittanceLine.objects.select_related("claim_line__claim").exclude(claim_line=None).first()
    )
    assert line is not None and line.claim_line is not None
    claim = line.claim_line.claim
    rate = ContractRate.objects.create(
        payer_id=claim.payer_id, service_code=line.service_code, modifier="ZP",
        allowed=D("80.00"), effective_from=days_ago(400),
    )  # fmt: skip
    UnderpaymentItem.objects.create(
        remittance_line=line, claim=claim, claim_line=line.claim_line, payer_id=claim.payer_id,
        contract_rate=rate, service_code=line.service_code,
        date_of_service=line.claim_line.date_of_service, remittance_date=days_ago(2),
        units=D("1"), contracted_allowed=D("80.00"), patient_responsibility=D("0"),
        expected=D("80.00"), paid=D("64.00"), variance=D("16.00"),
    )  # fmt: skip
