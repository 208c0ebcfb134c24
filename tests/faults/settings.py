"""Settings of the fault harness (tests/faults/harness.py) and of the Celery worker and beat
processes it starts: production's settings (rcm/settings.py: Redis cache and broker, DEBUG off)
with test values for the variables production must set, and email written to files so the
harness can count what was sent."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "parity-faults-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from rcm.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("FAULTS_MAIL_DIR", "/tmp/parity-faults-mail")  # noqa: S108
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
