"""Reads for the submission screens, each a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from claims.models import Claim, ClaimStatus
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    ClaimRejection,
    Clearinghouse,
    SubmissionBatch,
)


def batch_list(*, status: str = "", clearinghouse_id: Any = None) -> QuerySet[SubmissionBatch]:
    batches = SubmissionBatch.objects.select_related("clearinghouse", "created_by").defer("content")
    if status:
        batches = batches.filter(status=status)
    if clearinghouse_id:
        batches = batches.filter(clearinghouse_id=clearinghouse_id)
    return batches.order_by("-created_at")


def batch_page(*, pk: Any) -> tuple[SubmissionBatch, list[BatchClaim], list[Acknowledgment]]:
    batch = SubmissionBatch.objects.select_related("clearinghouse", "created_by").get(pk=pk)
    items = list(
        BatchClaim.objects.filter(batch=batch)
        .select_related("claim", "claim__patient", "claim__payer")
        .order_by("position")
    )
    acks = list(Acknowledgment.objects.filter(batch=batch).defer("content").order_by("created_at"))
    return batch, items, acks


def ready_claim_counts() -> dict[str, int]:
    """Ready claims per claim form that are in no open batch."""
    rows = (
        Claim.objects.filter(status=ClaimStatus.READY)
        .exclude(batch_items__batch__status__in=["queued", "building"])
        .values("claim_form")
        .annotate(n=Count("id"))
    )
    return {row["claim_form"]: row["n"] for row in rows}


def rejection_queue(*, q: str = "", show: str = "open") -> QuerySet[ClaimRejection]:
    rejections = ClaimRejection.objects.select_related(
        "claim", "claim__patient", "claim__payer", "batch"
    )
    if show == "open":
        rejections = rejections.filter(resolved_at__isnull=True)
    if q:
        rejections = rejections.filter(
            Q(claim__patient_control_number__icontains=q)
            | Q(claim__patient__last_name__icontains=q)
            | Q(reason__icontains=q)
        )
    return rejections.order_by("-created_at")


def clearinghouse_list() -> QuerySet[Clearinghouse]:
    return Clearinghouse.objects.order_by("name")
