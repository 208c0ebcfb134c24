"""Benchmark: 835 import and posting at 10,000 claims / 30,000 service lines.

Run against your own database (not the test database):
    DATABASE_URL=postgres://... .venv/bin/python bench/remit_835.py [claims] [--no-pyx12]

Uses bench/x12_parse.py's synthetic 835 (PCN0000000.., REF*6R L000000-1..), seeds one
organization with the matching submitted claims and lines (once), then prints, in one run:

(a) parse only: our parse_835 + check_balance (best of three) against pyx12's loop-aware
    X12ContextReader parse of the same file (one run), and the ratio;
(b) the full import: upload (parse + balance check) and post (match, bulk inserts, grouped
    status updates) in one transaction, with the number of SQL queries;
(c) a second import of the same file: the rows it posted (must be 0).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The test settings: production settings with test values for SECRET_KEY and ALLOWED_HOSTS.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from x12_parse import synthesise_835, time_ours, time_pyx12_context  # noqa: E402

from claims.models import Claim, ClaimEvent, ClaimLine, ServiceEntry  # noqa: E402
from credentialing.models import Provider  # noqa: E402
from denials import models as dm  # noqa: E402
from denials import services  # noqa: E402
from patients.models import Coverage, EpisodeOfCare, Patient, Payer  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402
from x12.remit835 import parse_835  # noqa: E402

DOS = date(2026, 2, 24)


def seed(org: Organization, text: str) -> None:
    """The claims the 835 pays: one per CLP, one line per SVC with the same REF*6R and charge."""
    parsed = parse_835(text)
    if Claim.objects.count() >= len(parsed.claims):
        return
    payer = Payer.objects.create(
        organization=org, name="Cascade Health Plan", payer_id="1512345678", payer_type="commercial"
    )
    provider = Provider.objects.create(
        organization=org,
        first_name="Linh",
        last_name="Nguyen",
        npi="1987654328",
        provider_type="lcsw",
        taxonomy_code="1041C0700X",
        active_from=date(2020, 1, 1),
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(
                organization=org,
                mrn=f"B{i:05d}",
                first_name="Bench",
                last_name=f"P{i}",
                date_of_birth=date(1980, 1, 1),
                sex="U",
            )
            for i in range(100)
        ]
    )
    coverages = Coverage.objects.bulk_create(
        [
            Coverage(
                organization=org,
                patient=p,
                payer=payer,
                member_id=f"M{i}",
                effective_date=date(2026, 1, 1),
            )
            for i, p in enumerate(patients)
        ]
    )
    episodes = EpisodeOfCare.objects.bulk_create(
        [
            EpisodeOfCare(
                organization=org,
                patient=p,
                program_type="mental_health",
                admission_date=date(2026, 1, 2),
            )
            for p in patients
        ]
    )
    claims, entries, lines = [], [], []
    for n, clp in enumerate(parsed.claims):
        k = n % 100
        claim = Claim(
            organization=org,
            patient=patients[k],
            episode=episodes[k],
            coverage=coverages[k],
            payer=payer,
            claim_form="837P",
            rendering_provider=provider,
            patient_control_number=clp.patient_control_number,
            status="submitted",
            total_charge=clp.charge,
            statement_from=DOS,
            statement_to=DOS,
            level="1",
        )
        claims.append(claim)
        for i, svc in enumerate(clp.lines, start=1):
            entry = ServiceEntry(
                organization=org,
                patient=patients[k],
                episode=episodes[k],
                level="1",
                rendering_provider=provider,
                date_of_service=DOS,
                kind="psychotherapy",
                service_code=svc.procedure_code,
                units=1,
                place_of_service="11",
                charge=svc.charge,
                status="billed",
            )
            entries.append(entry)
            lines.append(
                ClaimLine(
                    organization=org,
                    claim=claim,
                    service_entry=entry,
                    line_number=i,
                    service_code=svc.procedure_code,
                    units=1,
                    charge=svc.charge,
                    date_of_service=DOS,
                    place_of_service="11",
                    line_control_number=svc.line_item_control_number,
                    rendering_provider=provider,
                )
            )
    Claim.objects.bulk_create(claims, batch_size=2000)
    ServiceEntry.objects.bulk_create(entries, batch_size=2000)
    ClaimLine.objects.bulk_create(lines, batch_size=2000)


def reset() -> None:
    """Forget earlier runs' postings so every run posts the same file from scratch."""
    for model in (
        dm.WorkItemEvent,
        dm.WorkItem,
        dm.Appeal,
        dm.WriteOff,
        dm.SecondaryClaim,
        dm.Denial,
        dm.RemittanceException,
        dm.RemittanceAdjustment,
        dm.RemittanceLine,
        dm.LineBalance,
        dm.RemittanceClaim,
        dm.ProviderAdjustment,
        dm.Payment,
        dm.RemittanceImport,
    ):
        model.objects.all().delete()
    ClaimEvent.objects.all().delete()
    Claim.objects.update(status="submitted", payer_claim_number="")


