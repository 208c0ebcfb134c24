"""Bank files written by hand, and ERAs recorded as the 835 posting records them.

The BAI2 files follow the BAI "Cash Management Balance Reporting Specifications, Version 2"
(Bank Administration Institute, 2005), section "Record Formats": 01 file header (sender,
receiver, creation date YYMMDD and time, file id, record length, block size, version 2), 02 group
header (receiver, originator, status 1 = update, as-of date, as-of time, currency), 03 account
identifier (account number, currency, then summary items of type code, amount, item count,
funds type), 16 transaction detail (type code, amount in cents, funds type Z = unknown
availability, bank reference, customer reference, text), 49 account trailer (control total =
the sum of the account's 03 and 16 amounts; number of records in the account including 03 and
49), 98 group trailer (control total, number of accounts, records including 02 and 98), 99 file
trailer (control total, number of groups, every record in the file). Type codes from its
appendix: 165 preauthorized ACH credit, 475 check paid (a debit). The ACH text carries the CCD+
addenda of the CAQH CORE EFT & ERA Reassociation rule (Phase III, 370): TRN*1*<trace>*<payer id>\\.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from denials import services as denials_services
from denials.models import ImportStatus, Payment, RemittanceImport
from rcm.outbox.models import OutboxMessage, OutboxStatus
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from reconciliation import services
from reconciliation.models import BankAccount
from tests.clock import now
from tests.denials.x835 import Clp, build_835

D = Decimal

ACCOUNT_NUMBER = "000123456789"
PAYER_ID = "1512345678"  # TRN03: "1" + the payer's EIN


def three_ach_credits(day: date) -> str:
    """Three ACH credits from payers (traces TRC1001 $150.00, TRC1002 $275.50, TRC9999 $99.99)
    and one check paid (a debit) on `day`, in account 000123456789."""
    d = day.strftime("%y%m%d")
    return (
        f"01,PARITYBANK,RIVERBEND,{d},0600,1,80,,2/\n"
        f"02,RIVERBEND,PARITYBANK,1,{d},0600,USD,2/\n"
        "03,000123456789,USD,010,100000,,/\n"
        "16,165,15000,Z,BR1001,,ACH CR BLUE PLAN HCCLAIMPMT TRN*1*TRC1001*1512345678\\/\n"
        "16,165,27550,Z,BR1002,,ACH CR BLUE PLAN HCCLAIMPMT TRN*1*TRC1002*1512345678\\/\n"
        "16,165,9999,Z,BR1003,,ACH CR AETNA HCCLAIMPMT TRN*1*TRC9999*1066033492\\/\n"
        "16,475,1200,Z,BR1004,1044,CHECK PAID/\n"
        "49,153749,6/\n"
        "98,153749,1,8/\n"
        "99,153749,1,10/\n"
    )


def bank_account(**fields: Any) -> BankAccount:
    defaults: dict[str, Any] = {"name": "Operating", "account_number": ACCOUNT_NUMBER}
    return services.bank_account_create(**(defaults | fields))


def era(
    trace: str,
    amount: str,
    day: date,
    *,
    payer_identifier: str = PAYER_ID,
    method: str = "ACH",
) -> Payment:
    """A posted 835 payment (BPR/TRN) as denials records it, without its claims."""
    imp = RemittanceImport.objects.create(
        file_name=f"{trace}.835",
        content="",
        sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        status=ImportStatus.POSTED,
        summary={},
    )
    return Payment.objects.create(
        remittance_import=imp,
        payer_name="BLUE PLAN",
        payer_identifier=payer_identifier,
        trace_number=trace,
        amount=Decimal(amount),
        credit_debit="C",
        method=method,
        payment_date=day,
    )


def post_835(org: Any, *, trace: str, paid: str, control: int) -> Payment:
    """An 835 uploaded and posted the way production does it: the upload queues the posting on
    the outbox, a worker processes that message (and the messages its subscribers record)."""
    text = build_835(
        [Clp("NOTOURS" + trace, "1", D(paid) + 50, D(paid), cas=[("CO", "45", D("50"))])],
        trace=trace,
        payer_id="512345678",
        control=control,
    )
    with tenant_context(org):
        imp = denials_services.remittance_import_create(file_name=f"{trace}.835", content=text)
        assert imp.status == "pending", imp.error
    run_outbox(org)
    with tenant_context(org):
        return Payment.objects.get(remittance_import=imp)


def run_outbox(org: Any) -> None:
    for _ in range(3):  # the posting, then the auto-match its subscriber records
        with tenant_context(org):
            ids = list(
                OutboxMessage.objects.filter(status=OutboxStatus.PENDING).values_list(
                    "pk", flat=True
                )
            )
        for message_id in ids:
            outbox_process(message_id=message_id, now=now(), organization_id=org.pk)
