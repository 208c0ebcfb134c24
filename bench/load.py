"""Load test: bench/locustfile.py's billers, partner and manager against gunicorn with several
workers, on PostgreSQL and Redis on this machine (127.0.0.1 only), bounded in users and time:
it stops by itself and prints throughput, p50/p95/p99 and errors per request kind, and the
longest lock wait seen (pg_stat_activity sampled every 0.2 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parity_bench python manage.py migrate
    DATABASE_URL=... DEBUG=true python manage.py seed_demo
    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/load.py \\
        [--users 15 --spawn-rate 5 --time 180 --workers 4]

Runs ANALYZE first (autovacuum is off on these machines). Charges it records stay in that
database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from claims.models import Claim  # noqa: E402
from credentialing.models import Provider  # noqa: E402
from patients.models import PART2_PROGRAMS, EpisodeOfCare  # noqa: E402
from rcm.tenancy.context import tenant_context  # noqa: E402
from rcm.tenancy.management.commands.seed_demo import DEMO_PASSWORD  # noqa: E402
from rcm.tenancy.models import Organization  # noqa: E402
from rcm.tenancy.services import api_key_create  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _fixture(path: Path) -> None:
    org = Organization.objects.get(slug="riverbend")
    with tenant_context(org):
        episodes = [
            {"id": str(e.pk), "patient": str(e.patient_id), "admission_date": str(e.admission_date)}
            for e in EpisodeOfCare.objects.filter(discharge_date__isnull=True)
            .exclude(program_type__in=PART2_PROGRAMS)
            .order_by("admission_date")[:10]
        ]
        provider = Provider.objects.filter(npi__gt="").order_by("npi").first()
        claims = [str(pk) for pk in Claim.objects.values_list("pk", flat=True)[:50]]
        _key, raw = api_key_create(
            name="load test",
            scopes=["claims:read", "claims:write", "patients:read"],
            created_by=None,
            now=timezone.now(),
        )
    local_today = timezone.localdate(timezone=zoneinfo.ZoneInfo(org.time_zone))
    path.write_text(
        json.dumps(
            {
                "org": org.slug,
                "episodes": episodes,
                "provider": str(provider.pk) if provider else "",
                "claims": claims,
                "api_key": raw,
                "password": DEMO_PASSWORD,
                "biller": "biller@riverbend.example",
                "manager": "manager@riverbend.example",
                "yesterday": str(local_today - timedelta(days=1)),
            }
        )
    )


class LockWatch(threading.Thread):
    """The longest lock wait any backend of this database shows while the load runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.longest = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = connections.create_connection("default")
        try:
            while not self.stop.wait(0.2):
                with conn.cursor() as cursor:
                    cursor.execute(
                        "SELECT coalesce(max(EXTRACT(EPOCH FROM clock_timestamp() - query_start)), 0)"
                        " FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                    self.longest = max(self.longest, float(cursor.fetchone()[0]))
        finally:
            conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=15)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--time", type=int, default=180, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="parity-load-"))
    fixture = work / "fixture.json"
    _fixture(fixture)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    print("ANALYZE run on every table first (autovacuum is off on this machine).")
    port = _free_port()
    # Plain HTTP on 127.0.0.1 (no TLS terminator in front): cookies may not be Secure-only.
    env = {
        **os.environ,
        "LOAD_FIXTURE": str(fixture),
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
    }
    server = subprocess.Popen(  # noqa: S603 (our own fixed command)
        [str(BIN / "gunicorn"), "rcm.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    watch = LockWatch()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        # Warm every worker (imports, first queries) before the clock starts.
        for _ in range(args.workers * 3):
            with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
                sock.sendall(b"GET /accounts/login/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                while sock.recv(65536):
                    pass
        watch.start()
        started = time.monotonic()
        subprocess.run(  # noqa: S603
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.time}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(work / "load"),
             "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        watch.stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(
        f"{args.users} users (3 billers : 2 partners : 1 manager), {args.time} s of load, "
        f"gunicorn x{args.workers}, {elapsed:.0f} s in all\n"
    )
    header = f"{'request':28} {'count':>6} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} ms"
    print(header)
    with (work / "load_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            print(
                f"{row['Name'][:28]:28} {row['Request Count']:>6} {row['Failure Count']:>6} "
                f"{float(row['Requests/s']):7.2f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
            )
    failures = (work / "load_failures.csv").read_text().strip().splitlines()[1:]
    for line in failures[:10]:
        print("  failure:", line[:200])
    print(f"\nlongest lock wait seen: {watch.longest:.2f} s (goal: none over 1 s)")


if __name__ == "__main__":
    main()
