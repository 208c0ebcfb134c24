"""Shared fixtures: two organizations from the start, and one persona per role.

Every persona works at Riverbend (`org`) unless said otherwise. Harborview (`other_org`) is the
other tenant: nothing of it may ever be visible from Riverbend.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import API_KEY_SCOPES, Role
from rcm.tenancy.services import api_key_create
from tests import clock
from tests.clock import ClockError, suite_now
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

_SUITE_CLOCK: Any = None


def pytest_configure(config: Any) -> None:
    """Freeze the clock for the whole run (tests/clock.py says at which instant and why)."""
    import time_machine

    global _SUITE_CLOCK
    try:
        instant = suite_now()
    except ClockError as error:
        raise pytest.UsageError(str(error)) from None
    _SUITE_CLOCK = time_machine.travel(instant, tick=False)
    _SUITE_CLOCK.start()


def pytest_unconfigure(config: Any) -> None:
    if _SUITE_CLOCK is not None:
        _SUITE_CLOCK.stop()


def pytest_report_header(config: Any) -> str:
    return f"frozen clock: {suite_now().isoformat()} (PARITY_TEST_TODAY moves it)"


# Each xdist worker ("gw0", "gw1", …) has a test database of its own (pytest-django suffixes the
# name); everything else a worker touches outside it is made its own here.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Any fixed bigint: the advisory lock that serializes creating the cluster-wide application role.
APP_ROLE_LOCK = 0x50415249  # "PARI"


@contextmanager
def _cluster_lock(key: int) -> Iterator[None]:
    """A lock across every database of the PostgreSQL cluster. Advisory locks belong to one
    database, so every worker (and every other test run on the machine) takes it in the
    maintenance database, on a connection of its own."""
    with connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _ensure_app_role_concurrently(role: str) -> None:
    """CREATE ROLE and ALTER ROLE act on the whole cluster: two workers creating their test
    databases at once would race ("role already exists", "tuple concurrently updated"). Under the
    lock they take turns; a run that does not take it (an older checkout) is retried."""
    from rcm.tenancy.management.commands.setup_db_roles import ensure_app_role

    for attempt in range(5):
        try:
            with _cluster_lock(APP_ROLE_LOCK):
                ensure_app_role(role)
            return
        except DatabaseError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


# --- One migrated template per run, cloned for each xdist worker ------------------------------
# Migrating the test database takes 13-25 s on the 2-core machine, and two workers migrating at
# once take nearly twice that. Under xdist the first worker migrates a template
# (`test_<name>_template`, its comment naming the run) while the others wait for it; each worker's
# database is then a copy (CREATE DATABASE … TEMPLATE, under a second), which pytest-django keeps
# (its migrate finds nothing to do). Each worker drops its copy at the end, the controller the
# template. --reuse-db, --create-db and --nomigrations keep pytest-django's own way.


def _template_name() -> str:
    return f"test_{settings.DATABASES['default']['NAME']}_template"


def _uses_a_template(config: Any) -> bool:
    return (
        hasattr(config, "workerinput")
        and connection.vendor == "postgresql"
        and not config.getvalue("reuse_db")
        and not config.getvalue("create_db")
        and not config.getvalue("nomigrations")
    )


def _run_of(cursor: Any, database: str) -> str | None:
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [database],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _build_template(template: str, run: str) -> None:
    """Create and migrate `template` with Django's own test-database creation, then put the
    connection back on the worker's settings."""
    settings_dict = connection.settings_dict
    name, worker_database = settings_dict["NAME"], settings_dict["TEST"]["NAME"]
    settings_dict["TEST"]["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    finally:
        connection.close()  # CREATE DATABASE … TEMPLATE needs it unused
        settings_dict["NAME"], settings_dict["TEST"]["NAME"] = name, worker_database
        settings.DATABASES["default"]["NAME"] = name
    with connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        quoted = connection.ops.quote_name(template)
        cursor.execute(f"COMMENT ON DATABASE {quoted} IS %s", [run])


@pytest.fixture(scope="session")
def _worker_database_from_template(
    request: Any, django_db_modify_db_settings: None, django_db_blocker: Any
) -> bool:
    if not _uses_a_template(request.config):
        return False
    run = request.config.workerinput["testrunuid"]
    template, target = _template_name(), connection.settings_dict["TEST"]["NAME"]
    with django_db_blocker.unblock(), _cluster_lock(zlib.crc32(template.encode())):
        with connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
            built = _run_of(cursor, template) == run
        if not built:
            _build_template(template, run)
        with connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
            quote = connection.ops.quote_name
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {quote(target)} WITH TEMPLATE {quote(template)}")
    return True


@pytest.fixture(scope="session")
def django_db_keepdb(django_db_keepdb: bool, _worker_database_from_template: bool) -> bool:
    """A worker's copy of the template is complete: pytest-django keeps it, not re-creates it."""
    return django_db_keepdb or _worker_database_from_template


def pytest_sessionfinish(session: Any) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    if connection.vendor != "postgresql":
        return
    from pytest_django.plugin import blocking_manager_key

    unblocked = config.stash[blocking_manager_key].unblock()
    with unblocked, connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        quoted = connection.ops.quote_name(_template_name())
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: Any, django_db_blocker: Any, _worker_database_from_template: bool
) -> Iterator[None]:
    """The test database gets the application role with production's grants, so RLS tests can
    run as that role (SET LOCAL ROLE) rather than as the superuser that creates the database."""
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            _ensure_app_role_concurrently(settings.DATABASE_APP_ROLE)
    yield
    if _worker_database_from_template:  # kept by pytest-django (keepdb): this worker's copy
        with django_db_blocker.unblock():
            quoted = connection.ops.quote_name(connection.settings_dict["NAME"])
            connection.close()
            with connection._nodb_cursor() as cursor:  # type: ignore[attr-defined]
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@pytest.fixture(scope="session", autouse=True)
def _worker_owns_its_folders_and_broker(tmp_path_factory: Any) -> Iterator[None]:
    """Claim files and acknowledgments default to folders of this worker (tests that need them
    still set their own), and the Celery broker's Redis keys carry the worker's test database
    and name, so a real worker started by one test never takes another worker's messages."""
    from rcm.celery import app as celery_app

    x12 = tmp_path_factory.mktemp("x12")
    prefix = f"{settings.DATABASES['default']['NAME']}:{WORKER}:"
    options = {**celery_app.conf.broker_transport_options, "global_keyprefix": prefix}
    with override_settings(
        X12_OUTBOUND_DIR=str(x12 / "outbound"), X12_INBOUND_DIR=str(x12 / "inbound")
    ):
        previous = celery_app.conf.broker_transport_options
        celery_app.conf.broker_transport_options = options
        try:
            yield
        finally:
            celery_app.conf.broker_transport_options = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db: Any) -> Organization:
    return OrganizationFactory(
        name="Riverbend Recovery Center", slug="riverbend", time_zone="America/Chicago"
    )


