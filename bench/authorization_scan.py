"""Benchmark: the daily authorization scan over 100,000 authorizations in 100 organizations,
against one hand-written SQL query that finds the same expiring rows.

    DATABASE_URL=postgres://.../parity_wN .venv/bin/python bench/authorization_scan.py [--orgs 100 --per-org 1000]

Loads the data once (organizations named bench-NNN; re-runs reuse them), then prints:
- the raw SQL query time (all organizations at once: approved, ending within 7 days);
- the scan's detection time (every rule, organization by organization, no writes) and the ratio;
- the full scan (writes alerts) the first and the second time (the second creates nothing);
- queries per organization (must be the same for every organization).
Run it against your own database, never the test database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The test settings: production settings with test values for SECRET_KEY and ALLOWED_HOSTS.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from alerts.models import Alert  # noqa: E402
from authorizations.models import (  # noqa: E402
    Authorization,
    AuthorizationUsage,
    ConcurrentReview,
)
from authorizations.services import (  # noqa: E402
    authorization_expiry_specs,
    authorization_scan,
    authorization_scan_specs,
    authorization_settings_get,
)
from patients.models import Coverage, EpisodeOfCare, LevelOfCareStay, Patient, Payer  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402

TODAY = date(2026, 6, 1)
LEVELS = ["3.5", "2.5", "2.1", "1"]
RAW_SQL = """
SELECT a.id, a.organization_id, a.end_date - %(today)s AS days_left
FROM authorizations_authorization a
WHERE a.status IN ('approved', 'partial')
  AND a.end_date >= %(today)s
  AND a.end_date <= %(today)s + 7
