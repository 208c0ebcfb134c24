"""Benchmark: the manager dashboard of the largest organization after `seed_volume`, against the
same figures computed by hand-written SQL in the same run.

    DATABASE_URL=postgres://.../parity python manage.py seed_volume          # once: 50 orgs, 1M lines
    DATABASE_URL=postgres://.../parity .venv/bin/python bench/dashboard.py [--runs 20]

Prints the median and p95 of 20 full page loads (HTTP request through the middleware, every
query, template rendering), the query count of each load (must be the same every time), the
median and p95 of the hand-written SQL, and the ratio. Run against your own database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The test settings: production settings with test values for SECRET_KEY and ALLOWED_HOSTS.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from claims.models import ClaimLine  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Membership, Organization, User  # noqa: E402

BASELINE = [
    # Clean claim rate: claims submitted in the period, answered at the front door, never rejected.
    """SELECT count(DISTINCT e.claim_id) - count(DISTINCT e.claim_id) FILTER (WHERE e.to_status = 'rejected'),
              count(DISTINCT e.claim_id)
       FROM claims_claimevent e JOIN claims_claim c ON c.id = e.claim_id
       WHERE c.organization_id = %(org)s AND e.to_status IN ('accepted', 'rejected')
         AND c.submitted_at >= %(f)s::date AND c.submitted_at < %(t)s::date + 1""",
    # Initial denial rate by payer, provider, level and month of service.
    """SELECT c.payer_id, c.rendering_provider_id, c.level, date_trunc('month', c.statement_from), count(*),
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM denials_denial d WHERE d.claim_id = c.id))
       FROM claims_claim c WHERE c.organization_id = %(org)s AND EXISTS (
         SELECT 1 FROM denials_remittanceclaim r JOIN denials_payment p ON p.id = r.payment_id
         WHERE r.claim_id = c.id AND r.status_code <> '22' AND p.payment_date BETWEEN %(f)s AND %(t)s)
       GROUP BY 1, 2, 3, 4""",
    """SELECT d.category, count(DISTINCT d.claim_id) FROM denials_denial d JOIN denials_remittanceclaim r ON r.id = d.remittance_claim_id
       JOIN denials_payment p ON p.id = r.payment_id WHERE d.organization_id = %(org)s AND p.payment_date BETWEEN %(f)s AND %(t)s GROUP BY 1""",
    # A/R by payer and submission date: posted lines from their balances, unposted at charge.
    """SELECT c.payer_id, c.submitted_at::date,
              sum(b.charge - b.paid - b.contractual - b.other_adjusted - b.written_off - b.transferred - b.prior_payer),
              sum(b.patient_responsibility)
       FROM denials_linebalance b JOIN claims_claim c ON c.id = b.claim_id
       WHERE b.organization_id = %(org)s AND c.organization_id = %(org)s AND c.submitted_at IS NOT NULL
         AND c.status IN ('submitted','accepted','paid','partially_paid','denied','appealed')
       GROUP BY 1, 2""",
    """SELECT c.payer_id, c.submitted_at::date, sum(l.charge)
       FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id
       WHERE l.organization_id = %(org)s AND c.organization_id = %(org)s AND c.submitted_at IS NOT NULL
         AND c.status IN ('submitted','accepted','paid','partially_paid','denied','appealed')
         AND NOT EXISTS (SELECT 1 FROM denials_linebalance b WHERE b.claim_line_id = l.id)
       GROUP BY 1, 2""",
    """SELECT sum(total_charge) FROM claims_claim WHERE organization_id = %(org)s AND status <> 'void'
       AND statement_from BETWEEN %(t)s::date - 90 AND %(t)s""",
    # Collections, appeals, cash.
    """SELECT sum(r.paid), sum(r.charge) FROM denials_remittanceclaim r JOIN denials_payment p ON p.id = r.payment_id
       WHERE r.organization_id = %(org)s AND r.claim_id IS NOT NULL AND p.payment_date BETWEEN %(f)s AND %(t)s""",
    """SELECT count(*), count(*) FILTER (WHERE outcome IN ('overturned','partial')) FROM denials_appeal
       WHERE organization_id = %(org)s AND outcome <> '' AND decided_on BETWEEN %(f)s AND %(t)s""",
    """SELECT payment_date, sum(amount) FROM denials_payment WHERE organization_id = %(org)s
       AND payment_date BETWEEN %(f)s AND %(t)s GROUP BY 1""",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    orgs = list(Organization.objects.filter(slug__startswith="volume-"))
    if not orgs:
        sys.exit("Run `python manage.py seed_volume` first.")
    sizes = {}
    for org in orgs:
        with tenant_context(org):
            sizes[org.pk] = ClaimLine.objects.count()
    largest = max(orgs, key=lambda o: sizes[o.pk])
    total = sum(sizes.values())
    user, _ = User.objects.get_or_create(email="bench-manager@volume.example")
    with tenant_context(largest):
        Membership.objects.get_or_create(user=user, defaults={"role": "manager"})
    client = Client()
    client.force_login(user)
    url = f"/o/{largest.slug}/dashboards/"
    client.get(url)  # warm up
    page_times, counts = [], []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            page_times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        counts.append(len(queries))
    today = timezone.localdate()
    params = {"org": str(largest.pk), "f": today - timezone.timedelta(days=89), "t": today}
    sql_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in BASELINE:
                cursor.execute(sql, params)
                cursor.fetchall()
        sql_times.append((time.perf_counter() - start) * 1000)
    med, p95 = statistics.median(page_times), percentile(page_times, 95)
    smed, sp95 = statistics.median(sql_times), percentile(sql_times, 95)
    print(
        f"organizations: {len(orgs)}, claim lines: {total:,}; largest {largest.slug}: {sizes[largest.pk]:,} lines ({100 * sizes[largest.pk] / total:.1f}%)"
    )
    print(
        f"dashboard page: median {med:.0f} ms, p95 {p95:.0f} ms over {args.runs} loads; queries per load: {sorted(set(counts))}"
    )
    print(f"hand-written SQL ({len(BASELINE)} queries): median {smed:.0f} ms, p95 {sp95:.0f} ms")
    print(f"ratio (page / SQL): median {med / smed:.2f}, p95 {p95 / sp95:.2f}")


if __name__ == "__main__":
    main()
