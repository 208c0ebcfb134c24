"""One row of every fhir_api model, for the isolation probe."""

from __future__ import annotations

from fhir_api.models import ExportLevel, ExportStatus, FhirExport, FhirExportFile
from rcm.tenancy.models import ApiKey, Organization
from tests import clock


def build(org: Organization) -> None:
    export = FhirExport.objects.create(
        api_key=ApiKey.objects.first(),
        level=ExportLevel.SYSTEM,
        resource_types=["Patient"],
        scopes=["patients:read", "fhir:export"],
        fingerprint=f"probe-{org.slug}",
        request_url="https://parity.example/fhir/r4/$export",
        status=ExportStatus.DONE,
        requested_at=clock.now(),
        finished_at=clock.now(),
    )
    FhirExportFile.objects.create(
        export=export, resource_type="Patient", count=0, content="", patient_ids=[]
    )
