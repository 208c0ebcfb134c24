"""Two clinics with one row of everything (tests/tenant_data.py), and in Riverbend a second claim
that is a 42 CFR Part 2 record (an SUD episode's), with its own payer decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from claims.models import Claim
from denials.models import Payment, RemittanceClaim, RemittanceLine
from patients import services as patient_services
from patients.models import Patient
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.tenant_data import build_tenant_data

BASE = "/fhir/r4"
READ_ALL = [
    "patients:read",
    "claims:read",
    "denials:read",
    "credentialing:read",
]


def validate(resource: dict[str, Any]) -> Any:
    """Parse the resource with fhir.resources (FHIR 4.x: its R4B models); raises when invalid."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _copy(obj: Any, **changes: Any) -> Any:
    obj.pk = uuid.uuid4()
    obj._state.adding = True
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save(force_insert=True)
    return obj


@dataclass
class World:
    org: Any
    other_org: Any
    patient: Any
    claim: Any
    part2_claim: Any
    remittance: Any
    part2_remittance: Any
    other_patient: Any
    other_claim: Any


def _part2_claim(claim: Claim) -> tuple[Claim, RemittanceClaim]:
    episode = patient_services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=claim.patient,
        program_type="substance_use",
        admission_date=claim.statement_from - timedelta(days=10),
        level="1",
    )
    lines = list(claim.lines.all())
    copy = _copy(
        Claim.objects.get(pk=claim.pk),
        patient_control_number=f"P2{claim.patient_control_number}"[:20],
        episode=episode,
        is_part2=True,
    )
    for line in lines:
        _copy(line, claim=copy, line_control_number=f"P2{line.line_control_number}"[:30])
    remit = RemittanceClaim.objects.filter(claim=claim).first()
    assert remit is not None
    remit_lines = list(remit.lines.all())
    remit_copy = _copy(
        RemittanceClaim.objects.get(pk=remit.pk),
        claim=copy,
        patient_control_number=copy.patient_control_number,
    )
    copied_lines = {line.line_number: line for line in copy.lines.all()}
    for line in remit_lines:
        target = copied_lines[line.claim_line.line_number] if line.claim_line else None
        _copy(line, remittance_claim=remit_copy, claim_line=target)
    return copy, remit_copy


@pytest.fixture
def world(org: Any, other_org: Any) -> World:
    build_tenant_data(org)
    build_tenant_data(other_org)
    with tenant_context(org):
        claim = Claim.objects.filter(is_part2=False).order_by("created_at").first()
        assert claim is not None and Payment.objects.exists()
        part2_claim, part2_remit = _part2_claim(claim)
        remittance = RemittanceClaim.objects.get(claim=claim)
        assert RemittanceLine.objects.filter(remittance_claim=part2_remit).exists()
        patient = claim.patient
    with tenant_context(other_org):
        other_patient = Patient.objects.first()
        other_claim = Claim.objects.first()
    return World(
        org=org,
        other_org=other_org,
        patient=patient,
        claim=claim,
        part2_claim=part2_claim,
        remittance=remittance,
        part2_remittance=part2_remit,
        other_patient=other_patient,
        other_claim=other_claim,
    )
