from __future__ import annotations

from rcm.tenancy.models import Organization
from reconciliation import services
from reconciliation.models import Deposit
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
