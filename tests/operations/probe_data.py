from __future__ import annotations

from rcm.operations.models import ScanRun, ScanRunStatus
from rcm.tenancy.models import Organization
from tests import clock


def build(org: Organization) -> None:
    ScanRun.objects.create(
        scan="authorizations.daily", day=clock.today(), status=ScanRunStatus.FAILED, error="probe"
    )