@pytest.fixture
def other_org(db: Any) -> Organization:
    return OrganizationFactory(name="Harborview Behavioral Health", slug="harborview")


def _member(org: Organization, role: str, email: str, **kwargs: Any) -> Any:
    return MembershipFactory(
        organization=org, role=role, user=UserFactory(email=email), **kwargs
    ).user


@pytest.fixture
def owner(org: Organization) -> Any:
    """Olivia owns Riverbend: members, API keys and settings are hers to manage."""
    return _member(org, Role.OWNER, "olivia@riverbend.example")


@pytest.fixture
def biller(org: Organization) -> Any:
    """Bill works claims, authorizations and denials at Riverbend; he has the Part 2 grant."""
    return _member(org, Role.BILLER, "bill@riverbend.example", part2_access=True)


@pytest.fixture
def manager(org: Organization) -> Any:
    """Mona manages the clinic: she reads everything and changes nothing."""
    return _member(org, Role.MANAGER, "mona@riverbend.example")


@pytest.fixture
def clinician(org: Organization) -> Any:
    """Carl is a therapist: he records his own sessions."""
    return _member(org, Role.CLINICIAN, "carl@riverbend.example")


@pytest.fixture
def credentialer(org: Organization) -> Any:
    """Cora keeps provider credentials and payer enrollments."""
    return _member(org, Role.CREDENTIALING, "cora@riverbend.example")


@pytest.fixture
def auditor(org: Organization) -> Any:
    """Audrey audits: she reads everything, including the audit trail, and writes nothing."""
    return _member(org, Role.AUDITOR, "audrey@riverbend.example")


@pytest.fixture
def outsider(other_org: Organization) -> Any:
    """Charlie works at Harborview and must see nothing of Riverbend."""
    return _member(other_org, Role.OWNER, "charlie@harborview.example")


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for() -> Callable[..., APIClient]:
    """An API client holding a fresh key of `org` with the given scopes (default: all)."""

    def make(org: Organization, scopes: list[str] | None = None) -> APIClient:
        with tenant_context(org):
            _, raw = api_key_create(
                name="test key", scopes=scopes or API_KEY_SCOPES, created_by=None, now=clock.now()
            )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@contextmanager
def app_role(org: Organization | None = None) -> Iterator[Any]:
    """A cursor running as the application role (RLS applies), with `org` as the tenant."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {settings.DATABASE_APP_ROLE}")
        cursor.execute(
            "SELECT set_config('app.current_org', %s, true)", [str(org.pk) if org else ""]
        )
        yield cursor
        # On an error the enclosing savepoint's rollback undoes both settings.
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT set_config('app.current_org', '', true)")


@pytest.fixture
def requires_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row-level security needs PostgreSQL (make test runs on it)")
