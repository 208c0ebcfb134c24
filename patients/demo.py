"""Demo payers and patients for `make run` (called by seed_demo inside the organization).

About thirty patients with a mailing address (5-digit ZIP, 2-letter state), a phone number and
coverage (every fifth one with a secondary plan), in episodes across the levels of care; the
substance-use and co-occurring ones are Part 2 records (42 CFR Part 2) with a consent to bill
their health plan. Built through the services, as a person would; skipped when the organization
already has patients, so running it twice changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from patients import services
from patients.models import Patient
from rcm import part2
from rcm.tenancy.selectors import organization_today

PAYERS: list[dict[str, Any]] = [
    {
        "name": "State Medicaid",
        "payer_id": "SKMD0",
        "payer_type": "medicaid",
        "auth_required_levels": ["3.5", "3.7", "2.5", "2.1"],
        "address_line1": "200 Capitol Avenue",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "phone": "217-555-0140",
    },
    {
        "name": "Medicare Part B",
        "payer_id": "MCRB1",
        "payer_type": "medicare",
        "telehealth_pos": "10",
        "address_line1": "1 Medicare Plaza",
        "city": "Indianapolis",
        "state": "IN",
        "postal_code": "46204",
    },
    {
        "name": "Blue Ridge Health",
        "payer_id": "BRH01",
        "payer_type": "commercial",
        "auth_required_levels": ["3.7-WM", "3.5", "2.5", "2.1"],
        "claim_form_by_level": {"3.5": "837I", "2.5": "837I"},
        "address_line1": "77 Ridge Parkway",
        "city": "Chicago",
        "state": "IL",
        "postal_code": "60601",
        "phone": "312-555-0177",
    },
    {
        "name": "Summit Care MCO",
        "payer_id": "SCMCO",
        "payer_type": "medicaid_mco",
        "address_line1": "9 Summit Drive",
        "city": "Peoria",
        "state": "IL",
        "postal_code": "61602",
    },
    {
        # A small plan that still wants paper: its claims print on the CMS-1500.
        "name": "Prairie Mutual",
        "payer_id": "PRMUT",
        "payer_type": "commercial",
        "submission_method": "paper",
        "address_line1": "450 Prairie Street",
        "city": "Decatur",
        "state": "IL",
        "postal_code": "62523",
        "phone": "217-555-0190",
    },
]

FIRST = ["Maria", "James", "Aisha", "Robert", "Elena", "Marcus", "Priya", "Daniel", "Grace",
         "Tomas", "Keisha", "Liam", "Sofia", "Andre", "Hannah", "Victor", "Nadia", "Owen",
         "Rosa", "Caleb", "Mei", "Isaac", "Leah", "Jamal", "Clara", "Wesley", "Amara", "Felix",
         "Ruth", "Diego"]  # fmt: skip
LAST = ["Alvarez", "Carter", "Brown", "Nguyen", "Petrova", "Hill", "Raman", "Kowalski", "Osei",
        "Silva", "Jordan", "Murphy", "Rossi", "Baptiste", "Keller", "Moreau", "Haddad", "Lindqvist",
        "Ortega", "Young", "Zhang", "Cohen", "Abbott", "Wright", "Fischer", "Grant", "Eze",
        "Novak", "Sato", "Ramirez"]  # fmt: skip
STREETS = ["Oak Street", "Maple Avenue", "Lincoln Road", "Cedar Lane", "Walnut Street",
           "Jefferson Avenue", "Elm Court", "Monroe Street", "Pine Drive", "Adams Street"]  # fmt: skip
CITIES = [("Springfield", "IL", "62702"), ("Chatham", "IL", "62629"), ("Rochester", "IL", "62563"),
          ("Decatur", "IL", "62521"), ("Jacksonville", "IL", "62650")]  # fmt: skip
# (program, level, diagnosis, primary payer id) cycling over the patients: every level of care
# the clinic runs, substance use (Part 2) and mental health.
CARE = [
    ("substance_use", "3.5", "F10.20", "SKMD0"),
    ("co_occurring", "2.1", "F11.20", "SKMD0"),
    ("mental_health", "1", "F33.1", "BRH01"),
    ("mental_health", "2.5", "F31.31", "MCRB1"),
    ("substance_use", "2.1", "F15.20", "BRH01"),
    ("mental_health", "1", "F41.1", "SCMCO"),
    ("mental_health", "1", "F43.10", "PRMUT"),
    ("substance_use", "1", "F12.20", "SKMD0"),
    ("mental_health", "1", "F32.1", "BRH01"),
    ("co_occurring", "2.5", "F10.20", "BRH01"),
]
SECONDARY = {"MCRB1": "SKMD0", "BRH01": "SCMCO", "SKMD0": "BRH01", "SCMCO": "BRH01",
             "PRMUT": "BRH01"}  # fmt: skip
COUNT = 30


def patient_specs(today: date) -> list[dict[str, Any]]:
    """The demo's patients, the same every run (a test checks each passes the 837 writer)."""
    specs = []
    for n in range(COUNT):
        program, level, code, payer_id = CARE[n % len(CARE)]
        city, state, postal = CITIES[n % len(CITIES)]
        specs.append({
            "mrn": f"D-{1001 + n}",
            "first_name": FIRST[n],
            "last_name": LAST[n],
            "date_of_birth": date(1950 + (n * 7) % 50, 1 + n % 12, 1 + (n * 3) % 28),
            "sex": "F" if n % 2 == 0 else "M",
            "address_line1": f"{100 + n * 37} {STREETS[n % len(STREETS)]}",
            "city": city,
            "state": state,
            "postal_code": postal,
            "phone": f"217-555-{100 + n:04d}",
            "program": program,
            "level": level,
            "code": code,
            "payer_id": payer_id,
            "secondary": SECONDARY[payer_id] if n % 5 == 4 else None,
        })  # fmt: skip
    return specs


