"""A real streaming-replication pair for `make test-replica`: a primary PostgreSQL cluster and a
hot standby made from it with pg_basebackup, both of their own (a folder under /tmp, ports 5434
and 5435 by default), so the machine's own PostgreSQL is not touched.

    python -m tests.replica.cluster start    # prints the two URLs
    python -m tests.replica.cluster stop     # stops both and removes the folder

Needs the PostgreSQL server binaries (Debian's postgresql package: initdb, pg_ctl,
pg_basebackup). Run as root, the clusters run as the `postgres` user."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASE = Path(os.environ.get("REPLICA_TEST_DIR", Path(tempfile.gettempdir()) / "parity-replica"))
PRIMARY_PORT = int(os.environ.get("REPLICA_TEST_PRIMARY_PORT", "5434"))
STANDBY_PORT = int(os.environ.get("REPLICA_TEST_STANDBY_PORT", "5435"))


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run(  # noqa: S603 (our own fixed command)
            [found, "--bindir"], capture_output=True, text=True, check=True
        )
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        sys.exit("test-replica: PostgreSQL server binaries (initdb) not found")
    return versions[-1].parent


def _as_postgres(*command: str | Path) -> None:
    args = [str(c) for c in command]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 (PostgreSQL tools)


def _conf(datadir: Path, port: int) -> None:
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{BASE}'\nwal_level = replica\nmax_wal_senders = 5\n"
            "hot_standby = on\nfsync = off\nfull_page_writes = off\n"
        )


def stop() -> None:
    bindir = _bindir()
    for name in ("standby", "primary"):
        datadir = BASE / name
        if (datadir / "postmaster.pid").exists():
            _as_postgres(bindir / "pg_ctl", "-D", datadir, "-m", "immediate", "stop")
    shutil.rmtree(BASE, ignore_errors=True)


def pg_ctl(name: str, action: str) -> None:
    """Start or stop one of the two (the tests stop the standby to see the fallback)."""
    bindir = _bindir()
    datadir = BASE / name
    extra = ["-w", "-l", str(BASE / f"{name}.log")] if action == "start" else ["-m", "fast"]
    _as_postgres(bindir / "pg_ctl", "-D", datadir, *extra, action)


def start() -> None:
    stop()
    bindir = _bindir()
    BASE.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(BASE, "postgres", "postgres")
    primary, standby = BASE / "primary", BASE / "standby"
    # initdb's pg_hba.conf with -A trust already lets local replication connections in.
    _as_postgres(bindir / "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "--no-sync")
    _conf(primary, PRIMARY_PORT)
    pg_ctl("primary", "start")
    _as_postgres(
        bindir / "pg_basebackup", "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres",
        "-D", standby, "-R", "-X", "stream", "--no-sync",
    )  # fmt: skip
    with (standby / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {STANDBY_PORT}\n")
    pg_ctl("standby", "start")
    print(f"primary postgres://postgres@127.0.0.1:{PRIMARY_PORT}/parity")
    print(f"standby postgres://postgres@127.0.0.1:{STANDBY_PORT}/parity")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "stop"])
    args = parser.parse_args()
    start() if args.action == "start" else stop()