"""


def load(orgs: int, per_org: int) -> list[Organization]:
    """Bulk rows straight into the tables (the services' checks are not what is measured)."""
    rng = random.Random(7)
    found = list(Organization.objects.filter(slug__startswith="bench-").order_by("slug"))
    if len(found) == orgs:
        with tenant_context(found[0]):
            if Authorization.objects.count() == per_org:
                return found
    if found:
        sys.exit("bench-* organizations exist with other sizes; drop them or use a fresh database")
    patients_per_org = per_org // 4
    start = time.perf_counter()
    for n in range(orgs):
        org = Organization.objects.create(name=f"Bench clinic {n:03d}", slug=f"bench-{n:03d}")
        found.append(org)
        with tenant_context(org):
            payer = Payer.objects.create(
                name="Bench plan",
                payer_id="B1",
                payer_type="commercial",
                auth_required_levels=["3.5", "2.1"],
            )
            patients = Patient.objects.bulk_create(
                [
                    Patient(
                        organization=org,
                        mrn=f"B{i:06d}",
                        first_name="Bench",
                        last_name=f"P{i}",
                        date_of_birth=date(1980, 1, 1),
                        sex="U",
                    )
                    for i in range(patients_per_org)
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
                        admission_date=date(2026, 1, 1),
                    )
                    for p in patients
                ]
            )
            LevelOfCareStay.objects.bulk_create(
                [
                    LevelOfCareStay(
                        organization=org, episode=e, level="2.1", start_date=date(2026, 5, 1)
                    )
                    for e in episodes
                ]
            )
            auths = []
            for i in range(per_org):
                episode, coverage = episodes[i % patients_per_org], coverages[i % patients_per_org]
                end = TODAY + timedelta(days=rng.randint(-30, 90))
                approved = rng.choice([14, 20, 28, 30])
                auths.append(
                    Authorization(
                        organization=org,
                        episode=episode,
                        coverage=coverage,
                        payer=payer,
                        level=LEVELS[i // patients_per_org % 4],
                        unit_type="sessions",
                        units_requested=approved,
                        units_approved=approved,
                        units_used=rng.randint(0, approved),
                        start_date=end - timedelta(days=29),
                        end_date=end,
                        status=rng.choice(["approved"] * 8 + ["partial", "requested"]),
                        requested_on=end - timedelta(days=31),
                        decided_on=end - timedelta(days=30),
                        auth_number=f"A{i}",
                    )
                )
            Authorization.objects.bulk_create(auths, batch_size=2000)
            ConcurrentReview.objects.bulk_create(
                [
                    ConcurrentReview(
                        organization=org,
                        authorization=a,
                        review_type="concurrent",
                        scheduled_on=TODAY + timedelta(days=rng.randint(-3, 20)),
                    )
                    for a in auths
                ],
                batch_size=2000,
            )
            AuthorizationUsage.objects.bulk_create(
                [
                    AuthorizationUsage(
                        organization=org,
                        authorization=a,
                        episode_id=a.episode_id,
                        payer=payer,
                        level=a.level,
                        date_of_service=TODAY - timedelta(days=rng.randint(0, 20)),
                        units=max(a.units_used, 1),
                        source="manual",
                    )
                    for a in auths
                ],
                batch_size=2000,
            )
            authorization_settings_get()
    print(
        f"loaded {orgs} organizations x {per_org} authorizations in {time.perf_counter() - start:.1f}s"
    )
    return found


def best_of(runs: int, func):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--per-org", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    orgs = load(args.orgs, args.per_org)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def raw() -> set[uuid.UUID]:
        with connection.cursor() as cursor:
            cursor.execute(RAW_SQL, {"today": TODAY})
            return {row[0] for row in cursor.fetchall()}

    queries_per_org: dict[str, list[int]] = {"expiry": [], "all": []}

    def scan_with(func, label):  # type: ignore[no-untyped-def]
        def run() -> set[uuid.UUID]:
            found: set[uuid.UUID] = set()
            queries_per_org[label] = []
            for org in orgs:
                with tenant_context(org.pk), CaptureQueriesContext(connection) as ctx:
                    specs = func(today=TODAY)
                queries_per_org[label].append(len(ctx.captured_queries))
                found |= {s.subject_id for s in specs if s.kind == "authorization.ending"}
            return found

        return run

    def raw_per_org() -> set[uuid.UUID]:
        """The same hand-written query once per organization, inside each tenant context: what
        the scan's shape costs before any ORM or Python work."""
        found: set[uuid.UUID] = set()
        for org in orgs:
            with tenant_context(org.pk), connection.cursor() as cursor:
                cursor.execute(
                    RAW_SQL + " AND a.organization_id = %(org)s", {"today": TODAY, "org": org.pk}
                )
                found |= {row[0] for row in cursor.fetchall()}
        return found

    raw_best, raw_median, raw_rows = best_of(args.runs, raw)
    per_org_best, _, per_org_rows = best_of(args.runs, raw_per_org)
    assert per_org_rows == raw_rows
    expiry_best, expiry_median, expiry_rows = best_of(
        args.runs, scan_with(authorization_expiry_specs, "expiry")
    )
    scan_best, scan_median, scan_rows = best_of(
        args.runs, scan_with(authorization_scan_specs, "all")
    )
    assert expiry_rows == raw_rows, "the expiry scan and the raw query disagree"
    assert scan_rows == raw_rows, "the full scan and the raw query disagree on the expiring rows"
    total = sum(1 for _ in Authorization.all_tenants.all().iterator())  # bench: count every tenant

    for org in orgs:  # a clean slate for the write measurements
        with tenant_context(org.pk):
            Alert.objects.filter(area="authorizations").delete()

    def full_scan() -> int:
        created = 0
        for org in orgs:
            with tenant_context(org.pk):
                created += authorization_scan(today=TODAY).alerts_created
        return created

    first_time, _, first_created = best_of(1, full_scan)
    second_time, _, second_created = best_of(1, full_scan)

    print(
        f"authorizations: {total:,} in {len(orgs)} organizations; expiring within 7 days: {len(raw_rows):,}"
    )
    print(
        f"raw SQL (one query, all organizations): best {raw_best * 1000:.1f} ms, median {raw_median * 1000:.1f} ms"
    )
    ms = 1000
    q = queries_per_org
    print(
        f"raw SQL once per organization in its tenant context: best {per_org_best * ms:.1f} ms "
        f"({per_org_best / raw_best:.1f}x the single query)"
    )
    print(
        f"expiry scan ({len(orgs)} tenant contexts, same rows): best {expiry_best * ms:.1f} ms, "
        f"median {expiry_median * ms:.1f} ms"
    )
    print(
        f"ratio expiry scan / raw SQL: {expiry_best / raw_best:.1f}x (best), "
        f"{expiry_median / raw_median:.1f}x (median)"
    )
    print(f"queries per organization, expiry scan: min {min(q['expiry'])}, max {max(q['expiry'])}")
    print(
        f"full detection (every rule): best {scan_best * ms:.1f} ms, median {scan_median * ms:.1f} "
        f"ms, {scan_best / raw_best:.1f}x the raw query"
    )
    print(f"queries per organization, every rule: min {min(q['all'])}, max {max(q['all'])}")
    print(f"full scan with writes, first run: {first_time:.2f} s, {first_created:,} alerts created")
    print(f"full scan, second run: {second_time:.2f} s, {second_created} alerts created")


if __name__ == "__main__":
    main()