def _appeals_address(spec: dict[str, Any]) -> dict[str, str]:
    """The demo payers take appeals at their main address, attention of the appeals unit."""
    return {
        "appeals_address_line1": "Attn: Appeals Unit",
        "appeals_address_line2": spec["address_line1"],
        "appeals_city": spec["city"],
        "appeals_state": spec["state"],
        "appeals_postal_code": spec["postal_code"],
    }


def seed(organization: object) -> None:
    if Patient.objects.exists():
        return  # Already seeded: running twice changes nothing.
    payers = {
        spec["payer_id"]: services.payer_create(**spec, **_appeals_address(spec)) for spec in PAYERS
    }
    today = organization_today(organization)
    # Admitted 40 days ago, covered since 1 January of last year (in force even in January).
    admitted = today - timedelta(days=40)
    covered_from = date(today.year - 1, 1, 1)
    for n, spec in enumerate(patient_specs(today)):
        patient = services.patient_create(
            today=today,
            **{k: spec[k] for k in ("mrn", "first_name", "last_name", "date_of_birth", "sex",
                                    "address_line1", "city", "state", "postal_code", "phone")},
        )  # fmt: skip
        for priority, payer_id in ((1, spec["payer_id"]), (2, spec["secondary"])):
            if payer_id is None:
                continue
            services.coverage_create(
                patient=patient,
                payer=payers[payer_id],
                member_id=f"{payer_id[:2]}{spec['mrn'][-4:]}{priority}7",
                group_number=f"G{payer_id[:3]}{priority}"
                if payers[payer_id].payer_type == "commercial"
                else "",
                priority=priority,
                effective_date=covered_from,
            )
        program = spec["program"]
        episode = services.episode_open(
            scopes=part2.ORGANIZATION,
            today=today,
            patient=patient,
            program_type=program,
            admission_date=admitted + timedelta(days=n % 5),
            level=spec["level"],
            referral_source="Primary care" if n % 3 else "Court referral",
            clinical_justification="Admission assessment (ASAM criteria reviewed)",
        )
        services.diagnosis_add(episode=episode, code=spec["code"])
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
        on_date=today - timedelta(days=12),
        clinical_justification="Withdrawal resolved; stable for intensive outpatient",
        reason="Step down per review",
    )
