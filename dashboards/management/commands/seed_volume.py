"""Realistic volume for the dashboard benchmark: 50 organizations and 1,000,000 claim lines with
a skewed distribution (the largest organization about 10%), with claim history, remittances,
line balances, denials, appeals, payments and authorizations.

    python manage.py seed_volume [--orgs 50 --lines 1000000 --seed 7]

Rows are bulk-inserted organization by organization inside each tenant context (so RLS holds
when run as the application role). Organizations are named volume-NN; running it again with the
same arguments adds nothing (an organization that already has claims is skipped).
Never run it against the test database.
"""

from __future__ import annotations

import random
import uuid
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from authorizations.models import Authorization
from claims.models import Claim, ClaimEvent, ClaimLine, ServiceEntry
from credentialing.models import PayerEnrollment, Provider
from credentialing.rules import npi_with_check_digit
from denials.models import Appeal, Denial, LineBalance, Payment, RemittanceClaim, RemittanceImport
from patients import models as patients_models
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_today

CODES = [
    ("90834", Decimal("150.00"), 45),
    ("90837", Decimal("190.00"), 60),
    ("90832", Decimal("95.00"), 30),
    ("H0015", Decimal("240.00"), None),
]
PAYERS = [
    ("Blue Plan", "BPVOL"),
    ("State Medicaid", "MDVOL"),
    ("Medicare", "MCVOL"),
    ("Aetna-like PPO", "AEVOL"),
    ("Tricare", "TRVOL"),
]
CATEGORIES = [
    ("197", "authorization"),
    ("50", "medical_necessity"),
    ("4", "coding"),
    ("27", "eligibility"),
    ("16", "information_missing"),
    ("29", "timely_filing"),
]
LINES_PER_CLAIM = 3
BATCH = 5000


def org_sizes(total: int, orgs: int) -> list[int]:
    """The largest organization gets 10%; the rest share 90% by a Zipf-like curve."""
    largest = total // 10
    weights = [1 / (rank**0.8) for rank in range(2, orgs + 1)]
    scale = (total - largest) / sum(weights)
    return [largest] + [max(LINES_PER_CLAIM, int(w * scale)) for w in weights]


