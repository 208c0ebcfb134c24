"""Releasing a rendered batch (its claims become submitted), failing it, handing it to the
transport, and the whole build of one batch."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ClaimStatus
from claims.services import TRANSITIONS
from patients.services import part2_disclosure_record
from rcm import part2
from rcm.audit.services import audit_record, audit_record_many
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from submissions.models import (
    BatchClaim,
    BatchStatus,
    ClaimRejection,
    SubmissionBatch,
)
from submissions.selectors import ready_claims
from submissions.services.building import (
    BATCH_BUILD_TOPIC,
    OPEN_BATCH,
    batch_number,
    batch_start,
)
from submissions.services.rendering import (
    BatchRefused,
    BuildProblem,
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
        # A domain event for the apps above (webhooks), as claim_transition records one.
        outbox_enqueue(
            topic="claims.status_changed",
            payload={
                "changes": [
                    {"claim_id": str(c.pk), "from": ClaimStatus.READY, "to": ClaimStatus.SUBMITTED}
                    for c in rendered.claims
                ]
            },
            idempotency_key=f"claims.status_changed:batch:{batch.pk}",
        )
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
        batch.failures = []
        batch.save()
        audit_record(
            action="batch.release",
            obj=batch,
            detail={"claims": len(ids), "sha256": batch.sha256},
        )
    return batch


def batch_fail(
    *, batch_id: Any, reasons: Sequence[str], problems: Sequence[BuildProblem] = ()
) -> SubmissionBatch:
    """Nothing is released: the claims stay ready, the reasons (with the claims and fields they
    concern) are shown on the batch page until a retry."""
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return batch
        batch.status = BatchStatus.FAILED
        batch.error = "\n".join(reasons)[:5000]
        batch.failures = [p.as_json() for p in problems][:200]
        batch.save(update_fields=["status", "error", "failures", "updated_at"])
        audit_record(
            action="batch.fail", obj=batch, outcome="failure", detail={"reasons": len(reasons)}
        )
    return batch


def batch_retry(*, batch: SubmissionBatch, actor: Any, scopes: Collection[str]) -> SubmissionBatch:
    """Build a failed batch again (after its data was fixed), from the same claims: each must
    still be ready, in no other open batch, and one the caller may see (42 CFR Part 2); a claim
    that is not is named and nothing changes. The build is a new outbox message; control numbers
    are taken only when the file is written."""
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.FAILED:
            raise DomainError(
                f"Only a failed batch can be retried; this one is "
                f"{batch.get_status_display().lower()}."
            )
        entries = BatchClaim.objects.filter(batch=batch)
        if part2.hidden_count(entries, scopes):
            raise DomainError(
                "This batch holds claims you may not see (42 CFR Part 2): ask a member with "
                "the Part 2 grant to retry it."
            )
        ids = set(entries.values_list("claim_id", flat=True))
        still_ready = set(
            ready_claims(scopes=scopes)
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        stale = sorted(
            Claim.objects.filter(pk__in=ids - still_ready).values_list(
                "patient_control_number", flat=True
            )
        )
        if stale:
            raise DomainError(
                "These claims are no longer ready or are in another open batch: "
                + ", ".join(stale)
                + ". Fix and re-scrub them, or build a new batch without them.",
                field="claim_ids",
            )
        batch.status = BatchStatus.QUEUED
        batch.error = ""
        batch.failures = []
        batch.progress_done = 0
        batch.attempts += 1
        if not batch.interchange_control_number:
            batch.envelope_created = None  # the file will carry the time it is built
        batch.save(
            update_fields=[
                "status", "error", "failures", "progress_done", "attempts", "envelope_created",
                "updated_at",
            ]
        )  # fmt: skip
        audit_record(action="batch.retry", obj=batch, detail={"attempt": batch.attempts})
        outbox_enqueue(
            topic=BATCH_BUILD_TOPIC,
            payload={"batch_id": str(batch.pk)},
            idempotency_key=f"batch-build:{batch.pk}:{batch.attempts}",
        )
    return batch


def batch_send(*, batch: SubmissionBatch) -> SubmissionBatch:
    """Hand the released file to the clearinghouse's transport (folder or SFTP). Safe to call
    again: the same name and bytes are written."""
    if batch.status == BatchStatus.FAILED or not batch.content:
        raise DomainError("Only a released batch can be sent.")
    org = Organization.objects.get(pk=batch.organization_id)
    sent_at = None
    try:
        delivery = sender_for(batch.clearinghouse, org.slug).send(
            name=batch.file_name, content=batch.content.encode("latin-1")
        )
        # The time is kept apart (sent_at) so pages show it in the organization's time zone.
        detail = f"Delivered to {delivery.where}"
        sent_at = timezone.now()
    except DomainError as error:
        detail = f"Not delivered: {error.message}"
    changes: dict[str, Any] = {"transport_detail": detail[:300]}
    if sent_at is not None:
        changes["sent_at"] = sent_at
    with transaction.atomic():
        SubmissionBatch.objects.filter(pk=batch.pk).update(**changes)
        audit_record(
            action="batch.send", obj=batch, detail={"delivered": detail.startswith("Deliv")}
        )
    for name, value in changes.items():
        setattr(batch, name, value)
    return batch


def _set_progress(batch_id: Any, done: int) -> None:
    SubmissionBatch.objects.filter(pk=batch_id, progress_total__gte=done).update(progress_done=done)


def batch_build(*, organization_id: Any, batch_id: Any) -> SubmissionBatch:
    """Check, number, render, release and send one batch. The file is first rendered and
    validated with pyx12 without control numbers; only a file that passes takes its ISA13 /
    GS06 / ST02 (under the counter's lock) and is written with them, so a refused build uses
    none. Each phase commits on its own so the page sees progress; any refusal fails the batch
    with the reasons, claims and fields (nothing is released). Calling it again for a released
    batch changes nothing; calling it again for a batch left `building` (its worker died) builds
    it again from its claims with the control numbers it already has."""
    with tenant_context(organization_id):
        if batch_start(batch_id=batch_id) is None:
            return SubmissionBatch.objects.get(pk=batch_id)

    def progress(done: int) -> None:
        with tenant_context(organization_id):
            _set_progress(batch_id, done)

    try:
        with tenant_context(organization_id):
            batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
            prepared = batch_prepare(batch=batch)
        checked = prepared.render(progress)  # outside the transaction: progress commits
        errors = pyx12_validate(checked.text)
        if errors:
            raise BatchRefused([f"pyx12: {e}" for e in errors[:20]])
        with tenant_context(organization_id):
            batch = batch_number(batch_id=batch_id)
        rendered = prepared.numbered(batch).render()
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
            return batch_fail(batch_id=batch_id, reasons=refused.reasons, problems=refused.problems)
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
