from __future__ import annotations

from alerts.models import Area
from alerts.services import AlertSpec, alerts_raise
from rcm.tenancy.models import Organization


def build(org: Organization) -> None:
    alerts_raise(
        specs=[
            AlertSpec(
                area=Area.AUTHORIZATIONS,
                kind="probe",
                dedupe_key="probe",
                title=f"Probe {org.slug}",
            )
        ]
    )
