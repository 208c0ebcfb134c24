"""The 837I claim kinds we render, validate with pyx12 and keep as golden files (made-up data;
the NPIs pass the NPI check digit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from tests.x12.claims_837p import (
    BILLING,
    CHILD,
    CREATED,
    PARENT,
    PAYER,
    PSYCHIATRIST,
    RECEIVER,
    SECONDARY_PAYER,
    SUBMITTER,
    SUBSCRIBER,
    THERAPIST,
)
from x12.cob import Adjustment, LineAdjudication, OtherPayer
from x12.institutional import (
    Batch837I,
    InstitutionalClaim,
    InstitutionalLine,
    InstitutionalSubmission,
)
from x12.professional import Address, ServiceFacility
from x12.writer import Envelope

FACILITY = ServiceFacility(
    "RIVERBEND RESIDENTIAL", "1124356787", Address("400 HILL RD", "BEAVERTON", "OR", "97005")
)


def _day(n: int) -> date:
    return date(2026, 2, n)


def _batch(
    reference: str, claim: InstitutionalClaim, *, child: bool = False, secondary: bool = False
) -> Batch837I:
    subscriber = PARENT if child else SUBSCRIBER
    if secondary:
        subscriber = replace(subscriber, member_id="MCD0077", payer_responsibility="S",
                             claim_filing_indicator="MC")  # fmt: skip
    submission = InstitutionalSubmission(
        subscriber=subscriber,
        payer=SECONDARY_PAYER if secondary else PAYER,
        claim=claim,
        patient=CHILD if child else None,
    )
    return Batch837I(SUBMITTER, RECEIVER, BILLING, [submission], reference, CREATED)


def _claim(pcn: str, lines, **kwargs) -> InstitutionalClaim:
    total = sum((line.charge for line in lines), Decimal("0"))
    kwargs.setdefault("attending_provider", PSYCHIATRIST)
    return InstitutionalClaim(patient_control_number=pcn, total_charge=total, lines=lines, **kwargs)


def envelope(number: int) -> Envelope:
    return Envelope("RB12345", "CLHSE01", number, number, CREATED, version="005010X223A2",
                    usage="T")  # fmt: skip


CASES: dict[str, Batch837I] = {
    "residential_stay_1001": _batch(
        "I0001",
        _claim(
            "PCN2001",
            [
                InstitutionalLine(
                    "1001",
                    Decimal("5600.00"),
                    Decimal("7"),
                    _day(1),
                    procedure_code="H0019",
                    unit_basis="DA",
                    service_date_to=_day(7),
                    line_control_number="L2001-1",
                ),
            ],
            type_of_bill="0861",
            statement_from=_day(1),
            statement_to=_day(7),
            diagnoses=("F10.20", "F32.1"),
            admission_date=date(2026, 1, 20),
            admission_type="3",
            admission_source="1",
            admitting_diagnosis="F10.20",
            prior_authorization="RES5551",
            service_facility=FACILITY,
        ),
    ),
    "iop_per_diem_days_0905": _batch(
        "I0002",
        _claim(
            "PCN2002",
            [
                InstitutionalLine(
                    "0905",
                    Decimal("450.00"),
                    Decimal("1"),
                    _day(d),
                    procedure_code="S9480",
                    line_control_number=f"L2002-{i}",
                )
                for i, d in enumerate((2, 4, 6), start=1)
            ],
            type_of_bill="0131",
            statement_from=_day(2),
            statement_to=_day(6),
            diagnoses=("F33.1",),
            condition_codes=("92",),
            patient_status="30",
            rendering_provider=THERAPIST,
        ),
        child=True,
    ),
    "secondary_residential_cob": _batch(
        "I0003",
        _claim(
            "PCN2003",
            [
                InstitutionalLine(
                    "1001",
                    Decimal("5600.00"),
                    Decimal("7"),
                    _day(1),
                    procedure_code="H0019",
                    unit_basis="DA",
                    service_date_to=_day(7),
                    line_control_number="L2003-1",
                ),
            ],
            type_of_bill="0861",
            statement_from=_day(1),
            statement_to=_day(7),
            diagnoses=("F10.20",),
            admission_date=date(2026, 1, 20),
            admission_type="3",
            admission_source="1",
            admitting_diagnosis="F10.20",
            other_payers=(
                OtherPayer(
                    payer_name="CASCADE HEALTH PLAN",
                    payer_id="CHP01",
                    subscriber_last_name="RIVERA",
                    subscriber_first_name="SAM",
                    member_id="CHP778899001",
                    paid=Decimal("3200.00"),
                    adjudication_date=date(2026, 3, 12),
                    patient_responsibility=Decimal("800.00"),
                    payer_claim_number="CHP2026031200005",
                    lines={
                        "L2003-1": LineAdjudication(
                            "CHP01",
                            Decimal("3200.00"),
                            "H0019",
                            Decimal("7"),
                            date(2026, 3, 12),
                            revenue_code="1001",
                            adjustments=(
                                Adjustment("CO", "45", Decimal("1600.00")),
                                Adjustment("PR", "1", Decimal("800.00")),
                            ),
                        )
                    },
                ),
            ),
        ),
        secondary=True,
    ),
}

ENVELOPE_NUMBERS = {name: number for number, name in enumerate(CASES, start=201)}


def with_claim(batch: Batch837I, **changes) -> Batch837I:
    submission = batch.submissions[0]
    return replace(
        batch, submissions=[replace(submission, claim=replace(submission.claim, **changes))]
    )
