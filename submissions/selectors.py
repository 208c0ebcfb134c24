"""Reads for the submission screens, each a fixed number of queries.

42 CFR Part 2: every selector that reads claims, batch entries or rejections takes the caller's
scopes (`request.scopes`; in DRF `request._request.scopes`) and narrows through `rcm.part2`; each
list has a `*_hidden` twin that says how many it left out. A batch itself is no Part 2 record
(its page lists only the claims the caller may see), but its 837 file names every patient in it:
a member without the grant gets no file of a batch holding a Part 2 claim."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Sum, When

from claims.models import Claim, ClaimStatus
from rcm import part2
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    BatchStatus,
    ClaimRejection,
    Clearinghouse,
    EligibilityBatch,
    EligibilityBatchItem,
    SubmissionBatch,
)

Scopes = Collection[str]

OPEN_BATCH = (BatchStatus.QUEUED, BatchStatus.BUILDING)


def batch_list(*, status: str = "", clearinghouse_id: Any = None) -> QuerySet[SubmissionBatch]:
    batches = SubmissionBatch.objects.select_related("clearinghouse", "created_by").defer("content")
    if status:
        batches = batches.filter(status=status)
    if clearinghouse_id:
        batches = batches.filter(clearinghouse_id=clearinghouse_id)
    return batches.order_by("-created_at")


@dataclass(frozen=True)
class BatchPage:
    batch: SubmissionBatch
    items: list[BatchClaim]  # the batch's claims the caller may see, in file order
    acks: list[Acknowledgment]
    part2_hidden: int  # the batch's claims the caller may not see
    error: str  # why the file was not released, as the caller may read it (`batch_error`)
    failures: list[dict[str, str]]  # the same by claim and field, without restricted claims


def batch_error(batch: SubmissionBatch, *, scopes: Scopes) -> str:
    """Why the batch's file was not released, as the caller may read it: without the Part 2
    grant, the reasons that name a claim of the batch they may not see (by its control number)
    are left out, and a last line says how many. No query for a batch without an error; one
    without the grant."""
    if not batch.error or part2.may_see(scopes):
        return batch.error
    entries = BatchClaim.objects.filter(batch=batch).filter(part2.restricted_q(BatchClaim))
    hidden = set(entries.values_list("claim__patient_control_number", flat=True))
    lines = batch.error.splitlines()
    shown = [line for line in lines if not any(pcn in line for pcn in hidden)]
    if len(shown) < len(lines):
        n = len(lines) - len(shown)
        shown.append(f"{n} reason{'s' if n > 1 else ''} about restricted claims not shown.")
    return "\n".join(shown)


def batch_page(*, pk: Any, scopes: Scopes) -> BatchPage:
    """A batch with the claims in it the caller may see, and its acknowledgments;
    SubmissionBatch.DoesNotExist if there is no such batch."""
    batch = SubmissionBatch.objects.select_related("clearinghouse", "created_by").get(pk=pk)
    entries = BatchClaim.objects.filter(batch=batch)
    items = list(
        part2.visible(entries, scopes)
        .select_related("claim", "claim__patient", "claim__payer")
        .order_by("position")
    )
    acks = list(Acknowledgment.objects.filter(batch=batch).defer("content").order_by("created_at"))
    hidden = part2.hidden_count(entries, scopes)
    error = batch_error(batch, scopes=scopes) if hidden else batch.error
    failures = list(batch.failures or [])
    if hidden and failures:
        restricted = entries.filter(part2.restricted_q(BatchClaim))
        hidden_ids = {str(pk) for pk in restricted.values_list("claim_id", flat=True)}
        failures = [f for f in failures if f.get("claim_id") not in hidden_ids]
    return BatchPage(batch, items, acks, hidden, error, failures)


@dataclass(frozen=True)
class BatchFile:
    batch: SubmissionBatch
    part2: bool  # the file holds a Part 2 claim (its download's audit event says so)


def batch_file(*, pk: Any, scopes: Scopes) -> BatchFile:
    """A batch whose 837 file the caller may download: SubmissionBatch.DoesNotExist when there
    is no such batch, or when it holds a claim the caller may not see (42 CFR Part 2: the file
    names the patient and the services), the same answer as for a batch that does not exist."""
    batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=pk)
    entries = BatchClaim.objects.filter(batch=batch)
    if part2.hidden_count(entries, scopes):
        raise SubmissionBatch.DoesNotExist("No such batch.")
    holds_part2 = entries.filter(part2.restricted_q(BatchClaim)).exists()
    return BatchFile(batch, holds_part2)


def _ready_claims() -> QuerySet[Claim]:
    # A payer whose rules say paper gets its professional claims on the CMS-1500 (paper print).
    return (
        Claim.objects.filter(status=ClaimStatus.READY)
        .exclude(batch_items__batch__status__in=OPEN_BATCH)
        .exclude(payer__submission_method="paper", claim_form="837P")
    )


def ready_claims(*, scopes: Scopes) -> QuerySet[Claim]:
    """Ready claims in no open batch that the caller may see: what a new batch may take."""
    return part2.visible(_ready_claims(), scopes)


def ready_claim_counts(*, scopes: Scopes) -> dict[str, int]:
    """Ready claims per claim form that are in no open batch and the caller may see."""
    rows = ready_claims(scopes=scopes).values("claim_form").annotate(n=Count("id"))
    return {row["claim_form"]: row["n"] for row in rows}


@dataclass(frozen=True)
class ClaimPick:
    """The filter a biller picks ready claims with (every part optional)."""

    payer_id: Any = None
    claim_form: str = ""
    q: str = ""  # claim number, patient name or MRN
    service_from: date | None = None
    service_to: date | None = None


def _picked(claims: QuerySet[Claim], pick: ClaimPick) -> QuerySet[Claim]:
    if pick.payer_id:
        claims = claims.filter(payer_id=pick.payer_id)
    if pick.claim_form:
        claims = claims.filter(claim_form=pick.claim_form)
    if pick.q:
        claims = claims.filter(
            Q(patient_control_number__icontains=pick.q)
            | Q(patient__last_name__icontains=pick.q)
            | Q(patient__first_name__icontains=pick.q)
            | Q(patient__mrn__iexact=pick.q)
        )
    if pick.service_from:
        claims = claims.filter(statement_to__gte=pick.service_from)
    if pick.service_to:
        claims = claims.filter(statement_from__lte=pick.service_to)
    return claims


def ready_claims_picked(*, pick: ClaimPick, scopes: Scopes) -> QuerySet[Claim]:
    """The ready claims in no open batch that match the biller's filter and the caller may see,
    shaped for the picking table (patient and payer joined), by payer then date."""
    return (
        _picked(ready_claims(scopes=scopes), pick)
        .select_related("patient", "payer")
        .order_by("payer__name", "statement_from", "patient_control_number")
    )


def ready_claims_picked_hidden(*, pick: ClaimPick, scopes: Scopes) -> int:
    return part2.hidden_count(_picked(_ready_claims(), pick), scopes)


@dataclass(frozen=True)
class SelectionTotal:
    count: int
    amount: Decimal


def selection_total(claims: QuerySet[Claim]) -> SelectionTotal:
    """How many claims and how much they bill (one query)."""
    row = claims.order_by().aggregate(n=Count("id"), amount=Sum("total_charge"))
    return SelectionTotal(row["n"], row["amount"] or Decimal("0.00"))


def ready_claims_hidden(*, scopes: Scopes) -> int:
    """How many ready claims in no open batch the caller may not see (left out of a batch)."""
    return part2.hidden_count(_ready_claims(), scopes)


def _rejections(q: str, show: str) -> QuerySet[ClaimRejection]:
    rejections = ClaimRejection.objects.all()
    if show == "open":
        rejections = rejections.filter(resolved_at__isnull=True)
    if q:
        rejections = rejections.filter(
            Q(claim__patient_control_number__icontains=q)
            | Q(claim__patient__last_name__icontains=q)
            | Q(reason__icontains=q)
        )
    return rejections


def rejection_queue(*, q: str = "", show: str = "open", scopes: Scopes) -> QuerySet[ClaimRejection]:
    """Rejections the caller may see, newest first (open ones, or all)."""
    return (
        part2.visible(_rejections(q, show), scopes)
        .select_related("claim", "claim__patient", "claim__payer", "batch")
        .order_by("-created_at")
    )


def rejection_queue_hidden(*, q: str = "", show: str = "open", scopes: Scopes) -> int:
    return part2.hidden_count(_rejections(q, show), scopes)


def rejections(*, scopes: Scopes) -> QuerySet[ClaimRejection]:
    """The rejections the caller may see, for an action by id (a Part 2 one is "not found")."""
    return part2.visible(ClaimRejection.objects.all(), scopes)


def clearinghouse_list() -> QuerySet[Clearinghouse]:
    return Clearinghouse.objects.order_by("name")


def eligibility_batches() -> Any:
    """The organization's eligibility batches, newest first (no patient data)."""
    return EligibilityBatch.objects.select_related("clearinghouse", "started_by").order_by(
        "-started_at"
    )


def eligibility_batch_items(*, batch: EligibilityBatch, scopes: Collection[str]) -> Any:
    """A batch's checks with their coverage and patient, narrowed by 42 CFR Part 2 (an item made
    for a substance use episode alone needs the grant); problems first."""
    qs = EligibilityBatchItem.objects.filter(batch=batch).select_related(
        "coverage__payer", "coverage__patient", "episode", "request"
    )
    return part2.visible(qs, scopes).order_by(
        Case(When(status__in=["pending", "answered"], then=1), default=0), "created_at", "id"
    )


def eligibility_batch_items_hidden(*, batch: EligibilityBatch, scopes: Collection[str]) -> int:
    return part2.hidden_count(EligibilityBatchItem.objects.filter(batch=batch), scopes)
