"""One row of every patient accounts model, for the isolation probe."""

from __future__ import annotations

from decimal import Decimal

from claims.models import Claim, ClaimLine
from patient_accounts import models as m
from rcm.tenancy.models import Organization
from tests.clock import today

D = Decimal


def build(org: Organization) -> None:
    claim = Claim.objects.first()
    assert claim is not None
    line = ClaimLine.objects.filter(claim=claim).first()
    assert line is not None
    patient = claim.patient
    m.Guarantor.objects.create(
        patient=patient,
        relationship=m.Relationship.PARENT,
        first_name="Probe",
        last_name="Parent",
        address_line1="1 Probe St",
        city="Portland",
        state="OR",
        postal_code="97205",
    )
    cb = m.ChargeBalance.objects.create(
        patient=patient,
        claim=claim,
        claim_line=line,
        date_of_service=line.date_of_service,
        procedure_code=line.service_code,
        billed=line.charge,
        patient_responsibility=D("10.00"),
        balance=D("10.00"),
        responsible_since=today(),
    )
    placement = m.CollectionPlacement.objects.create(
        patient=patient, agency_name="Probe Agency", placed_on=today(), amount_placed=D("10.00")
    )
    payment = m.PatientPayment.objects.create(
        patient=patient,
        method=m.PaymentMethod.COLLECTION_AGENCY,
        amount=D("5.00"),
        received_on=today(),
        placement=placement,
    )
    refund = m.PatientRefund.objects.create(patient=patient, amount=D("1.00"), reason="Probe")
    write_off = m.PatientWriteOff.objects.create(
        patient=patient, charge_balance=cb, amount=D("1.00"), reason="Probe"
    )
    m.LedgerEntry.objects.create(
        patient=patient,
        charge_balance=cb,
        kind=m.EntryKind.PATIENT_PAYMENT,
        sequence=1,
        posted_on=today(),
        patient_amount=D("-5.00"),
        balance_after=D("-5.00"),
        payment=payment,
        refund=refund,
        write_off=write_off,
    )
    m.AccountSettings.objects.create(small_balance_limit=D("5.00"))
    run = m.StatementRun.objects.create(
        cycle=f"{today():%Y-%m}", statement_date=today(), status="done", accounts_total=1,
        accounts_done=1, statements_count=1, amount_total=D("10.00"),
    )  # fmt: skip
    m.Statement.objects.create(
        run=run, patient=patient, statement_date=today(), guarantor_name="Probe Guarantor",
        amount_due=D("10.00"), message_level="friendly", message="Thank you",
    )  # fmt: skip
