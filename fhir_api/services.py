"""Bulk export (`$export`): start, run (an outbox handler), cancel, and the audited download.

A request records a `FhirExport` and an outbox message in one transaction; the handler writes one
NDJSON file per resource type, committing each (the status URL shows the progress), and checks
for a cancellation between types. The requester's scopes are stored with the request, so the
export holds exactly what that requester may read (42 CFR Part 2 included or not), and only the
requester (the same API key, or the same member) may read its files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction

from fhir_api import selectors
from fhir_api.models import ACTIVE_STATUSES, ExportLevel, ExportStatus, FhirExport, FhirExportFile
from rcm import part2
from rcm.audit.services import audit_record
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization

logger = logging.getLogger(__name__)

EXPORT_TOPIC = "fhir_api.export"
EXPORT_CHUNK = 500


@dataclass(frozen=True)
class Requester:
    """Who asks: a member (`user`) or an API key (`api_key`), with the scopes they hold."""

    user: Any
    api_key: Any
    scopes: frozenset[str]

    def owns(self, export: FhirExport) -> bool:
        if self.api_key is not None:
            return export.api_key_id == self.api_key.pk
        return export.api_key_id is None and export.requested_by_id == getattr(self.user, "pk", 0)

    def key(self) -> str:
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        return f"user:{getattr(self.user, 'pk', '')}"


def _fingerprint(
    requester: Requester, level: str, types: Sequence[str], since: datetime | None
) -> str:
    parts = [requester.key(), level, ",".join(sorted(types)), since.isoformat() if since else ""]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def export_start(
    *,
    requester: Requester,
    level: str,
    resource_types: Sequence[str],
    since: datetime | None,
    request_url: str,
    now: datetime,
) -> tuple[FhirExport, bool]:
    """Record an export and queue its run; the same request while one is queued or running
    returns that one (created False). The caller has checked the types against its scopes."""
    fingerprint = _fingerprint(requester, level, resource_types, since)
    running = FhirExport.objects.filter(fingerprint=fingerprint, status__in=ACTIVE_STATUSES).first()
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            export = FhirExport.objects.create(
                requested_by=None if requester.api_key is not None else requester.user,
                api_key=requester.api_key,
                level=level,
                resource_types=list(resource_types),
                since=since,
                scopes=sorted(requester.scopes),
                fingerprint=fingerprint,
                request_url=request_url[:2000],
                requested_at=now,
            )
            outbox_enqueue(
                topic=EXPORT_TOPIC,
                payload={"export_id": str(export.pk)},
                idempotency_key=f"fhir-export:{export.pk}",
            )
            audit_record(
                action="fhir.export_start",
                obj=export,
                detail={"level": level, "types": list(resource_types), "since": str(since or "")},
            )
    except IntegrityError:
        # The same request raced this one in: answer the one that won.
        running = FhirExport.objects.filter(
            fingerprint=fingerprint, status__in=ACTIVE_STATUSES
        ).first()
        if running is None:
            raise
        return running, False
    return export, True


def export_cancel(*, export: FhirExport, now: datetime) -> FhirExport:
    """Cancel a queued or running export, or discard a finished one's files (the client is done
    with them); either way its files are deleted. Safe to call twice."""
    with transaction.atomic():
        if export.status in ACTIVE_STATUSES:
            FhirExport.objects.filter(pk=export.pk, status__in=ACTIVE_STATUSES).update(
                status=ExportStatus.CANCELLED, finished_at=now, progress="Cancelled."
            )
        FhirExportFile.objects.filter(export=export).delete()
        audit_record(action="fhir.export_cancel", obj=export)
    export.refresh_from_db()
    return export


def _claim(export_id: Any) -> FhirExport | None:
    """Move a queued export to running (or pick up a running one whose worker died: the
    outbox delivers it again); None when it is finished or cancelled."""
    export = FhirExport.objects.select_for_update().filter(pk=export_id).first()
    if export is None or export.status not in ACTIVE_STATUSES:
        return None
    export.status = ExportStatus.RUNNING
    export.progress = f"0 of {len(export.resource_types)} resource types"
    export.save(update_fields=["status", "progress", "updated_at"])
    # A run that died half-way left files: start over.
    FhirExportFile.objects.filter(export=export).delete()
    return export


def _still_running(export_id: Any) -> bool:
    return FhirExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).exists()


def _write_file(
    *, export: FhirExport, org: Organization, resource_type: str, today: date
) -> FhirExportFile:
    scopes = frozenset(export.scopes)
    lines: list[str] = []
    patient_ids: set[str] = set()
    has_part2 = False
    if resource_type == "Organization":
        from fhir_api import resources

        lines.append(json.dumps(resources.organization_tenant(org), separators=(",", ":")))
    rows = selectors.export_rows(resource_type=resource_type, scopes=scopes, since=export.since)
    render = selectors.SOURCES[resource_type].render
    for obj in rows.iterator(chunk_size=EXPORT_CHUNK):
        lines.append(json.dumps(render(obj, org, today), separators=(",", ":")))
        patient = selectors.patient_id_of(resource_type, obj)
        if patient is not None:
            patient_ids.add(str(patient))
        if not has_part2 and part2.rule_for(type(obj)) is not None:
            has_part2 = part2.is_part2(obj)
    return FhirExportFile.objects.create(
        export=export,
        resource_type=resource_type,
        count=len(lines),
        content="".join(f"{line}\n" for line in lines),
        patient_ids=sorted(patient_ids),
        has_part2=has_part2,
    )


def export_run(*, organization_id: Any, export_id: Any, today: date, now: datetime) -> None:
    """Write the export's files, one resource type per transaction (the status URL shows the
    progress between them), stopping at a cancellation. Running it again for a finished or
    cancelled export changes nothing; for one left running, it starts over."""
    with tenant_context(organization_id):
        export = _claim(export_id)
        if export is None:
            return
        org = Organization.objects.get(pk=organization_id)
    types = list(export.resource_types)
    try:
        for done, resource_type in enumerate(types):
            with tenant_context(organization_id):
                if not _still_running(export.pk):
                    return  # cancelled while it ran
                _write_file(export=export, org=org, resource_type=resource_type, today=today)
                FhirExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                    progress=f"{done + 1} of {len(types)} resource types ({resource_type})"
                )
    except Exception as exc:
        logger.exception("fhir export %s failed", export.pk)
        with tenant_context(organization_id):
            FhirExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.FAILED, error=str(exc)[:2000], finished_at=now
            )
            FhirExportFile.objects.filter(export=export).delete()
        return
    with tenant_context(organization_id):
        FhirExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE, finished_at=now, progress="Done."
        )


def export_file_download(*, export_file: FhirExportFile) -> str:
    """The file's NDJSON, recording the disclosure: which patients' records left, and whether
    Part 2 records were among them (the audit trail redacts them for auditors without the
    grant)."""
    patient_ids = list(export_file.patient_ids)
    audit_record(
        action="fhir.export",
        obj=export_file,
        patient_id=uuid.UUID(patient_ids[0]) if len(patient_ids) == 1 else None,
        detail={
            "export_id": str(export_file.export_id),
            "resource_type": export_file.resource_type,
            "rows": export_file.count,
            "patients": len(patient_ids),
            "patient_ids": patient_ids[:500],
            "format": "application/fhir+ndjson",
        },
        part2=export_file.has_part2,
    )
    return export_file.content


def export_types(
    *, level: str, requested: Sequence[str] | None, scopes: Collection[str]
) -> list[str]:
    """The resource types an export holds: those asked for (`_type`), else every type of the
    level the caller may read. Checks are the view's (it names the parameter)."""
    base = (
        selectors.PATIENT_COMPARTMENT if level == ExportLevel.PATIENT else selectors.RESOURCE_TYPES
    )
    if requested:
        return [t for t in base if t in requested]
    return [t for t in base if selectors.READ_SCOPES[t] in scopes]
