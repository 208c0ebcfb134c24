"""Reads for the claims screens and API. 42 CFR Part 2 claims and charges are visible only with
`part2:read`; every list costs a fixed number of queries."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from authorizations.models import Authorization
from claims.models import (
    Claim,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    ClaimStatus,
    EntryStatus,
    SavedClaimFilter,
    ServiceEntry,
)


def _part2(qs: QuerySet[Any], scopes: Any, path: str = "") -> QuerySet[Any]:
    if "part2:read" in scopes:
        return qs
    return qs.exclude(**{f"{path}is_part2" if path else "is_part2": True})


def open_charges(*, scopes: Any) -> QuerySet[ServiceEntry]:
    qs = ServiceEntry.objects.filter(status=EntryStatus.OPEN).select_related(
        "patient", "rendering_provider", "episode"
    )
    if "part2:read" not in scopes:
        qs = qs.filter(episode__program_type="mental_health")
    return qs.order_by("-date_of_service", "-created_at")


@dataclass
class ClaimFilters:
    status: str = ""
    payer: Any = None
    provider: Any = None
    date_from: date | None = None
    date_to: date | None = None
    min_age_days: int | None = None
    q: str = ""


def claim_list(*, filters: ClaimFilters, scopes: Any, today: date) -> QuerySet[Claim]:
    """Claims matching the filters, newest first; `min_age_days` counts back from `today`."""
    qs = _part2(Claim.objects.select_related("patient", "payer", "rendering_provider"), scopes)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.payer:
        qs = qs.filter(payer=filters.payer)
    if filters.provider:
        qs = qs.filter(rendering_provider=filters.provider)
    if filters.date_from:
        qs = qs.filter(statement_to__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(statement_from__lte=filters.date_to)
    if filters.min_age_days is not None:
        qs = qs.filter(statement_from__lte=today - timedelta(days=filters.min_age_days))
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(patient_control_number__iexact=term)
            | Q(patient__last_name__icontains=term)
            | Q(patient__mrn__iexact=term)
        )
    return qs.order_by("-statement_from", "-created_at")


@dataclass
class FindingGroup:
    rule: str
    message: str
    fix_hint: str
    claims: list[Claim] = field(default_factory=list)


def ready_queue(*, scopes: Any) -> tuple[list[FindingGroup], int, int]:
    """Draft claims grouped by what blocks them ('12 claims need an authorization'), and the
    counts of draft and ready claims. Three queries."""
    findings = _part2(
        ClaimFinding.objects.filter(
            severity="error", claim__status=ClaimStatus.DRAFT
        ).select_related("claim__patient", "claim__payer"),
        scopes,
        "claim__",
    ).order_by("rule", "claim__statement_from")
    groups: OrderedDict[str, FindingGroup] = OrderedDict()
    for finding in findings:
        group = groups.setdefault(
            finding.rule, FindingGroup(finding.rule, finding.message, finding.fix_hint)
        )
        if finding.claim not in group.claims:
            group.claims.append(finding.claim)
    counts = (
        _part2(Claim.objects.filter(status__in=[ClaimStatus.DRAFT, ClaimStatus.READY]), scopes)
        .values("status")
        .annotate(n=Count("pk"))
    )
    by_status = {row["status"]: row["n"] for row in counts}
    ordered = sorted(groups.values(), key=lambda g: -len(g.claims))
    return ordered, by_status.get(ClaimStatus.DRAFT, 0), by_status.get(ClaimStatus.READY, 0)


def claim_detail(*, pk: Any, scopes: Any) -> Claim:
    return (
        _part2(
            Claim.objects.select_related(
                "patient",
                "payer",
                "coverage",
                "rendering_provider",
                "supervising_provider",
                "service_facility",
                "original_claim",
                "primary_claim",
                "episode",
            ),
            scopes,
        )
        .prefetch_related(
            Prefetch(
                "secondary_claims",
                queryset=Claim.objects.select_related("payer").order_by("created_at"),
            ),
            Prefetch(
                "lines",
                queryset=ClaimLine.objects.select_related(
                    "authorization", "rendering_provider"
                ).order_by("line_number"),
            ),
            Prefetch(
                "findings",
                queryset=ClaimFinding.objects.select_related("line").order_by("-severity", "rule"),
            ),
            Prefetch(
                "events", queryset=ClaimEvent.objects.select_related("actor").order_by("created_at")
            ),
        )
        .get(pk=pk)
    )


def claim_authorizations(claim: Claim) -> list[Authorization]:
    return list(
        Authorization.objects.filter(episode_id=claim.episode_id, payer_id=claim.payer_id).order_by(
            "start_date"
        )
    )


def unsubmitted_claim_ids(*, episode_id: Any, payer_id: Any) -> list[Any]:
    """The episode's claims to the payer still in draft or ready: the ones a change of
    authorization should be scrubbed again for."""
    return list(
        Claim.objects.filter(
            episode_id=episode_id,
            payer_id=payer_id,
            status__in=[ClaimStatus.DRAFT, ClaimStatus.READY],
        ).values_list("pk", flat=True)
    )


def live_charge_units(ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """{str(charge id): units} of the charges among `ids` that are not voided (one query): what
    the authorizations app counts for the usage rows this app recorded (registered in
    ClaimsConfig.ready())."""
    return {
        str(pk): units
        for pk, units in ServiceEntry.objects.filter(pk__in=ids)
        .exclude(status=EntryStatus.VOID)
        .values_list("pk", "units")
    }


def saved_filters(*, user: Any) -> QuerySet[SavedClaimFilter]:
    return SavedClaimFilter.objects.filter(user=user).order_by("name")


def expected_reimbursement(claim: Claim) -> tuple[Any, int]:
    """The contracted allowed amount for the claim's lines (one query), and how many lines have
    no contract rate. Most specific rate first: modifier, then licensure level."""
    from decimal import Decimal

    from claims.models import ContractRate
    from claims.rules import EDUCATION_BY_PROVIDER_TYPE

    lines = list(claim.lines.all())
    rates = list(
        ContractRate.objects.filter(
            payer_id=claim.payer_id, service_code__in={line.service_code for line in lines}
        )
    )
    total, missing = Decimal("0.00"), 0
    for line in lines:
        education = EDUCATION_BY_PROVIDER_TYPE.get(line.rendering_provider.provider_type, "")
        candidates = [
            r
            for r in rates
            if r.service_code == line.service_code
            and r.effective_from <= line.date_of_service
            and (r.effective_to is None or line.date_of_service <= r.effective_to)
            and (not r.modifier or r.modifier in line.modifiers)
            and (not r.education_level or r.education_level == education)
        ]
        if not candidates:
            missing += 1
            continue
        best = max(
            candidates, key=lambda r: (bool(r.modifier), bool(r.education_level), r.effective_from)
        )
        total += best.allowed * line.units
    return total.quantize(Decimal("0.01")), missing
