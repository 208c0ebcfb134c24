"""Celery tasks of electronic submission: building a submission batch, and picking up
acknowledgments from the inbound folders.

The tasks keep the names they had in the claims app (`claims.tasks.*`), so messages already
queued and the beat schedule's entries still find them."""

from __future__ import annotations

from celery import shared_task

from rcm.tenancy.fanout import OrganizationTurn, for_each_organization
from submissions.models import Clearinghouse
from submissions.transport import inbound_folder


@shared_task(name="claims.tasks.batch_build")
def batch_build(organization_id: str, batch_id: str) -> str:
    """Number, render, validate (pyx12), release and send one batch; progress is recorded on the
    batch row as it goes. A second call for a released batch changes nothing."""
    from submissions.services import batch_build as build

    return build(organization_id=organization_id, batch_id=batch_id).status


@shared_task(name="claims.tasks.acknowledgments_pickup")
def acknowledgments_pickup() -> int:
    """Apply the 999 / 277CA files waiting in each clearinghouse's inbound folder. Files already
    applied change nothing (their hash is known). Returns how many files were seen."""
    from submissions.services import acknowledgments_import_folder

    def pickup(turn: OrganizationTurn) -> int:
        seen = 0
        codes = Clearinghouse.objects.filter(is_active=True).values_list("code", flat=True)
        for code in list(codes):
            folder = inbound_folder(turn.organization.slug, code)
            if folder.is_dir():
                seen += len(acknowledgments_import_folder(folder=folder))
        return seen

    return sum(seen for _, seen in for_each_organization(pickup, name="acknowledgments_pickup"))
