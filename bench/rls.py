"""Benchmark: what row-level security costs the REST API. The same requests (create a charge,
list claims) through the full stack (middleware, API key, tenant transaction, serializers), as
the application role with RLS enforced and as a role identical to it but for BYPASSRLS, on the
same data, interleaved in the same run (ABBA rounds, so load on the machine falls on both).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parity_bench python manage.py migrate
    DATABASE_URL=... DEBUG=true python manage.py seed_demo
    DATABASE_URL=... .venv/bin/python bench/rls.py [--rounds 6 --requests 40]

Prints, per endpoint and role, throughput and p50/p95, then the ratios RLS / bypass; the goals
(issue 24): throughput ratio >= 0.90 and p95 ratio <= 1.15. Runs ANALYZE first (the machines'
PostgreSQL runs with autovacuum off). The charges it creates stay in that database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from claims.models import Claim, ServiceEntry  # noqa: E402
from credentialing.models import Provider  # noqa: E402
from patients.models import PART2_PROGRAMS, EpisodeOfCare  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402
from rcm.tenancy.services import api_key_create  # noqa: E402

BYPASS_ROLE = "parity_bench_bypass"


def _roles() -> tuple[str, str]:
    call_command("setup_db_roles", verbosity=0)
    app = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BYPASS_ROLE])
        if cursor.fetchone() is None:
            # The application role's grants (membership), plus BYPASSRLS: the only difference.
            cursor.execute(f"CREATE ROLE {BYPASS_ROLE} NOLOGIN BYPASSRLS IN ROLE {app}")
        cursor.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", [app])
        assert cursor.fetchone()[0] is False, "the application role must not bypass RLS"
    return app, BYPASS_ROLE


_role = [""]


def _set_role(sender: object, connection: object, **kwargs: object) -> None:
    # Every new connection (one per request: CONN_MAX_AGE 0) takes the role being measured, as a
    # production connection logs in as the application role; one statement, in both modes.
    if _role[0]:
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"SET ROLE {_role[0]}")


connection_created.connect(_set_role)


def _as(role: str) -> None:
    connection.close()
    _role[0] = role


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=40, help="per endpoint, role and round")
    args = parser.parse_args()

    org = Organization.objects.get(slug="riverbend")
    with tenant_context(org):
        episode = (
            EpisodeOfCare.objects.filter(status="active", discharge_date__isnull=True)
            .exclude(program_type__in=PART2_PROGRAMS)
            .order_by("admission_date")
            .first()
        )
        assert episode is not None, "run seed_demo first"
        provider = Provider.objects.filter(npi__gt="").first()
        _key, raw = api_key_create(
            name="rls bench",
            scopes=["claims:read", "claims:write", "patients:read"],
            created_by=None,
            now=timezone.now(),
        )
        claims = Claim.objects.count()
        # Each run's charges take times after the previous runs' (a charge at a time already
        # taken would be refused as a duplicate, and measure the refusal instead).
        taken = ServiceEntry.objects.filter(episode=episode).count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE run on every table first (autovacuum is off here). Claims in the org: {claims}")
    app, bypass = _roles()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    today = timezone.localdate()
    slot = [taken]

    def create_charge() -> int:
        slot[0] += 1
        day = today - timedelta(days=1 + slot[0] // 8)
        start = timezone.make_aware(
            timezone.datetime.combine(day, timezone.datetime.min.time())
        ) + timedelta(hours=8 + slot[0] % 8)
        body = {
            "patient": str(episode.patient_id),
            "episode": str(episode.pk),
            "rendering_provider": str(provider.pk),
            "date_of_service": day.isoformat(),
            "kind": "psychotherapy",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(minutes=45)).isoformat(),
            "documentation_signed": True,
        }
        response = client.post(
            "/api/v1/charges/", json.dumps(body), content_type="application/json"
        )
        return response.status_code

    def list_claims() -> int:
        return client.get("/api/v1/claims/", {"page": 1 + slot[0] % 3}).status_code

    endpoints = {
        "create charge (POST /charges/)": create_charge,
        "list claims (GET /claims/)": list_claims,
    }
    times: dict[tuple[str, str], list[float]] = {
        (e, r): [] for e in endpoints for r in (app, bypass)
    }
    walls: dict[tuple[str, str], float] = dict.fromkeys(times, 0.0)
    statuses: dict[tuple[str, str], set[int]] = {k: set() for k in times}
    for round_ in range(args.rounds):
        order = (app, bypass) if round_ % 2 == 0 else (bypass, app)
        for role in order:
            _as(role)
            for name, call in endpoints.items():
                call()  # warm the connection and caches for this role
                started = time.perf_counter()
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    statuses[(name, role)].add(call())
                    times[(name, role)].append(time.perf_counter() - t0)
                walls[(name, role)] += time.perf_counter() - started
    _as("")

    print(f"{args.rounds} rounds x {args.requests} requests per endpoint and role, interleaved\n")
    print(f"{'endpoint':34} {'role':30} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses")
    for name in endpoints:
        for role in (app, bypass):
            values = times[(name, role)]
            rate = len(values) / walls[(name, role)]
            print(
                f"{name:34} {role + (' (RLS)' if role == app else ' (bypass)'):30} {rate:8.1f} "
                f"{statistics.median(values) * 1000:8.1f} {_percentile(values, 0.95) * 1000:8.1f}"
                f"  {sorted(statuses[(name, role)])}"
            )
        rls_rate = len(times[(name, app)]) / walls[(name, app)]
        bypass_rate = len(times[(name, bypass)]) / walls[(name, bypass)]
        throughput = rls_rate / bypass_rate
        p95 = _percentile(times[(name, app)], 0.95) / _percentile(times[(name, bypass)], 0.95)
        verdict = "met" if throughput >= 0.90 and p95 <= 1.15 else "NOT met"
        print(
            f"  ratio RLS/bypass: throughput {throughput:.3f} (goal >= 0.90), "
            f"p95 {p95:.3f} (goal <= 1.15): {verdict}\n"
        )


if __name__ == "__main__":
    main()
