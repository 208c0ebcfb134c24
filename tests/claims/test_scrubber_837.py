"""The scrubber checks what the 837 writer requires, with the writer's own checks: a claim it
marks ready is one its batch will build."""

from __future__ import annotations

from typing import Any

from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice
from tests.clock import today


def _built(practice: Practice) -> Claim:
    practice.session(45)
    with tenant_context(practice.org):
        (claim,) = claims_services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
        return Claim.objects.get(pk=claim.pk)


def _findings(claim: Claim) -> dict[str, str]:
    with tenant_context(claim.organization_id):
        return dict(claim.findings.values_list("field", "message"))


def test_a_claim_missing_the_subscribers_address_is_not_ready_naming_the_field(
    practice: Practice,
) -> None:
    with tenant_context(practice.org):
        patients_services.patient_update(
            patient=practice.patient, data={"address_line1": "", "city": ""}, today=today()
        )
    claim = _built(practice)
    assert claim.status == ClaimStatus.DRAFT
    findings = _findings(claim)
    assert "subscriber.address" in findings
    assert "street, city" in findings["subscriber.address"]


def test_a_dependents_claim_needs_the_subscribers_name_and_birth_date(practice: Practice) -> None:
    with tenant_context(practice.org):
        coverage = practice.coverage
        # Written past the coverage service, as an older record might hold it.
        type(coverage).objects.filter(pk=coverage.pk).update(
            relationship="19", subscriber_first_name="", subscriber_last_name="Doe"
        )
    claim = _built(practice)
    assert claim.status == ClaimStatus.DRAFT
    findings = _findings(claim)
    assert "subscriber.first_name" in findings and "subscriber.date_of_birth" in findings


def test_a_missing_billing_identity_holds_every_claim(practice: Practice, org: Any) -> None:
    org.group_npi = ""
    org.save()
    claim = _built(practice)
    assert claim.status == ClaimStatus.DRAFT
    assert "billing_provider.group_npi" in _findings(claim)


def test_a_claim_with_everything_the_837_needs_is_ready(practice: Practice) -> None:
    claim = _built(practice)
    assert claim.status == ClaimStatus.READY, _findings(claim)
