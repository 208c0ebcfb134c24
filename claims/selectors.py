"""Reads for the claims screens and API; every list costs a fixed number of queries.

42 CFR Part 2: every selector that reads charges, claims or their findings takes the caller's
scopes (`request.scopes`; in DRF `request._request.scopes`) and narrows through `rcm.part2`, so a
member without the Part 2 grant gets no Part 2 row; each list has a `*_hidden` twin that says how
many it left out (one COUNT, none with the grant)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from authorizations.models import Authorization
from claims.models import (
    CareMinutes,
    CareMonth,
    Claim,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    ClaimStatus,
    EntryStatus,
    Frequency,
    SavedClaimFilter,
    ServiceEntry,
)
from patients.models import EpisodeOfCare
from rcm import part2

# The caller's scopes: the member's (the Part 2 grant among them) or the API key's.
Scopes = Collection[str]

# The claims a re-scrub or a batch may take: not yet sent.
UNSENT = (ClaimStatus.DRAFT, ClaimStatus.READY)


# --- Charges -------------------------------------------------------------------------------------


def _open_charges() -> QuerySet[ServiceEntry]:
    return ServiceEntry.objects.filter(status=EntryStatus.OPEN)


def open_charges(*, scopes: Scopes) -> QuerySet[ServiceEntry]:
    """The charges waiting for a claim that the caller may see, newest service first."""
    return (
        part2.visible(_open_charges(), scopes)
        .select_related("patient", "rendering_provider", "episode")
        .order_by("-date_of_service", "-created_at")
    )


def open_charges_hidden(*, scopes: Scopes) -> int:
    """How many open charges the caller may not see (Part 2 episodes)."""
    return part2.hidden_count(_open_charges(), scopes)


def _charges(status: str) -> QuerySet[ServiceEntry]:
    qs = ServiceEntry.objects.all()
    return qs.filter(status=status) if status else qs


def charges(*, scopes: Scopes, status: str = "") -> QuerySet[ServiceEntry]:
    """Charges (of one status, if given) the caller may see: the API's list, detail and replay."""
    return part2.visible(_charges(status), scopes)


def charges_hidden(*, scopes: Scopes, status: str = "") -> int:
    return part2.hidden_count(_charges(status), scopes)


def charge_episodes(*, scopes: Scopes, patient: Any = None) -> QuerySet[EpisodeOfCare]:
    """The episodes a charge may be recorded on (the patient's, if given, newest first): without
    the Part 2 grant, no substance use episode is offered or accepted."""
    qs = EpisodeOfCare.objects.all()
    if patient is not None:
        qs = qs.filter(patient=patient)
    return part2.visible(qs, scopes).order_by("-admission_date")


# --- Claims --------------------------------------------------------------------------------------


@dataclass
class ClaimFilters:
    status: str = ""
    payer: Any = None
    provider: Any = None
    date_from: date | None = None
    date_to: date | None = None
    min_age_days: int | None = None
    q: str = ""


def _claims(filters: ClaimFilters, today: date) -> QuerySet[Claim]:
    qs = Claim.objects.all()
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
    return qs


def claim_list(*, filters: ClaimFilters, scopes: Scopes, today: date) -> QuerySet[Claim]:
    """Claims matching the filters that the caller may see, newest first; `min_age_days` counts
    back from `today`."""
    return (
        part2.visible(_claims(filters, today), scopes)
        .select_related("patient", "payer", "rendering_provider")
        .order_by("-statement_from", "-created_at")
    )


def claim_list_hidden(*, filters: ClaimFilters, scopes: Scopes, today: date) -> int:
    """How many claims matching the same filters the caller may not see."""
    return part2.hidden_count(_claims(filters, today), scopes)


@dataclass
class FindingGroup:
    rule: str
    message: str
    fix_hint: str
    claims: list[Claim] = field(default_factory=list)


@dataclass(frozen=True)
class ReadyQueue:
    groups: list[FindingGroup]  # most claims first
    drafts: int
    ready: int
    part2_hidden: int  # draft and ready claims the caller may not see


def ready_queue(*, scopes: Scopes) -> ReadyQueue:
    """Draft claims grouped by what blocks them ('12 claims need an authorization'), and the
    counts of draft and ready claims, of the claims the caller may see. A fixed number of queries
    (one more without the Part 2 grant: how many it left out)."""
    blocking = (
        part2.visible(
            ClaimFinding.objects.filter(severity="error", claim__status=ClaimStatus.DRAFT),
            scopes,
        )
        .select_related("claim__patient", "claim__payer")
        .order_by("rule", "claim__statement_from")
    )
    groups: OrderedDict[str, FindingGroup] = OrderedDict()
    for finding in blocking:
        group = groups.setdefault(
            finding.rule, FindingGroup(finding.rule, finding.message, finding.fix_hint)
        )
        if finding.claim not in group.claims:
            group.claims.append(finding.claim)
    unsent = Claim.objects.filter(status__in=UNSENT)
    counts = part2.visible(unsent, scopes).values("status").annotate(n=Count("pk"))
    by_status = {row["status"]: row["n"] for row in counts}
    ordered = sorted(groups.values(), key=lambda g: -len(g.claims))
    return ReadyQueue(
        ordered,
        by_status.get(ClaimStatus.DRAFT, 0),
        by_status.get(ClaimStatus.READY, 0),
        part2.hidden_count(unsent, scopes),
    )


