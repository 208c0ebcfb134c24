"""One row of every denials model, for the isolation probe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from claims.models import Claim, ClaimLine
from denials import models as m
from patients.models import Coverage
from rcm.tenancy.models import Organization
from tests.clock import days_ago

D = Decimal


def build(org: Organization) -> None:
    paid_on = days_ago(14)
    deadline = paid_on + timedelta(days=180)
    claim = Claim.objects.first()
    line = ClaimLine.objects.filter(claim=claim).first()
    imp = m.RemittanceImport.objects.create(
        file_name="probe.835", content="", sha256="0" * 64, status="posted"
    )
    payment = m.Payment.objects.create(
        remittance_import=imp, payer=claim.payer, trace_number=f"PROBE-{org.slug}", amount=D("0")
    )
    rc = m.RemittanceClaim.objects.create(
        payment=payment,
        claim=claim,
        patient_control_number=claim.patient_control_number,
        status_code="4",
        charge=line.charge,
        paid=D("0"),
    )
    rl = m.RemittanceLine.objects.create(
        remittance_claim=rc,
        claim_line=line,
        service_code=line.service_code,
        charge=line.charge,
        paid=D("0"),
    )
    m.RemittanceAdjustment.objects.create(
        remittance_claim=rc,
        remittance_line=rl,
        group_code="CO",
        reason_code="197",
        amount=line.charge,
    )
    m.ProviderAdjustment.objects.create(
        payment=payment, provider_identifier="1", reason_code="WO", amount=D("0")
    )
    m.RemittanceException.objects.create(
        remittance_import=imp, remittance_claim=rc, kind="unmatched_line", message="probe"
    )
    m.LineBalance.objects.create(
        claim=claim, claim_line=line, charge=line.charge, denied=line.charge
    )
    m.SecondaryClaim.objects.create(
        primary_claim=claim,
        remittance_claim=rc,
        coverage=Coverage.objects.first(),
        payer=claim.payer,
        amount=D("1"),
        primary_paid=D("0"),
    )
    denial = m.Denial.objects.create(
        claim=claim,
        claim_line=line,
        remittance_claim=rc,
        remittance_line=rl,
        payer=claim.payer,
        group_code="CO",
        carc="197",
        category="authorization",
        amount=line.charge,
        remittance_date=paid_on,
        appeal_deadline=deadline,
    )
    item = m.WorkItem.objects.create(
        kind="denial",
        source_id=denial.pk,
        claim=claim,
        payer=claim.payer,
        title="probe",
        status_changed_on=paid_on,
        opened_on=paid_on,
    )
    m.WorkItemEvent.objects.create(work_item=item, to_status="new")
    m.Appeal.objects.create(denial=denial, level="level_1", deadline=deadline, letter_body="probe")
    m.WriteOff.objects.create(
        claim=claim, claim_line=line, amount=D("1"), reason="probe", status="pending"
    )
    m.DenialSettings.objects.create()