class Command(BaseCommand):
    help = "Create realistic volume for the dashboard benchmark (50 organizations, 1,000,000 claim lines)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--orgs", type=int, default=50)
        parser.add_argument("--lines", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, orgs: int, lines: int, seed: int, **options: Any) -> None:
        rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        for index, size in enumerate(org_sizes(lines, orgs)):
            org, _ = Organization.objects.get_or_create(
                slug=f"volume-{index:02d}", defaults={"name": f"Volume Clinic {index:02d}"}
            )
            with tenant_context(org):
                if Claim.objects.exists():
                    self.stdout.write(f"{org.slug}: already seeded, skipped")
                    continue
                self._seed(org, size, rng, organization_today(org))
            self.stdout.write(f"{org.slug}: {size:,} claim lines", ending="\n")
            self.stdout.flush()
        if connection.vendor == "postgresql":
            # Fresh statistics, or the planner estimates one row per table and picks nested loops.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def _seed(self, org: Organization, n_lines: int, rng: random.Random, today: date) -> None:
        oid = org.pk
        with transaction.atomic():
            payers = [
                patients_models.Payer(
                    organization_id=oid, name=name, payer_id=pid, payer_type="commercial"
                )
                for name, pid in PAYERS
            ]
            patients_models.Payer.objects.bulk_create(payers)
            providers = [
                Provider(
                    organization_id=oid,
                    first_name=f"Pro{i}",
                    last_name="Vider",
                    npi=npi_with_check_digit(f"1{rng.randrange(10**8):08d}"),
                    taxonomy_code="1041C0700X",
                    provider_type="lcsw",
                    active_from=date(2020, 1, 1),
                )
                for i in range(20)
            ]
            Provider.objects.bulk_create(providers)
            PayerEnrollment.objects.bulk_create(
                [
                    PayerEnrollment(
                        organization_id=oid,
                        provider=p,
                        payer=payer,
                        status="approved",
                        submitted_on=date(2023, 1, 1),
                        approved_on=date(2023, 2, 1),
                        effective_date=date(2023, 2, 1),
                    )
                    for p in providers
                    for payer in payers
                    if rng.random() < 0.85
                ]
            )
            n_claims = max(1, n_lines // LINES_PER_CLAIM)
            n_patients = max(1, n_claims // 6)
            patients = [
                patients_models.Patient(
                    organization_id=oid,
                    mrn=f"V{i:07d}",
                    first_name="Pat",
                    last_name=f"V{i}",
                    date_of_birth=date(1970 + i % 40, 1 + i % 12, 1 + i % 28),
                    sex="U",
                )
                for i in range(n_patients)
            ]
            patients_models.Patient.objects.bulk_create(patients, batch_size=BATCH)
            coverages = [
                patients_models.Coverage(
                    organization_id=oid,
                    patient=p,
                    payer=payers[i % len(payers)],
                    member_id=f"M{i:08d}",
                    effective_date=date(2020, 1, 1),
                )
                for i, p in enumerate(patients)
            ]
            patients_models.Coverage.objects.bulk_create(coverages, batch_size=BATCH)
            episodes = [
                patients_models.EpisodeOfCare(
                    organization_id=oid,
                    patient=p,
                    program_type="mental_health",
                    admission_date=today - timedelta(days=400),
                )
                for p in patients
            ]
            patients_models.EpisodeOfCare.objects.bulk_create(episodes, batch_size=BATCH)
            per_diem = {e.pk for e in episodes[: max(1, len(episodes) // 20)]}
            patients_models.LevelOfCareStay.objects.bulk_create(
                [
                    patients_models.LevelOfCareStay(
                        organization_id=oid,
                        episode=e,
                        level="2.1" if e.pk in per_diem else "1",
                        start_date=e.admission_date,
                    )
                    for e in episodes
                ],
                batch_size=BATCH,
            )
            diagnoses = [
                patients_models.EpisodeDiagnosis(
                    organization_id=oid,
                    episode=e,
                    code="F33.1",
                    description="Major depressive disorder, recurrent, moderate",
                    is_primary=True,
                    effective_from=e.admission_date,
                )
                for e in episodes
            ]
            patients_models.EpisodeDiagnosis.objects.bulk_create(diagnoses, batch_size=BATCH)
            Authorization.objects.bulk_create(
                [
                    Authorization(
                        organization_id=oid,
                        episode=e,
                        coverage=c,
                        payer_id=c.payer_id,
                        level="1",
                        unit_type="sessions",
                        units_requested=24,
                        units_approved=24,
                        start_date=today - timedelta(days=150 + i % 50),
                        end_date=today + timedelta(days=(i % 120) - 30),
                        status="approved",
                        auth_number=f"A{i}",
                        requested_on=today - timedelta(days=220),
                        decided_on=today - timedelta(days=215),
                    )
                    for i, (e, c) in enumerate(zip(episodes, coverages, strict=True))
                    if i % 3 == 0
                ],
                batch_size=BATCH,
            )
            upload = RemittanceImport.objects.create(
                organization_id=oid,
                file_name="volume.835",
                content="",
                sha256=uuid.uuid4().hex * 2,
                status="posted",
            )
            weeks = 52
            payments = [
                Payment(
                    organization_id=oid,
                    remittance_import=upload,
                    payer=payers[w % len(payers)],
                    trace_number=f"T{w:04d}",
                    amount=Decimal("0.00"),
                    payment_date=today - timedelta(days=7 * w + 2),
                )
                for w in range(weeks)
            ]
            Payment.objects.bulk_create(payments)
            payment_totals = [Decimal("0.00")] * weeks

            entries: list[ServiceEntry] = []
            claims: list[Claim] = []
            lines: list[ClaimLine] = []
            events: list[ClaimEvent] = []
            remits: list[RemittanceClaim] = []
            balances: list[LineBalance] = []
            denials: list[Denial] = []
            appeals: list[Appeal] = []

            def flush(final: bool = False) -> None:
                if len(lines) < 20_000 and not final:
                    return
                ServiceEntry.objects.bulk_create(entries, batch_size=BATCH)
                Claim.objects.bulk_create(claims, batch_size=BATCH)
                ClaimLine.objects.bulk_create(lines, batch_size=BATCH)
                ClaimEvent.objects.bulk_create(events, batch_size=BATCH)
                RemittanceClaim.objects.bulk_create(remits, batch_size=BATCH)
                LineBalance.objects.bulk_create(balances, batch_size=BATCH)
                Denial.objects.bulk_create(denials, batch_size=BATCH)
                Appeal.objects.bulk_create(appeals, batch_size=BATCH)
                for bucket in (entries, claims, lines, events, remits, balances, denials, appeals):
                    bucket.clear()

            for number in range(n_claims):
                index = number % n_patients
                patient, coverage, episode, diagnosis = (
                    patients[index],
                    coverages[index],
                    episodes[index],
                    diagnoses[index],
                )
                provider = providers[number % len(providers)]
                age = min(int(rng.expovariate(1 / 70)), 364)
                dos = today - timedelta(days=age + 5)
                submitted = datetime.combine(
                    today - timedelta(days=age), time(12), tzinfo=zoneinfo.ZoneInfo(org.time_zone)
                )
                roll = rng.random()
                status = (
                    "paid"
                    if roll < 0.62
                    else "partially_paid"
                    if roll < 0.70
                    else "denied"
                    if roll < 0.80
                    else "accepted"
                    if roll < 0.88
                    else "submitted"
                    if roll < 0.96
                    else "rejected"
                )
                pcn = f"V{number:011d}"
                claim = Claim(
                    organization_id=oid,
                    patient=patient,
                    episode=episode,
                    coverage=coverage,
                    payer_id=coverage.payer_id,
                    claim_form="837P",
                    rendering_provider=provider,
                    patient_control_number=pcn,
                    status=status,
                    total_charge=Decimal("0.00"),
                    statement_from=dos,
                    statement_to=dos,
                    level="2.1" if episode.pk in per_diem else "1",
                    diagnosis_codes=["F33.1"],
                    submitted_at=submitted,
                )
                claims.append(claim)
                if status != "submitted":
                    first = (
                        "rejected" if status == "rejected" or rng.random() < 0.04 else "accepted"
                    )
                    events.append(
                        ClaimEvent(
                            organization_id=oid,
                            claim=claim,
                            from_status="submitted",
                            to_status=first,
                            created_at=submitted + timedelta(days=1),
                        )
                    )
                    if first == "rejected" and status != "rejected":
                        events.append(
                            ClaimEvent(
                                organization_id=oid,
                                claim=claim,
                                from_status="submitted",
                                to_status="accepted",
                                created_at=submitted + timedelta(days=5),
                            )
                        )
                adjudicated = status in {"paid", "partially_paid", "denied"}
                remit = None
                week = min(age // 7, weeks - 1)
                if adjudicated:
                    remit = RemittanceClaim(
                        organization_id=oid,
                        payment=payments[week],
                        claim=claim,
                        patient_control_number=pcn,
                        status_code="4" if status == "denied" else "1",
                        charge=Decimal("0.00"),
                        paid=Decimal("0.00"),
                    )
                    remits.append(remit)
                total = paid_total = Decimal("0.00")
                for line_number in range(1, LINES_PER_CLAIM + 1):
                    code, price, minutes = CODES[
                        0
                        if claim.level == "1" and rng.random() < 0.6
                        else (3 if claim.level == "2.1" else 1 + line_number % 2)
                    ]
                    entry = ServiceEntry(
                        organization_id=oid,
                        patient=patient,
                        episode=episode,
                        level=claim.level,
                        rendering_provider=provider,
                        date_of_service=dos,
                        minutes=minutes,
                        kind="psychotherapy" if minutes else "untimed",
                        service_code=code,
                        units=1,
                        place_of_service="11",
                        diagnosis_ids=[str(diagnosis.pk)],
                        documentation_signed=True,
                        charge=price,
                        status="billed",
                    )
                    entries.append(entry)
                    line = ClaimLine(
                        organization_id=oid,
                        claim=claim,
                        service_entry=entry,
                        line_number=line_number,
                        service_code=code,
                        units=1,
                        charge=price,
                        date_of_service=dos,
                        place_of_service="11",
                        diagnosis_pointers=[1],
                        line_control_number=f"{pcn}-{line_number}",
                        rendering_provider=provider,
                    )
                    lines.append(line)
                    total += price
                    if adjudicated:
                        denied_line = status == "denied" or (
                            status == "partially_paid" and line_number == 1
                        )
                        paid = (
                            Decimal("0.00")
                            if denied_line
                            else (price * Decimal("0.65")).quantize(Decimal("0.01"))
                        )
                        contractual = (
                            Decimal("0.00") if denied_line else price - paid - Decimal("10.00")
                        )
                        balances.append(
                            LineBalance(
                                organization_id=oid,
                                claim=claim,
                                claim_line=line,
                                charge=price,
                                paid=paid,
                                contractual=contractual,
                                denied=price if denied_line else Decimal("0.00"),
                                patient_responsibility=Decimal("0.00")
                                if denied_line
                                else Decimal("10.00"),
                            )
                        )
                        paid_total += paid
                        if denied_line:
                            carc, category = CATEGORIES[number % len(CATEGORIES)]
                            denial = Denial(
                                organization_id=oid,
                                claim=claim,
                                claim_line=line,
                                remittance_claim=remit,
                                payer_id=claim.payer_id,
                                group_code="CO",
                                carc=carc,
                                category=category,
                                amount=price,
                                remittance_date=today - timedelta(days=age),
                                appeal_deadline=today - timedelta(days=age) + timedelta(days=180),
                            )
                            denials.append(denial)
                            if rng.random() < 0.3:
                                appeals.append(
                                    Appeal(
                                        organization_id=oid,
                                        denial=denial,
                                        level="level_1",
                                        deadline=denial.appeal_deadline,
                                        outcome=rng.choice(["overturned", "partial", "upheld"]),
                                        decided_on=denial.remittance_date + timedelta(days=20),
                                    )
                                )
                claim.total_charge = total
                if remit is not None:
                    remit.charge, remit.paid = total, paid_total
                    payment_totals[week] += paid_total
                flush()
            flush(final=True)
            for payment, amount in zip(payments, payment_totals, strict=True):
                payment.amount = amount
            Payment.objects.bulk_update(payments, ["amount"])