def unsent_claim_ids(*, scopes: Scopes) -> list[Any]:
    """The draft and ready claims the caller may see: what "re-scrub all" scrubs."""
    return list(
        part2.visible(Claim.objects.filter(status__in=UNSENT), scopes).values_list("pk", flat=True)
    )


def claim_detail(*, pk: Any, scopes: Scopes) -> Claim:
    """One claim with its lines, findings and history; Claim.DoesNotExist when there is none the
    caller may see (a Part 2 claim without the grant: the same answer)."""
    return (
        part2.visible(
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


def _findings(rule: str, severity: str) -> QuerySet[ClaimFinding]:
    qs = ClaimFinding.objects.all()
    if rule:
        qs = qs.filter(rule=rule)
    if severity:
        qs = qs.filter(severity=severity)
    return qs


def findings(*, scopes: Scopes, rule: str = "", severity: str = "") -> QuerySet[ClaimFinding]:
    """Scrubber findings across the claims the caller may see (of one rule or severity)."""
    return part2.visible(_findings(rule, severity), scopes).select_related("line")


def findings_hidden(*, scopes: Scopes, rule: str = "", severity: str = "") -> int:
    return part2.hidden_count(_findings(rule, severity), scopes)


def claim_authorizations(claim: Claim) -> list[Authorization]:
    return list(
        Authorization.objects.filter(episode_id=claim.episode_id, payer_id=claim.payer_id).order_by(
            "start_date"
        )
    )


def unsubmitted_claim_ids(*, episode_id: Any, payer_id: Any) -> list[Any]:
    """The episode's claims to the payer still in draft or ready: the ones a change of
    authorization should be scrubbed again for (an outbox handler: the organization as a whole,
    Part 2 claims too)."""
    return list(
        Claim.objects.filter(
            episode_id=episode_id, payer_id=payer_id, status__in=UNSENT
        ).values_list("pk", flat=True)
    )


def unsent_claim_ids_of_coverage(*, coverage_id: Any) -> list[Any]:
    """The coverage's claims still in draft or ready: the ones to scrub again when a 271 ends
    the coverage (an outbox handler: the organization as a whole, Part 2 claims too)."""
    return list(
        Claim.objects.filter(coverage_id=coverage_id, status__in=UNSENT).values_list(
            "pk", flat=True
        )
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

    lines = list(claim.lines.all())
    rates = list(
        ContractRate.objects.filter(
            payer_id=claim.payer_id, service_code__in={line.service_code for line in lines}
        )
    )
    total, missing = Decimal("0.00"), 0
    for line in lines:
        best = contract_rate_for(line, rates)
        if best is None:
            missing += 1
            continue
        total += best.allowed * line.units
    return total.quantize(Decimal("0.01")), missing


def contract_rate_for(line: Any, rates: Iterable[Any]) -> Any:
    """The contract rate for a claim line among `rates` (the payer's rows for its code), or None:
    in effect on the date of service, its modifier (if any) among the line's, its licensure level
    (if any) the rendering provider's; the most specific wins (modifier, then level, then the
    latest start). Used by `expected_reimbursement` and by reconciliation's underpayment check."""
    from claims.rules import EDUCATION_BY_PROVIDER_TYPE

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
        return None
    return max(
        candidates, key=lambda r: (bool(r.modifier), bool(r.education_level), r.effective_from)
    )


def claim_corrections(claim: Claim, *, scopes: Scopes) -> list[Claim]:
    """The replacements (frequency 7) and voids (8) sent for a claim, oldest first."""
    return list(
        part2.visible(Claim.objects.filter(original_claim=claim), scopes)
        .exclude(frequency=Frequency.ORIGINAL)
        .order_by("created_at")
    )


# --- Monthly care management ---------------------------------------------------------------------


def _care_months(q: str = "", status: str = "") -> QuerySet[CareMonth]:
    qs = CareMonth.objects.select_related("patient", "episode")
    if q.strip():
        words = q.strip()
        qs = qs.filter(
            Q(patient__last_name__icontains=words)
            | Q(patient__first_name__icontains=words)
            | Q(patient__mrn__iexact=words)
        )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-month", "patient__last_name", "patient__first_name", "program")


def care_months(*, scopes: Scopes, q: str = "", status: str = "") -> QuerySet[CareMonth]:
    """Rolled-up care-management months the caller may see (newest month first)."""
    return part2.visible(_care_months(q, status), scopes)


def care_months_hidden(*, scopes: Scopes, q: str = "", status: str = "") -> int:
    return part2.hidden_count(_care_months(q, status), scopes)


def _care_minutes() -> QuerySet[CareMinutes]:
    return CareMinutes.objects.select_related("patient", "episode").order_by(
        "-performed_on", "-created_at"
    )


def care_minutes(*, scopes: Scopes) -> QuerySet[CareMinutes]:
    """Staff minutes of care management the caller may see (newest first)."""
    return part2.visible(_care_minutes(), scopes)


def care_minutes_hidden(*, scopes: Scopes) -> int:
    return part2.hidden_count(_care_minutes(), scopes)
