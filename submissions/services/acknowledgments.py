"""Acknowledgments (999, 277CA) applied to their batches and claims, and the rejections queue."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from claims.services import claim_transition
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from submissions.models import (
    AckKind,
    Acknowledgment,
    AckStatus,
    BatchClaim,
    BatchStatus,
    ClaimRejection,
    SubmissionBatch,
)
from submissions.services.building import OPEN_BATCH
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999
from x12.reader import X12Error, read

# --- Acknowledgments (999, 277CA) --------------------------------------------------------------


def _where(error: X12Error) -> str:
    return str(error)


def _kind_of(text: str) -> str:
    try:
        parsed = read(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    kinds = {ts.id for ts in parsed.transactions}
    if kinds == {"999"}:
        return AckKind.ACK_999
    if kinds == {"277"}:
        return AckKind.ACK_277CA
    raise DomainError(
        f"The file was not applied: it holds {', '.join(sorted(kinds)) or 'no'} transaction "
        "sets; upload a 999 or a 277CA.",
        field="file",
    )


def _sender(text: str) -> str:
    return text[35:50].strip() if text.startswith("ISA") and len(text) > 50 else ""


def _batches_for_groups(numbers: set[int], sender: str) -> dict[int, SubmissionBatch]:
    batches = (
        SubmissionBatch.objects.select_related("clearinghouse")
        .filter(group_control_number__in=numbers)
        .exclude(status__in=[*OPEN_BATCH, BatchStatus.FAILED])
    )
    found: dict[int, list[SubmissionBatch]] = defaultdict(list)
    for batch in batches:
        found[batch.group_control_number].append(batch)  # type: ignore[index]
    result = {}
    for number, candidates in found.items():
        narrowed = [b for b in candidates if b.clearinghouse.receiver_id == sender] or candidates
        if len(narrowed) > 1:
            raise DomainError(
                f"Group control number {number} matches batches at several clearinghouses.",
                field="file",
            )
        result[number] = narrowed[0]
    return result


def _reject(
    claims: list[Claim],
    *,
    batch: SubmissionBatch,
    ack: Acknowledgment,
    reasons: dict[Any, tuple[str, list[str]]],
    actor: Any,
) -> int:
    count = 0
    for claim in claims:
        reason, codes = reasons[claim.pk]
        if claim.status == ClaimStatus.SUBMITTED:
            claim_transition(
                claim=claim, to_status=ClaimStatus.REJECTED, actor=actor, note=reason[:300]
            )
        ClaimRejection.objects.get_or_create(
            acknowledgment=ack,
            claim=claim,
            defaults={"batch": batch, "source": ack.kind, "reason": reason[:500], "codes": codes},
        )
        BatchClaim.objects.filter(batch=batch, claim=claim).update(
            ack_status=AckStatus.REJECTED, ack_reason=reason[:500]
        )
        count += 1
    return count


def _apply_999(text: str, ack: Acknowledgment, actor: Any) -> tuple[int, int]:
    try:
        parsed = parse_999(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    numbers = set()
    for fa in parsed.acknowledgments:
        if not fa.group_control_number.isdigit():
            raise DomainError(
                f"The 999 acknowledges group {fa.group_control_number!r}, which is not a number "
                "we sent (AK102).",
                field="file",
            )
        numbers.add(int(fa.group_control_number))
    batches = _batches_for_groups(numbers, _sender(text))
    unknown = sorted(numbers - set(batches))
    if unknown:
        raise DomainError(
            "The file was not applied: it acknowledges group control number(s) "
            f"{', '.join(map(str, unknown))} (AK102), which match none of our released batches.",
            field="file",
        )
    for fa in parsed.acknowledgments:
        batch = batches[int(fa.group_control_number)]
        for ts in fa.transaction_sets:
            if (
                not ts.control_number.isdigit()
                or int(ts.control_number) != batch.transaction_control_number
            ):
                raise DomainError(
                    f"The file was not applied: it acknowledges transaction set "
                    f"{ts.control_number} (AK202) in group {fa.group_control_number}, but that "
                    f"batch's set is {batch.transaction_control_number:04d}.",
                    field="file",
                )
    accepted = rejected = 0
    for fa in parsed.acknowledgments:
        batch = batches[int(fa.group_control_number)]
        ack.batch = batch
        set_rejected = (
            any(ts.ack_code in ("R", "M", "W", "X") for ts in fa.transaction_sets)
            or fa.group_ack_code == "R"
        )
        if not set_rejected:
            batch.status = (
                BatchStatus.ACKNOWLEDGED if fa.group_ack_code in ("A", "E") else BatchStatus.PARTIAL
            )
            batch.save(update_fields=["status", "updated_at"])
            accepted += batch.claim_count
            continue
        words = []
        for ts in fa.transaction_sets:
            words += ts.error_descriptions
            for se in ts.segment_errors:
                words.append(
                    f"{se.description} in segment {se.segment_id} (position {se.segment_position})"
                    + (f", claim {se.patient_control_number}" if se.patient_control_number else "")
                    + "".join(
                        f"; {ee.description}" + (f" ({ee.bad_value!r})" if ee.bad_value else "")
                        for ee in se.element_errors
                    )
                )
        words += fa.group_error_descriptions
        reason = "The clearinghouse rejected the whole file (999): " + (
            "; ".join(words) or fa.group_status_text
        )
        batch.status = BatchStatus.REJECTED
        batch.save(update_fields=["status", "updated_at"])
        claims = list(Claim.objects.filter(batch_items__batch=batch))
        codes = [se.error_code for ts in fa.transaction_sets for se in ts.segment_errors]
        rejected += _reject(
            claims,
            batch=batch,
            ack=ack,
            reasons={c.pk: (reason, codes) for c in claims},
            actor=actor,
        )
    return accepted, rejected


def _apply_277ca(text: str, ack: Acknowledgment, actor: Any) -> tuple[int, int]:
    try:
        parsed = parse_277ca(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    pcns = {c.patient_control_number for c in parsed.claims}
    items = {
        item.claim.patient_control_number: item
        for item in BatchClaim.objects.select_related("claim", "batch")
        .filter(claim__patient_control_number__in=pcns)
        .exclude(batch__status__in=[*OPEN_BATCH, BatchStatus.FAILED])
        .order_by("batch__interchange_control_number")
    }  # the latest batch a claim was in wins
    for claim_ack in parsed.claims:
        if claim_ack.patient_control_number not in items:
            raise DomainError(
                f"The file was not applied: claim {claim_ack.patient_control_number!r} (TRN02 at "
                f"segment {claim_ack.segment_position}) is none of the claims we sent.",
                field="file",
            )
    accepted = rejected = 0
    for claim_ack in parsed.claims:
        item = items[claim_ack.patient_control_number]
        claim = item.claim
        ack.batch = item.batch
        if claim_ack.rejected:
            codes = [
                f"{s.category_code}:{s.status_code}"
                for info in claim_ack.status_information
                for s in info.statuses
            ]
            rejected += _reject(
                [claim],
                batch=item.batch,
                ack=ack,
                reasons={
                    claim.pk: (
                        f"Rejected by the payer's front door (277CA): {claim_ack.reason}",
                        codes,
                    )
                },
                actor=actor,
            )
        elif claim_ack.accepted:
            if claim.status == ClaimStatus.SUBMITTED:
                claim_transition(
                    claim=claim, to_status=ClaimStatus.ACCEPTED, actor=actor, note="277CA accepted"
                )
            if claim_ack.payer_claim_control_number and not claim.payer_claim_number:
                Claim.objects.filter(pk=claim.pk).update(
                    payer_claim_number=claim_ack.payer_claim_control_number[:50]
                )
            BatchClaim.objects.filter(pk=item.pk).update(
                ack_status=AckStatus.ACCEPTED, ack_reason=claim_ack.reason[:500]
            )
            accepted += 1
    return accepted, rejected


def acknowledgment_import(
    *, content: str | bytes, file_name: str = "", source: str = "upload", actor: Any = None
) -> tuple[Acknowledgment, bool]:
    """Apply a 999 or 277CA file: batches and claims are updated, rejected claims join the
    rejections queue with the reason in words. Returns (acknowledgment, applied). The same file
    again changes nothing. A file that is not X12, is cut short, has wrong counts or names
    control numbers we never sent is refused with the position and reason, nothing applied."""
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    if not text.strip():
        raise DomainError("The file is empty.", field="file")
    digest = hashlib.sha256(text.encode("latin-1", errors="replace")).hexdigest()
    existing = Acknowledgment.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    kind = _kind_of(text)
    with transaction.atomic():
        ack = Acknowledgment(
            kind=kind, file_name=file_name[:200], sha256=digest, content=text, source=source,
            summary="", received_by=actor if getattr(actor, "pk", None) else None,
        )  # fmt: skip
        ack.save()
        apply = _apply_999 if kind == AckKind.ACK_999 else _apply_277ca
        accepted, rejected = apply(text, ack, actor)
        ack.accepted_count, ack.rejected_count = accepted, rejected
        ack.summary = f"{kind}: {accepted} accepted, {rejected} rejected"
        ack.save()
        audit_record(
            action="acknowledgment.import",
            obj=ack,
            detail={"kind": kind, "accepted": accepted, "rejected": rejected},
        )
    return ack, True


def is_claim_status_response(content: bytes | str) -> bool:
    """Whether a file is a 277 claim status response (GS08 005010X212), not a 277CA."""
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    return bool(re.search(r"GS.HN.[^~\n]*005010X212", text[:2000]))


def acknowledgments_import_folder(*, folder: Any) -> list[str]:
    """Apply every file in an inbound folder; applied files move to processed/, refused ones to
    failed/ with the reason next to them. Returns one line per file."""
    from pathlib import Path

    folder = Path(folder)
    results: list[Any] = []
    if not folder.is_dir():
        return results
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if is_claim_status_response(path.read_bytes()):
            continue  # a 277 claim status response: the claim status pickup applies it
        try:
            ack, applied = acknowledgment_import(
                content=path.read_bytes(), file_name=path.name, source="folder"
            )
            target = folder / "processed"
            results.append(f"{path.name}: {ack.summary if applied else 'already applied'}")
        except DomainError as error:
            target = folder / "failed"
            target.mkdir(exist_ok=True)
            (target / f"{path.name}.reason.txt").write_text(error.message)
            results.append(f"{path.name}: refused: {error.message}")
        target.mkdir(exist_ok=True)
        path.replace(target / path.name)
    return results


def rejection_resolve(*, rejection: ClaimRejection, actor: Any = None) -> ClaimRejection:
    """Take a rejection off the queue (the claim was fixed or voided)."""
    with transaction.atomic():
        if rejection.resolved_at is None:
            rejection.resolved_at = timezone.now()
            rejection.save(update_fields=["resolved_at", "updated_at"])
            audit_record(action="rejection.resolve", obj=rejection, patient_id=None)
    return rejection
