"""Queueing batches from ready claims and numbering them (control numbers)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from claims.models import Claim
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from submissions.models import (
    BatchClaim,
    BatchStatus,
    Clearinghouse,
    ControlNumberCounter,
    SubmissionBatch,
)
from submissions.selectors import OPEN_BATCH, ready_claims

__all__ = ["BATCH_BUILD_TOPIC", "OPEN_BATCH", "batch_number", "batch_start", "batches_create"]

BATCH_BUILD_TOPIC = "submissions.batch_build"


# --- Creating batches ------------------------------------------------------------------------------


def batches_create(
    *,
    clearinghouse: Clearinghouse,
    actor: Any = None,
    claim_ids: Iterable[Any] | None = None,
    expected_count: int | None = None,
    scopes: Collection[str],
) -> list[SubmissionBatch]:
    """Queue one batch per claim form from ready claims (all of them, or the ones given) that
    are in no other open batch. Each batch's build is an outbox message (`submissions.batch_build`)
    written in the same transaction, so it is built even if the broker is down right now.

    `scopes` are the member's or the API key's (a page or the API): only the claims they may see
    are batched (42 CFR Part 2); a given id of one they may not see is refused like an unknown
    one. `part2.ORGANIZATION` is the organization as a whole, which batches every ready claim. Sending a Part 2
    claim to the payer still needs a consent that covers it (checked when the file is built)."""
    if not clearinghouse.is_active:
        raise DomainError(f"{clearinghouse.name} is not active.", field="clearinghouse")
    with transaction.atomic():
        claims = ready_claims(scopes=scopes).select_for_update(of=("self",))
        if claim_ids is not None:
            ids = {_claim_id(value) for value in claim_ids}
            claims = claims.filter(pk__in=ids)
        by_form: dict[str, list[Claim]] = defaultdict(list)
        for claim in claims.order_by("patient_control_number"):
            by_form[claim.claim_form].append(claim)
        if claim_ids is not None:
            _refuse_unready(ids, {c.pk for chosen in by_form.values() for c in chosen}, scopes)
        if not by_form:
            raise DomainError("There is no ready claim to send.", field="claim_ids")
        found = sum(len(chosen) for chosen in by_form.values())
        if expected_count is not None and found != expected_count:
            # "All N on this filter": the biller saw N; send exactly what they saw or nothing.
            raise DomainError(
                f"The filter now matches {found} ready claims, not the {expected_count} shown: "
                "nothing was batched; check the selection again.",
                field="claim_ids",
            )
        batches = []
        for form in sorted(by_form):
            chosen = by_form[form]
            batch = SubmissionBatch.objects.create(
                clearinghouse=clearinghouse,
                claim_form=form,
                usage=clearinghouse.usage,
                claim_count=len(chosen),
                progress_total=len(chosen),
                total_charge=sum((c.total_charge for c in chosen), 0),
                created_by=actor,
            )
            BatchClaim.objects.bulk_create(
                BatchClaim(
                    organization_id=batch.organization_id, batch=batch, claim=claim, position=n
                )
                for n, claim in enumerate(chosen, start=1)
            )
            audit_record(
                action="batch.create",
                obj=batch,
                detail={"claims": len(chosen), "claim_form": form},
            )
            outbox_enqueue(
                topic=BATCH_BUILD_TOPIC,
                payload={"batch_id": str(batch.pk)},
                idempotency_key=f"batch-build:{batch.pk}",
            )
            batches.append(batch)
    return batches


def _claim_id(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise DomainError(f"{str(value)[:40]!r} is not a claim id.", field="claim_ids") from None


def _refuse_unready(ids: set[Any], ready: set[Any], scopes: Collection[str]) -> None:
    """A selection is sent whole or not at all: the claims that stopped being ready (or went
    into another open batch) are named; ids of claims the caller cannot see (another
    organization's, or Part 2 without the grant) are only counted, as for unknown ones."""
    missing = ids - ready
    if not missing:
        return
    known = part2.visible(Claim.objects.filter(pk__in=missing), scopes)
    named = sorted(known.values_list("patient_control_number", flat=True))
    parts = []
    if named:
        parts.append(
            "no longer ready to send (changed, or in another open batch): " + ", ".join(named)
        )
    if unknown := len(missing) - len(named):
        parts.append(f"{unknown} selected claim{'s' if unknown > 1 else ''} not found")
    raise DomainError(
        "Nothing was batched. " + "; ".join(parts)[:1].upper() + "; ".join(parts)[1:] + ".",
        field="claim_ids",
    )


# --- Building ---


def _envelope_time() -> Any:
    # X12 dates carry no zone: the file is written in UTC, to the minute.
    return timezone.now().astimezone(UTC).replace(second=0, microsecond=0)


def batch_start(*, batch_id: Any) -> SubmissionBatch | None:
    """Mark a queued batch building and fix the time its file will carry (the ISA/GS/BHT date,
    and the day its Part 2 disclosures are checked against); None when it is no longer open."""
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return None
        batch.status = BatchStatus.BUILDING
        if batch.envelope_created is None:
            batch.envelope_created = _envelope_time()
        batch.save(update_fields=["status", "envelope_created", "updated_at"])
    return batch


# --- Control numbers -------------------------------------------------------------------------------


def batch_number(*, batch_id: Any) -> SubmissionBatch:
    """Give the batch its ISA13 / GS06 / ST02 (once: a batch is never renumbered). The counter
    row is locked, so two batches built at once get different, increasing numbers."""
    with transaction.atomic():
        batch = (
            SubmissionBatch.objects.select_for_update()
            .select_related("clearinghouse")
            .get(pk=batch_id)
        )
        if batch.interchange_control_number:
            return batch
        ch = batch.clearinghouse
        # A new submitter id (a new counter row) carries on from the numbers this clearinghouse
        # has already used: ISA13/GS06 stay unique per clearinghouse.
        used = SubmissionBatch.objects.filter(clearinghouse=ch).aggregate(
            interchange=Max("interchange_control_number"),
            group=Max("group_control_number"),
            transaction=Max("transaction_control_number"),
        )
        ControlNumberCounter.objects.bulk_create(
            [
                ControlNumberCounter(
                    organization_id=ch.organization_id,
                    clearinghouse=ch,
                    submitter_id=ch.submitter_id,
                    last_interchange=used["interchange"] or 0,
                    last_group=used["group"] or 0,
                    last_transaction=used["transaction"] or 0,
                )
            ],
            ignore_conflicts=True,
        )
        counter = ControlNumberCounter.objects.select_for_update().get(
            clearinghouse=ch, submitter_id=ch.submitter_id
        )
        if counter.last_interchange >= 999_999_999:
            raise DomainError("The interchange control numbers are exhausted.")
        counter.last_interchange += 1
        counter.last_group += 1
        counter.last_transaction += 1
        counter.save(update_fields=["last_interchange", "last_group", "last_transaction"])
        batch.interchange_control_number = counter.last_interchange
        batch.group_control_number = counter.last_group
        batch.transaction_control_number = counter.last_transaction
        batch.reference = f"{counter.last_interchange:09d}"
        batch.envelope_created = batch.envelope_created or _envelope_time()
        batch.status = BatchStatus.BUILDING
        batch.file_name = f"{batch.claim_form}_{ch.code}_{counter.last_interchange:09d}.x12"
        batch.save()
        audit_record(
            action="batch.number",
            obj=batch,
            detail={"interchange_control_number": batch.interchange_control_number},
        )
    return batch