ANALYZED = [
    "claims_claim", "claims_claimline", "claims_serviceentry", "claims_claimevent",
    "patients_patient", "patients_coverage", "patients_payer",
    *(model._meta.db_table for model in (
        dm.Payment, dm.RemittanceClaim, dm.RemittanceLine, dm.RemittanceAdjustment,
        dm.LineBalance, dm.Denial, dm.WorkItem, dm.RemittanceException, dm.RemittanceImport,
    )),
]  # fmt: skip


def rows(org_id: uuid.UUID) -> int:
    return sum(
        m.objects.count()
        for m in (
            dm.Payment,
            dm.RemittanceClaim,
            dm.RemittanceLine,
            dm.RemittanceAdjustment,
            dm.LineBalance,
            dm.Denial,
            dm.WorkItem,
            dm.RemittanceException,
        )
    )


def main() -> None:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    claims = int(numbers[0]) if numbers else 10_000
    text = synthesise_835(claims)
    org, _ = Organization.objects.get_or_create(
        slug="bench-remit", defaults={"name": "Bench remittance clinic"}
    )
    with tenant_context(org):
        seed(org, text)
        reset()
    # Autovacuum is off on these machines: give the planner the statistics production would have.
    analyzed = ", ".join(ANALYZED)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {analyzed}")
    print(f"835: {claims:,} claims, {len(text) / 1e6:.1f} MB; ANALYZE run on {analyzed}")

    first, best, n_claims, n_lines = time_ours(text)
    if "--no-pyx12" in sys.argv:  # measured by bench/x12_parse.py; minutes on a loaded machine
        print(f"(a) parse only: ours {best:.3f} s (first {first:.3f} s)")
    else:
        pyx12_time, _, _ = time_pyx12_context(text)
        print(
            f"(a) parse only: ours {best:.3f} s (first {first:.3f} s), pyx12 loop parse "
            f"{pyx12_time:.2f} s -> ours {pyx12_time / best:.1f}x faster ({n_claims:,} claims, "
            f"{n_lines:,} lines)"
        )

    start = time.perf_counter()
    with tenant_context(org), CaptureQueriesContext(connection) as queries:
        imp = services.remittance_import_create(
            file_name="bench.835", content=text, source="folder"
        )
        uploaded = time.perf_counter()
        imp = services.remittance_post(import_id=imp.pk, today=date(2026, 3, 2))
    elapsed = time.perf_counter() - start
    upload, post = uploaded - start, elapsed - (uploaded - start)
    with tenant_context(org):
        posted = rows(org.pk)
        paid = Claim.objects.filter(status="paid").count()
    statements = len(queries) + imp.summary["insert_statements"]
    print(
        f"(b) full import (upload check + parse + match + post): {elapsed:.2f} s, "
        f"{statements:,} SQL statements, "
        f"{posted:,} rows, {paid:,} claims now paid, status {imp.status}"
    )
    print(
        f"    upload (parse + balance check, kept for the post): {upload:.2f} s; "
        f"post job (match + post + commit): {post:.2f} s"
    )
    print(
        f"ratio full import / parse alone: {elapsed / best:.1f}x (goal <= 3x); "
        f"post job / parse alone: {post / best:.1f}x"
    )

    with tenant_context(org):
        before = rows(org.pk)
        again = services.remittance_import_create(
            file_name="bench-again.835", content=text, source="folder"
        )
        after = rows(org.pk)
    print(
        f"(c) second import of the same file: status {again.status}, rows posted {after - before}"
    )
    assert Decimal(imp.summary["paid"]) > 0


if __name__ == "__main__":
    main()
