"""Demo payers and patients for `make run` (called by seed_demo inside the organization)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from patients import services
from patients.models import Patient
from rcm import part2
from rcm.tenancy.selectors import organization_today

PAYERS: list[dict[str, Any]] = [
    {
        "name": "Medicare Part B",
        "payer_id": "MCRB1",
        "payer_type": "medicare",
        "telehealth_pos": "10",
    },
    {
        "name": "State Medicaid",
        "payer_id": "SKMD0",
        "payer_type": "medicaid",
        "auth_required_levels": ["3.5", "3.7", "2.5", "2.1"],
    },
    {
        "name": "Blue Horizon PPO",
        "payer_id": "BHPPO",
        "payer_type": "commercial",
        "auth_required_levels": ["3.7-WM", "3.5", "2.5", "2.1"],
        "claim_form_by_level": {"3.5": "837I", "2.5": "837I", "2.1": "837I"},
    },
]

PATIENTS = [
    ("D-1001", "Maria", "Alvarez", "1984-03-12", "F", "substance_use", "3.5", "F10.20", "BHPPO"),
    ("D-1002", "James", "Carter", "1979-11-02", "M", "co_occurring", "2.1", "F11.20", "SKMD0"),
    ("D-1003", "Aisha", "Brown", "1992-07-21", "F", "mental_health", "1", "F33.1", "BHPPO"),
    ("D-1004", "Robert", "Nguyen", "1956-01-30", "M", "mental_health", "2.5", "F31.31", "MCRB1"),
]


def seed(organization: object) -> None:
    if Patient.objects.exists():
        return  # Already seeded: running twice changes nothing.
    payers = {spec["payer_id"]: services.payer_create(**spec) for spec in PAYERS}
    today = organization_today(organization)
    admitted = today - timedelta(days=20)
    for mrn, first, last, dob, sex, program, level, code, payer_id in PATIENTS:
        patient = services.patient_create(
            today=today,
            mrn=mrn,
            first_name=first,
            last_name=last,
            date_of_birth=date.fromisoformat(dob),
            sex=sex,
            city="Springfield",
            state="IL",
        )
        services.coverage_create(
            patient=patient,
            payer=payers[payer_id],
            member_id=f"{payer_id[:2]}{mrn[-4:]}77",
            # Since 1 January of last year: in force on the admission 20 days ago even in January.
            effective_date=date(today.year - 1, 1, 1),
        )
        episode = services.episode_open(
            scopes=part2.ORGANIZATION,
            today=today,
            patient=patient,
            program_type=program,
            admission_date=admitted,
            level=level,
            clinical_justification="Admission assessment",
        )
        services.diagnosis_add(episode=episode, code=code)
        if program != "mental_health":
            services.consent_create(
                patient=patient,
                disclosing_party=str(organization),
                recipient_class="all_health_plans",
                purpose="tpo",
                information_scope="Diagnoses, services and dates needed for payment and care coordination",
                signed_on=admitted,
                expires_on=admitted + timedelta(days=365),
            )
    # One patient already stepped down from residential to IOP.
    maria = Patient.objects.get(mrn="D-1001")
    services.episode_transition_level(
        today=today,
        episode=maria.episodes.get(),
        level="2.1",
        on_date=today - timedelta(days=5),
        clinical_justification="Withdrawal resolved; stable for intensive outpatient",
        reason="Step down per review",
    )
