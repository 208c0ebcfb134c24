"""The replica router where no replica is configured (every other test run): everything reads
and writes on the primary, and nothing migrates anywhere else."""

from __future__ import annotations

import pytest
from django.conf import settings

from patients.models import Patient
from rcm import replica

pytestmark = pytest.mark.skipif(
    "replica" in settings.DATABASES, reason="a replica is configured (make test-replica)"
)


def test_without_a_replica_reads_stay_on_the_primary() -> None:
    assert not replica.replica_usable()
    with replica.replica_reads() as alias:
        assert alias == "default"
        assert replica.ReplicaRouter().db_for_read(Patient) == "default"


def test_the_router_writes_and_migrates_only_on_the_primary() -> None:
    router = replica.ReplicaRouter()
    assert router.db_for_write(Patient) == "default"
    assert router.allow_migrate("default", "patients") is True
    assert router.allow_migrate("replica", "patients") is False
