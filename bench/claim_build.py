"""Benchmark: building and scrubbing claims from 50,000 charges over 500 patients, against one
hand-written SQL query that does the same grouping.

    DATABASE_URL=postgres://.../parity .venv/bin/python bench/claim_build.py [--patients 500 --per-patient 100]

Loads one organization (bench-claims) with patients, coverage, episodes, diagnoses, providers
with licences and enrollments, and open charges (bulk inserted: setting up is not what is
measured), then prints:
- the baseline: one GROUP BY query returning the same claim groups (count, total, dates);
- claims_build (which groups, writes claims and lines, and scrubs every claim): time, claims,
  lines, queries, and the ratio to the baseline;
- the same at a tenth of the size, to show the query count does not grow with the charges.
Each size runs on fresh charges; the organization is emptied of claims first.
Run it against your own database, never the test database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from rcm import part2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The test settings: production settings with test values for SECRET_KEY and ALLOWED_HOSTS.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from authorizations.models import AuthorizationUsage  # noqa: E402
from claims import services  # noqa: E402
from claims.models import ChargeMasterItem, Claim, ClaimEvent, ClaimFinding, ClaimLine, ServiceEntry  # noqa: E402
from credentialing.models import Credential, PayerEnrollment, Provider  # noqa: E402
from credentialing.rules import npi_with_check_digit  # noqa: E402
from patients.models import (  # noqa: E402
    Coverage,
    EpisodeDiagnosis,
    EpisodeOfCare,
    LevelOfCareStay,
    Patient,
    Payer,
)
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402

TODAY = date(2026, 11, 20)
CODES = [
    ("90832", "95.00"),
    ("90834", "150.00"),
    ("90837", "190.00"),
    ("90791", "220.00"),
    ("90853", "60.00"),
]
BASELINE_SQL = """
SELECT e.patient_id, e.episode_id, c.id, e.rendering_provider_id, e.supervising_provider_id,
       e.service_facility_id, count(*), sum(e.charge), min(e.date_of_service), max(e.date_of_service)
FROM claims_serviceentry e
JOIN patients_coverage c ON c.patient_id = e.patient_id AND c.priority = 1
     AND c.effective_date <= e.date_of_service
     AND (c.termination_date IS NULL OR c.termination_date >= e.date_of_service)
