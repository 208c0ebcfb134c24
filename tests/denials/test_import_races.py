"""Two uploads of the same 835 at once, and a Redis that fails while a file posts."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import redis
from django.db import connections

from denials import posting, services
from denials.models import Payment, RemittanceImport
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal


def _file(claims: int = 1) -> str:
    return build_835(
        [
            Clp(f"NOT-OURS-{n}", "1", D("150"), D("150"), lines=[Svc("90834", D("150"), D("150"))])
            for n in range(claims)
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_file_at_the_same_instant_record_one_import(practice):
    """Two connections upload the same bytes at once: exactly one import is pending, the other
    is a duplicate naming it, whatever the timing."""
    text = _file()
    start = threading.Barrier(2)
    results: list[RemittanceImport] = []
    errors: list[BaseException] = []

    def upload(name: str) -> None:
        try:
            with tenant_context(practice.org):
                start.wait(10)
                results.append(services.remittance_import_create(file_name=name, content=text))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    for _ in range(5):
        results.clear()
        with tenant_context(practice.org):
            RemittanceImport.objects.all().delete()
        threads = [threading.Thread(target=upload, args=(n,)) for n in ("a.835", "b.835")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(r.status for r in results) == ["duplicate", "pending"]
        first = next(r for r in results if r.status == "pending")
        second = next(r for r in results if r.status == "duplicate")
        assert second.summary == {"rows_posted": 0, "duplicate_of": str(first.pk)}
        with tenant_context(practice.org):
            assert RemittanceImport.objects.filter(status="pending").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_upload_while_the_first_is_pending_in_another_connection_is_a_duplicate(
    practice,
):
    """The first upload is still inside its transaction (not committed) when the second checks:
    the second waits for it, then answers duplicate — never a second pending row."""
    text = _file()
    inserted = threading.Event()
    release = threading.Event()
    first_id: list[str] = []

    def first_upload() -> None:
        try:
            from django.db import transaction

            with tenant_context(practice.org), transaction.atomic():
                imp = services.remittance_import_create(file_name="first.835", content=text)
                first_id.append(str(imp.pk))
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=first_upload)
    worker.start()
    assert inserted.wait(10)
    timer = threading.Timer(0.5, release.set)
    timer.start()
    try:
        with tenant_context(practice.org):
            second = services.remittance_import_create(file_name="second.835", content=text)
    finally:
        release.set()
        worker.join()
        timer.cancel()
    assert second.status == "duplicate"
    assert second.summary["duplicate_of"] == first_id[0]
    with tenant_context(practice.org):
        assert RemittanceImport.objects.exclude(status="duplicate").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_live_import_when_the_check_misses_it(practice, monkeypatch):
    """Without the lock and with a check that saw nothing (the race the lock closes), the
    partial unique constraint still makes the second upload a duplicate."""
    text = _file()
    with tenant_context(practice.org):
        first = services.remittance_import_create(file_name="a.835", content=text)
        assert first.status == "pending"
        real = services._live_import_of
        calls: list[str] = []

        def blind_once(sha: str) -> str:
            calls.append(sha)
            return "" if len(calls) == 1 else real(sha)

        monkeypatch.setattr(services, "tenant_advisory_lock", lambda name: None)
        monkeypatch.setattr(services, "_live_import_of", blind_once)
        second = services.remittance_import_create(file_name="b.835", content=text)
        assert second.status == "duplicate"
        assert second.summary["duplicate_of"] == str(first.pk)
        assert RemittanceImport.objects.filter(status="pending").count() == 1
        # A rejected or duplicate import does not block: a new upload after the first is
        # rejected would be accepted; here the first posts and a third upload is a duplicate.
        services.remittance_post(import_id=first.pk, today=today())
        monkeypatch.undo()
        third = services.remittance_import_create(file_name="c.835", content=text)
        assert third.status == "duplicate"


@pytest.mark.django_db
def test_sequential_uploads_the_second_while_the_first_is_pending_is_a_duplicate(practice):
    text = _file()
    with tenant_context(practice.org):
        first = services.remittance_import_create(file_name="a.835", content=text)
        second = services.remittance_import_create(file_name="a-again.835", content=text)
        assert (first.status, second.status) == ("pending", "duplicate")
        assert second.summary["duplicate_of"] == str(first.pk)
        posted = services.remittance_post(import_id=first.pk, today=today())
        assert posted.status == "posted"
        assert services.remittance_post(import_id=second.pk, today=today()).status == "duplicate"


@pytest.mark.django_db
def test_a_redis_failure_while_posting_never_fails_the_import(practice, monkeypatch, settings):
    """Progress is best-effort: Redis refusing every write leaves the posting untouched, and the
    poster stops trying after the first failure."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/3"
    monkeypatch.setattr(posting, "PROGRESS_EVERY", 1)
    attempts: list[int] = []

    def refuse(import_id: object, done: int) -> None:
        attempts.append(done)
        raise redis.ConnectionError("Redis is restarting")

    monkeypatch.setattr(posting, "progress_write", refuse)
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name="a.835", content=_file(claims=3))
        imp = services.remittance_post(import_id=imp.pk, today=today())
        assert imp.status == "posted" and imp.processed_claims == 3
        assert Payment.objects.filter(remittance_import=imp).count() == 1
    # One attempt inside the posting (then it stops trying), one after the commit.
    assert attempts == [1, 3]


@pytest.mark.django_db
def test_progress_reads_fall_back_to_the_row_when_redis_fails(practice, monkeypatch, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/3"

    class Down:
        def get(self, key: str) -> None:
            raise redis.ConnectionError("down")

    monkeypatch.setattr(posting, "_progress_redis", lambda: Down())
    with tenant_context(practice.org):
        imp = services.remittance_import_create(file_name="a.835", content=_file(claims=2))
        imp.status, imp.processed_claims = "running", 1
        assert posting.progress_get(imp) == 1
