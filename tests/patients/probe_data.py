"""One row of every patients model, for the isolation probe."""

from __future__ import annotations

from datetime import date

from patients import services
from rcm import part2
from rcm.tenancy.models import Organization
from tests import clock
from tests.clock import days_ago, days_from_now, today


def build(org: Organization) -> None:
    payer = services.payer_create(name=f"{org.slug} plan", payer_id="P1", payer_type="commercial")
    patient = services.patient_create(
        today=today(),
        mrn=f"PROBE-{org.slug}",
        first_name="Probe",
        last_name=org.slug.title(),
        date_of_birth=date(1990, 1, 1),
        sex="U",
    )
    coverage = services.coverage_create(
        patient=patient, payer=payer, member_id="PM1", effective_date=days_ago(400)
    )
    services.coverage_verify(
        coverage=coverage, verified_by=None, method="phone", reference_number="REF1"
    )
    services.eligibility_request_create(
        coverage=coverage, trace_number=f"PROBE-{org.slug}", raw_request="ISA*", now=clock.now()
    )
    episode = services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="substance_use",
        admission_date=days_ago(100),
        level="3.5",
    )
    services.diagnosis_add(episode=episode, code="F10.20")
    services.consent_create(
        patient=patient,
        disclosing_party=org.name,
        recipient_class="named_payer",
        recipient_payer=payer,
        purpose="payment",
        information_scope="Claims data",
        signed_on=days_ago(130),
        expires_on=days_from_now(235),
    )
    services.note_create(
        patient=patient,
        subject_type="patient",
        subject_id=patient.pk,
        body="Probe note",
        author=None,
        part2=False,
    )