WHERE e.organization_id = %s AND e.status = 'open'
GROUP BY e.patient_id, e.episode_id, c.id, e.rendering_provider_id, e.supervising_provider_id, e.service_facility_id
"""


def ensure_practice(
    org: Organization, patients: int
) -> tuple[list[tuple[Patient, EpisodeOfCare, str]], list[Provider]]:
    payer = Payer.objects.filter(payer_id="BENCH").first()
    if payer is None:
        payer = Payer.objects.create(
            name="Bench Health", payer_id="BENCH", payer_type="commercial", timely_filing_days=365
        )
        for code, price in CODES:
            ChargeMasterItem.objects.create(
                service_code=code, charge=Decimal(price), effective_from=date(2026, 1, 1)
            )
    providers = list(Provider.objects.all())
    if not providers:
        for i in range(20):
            provider = Provider.objects.create(
                first_name=f"P{i}",
                last_name="Bench",
                npi=npi_with_check_digit(f"17{i:07d}"),
                taxonomy_code="1041C0700X",
                provider_type="lcsw",
                active_from=date(2024, 1, 1),
            )
            Credential.objects.create(
                provider=provider,
                kind="state_licence",
                number=f"L{i}",
                state="IL",
                issued_on=date(2020, 1, 1),
                expires_on=date(2030, 1, 1),
            )
            PayerEnrollment.objects.create(
                provider=provider,
                payer=payer,
                status="approved",
                submitted_on=date(2025, 1, 1),
                approved_on=date(2025, 2, 1),
                effective_date=date(2025, 2, 1),
            )
            providers.append(provider)
    existing = list(Patient.objects.order_by("mrn")[:patients])
    for i in range(len(existing), patients):
        patient = Patient.objects.create(
            mrn=f"B{i:05d}",
            first_name="Pat",
            last_name=f"Bench{i}",
            date_of_birth=date(1980, 1, 1),
            sex="U",
        )
        Coverage.objects.create(
            patient=patient, payer=payer, member_id=f"M{i:06d}", effective_date=date(2025, 1, 1)
        )
        episode = EpisodeOfCare.objects.create(
            patient=patient, program_type="mental_health", admission_date=date(2025, 1, 1)
        )
        LevelOfCareStay.objects.create(episode=episode, level="1", start_date=date(2025, 1, 1))
        EpisodeDiagnosis.objects.create(
            episode=episode,
            code="F33.1",
            description="Major depressive disorder, recurrent, moderate",
            is_primary=True,
            effective_from=date(2025, 1, 1),
        )
        existing.append(patient)
    rows = []
    episodes = {e.patient_id: e for e in EpisodeOfCare.objects.filter(patient__in=existing)}
    diagnoses = {
        d.episode_id: str(d.pk)
        for d in EpisodeDiagnosis.objects.filter(episode__in=episodes.values())
    }
    for patient in existing:
        episode = episodes[patient.pk]
        rows.append((patient, episode, diagnoses[episode.pk]))
    return rows, providers


def load_charges(
    org: Organization,
    rows: list[tuple[Patient, EpisodeOfCare, str]],
    providers: list[Provider],
    per_patient: int,
) -> int:
    rng = random.Random(7)
    entries = []
    prices = dict(CODES)
    minutes = {"90832": 30, "90834": 45, "90837": 60}
    for patient, episode, diagnosis_id in rows:
        provider = providers[hash(patient.pk) % len(providers)]
        for day in range(per_patient):
            code = rng.choice(CODES)[0]
            entries.append(
                ServiceEntry(
                    organization_id=org.pk,
                    patient=patient,
                    episode=episode,
                    level="1",
                    rendering_provider=provider,
                    date_of_service=TODAY - timedelta(days=day + 1),
                    minutes=minutes.get(code),
                    kind="psychotherapy" if code in minutes else "untimed",
                    service_code=code,
                    units=1,
                    place_of_service="11",
                    diagnosis_ids=[diagnosis_id],
                    documentation_signed=True,
                    charge=Decimal(prices[code]),
                )
            )
    ServiceEntry.objects.bulk_create(entries, batch_size=5000)
    return len(entries)


def reset(org: Organization) -> None:
    with connection.cursor() as cursor:
        for model in (ClaimFinding, ClaimEvent, ClaimLine, Claim, AuthorizationUsage, ServiceEntry):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [str(org.pk)]
            )


def run(org: Organization, rows: list, providers: list, per_patient: int) -> dict[str, float]:
    reset(org)
    charges = load_charges(org, rows, providers, per_patient)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, [str(org.pk)])
        groups = cursor.fetchall()
    baseline = time.perf_counter() - start
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        report = services.claims_build(scopes=part2.ORGANIZATION, today=TODAY)
        elapsed = time.perf_counter() - start
    lines = ClaimLine.objects.count()
    ready = Claim.objects.filter(status="ready").count()
    return {
        "charges": charges,
        "groups": len(groups),
        "claims": len(report.claims),
        "lines": lines,
        "ready": ready,
        "baseline_s": baseline,
        "build_s": elapsed,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--per-patient", type=int, default=100)
    args = parser.parse_args()
    org, _ = Organization.objects.get_or_create(
        slug="bench-claims", defaults={"name": "Bench Claims"}
    )
    with tenant_context(org):
        rows, providers = ensure_practice(org, args.patients)
        small = run(org, rows, providers, max(args.per_patient // 10, 1))
        full = run(org, rows, providers, args.per_patient)
    for label, r in (("small", small), ("full", full)):
        print(
            f"{label}: {r['charges']:,} charges -> {r['claims']:,} claims / {r['lines']:,} lines ({r['ready']:,} ready); "
            f"baseline GROUP BY {r['baseline_s'] * 1000:.0f} ms ({r['groups']:,} groups); "
            f"build+scrub {r['build_s']:.2f} s, {r['queries']} queries; ratio {r['build_s'] / r['baseline_s']:.1f}x; "
            f"{r['charges'] / r['build_s']:,.0f} charges/s"
        )
    print(
        f"queries: small {small['queries']}, full {full['queries']} (claims and lines are bulk-inserted in batches of 1,000/2,000)"
    )


if __name__ == "__main__":
    main()
