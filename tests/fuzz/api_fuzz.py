"""Fuzz the REST API against its own OpenAPI schema with schemathesis (`make api-fuzz`).

Creates a throwaway test database (`test_<database name>_fuzz`), one organization with an API key
holding every key scope and one row of every tenant model (tests/tenant_data.py, the isolation
probe's data), serves the app on a free local port, then runs `schemathesis run` against
/api/v1/schema/ with a fixed seed and checks: no 5xx, responses match their documented schema and
status codes, schema-breaking requests are rejected. Prints schemathesis's summary and exits with
its status (non-zero on any failure).

    API_FUZZ_EXAMPLES=5 API_FUZZ_SEED=16 python -m tests.fuzz.api_fuzz [extra schemathesis args]

API_FUZZ_PHASES (default `examples,fuzzing`, what CI runs) may add `coverage` (schemathesis's
deterministic boundary values: a few thousand more cases) and `stateful`; API_FUZZ_WORKERS
(default 2) sets schemathesis's concurrency. docs/contributing.md ("API fuzzing") has the
nightly command.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CHECKS = (
    "not_a_server_error,response_schema_conformance,status_code_conformance,negative_data_rejection"
)


def _setup_database() -> tuple[Any, str]:
    """Returns the connection and the database name it had before (to restore on the way out)."""
    from django.conf import settings
    from django.db import connection

    original = settings.DATABASES["default"]["NAME"]
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = f"test_{settings.DATABASES['default']['NAME']}_fuzz"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    if connection.vendor == "postgresql":
        from rcm.tenancy.management.commands.setup_db_roles import ensure_app_role

        ensure_app_role(settings.DATABASE_APP_ROLE)
    return connection, original


def _seed() -> str:
    from rcm.tenancy.context import tenant_context
    from rcm.tenancy.permissions import API_KEY_SCOPES
    from rcm.tenancy.services import api_key_create
    from tests import clock
    from tests.factories import OrganizationFactory
    from tests.tenant_data import build_tenant_data

    org = OrganizationFactory(name="Fuzz Behavioral Health", slug="fuzz")
    build_tenant_data(org)
    with tenant_context(org):
        _, raw = api_key_create(
            name="api fuzz", scopes=list(API_KEY_SCOPES), created_by=None, now=clock.now()
        )
    return str(raw)


def _serve() -> tuple[Any, int]:
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Thousands of requests: schemathesis reports the ones that matter."""

    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), threaded=True, request_handler=QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")
    import django

    django.setup()
    connection, original_name = _setup_database()
    started = time.monotonic()
    server = None
    try:
        key = _seed()
        connection.close()
        server, port = _serve()
        # Thousands of 400s and 404s are the point; a 500's traceback still prints. (After
        # get_wsgi_application(), which configures logging again.)
        logging.getLogger("django.request").setLevel(logging.ERROR)
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"http://127.0.0.1:{port}/api/v1/schema/",
            "--checks",
            CHECKS,
            "--max-examples",
            os.environ.get("API_FUZZ_EXAMPLES", "5"),
            "--seed",
            os.environ.get("API_FUZZ_SEED", "16"),
            "--phases",
            os.environ.get("API_FUZZ_PHASES", "examples,fuzzing"),
            # One worker: with two threads, Hypothesis parsing lambdas' source (ast) at once
            # trips CPython 3.11.7's thread-unsafe AST recursion counter ("AST constructor
            # recursion depth mismatch", python/cpython#106905), failing a run at random.
            "--workers",
            os.environ.get("API_FUZZ_WORKERS", "1"),
            "--header",
            f"Authorization: Bearer {key}",
            "--no-shrink",
            "--suppress-health-check",
            "all",
            *argv,
        ]
        status = subprocess.call(command)  # noqa: S603 (our own venv's schemathesis)
    finally:
        if server is not None:
            server.shutdown()
        connection.close()
        connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
    print(f"api-fuzz: {time.monotonic() - started:.0f} s, exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
