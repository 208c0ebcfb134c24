"""The settings the test suite runs with (pyproject.toml, Makefile): production settings
(rcm/settings.py, DEBUG off, CSP and every header on) with test values for the variables
production must set, and HTTP allowed (the test client and the live server speak plain HTTP;
tests that need HTTPS pass `secure=True`)."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "parity-tests-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parity")

from rcm.settings import *  # noqa: F403

# Rate-limit counters stay in each test process (a Redis cache would carry them from one run to
# the next); the Redis cache itself is production's (rcm/settings.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Real SFTP in tests (tests/submissions/sftp_server.py); a test of the demo mode sets a folder.
X12_SFTP_DEMO_DIR = ""

# `make test-replica` (tests/replica): a real standby behind DATABASE_REPLICA_URL. The test
# database is created on the primary only and reaches the standby by replication, so Django must
# not create (or flush) one there: the alias is a test mirror, pointed back at the standby by
# tests/replica/conftest.py once the database exists.
if "replica" in DATABASES:  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
