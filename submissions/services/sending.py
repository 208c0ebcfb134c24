"""Releasing a rendered batch (its claims become submitted), failing it, handing it to the
transport, and the whole build of one batch."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ClaimStatus
from claims.services import TRANSITIONS
from patients.services import part2_disclosure_record
from rcm.audit.services import audit_record, audit_record_many
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from submissions.models import (
    BatchStatus,
    ClaimRejection,
    SubmissionBatch,
)
from submissions.services.building import OPEN_BATCH, batch_number
from submissions.services.rendering import (
    BatchRefused,
    RenderedBatch,
    batch_prepare,
    batch_render,
    pyx12_validate,
)
from submissions.transport import sender_for

# --- Release -----------------------------------------------------------------------------------


def batch_release(*, batch_id: Any, rendered: RenderedBatch) -> SubmissionBatch:
    """Record the validated file and move its claims to submitted, in one transaction; Part 2
    claims get their disclosure logged with the consent that covered them."""
    assert ClaimStatus.SUBMITTED in TRANSITIONS[ClaimStatus.READY]
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != BatchStatus.BUILDING:
            raise DomainError(f"The batch is {batch.get_status_display().lower()}, not building.")
        ids = [c.pk for c in rendered.claims]
        locked = {
            c.pk: c.status
            for c in Claim.objects.select_for_update().filter(pk__in=ids).only("id", "status")
        }
        moved = [c for c in rendered.claims if locked.get(c.pk) != ClaimStatus.READY]
        if moved:
            raise BatchRefused(
                [
                    f"Claim {c.patient_control_number} changed while the file was built."
                    for c in moved
                ]
            )
        now = timezone.now()
        Claim.objects.filter(pk__in=ids).update(
            status=ClaimStatus.SUBMITTED, submitted_at=now, updated_at=now
        )
        note = f"In batch {batch.interchange_control_number:09d}"
        ClaimEvent.objects.bulk_create(
            ClaimEvent(organization_id=batch.organization_id, claim_id=c.pk, from_status=ClaimStatus.READY,
                       to_status=ClaimStatus.SUBMITTED, actor=batch.created_by, note=note)
            for c in rendered.claims
        )  # fmt: skip
        audit_record_many(
            "claim.transition",
            [
                (c, {"from": ClaimStatus.READY, "to": ClaimStatus.SUBMITTED})
                for c in rendered.claims
            ],
        )
        ClaimRejection.objects.filter(claim_id__in=ids, resolved_at__isnull=True).update(
            resolved_at=now
        )
        for claim in rendered.claims:
            if claim.is_part2:
                part2_disclosure_record(
                    patient=claim.patient,
                    payer=claim.payer,
                    consent=rendered.part2_consents[claim.pk],
                    what=f"837 batch {batch.pk}",
                    obj=claim,
                )
        content = rendered.text
        batch.content = content
        batch.sha256 = hashlib.sha256(content.encode("latin-1")).hexdigest()
        batch.status = BatchStatus.RELEASED
        batch.released_at = now
        batch.progress_done = batch.progress_total
        batch.error = ""
        batch.save()
        audit_record(
            action="batch.release",
            obj=batch,
            detail={"claims": len(ids), "sha256": batch.sha256},
        )
    return batch


def batch_fail(*, batch_id: Any, reasons: Sequence[str]) -> SubmissionBatch:
    """Nothing is released: the claims stay ready, the reasons are shown on the batch page."""
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return batch
        batch.status = BatchStatus.FAILED
        batch.error = "\n".join(reasons)[:5000]
        batch.save(update_fields=["status", "error", "updated_at"])
        audit_record(
            action="batch.fail", obj=batch, outcome="failure", detail={"reasons": len(reasons)}
        )
    return batch


def batch_send(*, batch: SubmissionBatch) -> SubmissionBatch:
    """Hand the released file to the clearinghouse's transport (folder or SFTP). Safe to call
    again: the same name and bytes are written."""
    if batch.status == BatchStatus.FAILED or not batch.content:
        raise DomainError("Only a released batch can be sent.")
    org = Organization.objects.get(pk=batch.organization_id)
    try:
        delivery = sender_for(batch.clearinghouse, org.slug).send(
            name=batch.file_name, content=batch.content.encode("latin-1")
        )
        detail = f"Delivered to {delivery.where} at {timezone.now():%Y-%m-%d %H:%M} UTC"
    except DomainError as error:
        detail = f"Not delivered: {error.message}"
    with transaction.atomic():
        SubmissionBatch.objects.filter(pk=batch.pk).update(transport_detail=detail[:300])
        audit_record(
            action="batch.send", obj=batch, detail={"delivered": detail.startswith("Deliv")}
        )
    batch.transport_detail = detail[:300]
    return batch


def _set_progress(batch_id: Any, done: int) -> None:
    SubmissionBatch.objects.filter(pk=batch_id, progress_total__gte=done).update(progress_done=done)


def batch_build(*, organization_id: Any, batch_id: Any) -> SubmissionBatch:
    """Number, render, validate with pyx12, release and send one batch. Each phase commits on
    its own so the page sees progress; any refusal fails the batch with the reasons (nothing is
    released). Calling it again for a released batch changes nothing; calling it again for a
    batch left `building` (its worker died) builds it again from its claims with the control
    numbers it already has (numbers are given once, under the counter's lock)."""
    with tenant_context(organization_id):
        batch = SubmissionBatch.objects.get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return batch
        batch = batch_number(batch_id=batch_id)

    def progress(done: int) -> None:
        with tenant_context(organization_id):
            _set_progress(batch_id, done)

    try:
        with tenant_context(organization_id):
            batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
            prepared = batch_prepare(batch=batch)
        rendered = prepared.render(progress)  # outside the transaction: progress commits
        errors = pyx12_validate(rendered.text)
        if errors:
            raise BatchRefused([f"pyx12: {e}" for e in errors[:20]])
        with tenant_context(organization_id):
            batch = batch_release(batch_id=batch_id, rendered=rendered)
    except DomainError:
        # Another run of the same build (a delivery after an expired lease) finished first.
        with tenant_context(organization_id):
            batch = SubmissionBatch.objects.get(pk=batch_id)
        if batch.status in OPEN_BATCH:
            raise
        return batch
    except BatchRefused as refused:
        with tenant_context(organization_id):
            return batch_fail(batch_id=batch_id, reasons=refused.reasons)
    with tenant_context(organization_id):
        batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
        return batch_send(batch=batch)


def batch_regenerate(*, batch: SubmissionBatch) -> str:
    """The released file rendered again from the database with the same control numbers and
    time: byte-identical, or refused if anything it holds has changed since."""
    if batch.status in OPEN_BATCH or batch.status == BatchStatus.FAILED:
        raise DomainError("Only a released batch can be regenerated.")
    try:
        text = batch_render(batch=batch).text
    except BatchRefused as refused:
        raise DomainError(" ".join(refused.reasons)) from refused
    if hashlib.sha256(text.encode("latin-1")).hexdigest() != batch.sha256:
        raise DomainError(
            "The claims in this batch changed since it was released, so the file cannot be "
            "regenerated identically; the released file is kept as it was."
        )
    audit_record(action="batch.regenerate", obj=batch, detail={"sha256": batch.sha256})
    return text
