"""`python -m rcm.check_services`: say plainly when PostgreSQL or Redis is not reachable, before
the tests start, instead of failing each test with a traceback."""

from __future__ import annotations

import os
import sys

HINT = (
    "Start it on this machine, or run `docker compose up -d db redis` (then DATABASE_URL="
    "postgres://parity:parity-owner-dev@127.0.0.1:5432/parity), or point DATABASE_URL / "
    "REDIS_URL at a running server."
)


def main() -> int:
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    try:
        import environ
        import psycopg

        cfg = environ.Env.db_url_config(database_url)
        with psycopg.connect(
            host=cfg.get("HOST") or "127.0.0.1",
            port=int(cfg.get("PORT") or 5432),
            user=cfg.get("USER") or "postgres",
            password=cfg.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ):
            pass
    except Exception as exc:
        problems.append(
            f"PostgreSQL is not reachable at {database_url!r} ({type(exc).__name__}: {exc})."
        )
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis is not reachable at {redis_url!r} ({type(exc).__name__}: {exc}).")
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(HINT, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
