"""Secondary claims: after the primary's 835 posts, the patient's share moves to the secondary
coverage, a claim is built with the primary's adjudication, sent in an 837 batch with the COB
loops (2320/2330/2430, validated by pyx12), and the secondary's own 835 settles it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claims.batch_services import batch_build, batches_create
from claims.models import Claim, ClaimLine
from denials import services
from denials.models import LineBalance, SecondaryClaim
from patients import services as patients_services
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from tests.credentialing.factories import EnrollmentFactory
from tests.denials.x835 import Clp, Svc, build_835
from tests.submissions.conftest import billing as billing  # noqa: F401  (fixture)
from tests.submissions.conftest import bill_ready
from tests.x12.pyx12_check import pyx12_errors

D = Decimal
TODAY = date(2026, 10, 30)
pytestmark = pytest.mark.django_db


def add_medicaid(practice, *, enrolled: bool = True):
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


def submit_primary(practice) -> Claim:
    (claim,) = bill_ready(practice, 45)
    with tenant_context(practice.org):
        batch = batches_create(clearinghouse=practice.clearinghouse, claim_ids=[claim.pk])[0]
    batch_build(organization_id=practice.org.pk, batch_id=batch.pk)
    with tenant_context(practice.org):
        claim.refresh_from_db()
    assert claim.status == "submitted"
    return claim


def post(practice, text, name="remit.835"):
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name=name, content=text)
        return services.remittance_post(import_id=imp.pk, today=date(2026, 10, 21))


def primary_pays(practice, claim: Claim, **kwargs):
    """Blue Plan allows 110 of 150, pays 80, the patient owes 30 coinsurance."""
    with tenant_context(practice.org):
        line = claim.lines.get()
    return post(
        practice,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("80"),
                    D("30"),
                    payer_claim_number="BP-2026-555",
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("80"),
                            lcn=line.line_control_number,
                            cas=[("CO", "45", D("40")), ("PR", "2", D("30"))],
                        )
                    ],
                    **kwargs,
                )
            ]
        ),
    )


def test_the_primary_posting_builds_a_clean_secondary_claim_with_the_balance_moved(billing):
    medicaid = add_medicaid(billing)
    primary = submit_primary(billing)
    imp = primary_pays(billing, primary)
    with tenant_context(billing.org):
        assert OutboxMessage.objects.filter(
            topic="denials.secondary_claims_build", payload={"import_id": str(imp.pk)}
        ).exists()
        (claim,) = services.secondary_claims_build(import_id=imp.pk, today=TODAY)
        claim.refresh_from_db()
        assert claim.status == "ready", list(claim.findings.values_list("message", flat=True))
        assert (claim.payer_id, claim.primary_claim_id) == (medicaid.pk, primary.pk)
        assert claim.coverage.priority == 2 and claim.total_charge == D("150.00")
        assert claim.patient_control_number != primary.patient_control_number
        (line,) = ClaimLine.objects.filter(claim=claim)
        (primary_line,) = ClaimLine.objects.filter(claim=primary)
        assert line.service_entry_id == primary_line.service_entry_id
        assert line.line_control_number != primary_line.line_control_number
        # Medicaid wants the practitioner-level modifier (an LCSW: HO); Blue Plan did not.
        assert (primary_line.modifiers, line.modifiers) == ([], ["HO"])
        # The secondary owes the patient's 30; the primary's line is settled.
        assert LineBalance.objects.get(claim_line=line).open_balance == D("30.00")
        assert LineBalance.objects.get(claim_line=primary_line).open_balance == D("0.00")
        secondary = SecondaryClaim.objects.get()
        assert (secondary.status, secondary.claim_id) == ("billed", claim.pk)
        snapshot = claim.other_payer_adjudication
        assert (snapshot["payer_id"], D(snapshot["paid"]), snapshot["member_id"]) == (
            "BP001",
            D("80"),
            "W1",
        )
        assert snapshot["payer_claim_number"] == "BP-2026-555"


def test_building_twice_builds_once(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        assert len(services.secondary_claims_build(import_id=imp.pk, today=TODAY)) == 1
        assert services.secondary_claims_build(import_id=imp.pk, today=TODAY) == []
        assert services.secondary_claims_build(today=TODAY) == []
        assert Claim.objects.filter(primary_claim__isnull=False).count() == 1


def test_the_secondary_837_carries_the_primary_adjudication_and_passes_pyx12(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(import_id=imp.pk, today=TODAY)
        batch = batches_create(clearinghouse=billing.clearinghouse, claim_ids=[claim.pk])[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == "released", batch.error
    with tenant_context(billing.org):
        text = batch.content
        line = ClaimLine.objects.get(claim=claim)
    segments = text.replace("\n", "").split("~")
    assert "SBR*S*18*******MC" in segments  # this claim goes to Medicaid, second in line
    assert "NM1*PR*2*STATE MEDICAID*****PI*SMCD1" in segments
    cob = segments[segments.index("SBR*P*18*******CI") :]
    assert cob[1:6] == [
        "AMT*D*80",
        "AMT*EAF*30",
        "OI***Y***Y",
        "NM1*IL*1*DOE*JANE****MI*W1",
        "NM1*PR*2*BLUE PLAN*****PI*BP001",
    ]
    assert "REF*F8*BP-2026-555" in cob
    at = segments.index(f"REF*6R*{line.line_control_number}")
    assert segments[at + 1 : at + 5] == [
        "SVD*BP001*80*HC:90834**1",
        "CAS*CO*45*40",
        "CAS*PR*2*30",
        "DTP*573*D8*20261020",
    ]
    valid, errors = pyx12_errors(text)
    assert errors == [] and valid
    with tenant_context(billing.org):
        claim.refresh_from_db()
        assert claim.status == "submitted"


def test_the_secondary_payers_835_settles_the_moved_balance(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(import_id=imp.pk, today=TODAY)
        batch = batches_create(clearinghouse=billing.clearinghouse, claim_ids=[claim.pk])[0]
    batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    with tenant_context(billing.org):
        line = ClaimLine.objects.get(claim=claim)
    # Medicaid pays the 30 coinsurance; CAS OA*23 restates what the primary settled.
    post(
        billing,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("30"),
                    lines=[
                        Svc(
                            "90834",
                            D("150"),
                            D("30"),
                            lcn=line.line_control_number,
                            cas=[("OA", "23", D("120"))],
                        )
                    ],
                    payer_claim_number="MCD-77",
                )
            ],
            trace="MCDTRACE",
            payer_id="SMCD1",
        ),
        name="medicaid.835",
    )
    with tenant_context(billing.org):
        balance = LineBalance.objects.get(claim_line=line)
        assert (balance.paid, balance.prior_payer, balance.contractual) == (
            D("30.00"),
            D("120.00"),
            D("0.00"),
        )
        assert balance.open_balance == D("0.00")
        claim.refresh_from_db()
        assert claim.status == "paid"
        # The secondary's remittance moves nothing further (no tertiary coverage).
        assert SecondaryClaim.objects.count() == 1


def test_a_provider_not_enrolled_with_the_secondary_payer_leaves_the_claim_in_draft(billing):
    add_medicaid(billing, enrolled=False)
    imp = primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        (claim,) = services.secondary_claims_build(import_id=imp.pk, today=TODAY)
        claim.refresh_from_db()
        assert claim.status == "draft"
        rules = set(claim.findings.values_list("rule", flat=True))
        # Only that: the same service on the primary's claim is no duplicate for another payer.
        assert rules == {"provider_not_enrolled"}


def test_a_crossover_is_not_billed_again(billing):
    add_medicaid(billing)
    imp = primary_pays(billing, submit_primary(billing), crossover="STATE MEDICAID")
    with tenant_context(billing.org):
        assert SecondaryClaim.objects.get().status == "crossed_over"
        assert services.secondary_claims_build(import_id=imp.pk, today=TODAY) == []
        assert not Claim.objects.filter(primary_claim__isnull=False).exists()


def test_another_organizations_secondaries_are_never_built(billing, other_org):
    add_medicaid(billing)
    primary_pays(billing, submit_primary(billing))
    with tenant_context(billing.org):
        ids = [SecondaryClaim.objects.get().pk]
    with tenant_context(other_org):
        assert services.secondary_claims_build(secondary_ids=ids, today=TODAY) == []
    with tenant_context(billing.org):
        assert SecondaryClaim.objects.get().status == "to_bill"
