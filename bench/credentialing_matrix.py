"""Benchmark: the credentialing matrix and batch billability at 200 providers x 30 payers.

Run against your own database (not the test database):
    DATABASE_URL=postgres://... .venv/bin/python bench/credentialing_matrix.py

Baselines measured in the same run: the matrix built with one enrollment query per provider
(the N+1 a naive page would do), and billability asked one question at a time through
`provider_can_bill` (what a scrubber looping over lines would do without the batch call).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The test settings: production settings with test values for SECRET_KEY and ALLOWED_HOSTS.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from credentialing import selectors, services  # noqa: E402
from credentialing.models import Credential, PayerEnrollment, Provider  # noqa: E402
from credentialing.rules import npi_with_check_digit  # noqa: E402
from patients.models import Payer  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402

PROVIDERS, PAYERS, SAMPLES = 200, 30, 5
TODAY = date(2026, 6, 1)


def build(org: Organization) -> None:
    if Provider.objects.exists():
        return
    rng = random.Random(11)
    payers = Payer.objects.bulk_create(
        [
            Payer(
                organization=org,
                name=f"Bench plan {i:02d}",
                payer_id=f"B{i:03d}",
                payer_type="commercial",
            )
            for i in range(PAYERS)
        ]
    )
    providers = Provider.objects.bulk_create(
        [
            Provider(
                organization=org,
                first_name="Bench",
                last_name=f"Provider {i:03d}",
                npi=npi_with_check_digit(f"1{i:08d}"),
                taxonomy_code="1041C0700X",
                provider_type="lcsw",
                active_from=date(2024, 1, 1),
            )
            for i in range(PROVIDERS)
        ]
    )
    Credential.objects.bulk_create(
        [
            Credential(
                organization=org,
                provider=p,
                kind="state_licence",
                number="L",
                state="IL",
                expires_on=date(2030, 1, 1),
            )
            for p in providers
        ]
    )
    statuses = ["approved"] * 4 + ["submitted", "in_process", "denied", "not_started"]
    PayerEnrollment.objects.bulk_create(
        [
            PayerEnrollment(
                organization=org,
                provider=p,
                payer=payer,
                status=(s := rng.choice(statuses)),
                effective_date=date(2025, 1, 1) if s == "approved" else None,
            )
            for p in providers
            for payer in payers
            if rng.random() < 0.85
        ],
        batch_size=2000,
    )


def naive_matrix() -> int:
    """The same cells, with one enrollment query per provider."""
    payers = list(Payer.objects.filter(is_active=True).order_by("name"))
    cells = 0
    for provider in Provider.objects.order_by("last_name"):
        mine: dict[object, list[PayerEnrollment]] = {}
        for e in PayerEnrollment.objects.filter(provider=provider):
            mine.setdefault(e.payer_id, []).append(e)
        cells += len([selectors._cell(p, mine.get(p.pk, []), TODAY) for p in payers])
    return cells


def timed(fn, samples: int = SAMPLES) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best = float("inf")
    queries = 0
    for _ in range(samples):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        queries = len(ctx.captured_queries)
    return best, queries


def main() -> None:
    org, _ = Organization.objects.get_or_create(
        slug="bench-credentialing", defaults={"name": "Bench credentialing"}
    )
    with tenant_context(org):
        build(org)
        enrollments = PayerEnrollment.objects.count()
        print(
            f"{PROVIDERS} providers x {PAYERS} payers, {enrollments} enrollments (best of {SAMPLES})"
        )
        m_time, m_q = timed(lambda: selectors.enrollment_matrix(today=TODAY, status="gaps"))
        n_time, n_q = timed(naive_matrix)
        print(f"matrix selector (gaps): {m_time * 1000:8.1f} ms, {m_q} queries")
        print(
            f"naive per-provider:     {n_time * 1000:8.1f} ms, {n_q} queries  -> {n_time / m_time:.1f}x slower"
        )
        providers = list(Provider.objects.values_list("pk", flat=True)[:50])
        payers = list(Payer.objects.all()[:PAYERS])
        queries = [
            services.BillabilityQuery(p, payer.pk, TODAY, "90837")
            for p in providers
            for payer in payers
        ]
        b_time, b_q = timed(lambda: services.billability_for_pairs(queries))
        objs = {p.pk: p for p in Provider.objects.filter(pk__in=providers)}
        one_time, one_q = timed(
            lambda: [
                services.provider_can_bill(
                    objs[q.provider_id],
                    next(x for x in payers if x.pk == q.payer_id),
                    TODAY,
                    "90837",
                )
                for q in queries
            ],
            samples=1,
        )
        print(f"billability batch ({len(queries)} lines): {b_time * 1000:8.1f} ms, {b_q} queries")
        print(
            f"one line at a time:        {one_time * 1000:8.1f} ms, {one_q} queries  -> {one_time / b_time:.1f}x slower"
        )


if __name__ == "__main__":
    main()
