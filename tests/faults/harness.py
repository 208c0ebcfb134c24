"""Fault tests (make test-faults): real Celery workers and beat against a Redis of their own,
killed and restarted while they work, each scenario with a deadline and the time it took.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parity python -m tests.faults

What it sets up (and removes at the end; FAULTS_KEEP=1 keeps the database and the logs):
- a redis-server on a spare port, without persistence (a restart loses what it held);
- its own PostgreSQL database `<DATABASE_URL's name>_faults`, migrated as the owner, with its own
  application role (`parity_faults_app`, set up by setup_db_roles' `ensure_app_role`) that the
  workers and beat connect as, so row-level security applies to them as in production;
- two `celery -A rcm worker` processes (prefork, one child each) and one `celery -A rcm beat`,
  with the production timings (lease, heartbeat, relay interval: rcm/settings.py);
- an organization with 835 claims to post and ready claims to batch (bench/ seeding), and a few
  more organizations whose "run now" scans are queued.

The web side is this process: Django's test client through the real views (pages answer as a
request would, with production's Redis cache), or the services a request calls.

Scenarios (each prints the time it took to recover, from the fault to the work done):
1. `kill -9` of the worker posting a large 835, and of the one building a large 837 batch,
   mid-run -> each done exactly once within two minutes (payments and claims counted).
2. Redis restarted (kill -9, started empty) while the outbox delivers welcome emails and while
   "run now" scans are queued -> every email sent once, every scan run once.
3. Redis down while a batch is created and a scan started through the pages -> a clear message,
   no 500; the work is done once Redis is back.
4. Two uploads of one 835 at the same instant -> one posts, one is a duplicate.
5. Three Redis restarts -> the workers and beat are still running and still consume tasks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
APP_ROLE, APP_PASSWORD = "parity_faults_app", "parity-faults-only"
PICKUP_DEADLINE = 120.0  # the "within two minutes"
SIZE_835 = int(os.environ.get("FAULTS_835_CLAIMS", "3000"))
SIZE_837 = int(os.environ.get("FAULTS_837_CLAIMS", "1500"))
EMAILS = int(os.environ.get("FAULTS_EMAILS", "150"))
SCAN_ORGS = 4
PASSWORD = "faults-only-pass-phrase-9"  # a throwaway database


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def wait_until(condition: Callable[[], bool], seconds: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Processes --------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of our own on a spare port; `restart()` is a crash: kill -9, start empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = spare_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=(self.workdir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_until(self.ping, 15, 0.1):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    beat: subprocess.Popen[bytes] | None = None
    started: int = 0

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "rcm", *args],
            cwd=ROOT,
            env=self.env,
            stdout=(self.logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes its pool children too
        )

    def start_worker(self) -> str:
        self.started += 1
        name = f"w{self.started}@faults"
        self.workers[name] = self._spawn(
            [
                "worker",
                "-n",
                name,
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            f"worker-w{self.started}",
        )
        return name

    def start_beat(self) -> None:
        self.beat = self._spawn(
            ["beat", "--loglevel=INFO", "-s", str(self.logs / "beat-schedule")], "beat"
        )

    def kill_worker(self, name: str) -> None:
        proc = self.workers.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def alive(self) -> bool:
        procs = [*self.workers.values(), *([self.beat] if self.beat else [])]
        return all(p.poll() is None for p in procs)

    def stop(self) -> None:
        procs = [*self.workers.values(), *([self.beat] if self.beat else [])]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.workers.clear()
        self.beat = None


def workers_answering() -> set[str]:
    from rcm.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception:
        return set()
    return {name for reply in replies for name in reply}


def worker_running(message_id: str) -> str | None:
    """The worker whose pool is running the outbox delivery of `message_id` (celery inspect)."""
    from rcm.celery import app

    try:
        active = app.control.inspect(timeout=1.0).active() or {}
    except Exception:
        return None
    for name, tasks in active.items():
        for task in tasks:
            if message_id in str(task.get("args")):
                return str(name)
    return None


# --- The database -----------------------------------------------------------------------------


def database_urls() -> tuple[str, str, str]:
    """(owner URL of the harness database, the workers' URL as the application role, name)."""
    base = os.environ.get("FAULTS_DATABASE_URL") or os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parity"
    )
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("test-faults needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = f"{parts.path.lstrip('/') or 'parity'}_faults"
    owner = urlunsplit(parts._replace(path=f"/{name}"))
    host = parts.hostname or "127.0.0.1"
    netloc = f"{APP_ROLE}:{APP_PASSWORD}@{host}:{parts.port or 5432}"
    return owner, urlunsplit(parts._replace(netloc=netloc, path=f"/{name}")), name


def recreate_database(owner_url: str, name: str, *, drop_only: bool = False) -> None:
    """Create the harness database afresh; `drop_only` drops it and the harness's role."""
    import psycopg
    from psycopg import sql

    maintenance = urlunsplit(urlsplit(owner_url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if drop_only:
            # Its grants went with the database; a run still using the role keeps it.
            with contextlib.suppress(psycopg.Error):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP_ROLE)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Data -------------------------------------------------------------------------------------


@dataclass
class World:
    org: Any
    biller: Any
    clearinghouse: Any
    text_835: str
    paid_835: Decimal
    claims_835: int
    batch_claim_ids: list[Any]
    scan_orgs: list[Any]


def seed_ready_claims(org: Any, prefix: str, count: int) -> list[Any]:
    """`count` ready 837P claims of one line each (bulk inserted, as bench/x12_837.py does)."""
    from claims.models import Claim, ClaimLine, ClaimStatus, ServiceEntry
    from credentialing.models import Provider
    from credentialing.rules import npi_with_check_digit
    from patients.models import Coverage, EpisodeOfCare, Patient, Payer

    dos = date(2026, 10, 5)
    payer, _ = Payer.objects.get_or_create(
        payer_id="BHP01", defaults={"name": "Bench Health Plan", "payer_type": "commercial"}
    )
    npi = npi_with_check_digit("155555555")
    provider = Provider.objects.filter(npi=npi).first() or Provider.objects.create(
        first_name="Lena", last_name="Park", npi=npi, taxonomy_code="1041C0700X",
        provider_type="lcsw", active_from=date(2024, 1, 1),
    )  # fmt: skip
    patients = Patient.objects.bulk_create(
        Patient(organization=org, mrn=f"{prefix}{i:05d}", first_name=f"Pat{i}",
                last_name=f"Faults{i}", date_of_birth=date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
                sex="FM"[i % 2], address_line1=f"{i} Elm Ave", city="Portland", state="OR",
                postal_code="97205")
        for i in range(count)
    )  # fmt: skip
    coverages = Coverage.objects.bulk_create(
        Coverage(organization=org, patient=p, payer=payer, member_id=f"{prefix}M{i:07d}",
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
              rendering_provider=provider, patient_control_number=f"{prefix}{i:08d}",
              status=ClaimStatus.READY, total_charge=Decimal("150.00"), statement_from=dos,
              statement_to=dos, level="1", diagnosis_codes=["F33.1"])
        for i, (p, e, c) in enumerate(zip(patients, episodes, coverages, strict=True))
    )  # fmt: skip
    entries = ServiceEntry.objects.bulk_create(
        ServiceEntry(organization=org, patient=cl.patient, episode=cl.episode, level="1",
                     rendering_provider=provider, date_of_service=dos, kind="psychotherapy",
                     service_code="90834", place_of_service="11", charge=Decimal("150.00"),
                     status="billed")
        for cl in claims
    )  # fmt: skip
    ClaimLine.objects.bulk_create(
        ClaimLine(organization=org, claim=cl, service_entry=entry, line_number=1,
                  service_code="90834", modifiers=[], units=1, charge=entry.charge,
                  date_of_service=dos, place_of_service="11", diagnosis_pointers=[1],
                  line_control_number=f"{cl.patient_control_number}-1", rendering_provider=provider)
        for cl, entry in zip(claims, entries, strict=True)
    )  # fmt: skip
    return [c.pk for c in claims]


def seed() -> World:
    sys.path.insert(0, str(ROOT / "bench"))
    from remit_835 import seed as seed_835  # bench/remit_835.py
    from x12_parse import synthesise_835  # bench/x12_parse.py

    from rcm.tenancy.context import tenant_context
    from rcm.tenancy.permissions import Role
    from submissions.services import clearinghouse_save
    from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
    from x12.remit835 import parse_835

    org = OrganizationFactory(
        name="Faults Behavioral Health", slug="faults", group_npi="1234567893",
        tax_id="93-1234567", taxonomy_code="261QM0801X", address_line1="100 River St",
        city="Portland", state="OR", postal_code="97204",
    )  # fmt: skip
    biller = MembershipFactory(
        organization=org, role=Role.BILLER, part2_access=True,
        user=UserFactory(email="bill@faults.example"),
    ).user  # fmt: skip
    text = synthesise_835(SIZE_835)
    parsed = parse_835(text)
    with tenant_context(org):
        seed_835(org, text)
        ids = seed_ready_claims(org, "BN", SIZE_837)
        ch = clearinghouse_save(
            name="Clearinghouse Inc", code="chi", receiver_name="Clearinghouse Inc",
            receiver_id="CLHSE01", submitter_id="RB12345", contact_name="Pat Biller",
            contact_phone="5035550100",
        )  # fmt: skip
    scan_orgs = [OrganizationFactory(slug=f"scan-{i}") for i in range(SCAN_ORGS)]
    paid = sum((r.payment_amount for r in parsed.remittances), Decimal("0"))
    return World(org, biller, ch, text, paid, len(parsed.claims), ids, scan_orgs)


# --- Scenarios --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float | None
    deadline: float
    detail: str


def _message(org: Any, key: str) -> Any:
    from rcm.outbox.models import OutboxMessage
    from rcm.tenancy.context import tenant_context

    with tenant_context(org):
        return OutboxMessage.objects.get(idempotency_key=key)


def scenario_kill(stack: Stack, world: World) -> list[Result]:
    """kill -9 of the worker mid-835 posting and of the one mid-837 build (found with celery
    inspect), each replaced by a new worker at once (a supervisor's restart)."""
    from django.conf import settings

    from denials import models as dm
    from denials.posting import _progress_redis, progress_key
    from denials.services import remittance_import_create
    from rcm import part2
    from rcm.tenancy.context import tenant_context
    from submissions.models import BatchClaim, BatchStatus, ControlNumberCounter, SubmissionBatch
    from submissions.services import batches_create

    org = world.org
    with tenant_context(org):
        imp = remittance_import_create(file_name="large.835", content=world.text_835, source="ui")
        batch = batches_create(
            clearinghouse=world.clearinghouse, claim_ids=world.batch_claim_ids,
            scopes=part2.ORGANIZATION,
        )[0]  # fmt: skip
    post_key, build_key = f"remittance-post:{imp.pk}", f"batch-build:{batch.pk}"
    post_msg, build_msg = str(_message(org, post_key).pk), str(_message(org, build_key).pk)
    killed: dict[str, tuple[float, str]] = {}

    def mid_post() -> str | None:
        value = _progress_redis().get(progress_key(imp.pk))
        with tenant_context(org):
            pending = dm.RemittanceImport.objects.get(pk=imp.pk).status == "pending"
        return f"{int(value)} of {world.claims_835} claims posted" if value and pending else None

    def mid_build() -> str | None:
        with tenant_context(org):
            b = SubmissionBatch.objects.get(pk=batch.pk)
        if b.status == BatchStatus.BUILDING and b.progress_done > 0:
            return f"{b.progress_done} of {b.claim_count} claims rendered"
        return None

    def kill_when_mid_run() -> bool:
        for label, message_id, mid in (("835", post_msg, mid_post), ("837", build_msg, mid_build)):
            if label in killed:
                continue
            where = mid()
            if where is None:
                continue
            worker = worker_running(message_id)
            if worker is None or worker not in stack.workers:
                continue
            stack.kill_worker(worker)
            killed[label] = (time.monotonic(), where)
            log(f"kill -9 {worker} mid-{label} ({where}); a new worker starts")
            stack.start_worker()
        return len(killed) == 2

    wait_until(kill_when_mid_run, 90, 0.2)
    results = []
    # 835: posted once, every claim, one payment, the money equal to BPR02.
    if "835" not in killed:
        results.append(Result("kill -9 mid-835 posting", False, None, PICKUP_DEADLINE,
                              "the posting was never caught mid-run (raise FAULTS_835_CLAIMS)"))  # fmt: skip
    else:
        start, where = killed["835"]

        def posted() -> bool:
            with tenant_context(org):
                return dm.RemittanceImport.objects.get(pk=imp.pk).status == "posted"

        ok = wait_until(posted, PICKUP_DEADLINE - (time.monotonic() - start))
        took = time.monotonic() - start
        with tenant_context(org):
            payments = dm.Payment.objects.filter(remittance_import=imp).count()
            trace_payments = dm.Payment.objects.filter(trace_number="EFT0000001").count()
            claims = dm.RemittanceClaim.objects.filter(payment__remittance_import=imp)
            n_claims = claims.count()
            paid = sum(claims.values_list("paid", flat=True), Decimal("0"))
        message = _message(org, post_key)
        good = (ok and payments == 1 and trace_payments == 1 and n_claims == world.claims_835
                and paid == world.paid_835 and message.status == "done")  # fmt: skip
        results.append(Result(
            "kill -9 mid-835 posting", good, took if ok else None, PICKUP_DEADLINE,
            f"killed at {where}; {payments} payment, {n_claims}/{world.claims_835} claims, "
            f"paid {paid} (BPR02 {world.paid_835}), outbox {message.status} "
            f"after {message.attempts} committed run(s)",
        ))  # fmt: skip
    if "837" not in killed:
        results.append(Result("kill -9 mid-837 batch build", False, None, PICKUP_DEADLINE,
                              "the build was never caught mid-run (raise FAULTS_837_CLAIMS)"))  # fmt: skip
    else:
        start, where = killed["837"]

        picked: list[float] = []

        def released() -> bool:
            # Picked up: a second delivery has leased the message (the dead run's lease lapsed).
            if not picked and _message(org, build_key).attempts >= 2:
                picked.append(time.monotonic() - start)
            with tenant_context(org):
                return SubmissionBatch.objects.get(pk=batch.pk).status == BatchStatus.RELEASED

        ok = wait_until(released, PICKUP_DEADLINE - (time.monotonic() - start))
        took = time.monotonic() - start
        with tenant_context(org):
            b = SubmissionBatch.objects.get(pk=batch.pk)
            items = BatchClaim.objects.filter(batch=b).count()
            submitted = BatchClaim.objects.filter(batch=b, claim__status="submitted").count()
            counter = ControlNumberCounter.objects.get().last_interchange
        files = list(Path(stack.env["X12_OUTBOUND_DIR"]).rglob("*"))
        files = [f for f in files if f.is_file()]
        message = _message(org, build_key)
        good = (ok and items == SIZE_837 and submitted == SIZE_837 and counter == 1
                and len(files) == 1 and message.status == "done")  # fmt: skip
        results.append(Result(
            "kill -9 mid-837 batch build", good, took if ok else None, PICKUP_DEADLINE,
            f"killed at {where}; picked up again after "
            f"{f'{picked[0]:.1f} s' if picked else '?'} (lease {settings.OUTBOX_LEASE_SECONDS} s, "
            f"relay every {settings.OUTBOX_RELAY_INTERVAL_SECONDS} s); batch {b.status} with {items}/{SIZE_837} claims, "
            f"{len(files)} file written, ISA13 {b.interchange_control_number} (counter {counter}),"
            f" outbox {message.status} after {message.attempts} run(s)",
        ))  # fmt: skip
    return results


def _emails_sent(mail_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in mail_dir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                counts[line[4:].strip()] = counts.get(line[4:].strip(), 0) + 1
    return counts


def scenario_redis_restart_while_delivering(
    stack: Stack, world: World, redis: RedisServer
) -> Result:
    from authorizations.services import authorization_scan_request
    from rcm.outbox.models import OutboxMessage
    from rcm.tenancy.context import tenant_context
    from rcm.tenancy.permissions import Role
    from rcm.tenancy.services import membership_add

    name = "Redis restarted while the outbox delivers and scans are queued"
    emails = [f"member{i}@faults.example" for i in range(EMAILS)]
    with tenant_context(world.org):
        for email in emails:
            membership_add(email=email, role=Role.CLINICIAN, password=PASSWORD)
    from django.utils import timezone

    for org in world.scan_orgs:
        with tenant_context(org):
            authorization_scan_request(now=timezone.now())

    def welcome_done() -> int:
        with tenant_context(world.org):
            return OutboxMessage.objects.filter(
                topic="tenancy.welcome_email", status="done"
            ).count()

    wait_until(lambda: welcome_done() >= 10, 30, 0.1)
    before = welcome_done()
    redis.restart()
    start = time.monotonic()
    log(f"Redis restarted (kill -9, empty) with {before} of {EMAILS} emails delivered")

    def all_done() -> bool:
        scans = 0
        for org in world.scan_orgs:
            with tenant_context(org):
                scans += OutboxMessage.objects.filter(topic="authorizations.scan", status="done",
                                                      attempts=1).count()  # fmt: skip
        return welcome_done() == EMAILS and scans == SCAN_ORGS

    ok = wait_until(all_done, PICKUP_DEADLINE)
    took = time.monotonic() - start
    sent = _emails_sent(Path(stack.env["FAULTS_MAIL_DIR"]))
    once = sum(1 for e in emails if sent.get(e) == 1)
    twice = sum(1 for e in emails if sent.get(e, 0) > 1)
    with tenant_context(world.org):
        reruns = OutboxMessage.objects.filter(topic="tenancy.welcome_email", attempts__gt=1).count()
    scans_once = 0
    for org in world.scan_orgs:
        with tenant_context(org):
            scans_once += OutboxMessage.objects.filter(
                topic="authorizations.scan", status="done", attempts=1
            ).count()
    good = ok and once == EMAILS and twice == 0 and scans_once == SCAN_ORGS and reruns == 0
    return Result(
        name, good, took if ok else None, PICKUP_DEADLINE,
        f"{before} of {EMAILS} emails delivered at the restart; after: {once} sent once, "
        f"{twice} twice; {scans_once}/{SCAN_ORGS} scans run once",
    )  # fmt: skip


def scenario_redis_down_requests(stack: Stack, world: World, redis: RedisServer) -> Result:
    from django.contrib.messages import get_messages
    from django.test import Client

    from authorizations.services import SCAN_STARTED
    from rcm.outbox.models import OutboxMessage
    from rcm.tenancy.context import tenant_context
    from submissions.models import BatchStatus, SubmissionBatch

    name = "Redis down while a batch is created and a scan started (pages)"
    with tenant_context(world.org):
        seed_ready_claims(world.org, "BX", 3)
        existing = set(SubmissionBatch.objects.values_list("pk", flat=True))
        scans_before = OutboxMessage.objects.filter(topic="authorizations.scan").count()
    client = Client()
    client.force_login(world.biller)
    base = f"/o/{world.org.slug}/"
    redis.kill()
    log("Redis stopped; a biller creates a batch and presses run now")
    t = time.monotonic()
    created = client.post(f"{base}claims/batches/", {"clearinghouse": str(world.clearinghouse.pk)})
    shown = client.get(created["Location"]) if created.status_code == 302 else created
    batch_messages = [str(m) for m in get_messages(shown.wsgi_request)]
    scan = client.post(f"{base}authorizations/scan/")
    inbox = client.get(scan["Location"]) if scan.status_code == 302 else scan
    scan_messages = [str(m) for m in get_messages(inbox.wsgi_request)]
    answered = time.monotonic() - t
    pages_ok = (
        created.status_code == 302 and shown.status_code == 200
        and any("queued" in m for m in batch_messages)
        and scan.status_code == 302 and inbox.status_code == 200 and SCAN_STARTED in scan_messages
    )  # fmt: skip
    time.sleep(3)
    redis.start()
    start = time.monotonic()
    log("Redis is back")

    def done() -> bool:
        with tenant_context(world.org):
            new = SubmissionBatch.objects.exclude(pk__in=existing)
            built = new.exists() and all(b.status == BatchStatus.RELEASED for b in new)
            scans = OutboxMessage.objects.filter(topic="authorizations.scan", status="done")
            return built and scans.count() == scans_before + 1

    ok = wait_until(done, PICKUP_DEADLINE)
    took = time.monotonic() - start
    return Result(
        name, ok and pages_ok, took if ok else None, PICKUP_DEADLINE,
        f"batch page {created.status_code}->{shown.status_code} {batch_messages}; run now "
        f"{scan.status_code}->{inbox.status_code} {scan_messages}; both answered in "
        f"{answered:.1f} s; built and scanned after Redis returned: {ok}",
    )  # fmt: skip


def scenario_two_uploads(stack: Stack, world: World) -> Result:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client

    from denials import models as dm
    from rcm.tenancy.context import tenant_context

    sys.path.insert(0, str(ROOT / "bench"))
    from x12_parse import synthesise_835

    name = "two uploads of one 835 at the same instant"
    content = synthesise_835(20).replace("EFT0000001", "EFT0000002").encode()
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def upload(n: int) -> None:
        try:
            client = Client()
            client.force_login(world.biller)
            barrier.wait(10)
            response = client.post(
                f"/o/{world.org.slug}/denials/remittances/",
                {"file": SimpleUploadedFile(f"same-{n}.835", content)},
            )
            codes.append(response.status_code)
        finally:
            connection.close()

    start = time.monotonic()
    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    import hashlib

    sha = hashlib.sha256(content).hexdigest()

    def statuses() -> list[str]:
        with tenant_context(world.org):
            return sorted(
                dm.RemittanceImport.objects.filter(sha256=sha).values_list("status", flat=True)
            )

    ok = wait_until(lambda: statuses() == ["duplicate", "posted"], 60)
    took = time.monotonic() - start
    with tenant_context(world.org):
        payments = dm.Payment.objects.filter(trace_number="EFT0000002").count()
    good = ok and sorted(codes) == [302, 302] and payments == 1
    return Result(
        name, good, took if ok else None, 60.0,
        f"answers {sorted(codes)}; imports {statuses()}; {payments} payment posted",
    )  # fmt: skip


def scenario_three_restarts(stack: Stack, world: World, redis: RedisServer) -> Result:
    from rcm.outbox.models import OutboxMessage
    from rcm.tenancy.context import tenant_context
    from rcm.tenancy.permissions import Role
    from rcm.tenancy.services import membership_add

    name = "workers consume after three Redis restarts"
    for n in range(3):
        redis.restart()
        log(f"Redis restart {n + 1} of 3")
        time.sleep(4)
    start = time.monotonic()
    with tenant_context(world.org):
        membership = membership_add(
            email="after-restarts@faults.example", role=Role.CLINICIAN, password=PASSWORD
        )
    key = f"welcome:{membership.pk}"

    def delivered() -> bool:
        with tenant_context(world.org):
            return OutboxMessage.objects.filter(
                topic="tenancy.welcome_email", payload__membership_id=str(membership.pk),
                status="done",
            ).exists()  # fmt: skip

    # Sooner than the relay's overdue age: the message sent on commit was consumed directly.
    from django.conf import settings

    deadline = float(settings.OUTBOX_RELAY_AFTER_SECONDS)
    ok = wait_until(delivered, deadline, 0.2)
    took = time.monotonic() - start
    answering = workers_answering()
    alive = stack.alive()
    good = ok and alive and set(stack.workers) <= answering
    return Result(
        name, good, took if ok else None, deadline,
        f"processes alive: {alive}; answering ping: {sorted(answering)}; a new message was "
        f"delivered {'directly' if ok else 'NOT within the relay age'} ({key})",
    )  # fmt: skip


# --- Main -------------------------------------------------------------------------------------


def main() -> int:
    began = time.monotonic()
    if shutil.which("redis-server") is None:
        raise SystemExit("test-faults needs redis-server on PATH")
    keep = os.environ.get("FAULTS_KEEP", "") not in {"", "0", "false"}
    workdir = Path(tempfile.mkdtemp(prefix="parity-faults-"))
    owner_url, app_url, db_name = database_urls()
    redis = RedisServer(workdir)
    stack: Stack | None = None
    results: list[Result] = []
    try:
        redis.start()
        recreate_database(owner_url, db_name)
        dirs = {k: workdir / k for k in ("outbound", "inbound", "mail")}
        for d in dirs.values():
            d.mkdir()
        common = {
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "REDIS_URL": redis.url,
            "X12_OUTBOUND_DIR": str(dirs["outbound"]),
            "X12_INBOUND_DIR": str(dirs["inbound"]),
            "FAULTS_MAIL_DIR": str(dirs["mail"]),
        }
        os.environ.update(common, DATABASE_URL=owner_url)
        import django

        django.setup()
        # The harness reports what the outbox did; a send refused while Redis is down is expected.
        logging.getLogger("rcm.outbox.services").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="No directory at")
        from django.core.management import call_command

        from rcm.tenancy.management.commands.setup_db_roles import ensure_app_role

        log(f"database {db_name}: migrating; Redis on port {redis.port}; work dir {workdir}")
        call_command("migrate", verbosity=0)
        ensure_app_role(APP_ROLE, APP_PASSWORD)
        world = seed()
        log(f"seeded: an 835 of {world.claims_835} claims, {SIZE_837} ready claims, "
            f"{SCAN_ORGS} more organizations")  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "OUTBOX_"))}
        env.update(common, DATABASE_URL=app_url)
        stack = Stack(env=env, logs=workdir)
        stack.start_worker()
        stack.start_worker()
        stack.start_beat()
        if not wait_until(lambda: set(stack.workers) <= workers_answering(), 90):  # type: ignore[union-attr]
            raise RuntimeError("the Celery workers did not start (see their logs)")
        log(f"workers {sorted(stack.workers)} and beat running "
            f"(set up in {time.monotonic() - began:.0f} s)")  # fmt: skip

        scenarios: list[Callable[[], list[Result] | Result]] = [
            lambda: scenario_kill(stack, world),  # type: ignore[arg-type]
            lambda: scenario_redis_restart_while_delivering(stack, world, redis),  # type: ignore[arg-type]
            lambda: scenario_redis_down_requests(stack, world, redis),  # type: ignore[arg-type]
            lambda: scenario_two_uploads(stack, world),  # type: ignore[arg-type]
            lambda: scenario_three_restarts(stack, world, redis),  # type: ignore[arg-type]
        ]
        for run in scenarios:
            try:
                outcome = run()
            except Exception as exc:  # a scenario that crashes fails; the others still run
                outcome = Result(getattr(run, "__name__", "scenario"), False, None, 0, repr(exc))
                import traceback

                traceback.print_exc()
            for result in outcome if isinstance(outcome, list) else [outcome]:
                results.append(result)
                took = f"{result.seconds:6.1f} s" if result.seconds is not None else "   --   "
                log(f"{'PASS' if result.ok else 'FAIL'} {result.name}: recovered in {took} "
                    f"(deadline {result.deadline:.0f} s) - {result.detail}")  # fmt: skip
                if not redis.ping():
                    redis.start()
    finally:
        if stack is not None:
            stack.stop()
        redis.kill()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if not keep:
            with contextlib.suppress(Exception):
                recreate_database(owner_url, db_name, drop_only=True)
    failed = [r for r in results if not r.ok]
    print("\nFault tests (make test-faults)")
    for r in results:
        took = f"{r.seconds:6.1f} s" if r.seconds is not None else "   --   "
        print(f"  {'PASS' if r.ok else 'FAIL'}  {took} / {r.deadline:3.0f} s  {r.name}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed "
          f"in {time.monotonic() - began:.0f} s")  # fmt: skip
    if failed or keep:
        print(f"logs: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed or len(results) < 6 else 0
