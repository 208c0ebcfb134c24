"""The 837P claim kinds we render, validate with pyx12 and keep as golden files.

Names, NPIs and ids are made up; the NPIs pass the NPI check digit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from x12.cob import Adjustment, LineAdjudication, OtherPayer
from x12.professional import (
    Address,
    Batch837P,
    BillingProvider,
    ClaimSubmission,
    Patient,
    Payer,
    Person,
    ProfessionalClaim,
    Provider,
    Receiver,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
)
from x12.writer import Envelope

CREATED = datetime(2026, 3, 2, 9, 30)  # noqa: DTZ001 - X12 dates carry no zone
DAY = date(2026, 2, 24)

SUBMITTER = Submitter("RIVERBEND BEHAVIORAL HEALTH", "RB12345", "PAT BILLER", "5035550100")
RECEIVER = Receiver("CLEARINGHOUSE INC", "CLHSE01")
BILLING = BillingProvider(
    name="RIVERBEND BEHAVIORAL HEALTH",
    npi="1234567893",
    tax_id="931234567",
    address=Address("100 RIVER ST", "PORTLAND", "OR", "972041234", line2="SUITE 200"),
    taxonomy="261QM0801X",
)
THERAPIST = Provider("NGUYEN", "LINH", "1987654328", "101YP2500X")
PSYCHIATRIST = Provider("OKAFOR", "ADA", "1543219871", "2084P0800X")
SUPERVISOR = Provider("HALE", "JORDAN", "1678901236")
PAYER = Payer("CASCADE HEALTH PLAN", "CHP01")
HOME = Address("12 ELM AVE", "PORTLAND", "OR", "97205")
SUBSCRIBER = Subscriber(Person("RIVERA", "SAM", date(1985, 6, 1), "M", HOME), "CHP778899001")
PARENT = Subscriber(
    Person("PARK", "MINA", date(1979, 11, 20), "F", HOME), "CHP554433002", group_number="GRP100"
)
CHILD = Patient(Person("PARK", "JUN", date(2012, 4, 9), "M", HOME), relationship="19")
SECONDARY_PAYER = Payer("STATE MEDICAID", "SMCD1")
# What the primary (Cascade) did with PCN1011: allowed 150 + 25, paid 120 + 20 after a 30 + 5
# coinsurance the patient owes, 50 + 5 contractual.
PRIMARY_ADJUDICATION = OtherPayer(
    payer_name="CASCADE HEALTH PLAN",
    payer_id="CHP01",
    subscriber_last_name="PARK",
    subscriber_first_name="MINA",
    member_id="CHP554433002",
    paid=Decimal("140.00"),
    adjudication_date=date(2026, 3, 20),
    relationship="19",
    group_number="GRP100",
    patient_responsibility=Decimal("35.00"),
    payer_claim_number="CHP2026031900017",
    lines={
        "L1011-1": LineAdjudication(
            "CHP01",
            Decimal("120.00"),
            "90837",
            Decimal("1"),
            date(2026, 3, 20),
            adjustments=(
                Adjustment("CO", "45", Decimal("50.00")),
                Adjustment("PR", "2", Decimal("30.00")),
            ),
        ),
        "L1011-2": LineAdjudication(
            "CHP01",
            Decimal("20.00"),
            "90785",
            Decimal("1"),
            date(2026, 3, 20),
            adjustments=(
                Adjustment("CO", "45", Decimal("5.00")),
                Adjustment("PR", "2", Decimal("5.00")),
            ),
        ),
    },
)


def _line(code: str, charge: str, *, units: str = "1", pointers=(1,), modifiers=(), ctl=""):
    return ServiceLine(
        procedure_code=code,
        charge=Decimal(charge),
        units=Decimal(units),
        service_date=DAY,
        diagnosis_pointers=pointers,
        modifiers=modifiers,
        line_control_number=ctl,
    )


def _claim(pcn: str, lines, *, diagnoses=("F32.1",), pos="11", **kwargs) -> ProfessionalClaim:
    total = sum((line.charge for line in lines), Decimal("0"))
    return ProfessionalClaim(
        patient_control_number=pcn,
        total_charge=total,
        place_of_service=pos,
        diagnoses=diagnoses,
        lines=lines,
        rendering_provider=kwargs.pop("rendering", THERAPIST),
        **kwargs,
    )


def _batch(
    reference: str, claim: ProfessionalClaim, *, child: bool = False, secondary: bool = False
) -> Batch837P:
    subscriber = PARENT if child else SUBSCRIBER
    if secondary:
        subscriber = replace(subscriber, member_id="MCD0042", payer_responsibility="S",
                             claim_filing_indicator="MC", group_number="")  # fmt: skip
    submission = ClaimSubmission(
        subscriber=subscriber,
        payer=SECONDARY_PAYER if secondary else PAYER,
        claim=claim,
        patient=CHILD if child else None,
    )
    return Batch837P(SUBMITTER, RECEIVER, BILLING, [submission], reference, CREATED)


def envelope(number: int) -> Envelope:
    return Envelope(
        sender_id="RB12345",
        receiver_id="CLHSE01",
        interchange_control_number=number,
        group_control_number=number,
        created=CREATED,
        usage="T",
    )


CASES: dict[str, Batch837P] = {
    "psychotherapy_90834": _batch(
        "B0001",
        _claim("PCN1001", [_line("90834", "150.00", ctl="L1001-1")], prior_authorization="PA77881"),
    ),
    "telehealth_95_pos10": _batch(
        "B0002",
        _claim("PCN1002", [_line("90837", "200", modifiers=("95",), ctl="L1002-1")], pos="10"),
    ),
    "group_therapy_90853": _batch(
        "B0003",
        _claim("PCN1003", [_line("90853", "60.00", ctl="L1003-1")], diagnoses=("F10.20",)),
    ),
    "em_99214_addon_90833": _batch(
        "B0004",
        _claim(
            "PCN1004",
            [
                _line("99214", "180.00", pointers=(1, 2), ctl="L1004-1"),
                _line("90833", "95.50", pointers=(1,), ctl="L1004-2"),
            ],
            diagnoses=("F31.81", "F41.1"),
            rendering=PSYCHIATRIST,
        ),
    ),
    "crisis_90839_90840x2": _batch(
        "B0005",
        _claim(
            "PCN1005",
            [
                _line("90839", "300.00", ctl="L1005-1"),
                _line("90840", "280.00", units="2", ctl="L1005-2"),
            ],
            diagnoses=("F43.0",),
        ),
        child=True,
    ),
    "multiple_diagnoses_pointers": _batch(
        "B0006",
        _claim(
            "PCN1006",
            [
                _line("90791", "250.00", pointers=(1, 2, 3, 4), ctl="L1006-1"),
                _line("96127", "25.00", units="2", pointers=(5, 6), modifiers=("59",)),
            ],
            diagnoses=("F33.1", "F41.1", "F90.2", "Z63.0", "F43.10", "Z91.49", "F17.210"),
        ),
    ),
    "supervising_provider_2310d": _batch(
        "B0007",
        _claim(
            "PCN1007",
            [_line("90832", "95.00", modifiers=("HO",), ctl="L1007-1")],
            supervising_provider=SUPERVISOR,
        ),
    ),
    "replacement_frequency_7": _batch(
        "B0008",
        _claim(
            "PCN1001",
            [_line("90837", "200.00", ctl="L1001-1")],
            frequency_code="7",
            original_claim_number="PAYER20260001",
            prior_authorization="PA77881",
        ),
    ),
    "pay_to_facility_line_authorizations": replace(
        _batch(
            "B0010",
            _claim(
                "PCN1010",
                [
                    replace(_line("H0015", "240.00", ctl="L1010-1"), prior_authorization="IOP1"),
                    replace(
                        _line("90837", "200.00", ctl="L1010-2"),
                        prior_authorization="OP2",
                        service_date_to=date(2026, 2, 26),
                    ),
                    replace(_line("90785", "30.00", units="20", ctl="L1010-3"), unit_basis="MJ"),
                ],
                pos="52",
                service_facility=ServiceFacility(
                    "RIVERBEND DAY PROGRAM",
                    "1124356787",
                    Address("400 HILL RD", "BEAVERTON", "OR", "97005"),
                ),
            ),
        ),
        billing_provider=replace(
            BILLING, pay_to=Address("PO BOX 4410", "PORTLAND", "OR", "972084410")
        ),
    ),
    "void_frequency_8": _batch(
        "B0009",
        _claim(
            "PCN1002",
            [_line("90837", "200", modifiers=("95",), ctl="L1002-1")],
            pos="10",
            frequency_code="8",
            original_claim_number="PAYER20260002",
        ),
    ),
    "secondary_cob_2320_2430": _batch(
        "B0011",
        _claim(
            "PCN1011",
            [
                _line("90837", "200.00", ctl="L1011-1"),
                _line("90785", "30.00", ctl="L1011-2"),
            ],
            other_payers=(PRIMARY_ADJUDICATION,),
        ),
        child=True,
        secondary=True,
    ),
}

ENVELOPE_NUMBERS = {name: number for number, name in enumerate(CASES, start=101)}


def with_claim(batch: Batch837P, **changes) -> Batch837P:
    """The batch with its (single) claim changed, for unhappy-path tests."""
    submission = batch.submissions[0]
    claim = replace(submission.claim, **changes)
    return replace(batch, submissions=[replace(submission, claim=claim)])
