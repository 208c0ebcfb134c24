"""Benchmark: one 837P batch of 5,000 claims with 3 lines each, written from the database.

Run against your own database (not the test database):
    DATABASE_URL=postgres://... .venv/bin/python bench/x12_837.py [--no-pyx12]

Measured in the same run:
- ours: `batch_prepare` (a fixed number of queries) + render through the dataclasses, the
  pre-write checks and the segment builder;
- baseline: one raw SQL query and hand-formatted segments (no checks, no dataclasses), which
  must produce byte-identical output;
- the query count for a 500-claim batch and the 5,000-claim batch (must be equal);
- pyx12 validation of the same 5,000-claim file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, date, datetime
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

from claims.models import Claim, ClaimLine, ClaimStatus, ServiceEntry  # noqa: E402
from credentialing.models import Provider  # noqa: E402
from credentialing.rules import npi_with_check_digit  # noqa: E402
from patients.models import Coverage, EpisodeOfCare, Patient, Payer  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402
from submissions.models import Clearinghouse, SubmissionBatch  # noqa: E402
from submissions.services import (  # noqa: E402
    batch_number,
    batch_prepare,
    batches_create,
    clearinghouse_save,
    pyx12_validate,
)
from x12.writer import format_amount  # noqa: E402

BIG, SMALL, LINES = 5000, 500, 3
CODES = [("90834", Decimal("150.00")), ("90832", Decimal("95.00")), ("90837", Decimal("200.00"))]
DOS = date(2026, 10, 5)


def build(org: Organization) -> Clearinghouse:
    ch = Clearinghouse.objects.filter(code="bench").first()
    if ch is not None:
        return ch
    payer = Payer.objects.create(
        name="Bench Health Plan", payer_id="BHP01", payer_type="commercial"
    )
    provider = Provider.objects.create(
        first_name="Lena", last_name="Park", npi=npi_with_check_digit("155555555"),
        taxonomy_code="1041C0700X", provider_type="lcsw", active_from=date(2024, 1, 1),
    )  # fmt: skip
    n = BIG + SMALL
    patients = Patient.objects.bulk_create(
        Patient(organization=org, mrn=f"B{i:05d}", first_name=f"Pat{i}", last_name=f"Bench{i}",
                date_of_birth=date(1980 + i % 30, 1 + i % 12, 1 + i % 28), sex="FM"[i % 2],
                address_line1=f"{i} Elm Ave", city="Portland", state="OR", postal_code="97205")
        for i in range(n)
    )  # fmt: skip
    coverages = Coverage.objects.bulk_create(
        Coverage(organization=org, patient=p, payer=payer, member_id=f"M{i:08d}",
                 relationship="18", priority=1, effective_date=date(2026, 1, 1))
        for i, p in enumerate(patients)
    )  # fmt: skip
    episodes = EpisodeOfCare.objects.bulk_create(
        EpisodeOfCare(organization=org, patient=p, program_type="mental_health",
                      admission_date=date(2026, 9, 1))
        for p in patients
    )  # fmt: skip
    claims = Claim.objects.bulk_create(
        Claim(organization=org, patient=p, episode=e, coverage=c, payer=payer, claim_form="837P",
              rendering_provider=provider, patient_control_number=f"BN{i:08d}",
              status=ClaimStatus.READY, total_charge=sum(ch for _, ch in CODES),
              statement_from=DOS, statement_to=DOS, level="1",
              diagnosis_codes=["F33.1", "F41.1"][: 1 + i % 2])
        for i, (p, e, c) in enumerate(zip(patients, episodes, coverages, strict=True))
    )  # fmt: skip
    entries = ServiceEntry.objects.bulk_create(
        ServiceEntry(organization=org, patient=cl.patient, episode=cl.episode, level="1",
                     rendering_provider=provider, date_of_service=DOS, kind="psychotherapy",
                     service_code=code, place_of_service="11", charge=charge, status="billed")
        for cl in claims
        for code, charge in CODES
    )  # fmt: skip
    ClaimLine.objects.bulk_create(
        ClaimLine(organization=org, claim=entries_claim, service_entry=entry, line_number=k + 1,
                  service_code=entry.service_code, modifiers=[], units=1, charge=entry.charge,
                  date_of_service=DOS, place_of_service="11", diagnosis_pointers=[1],
                  line_control_number=f"{entries_claim.patient_control_number}-{k + 1}",
                  rendering_provider=provider)
        for i, entries_claim in enumerate(claims)
        for k, entry in enumerate(entries[i * LINES:(i + 1) * LINES])
    )  # fmt: skip
    return clearinghouse_save(
        name="Bench CH", code="bench", receiver_name="Bench Clearinghouse", receiver_id="BENCHCH",
        submitter_id="BENCH01", contact_name="Pat Biller", contact_phone="5035550100",
    )  # fmt: skip


def batch_of(ch: Clearinghouse, pcn_prefix: str, count: int) -> SubmissionBatch:
    existing = SubmissionBatch.objects.filter(clearinghouse=ch, claim_count=count).first()
    if existing is None:
        ids = list(
            Claim.objects.filter(patient_control_number__startswith=pcn_prefix, status="ready")
            .exclude(batch_items__isnull=False)
            .order_by("patient_control_number")
            .values_list("pk", flat=True)[:count]
        )
        existing = batches_create(scopes=part2.ORGANIZATION, clearinghouse=ch, claim_ids=ids)[0]
        existing = batch_number(batch_id=existing.pk)
    return SubmissionBatch.objects.select_related("clearinghouse").get(pk=existing.pk)


ANALYZED = [
    "claims_claim", "claims_claimline", "claims_serviceentry", "claims_batchclaim",
    "patients_patient", "patients_coverage", "patients_episodeofcare", "patients_payer",
    "credentialing_provider", "claims_submissionbatch",
]  # fmt: skip

BASELINE_SQL = """
SELECT c.patient_control_number, c.total_charge, c.diagnosis_codes,
       p.first_name, p.last_name, p.middle_name, p.date_of_birth, p.sex, p.address_line1,
       p.address_line2, p.city, p.state, p.postal_code, cov.member_id, cov.group_number,
       py.name, py.payer_id, pr.first_name, pr.last_name, pr.npi, pr.taxonomy_code,
       l.line_number, l.service_code, l.charge, l.units, l.date_of_service, l.place_of_service,
       l.diagnosis_pointers, l.line_control_number
