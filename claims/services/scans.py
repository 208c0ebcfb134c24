"""The daily scan of recorded charges a provider cannot bill."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from claims.models import (
    EntryStatus,
    ServiceEntry,
)
from claims.services.building import _primary_on
from credentialing.services import BillabilityQuery
from patients.models import (
    Coverage,
)

# --- Daily scan: charges a provider cannot bill ----------------------------------------------------


def claims_unbillable_scan(*, today: date) -> list[Any]:
    """Alert credentialing about recorded charges whose rendering provider cannot bill the
    patient's payer on the date of service (not enrolled, pending, licence expired, ...).
    Set-based; deduplicated per provider x payer x reason, so running it twice raises nothing new."""
    from credentialing.services import unbillable_service_alerts

    entries = list(
        ServiceEntry.objects.filter(status=EntryStatus.OPEN).values_list(
            "patient_id",
            "rendering_provider_id",
            "date_of_service",
            "service_code",
            "service_facility_id",
        )
    )
    coverages: dict[Any, list[Coverage]] = defaultdict(list)
    for coverage in Coverage.objects.filter(patient_id__in={e[0] for e in entries}):
        coverages[coverage.patient_id].append(coverage)
    queries = []
    for patient_id, provider_id, day, code, facility_id in entries:
        primary = _primary_on(coverages[patient_id], day)
        if primary is not None:
            queries.append(BillabilityQuery(provider_id, primary.payer_id, day, code, facility_id))
    return unbillable_service_alerts(queries=queries, today=today)
