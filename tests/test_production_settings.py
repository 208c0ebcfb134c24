"""Production settings refuse to be unsafe (rcm/settings.py, "Production hardening"): required
variables, `check --deploy` clean, and the headers on real responses."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _production_env(**changes: str | None) -> dict[str, str]:
    # Not what this run's environment set for tests: the browser tests' conftest sets
    # DJANGO_ALLOW_ASYNC_UNSAFE in the worker, which `check --deploy` rightly refuses.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SECURE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="rcm.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="parity.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parity"),
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _manage(*args: str, **changes: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and manage.py)
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=_production_env(**changes),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_finds_nothing_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_the_process_refuses_to_start_without_a_required_variable(name: str) -> None:
    result = _manage("check", **{name: None})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} must be set" in result.stderr
    # An empty value is no better than none.
    result = _manage("check", **{name: ""})
    assert result.returncode != 0 and f"{name} must be set" in result.stderr


def test_development_needs_none_of_them() -> None:
    result = _manage("check", DEBUG="true", SECRET_KEY=None, ALLOWED_HOSTS=None, DATABASE_URL=None)
    assert result.returncode == 0, result.stderr


def test_the_proxy_header_is_read_from_the_environment() -> None:
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    run = subprocess.run(  # noqa: S603
        [PYTHON, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTOCOL=https"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip() == "('HTTP_X_FORWARDED_PROTOCOL', 'https')", run.stderr


def test_production_defaults() -> None:
    from django.conf import settings

    # tests/settings.py only turns off the HTTPS redirect; the rest is production's.
    assert settings.DEBUG is False
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS and settings.SECURE_HSTS_PRELOAD
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF
    assert settings.SECURE_REFERRER_POLICY == "same-origin"


@pytest.mark.django_db
def test_a_signed_in_page_carries_csp_no_store_and_the_security_headers(
    manager: Any, client_for: Any
) -> None:
    response = client_for(manager).get("/o/riverbend/patients/", secure=True)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src-attr")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_the_api_is_never_cached(owner: Any, client_for: Any) -> None:
    response = client_for(owner).get("/api/v1/me", secure=True)
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    # Unauthenticated API answers too: whatever the path, /api/ is not cached.
    from django.test import Client

    assert "no-store" in Client().get("/api/v1/me")["Cache-Control"]


@pytest.mark.django_db
def test_a_page_before_sign_in_has_the_csp_too() -> None:
    from django.test import Client

    response = Client().get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_http_redirects_to_https_when_the_redirect_is_on(manager: Any, client_for: Any) -> None:
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = client_for(manager).get("/o/riverbend/patients/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_a_proxy_saying_https_counts_as_https(manager: Any, client_for: Any) -> None:
    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
    ):
        response = client_for(manager).get("/o/riverbend/patients/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response


def test_no_template_has_an_inline_script_or_handler() -> None:
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