FROM claims_batchclaim bc
JOIN claims_claim c ON c.id = bc.claim_id
JOIN patients_patient p ON p.id = c.patient_id
JOIN patients_coverage cov ON cov.id = c.coverage_id
JOIN patients_payer py ON py.id = c.payer_id
JOIN credentialing_provider pr ON pr.id = c.rendering_provider_id
JOIN claims_claimline l ON l.claim_id = c.id
WHERE bc.batch_id = %s
ORDER BY bc.position, l.line_number
"""


def baseline(batch: SubmissionBatch, org: Organization) -> str:
    """The same file from one raw query with hand-written segments (this data's shape only:
    self-subscriber commercial claims, one place of service, no authorizations)."""
    ch = batch.clearinghouse
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, [str(batch.pk)])
        rows = cursor.fetchall()
    created = batch.envelope_created.astimezone(UTC)
    isa, gs, st = (batch.interchange_control_number, batch.group_control_number,
                   batch.transaction_control_number)  # fmt: skip
    body = [
        f"BHT*0019*00*{batch.reference}*{created:%Y%m%d}*{created:%H%M}*CH~",
        f"NM1*41*2*{org.name.upper()}*****46*{ch.submitter_id}~",
        f"PER*IC*{ch.contact_name.upper()}*TE*{ch.contact_phone}~",
        f"NM1*40*2*{ch.receiver_name.upper()}*****46*{ch.receiver_id}~",
        "HL*1**20*1~",
        f"PRV*BI*PXC*{org.taxonomy_code}~",
        f"NM1*85*2*{org.name.upper()}*****XX*{org.group_npi}~",
        f"N3*{org.address_line1.upper()}" + (f"*{org.address_line2.upper()}" if org.address_line2 else "") + "~",
        f"N4*{org.city.upper()}*{org.state.upper()}*{org.postal_code.replace('-', '')}~",
        f"REF*EI*{org.tax_id.replace('-', '')}~",
    ]  # fmt: skip
    hl, current = 1, None
    for r in rows:
        (pcn, total, dx, first, last, middle, dob, sex, a1, a2, city, state, postal, member,
         group, payer, payer_id, pfirst, plast, npi, taxonomy, number, code, charge, units,
         dos, pos, pointers, lcn) = r  # fmt: skip
        if pcn != current:
            current = pcn
            hl += 1
            codes = [c.replace(".", "") for c in json.loads(dx)]
            name = f"NM1*IL*1*{last.upper()}*{first.upper()}" + (
                f"*{middle.upper()}" if middle else ""
            )
            body += [
                f"HL*{hl}*1*22*0~",
                "SBR*P*18*" + (group or "") + "******CI~",
                name + ("***MI*" if middle else "****MI*") + f"{member}~",
                f"N3*{a1.upper()}" + (f"*{a2.upper()}" if a2 else "") + "~",
                f"N4*{city.upper()}*{state.upper()}*{postal.replace('-', '')}~",
                f"DMG*D8*{dob:%Y%m%d}*{sex}~",
                f"NM1*PR*2*{payer.upper()}*****PI*{payer_id}~",
                f"CLM*{pcn}*{format_amount(total)}***{pos}:B:1*Y*A*Y*Y~",
                "HI*" + "*".join(f"{'ABK' if i == 0 else 'ABF'}:{c}" for i, c in enumerate(codes)) + "~",
                f"NM1*82*1*{plast.upper()}*{pfirst.upper()}****XX*{npi}~",
                f"PRV*PE*PXC*{taxonomy}~",
            ]  # fmt: skip
        body += [
            f"LX*{number}~",
            f"SV1*HC:{code}*{format_amount(charge)}*UN*{units}***" + ":".join(map(str, json.loads(pointers))) + "~",
            f"DTP*472*D8*{dos:%Y%m%d}~",
            f"REF*6R*{lcn}~",
        ]  # fmt: skip
    sender, receiver = ch.submitter_id.ljust(15), ch.receiver_id.ljust(15)
    head = (
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*{ch.submitter_qualifier}*{sender}*"
        f"{ch.receiver_qualifier}*{receiver}*{created:%y%m%d}*{created:%H%M}*^*00501*{isa:09d}*0*"
        f"{batch.usage}*:~GS*HC*{ch.submitter_id}*{ch.receiver_id}*{created:%Y%m%d}*{created:%H%M}*"
        f"{gs}*X*005010X222A1~ST*837*{st:04d}*005010X222A1~"
    )
    tail = f"SE*{len(body) + 2}*{st:04d}~GE*1*{gs}~IEA*1*{isa:09d}~"
    return head + "".join(body) + tail


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    org, _ = Organization.objects.get_or_create(
        slug="bench-x12",
        defaults={"name": "Bench Behavioral Health", "group_npi": "1234567893",
                  "tax_id": "93-1234567", "taxonomy_code": "261QM0801X",
                  "address_line1": "100 River St", "city": "Portland", "state": "OR",
                  "postal_code": "97204"},
    )  # fmt: skip
    with tenant_context(org):
        start = time.perf_counter()
        ch = build(org)
        print(f"data ready in {time.perf_counter() - start:.1f} s")
        small = batch_of(ch, "BN", SMALL)
        big = batch_of(ch, "BN", BIG)
    # Autovacuum is off on these machines: give the planner the statistics production would have.
    analyzed = ", ".join(ANALYZED)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {analyzed}")
    print(f"ANALYZE run on {analyzed}")
    with tenant_context(org):
        counts = {}
        for batch in (small, big):
            with CaptureQueriesContext(connection) as queries:
                batch_prepare(batch=batch).render()
            counts[batch.claim_count] = len(queries)
        print(f"queries: {counts[SMALL]} for {SMALL} claims, {counts[BIG]} for {BIG} claims")
        assert counts[SMALL] == counts[BIG], "the query count grows with the number of claims"
        ours_s, ours = best_of(3, lambda: batch_prepare(batch=big).render().text)
        base_s, base = best_of(3, lambda: baseline(big, org))
    if ours != base:
        a, b = ours.split("~"), base.split("~")
        diff = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
        raise SystemExit(f"not byte-identical at segment {diff}: {a[diff]!r} vs {b[diff]!r}")
    print(
        f"file: {len(ours):,} bytes, {ours.count('~'):,} segments, byte-identical to the baseline"
    )
    print(f"ours: {ours_s:.3f} s = {BIG / ours_s:,.0f} claims/s (best of 3)")
    print(
        f"baseline (one raw SQL query, hand-formatted): {base_s:.3f} s = {BIG / base_s:,.0f} claims/s"
    )
    print(f"ratio ours / baseline time: {ours_s / base_s:.2f}x")
    if "--no-pyx12" in sys.argv:  # tests/x12 validate every form with pyx12
        return
    start = time.perf_counter()
    errors = pyx12_validate(ours)
    print(f"pyx12 validation: {time.perf_counter() - start:.1f} s, {len(errors)} errors")
    _ = datetime  # envelope times come from the batch row


if __name__ == "__main__":
    main()
