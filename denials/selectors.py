"""Reads shaped for one screen or endpoint each (a fixed number of queries per page)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from authorizations.models import ConcurrentReview
from claims.models import Claim, ClaimLine
from denials import models, rules
from patients.models import Payer
from rcm import part2

# The caller's scopes (`request.scopes`; in DRF `request._request.scopes`). Every selector that
# reads rows of a claim takes them and narrows through rcm.part2: a member without the Part 2
# grant gets no Part 2 row, and each list has a `*_hidden` twin that says how many it left out.
Scopes = Collection[str]

# Where a list has no room for the note (a CSV export, an API list): the response header that
# says how many Part 2 rows it left out.


@dataclass(frozen=True)
class QueueFilter:
    category: str = ""
    payer_id: Any = None
    assignee_id: Any = None
    unassigned: bool = False
    min_age_days: int | None = None
    status: str = ""  # "" = open items, "all", or one status
    kind: str = ""
    due_only: bool = False


def _work_queue(filters: QueueFilter, today: date) -> QuerySet[models.WorkItem]:
    qs = models.WorkItem.objects.select_related("payer", "assignee", "claim__patient")
    if filters.status == "all":
        pass
    elif filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.filter(status__in=models.OPEN_WORK_STATUSES)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.payer_id:
        qs = qs.filter(payer_id=filters.payer_id)
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee_id:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.min_age_days is not None:
        qs = qs.filter(opened_on__lte=today - timedelta(days=filters.min_age_days))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.due_only:
        qs = qs.filter(is_due=True)
    return qs.order_by("-priority_score", "opened_on", "pk")


def work_queue(*, filters: QueueFilter, today: date, scopes: Scopes) -> QuerySet[models.WorkItem]:
    """The work queue as filtered, highest priority first, without the items the caller may not
    see (42 CFR Part 2)."""
    return part2.visible(_work_queue(filters, today), scopes)


def work_queue_hidden(*, filters: QueueFilter, today: date, scopes: Scopes) -> int:
    """How many items of the same filtered queue the caller may not see (one COUNT, none with
    the grant)."""
    return part2.hidden_count(_work_queue(filters, today), scopes)


def work_items(*, scopes: Scopes) -> QuerySet[models.WorkItem]:
    """The work items the caller may see, for a detail page, an action or a bulk action's ids."""
    return part2.visible(
        models.WorkItem.objects.select_related("payer", "assignee", "claim__patient"), scopes
    )


def payer_choices() -> list[tuple[str, str]]:
    return [(str(p.pk), p.name) for p in Payer.objects.order_by("name")]


def imports_list() -> QuerySet[models.RemittanceImport]:
    return models.RemittanceImport.objects.defer("content").select_related("uploaded_by")


def payments_for_import(imp: models.RemittanceImport) -> QuerySet[models.Payment]:
    return models.Payment.objects.filter(remittance_import=imp).select_related("payer")


@dataclass(frozen=True)
class PaymentDetail:
    payment: models.Payment
    claims: list[models.RemittanceClaim]
    part2_hidden: int  # the payment's claims the caller may not see


def payment_detail(pk: Any, *, scopes: Scopes) -> PaymentDetail:
    """A payment (payer level: everyone who reads denials sees it) with the remittance claims
    the caller may see, and how many Part 2 ones it leaves out. Payment.DoesNotExist if none."""
    payment = models.Payment.objects.select_related("payer", "remittance_import").get(pk=pk)
    rows = models.RemittanceClaim.objects.filter(payment=payment)
    claims = list(
        part2.visible(rows, scopes)
        .select_related("claim", "claim__patient")
        .prefetch_related("lines__adjustments", "adjustments", "exceptions")
    )
    return PaymentDetail(payment, claims, part2.hidden_count(rows, scopes))


@dataclass(frozen=True)
class ExceptionFilter:
    status: str = ""  # "" or "open", "resolved", "all"
    kind: str = ""


def _exceptions(filters: ExceptionFilter | None) -> QuerySet[models.RemittanceException]:
    filters = filters or ExceptionFilter()
    qs = models.RemittanceException.objects.select_related(
        "remittance_claim__payment__payer",
        "remittance_line",
        "remittance_import",
        "resolved_by",
    )
    if filters.status == "resolved":
        qs = qs.filter(resolved=True)
    elif filters.status != "all":
        qs = qs.filter(resolved=False)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("resolved", "-created_at", "pk")


def exceptions_list(
    filters: ExceptionFilter | None = None, *, scopes: Scopes
) -> QuerySet[models.RemittanceException]:
    """Exceptions for the list, the detail page and the API, open first; one query for any page
    size. An exception whose CLP matched a Part 2 claim is left out for a member without the
    grant; an unmatched one (no claim of ours yet) stays in."""
    return part2.visible(_exceptions(filters), scopes)


def exceptions_hidden(filters: ExceptionFilter | None = None, *, scopes: Scopes) -> int:
    return part2.hidden_count(_exceptions(filters), scopes)


def exception_detail(exception: models.RemittanceException) -> dict[str, Any]:
    """What came in (payment, CLP, SVCs with CAS in our CARC wording, RARCs) and what it could
    be posted to: the matched claim's lines, each with what is already posted to it. The
    exception comes from `exceptions_list` (narrowed for the caller), so its claim is one the
    caller may see."""
    rc = exception.remittance_claim
    claim = (
        Claim.objects.select_related("patient", "payer").filter(pk=rc.claim_id).first()
        if rc.claim_id
        else None
    )
    lines = list(
        models.RemittanceLine.objects.filter(remittance_claim=rc)
        .select_related("claim_line")
        .prefetch_related("adjustments")
        .order_by("segment_position", "created_at", "pk")
    )
    claim_cas = list(
        models.RemittanceAdjustment.objects.filter(
            remittance_claim=rc, remittance_line__isnull=True
        )
    )
    shown = [x for x in lines if x.pk == exception.remittance_line_id] or lines
    carcs = {a.reason_code for x in shown for a in x.adjustments.all()}
    carcs |= {a.reason_code for a in claim_cas}
    rarcs = {r for x in shown for r in x.remark_codes} | set(rc.remark_codes)
    claim_lines = (
        claim_lines_for_matching(rc)
        if exception.kind == models.ExceptionKind.UNMATCHED_LINE
        else []
    )
    carc_words = dict(
        models.AdjustmentReason.objects.filter(code__in=carcs).values_list("code", "description")
    )
    rarc_words = dict(
        models.RemarkCode.objects.filter(code__in=rarcs).values_list("code", "description")
    )
    # Our wording beside each code, for the template.
    for a in [*claim_cas, *(a for x in shown for a in x.adjustments.all())]:
        a.wording = carc_words.get(a.reason_code, "")  # type: ignore[attr-defined]
    for x in shown:
        x.remarks = [(r, rarc_words.get(r, "")) for r in x.remark_codes]  # type: ignore[attr-defined]
    return {
        "exception": exception,
        "payment": rc.payment,
        "rc": rc,
        "rc_remarks": [(r, rarc_words.get(r, "")) for r in rc.remark_codes],
        "claim": claim,
        "lines": shown,
        "claim_adjustments": claim_cas,
        "claim_lines": claim_lines,
    }


def claim_lines_for_matching(rc: models.RemittanceClaim) -> list[ClaimLine]:
    """The lines of the claim `rc` matched, with their balance (`balance_or_none`) and whether
    this same remittance claim already posted to them (`posted_here`)."""
    if rc.claim_id is None:
        return []
    here = set(
        models.RemittanceLine.objects.filter(
            remittance_claim=rc, claim_line__isnull=False
        ).values_list("claim_line_id", flat=True)
    )
    balances = {b.claim_line_id: b for b in models.LineBalance.objects.filter(claim_id=rc.claim_id)}
    lines = list(ClaimLine.objects.filter(claim_id=rc.claim_id).order_by("line_number"))
    for line in lines:
        line.balance_or_none = balances.get(line.pk)  # type: ignore[attr-defined]
        line.posted_here = line.pk in here  # type: ignore[attr-defined]
    return lines


MATCH_SEARCH_LIMIT = 20


def matchable_claims(*, scopes: Scopes) -> QuerySet[Claim]:
    """Claims an unmatched CLP may be posted to: this organization's (the tenant manager) that
    the caller may see (42 CFR Part 2), as everywhere else."""
    return part2.visible(Claim.objects.all(), scopes)


def matchable_claim_lines(*, scopes: Scopes) -> QuerySet[ClaimLine]:
    """Claim lines an unmatched SVC may be posted to (the service checks it is the CLP's claim)."""
    return part2.visible(ClaimLine.objects.all(), scopes)


def claim_candidates(*, query: str, rc: models.RemittanceClaim, scopes: Scopes) -> list[Claim]:
    """Claims for an unmatched CLP: by patient control number (part of it: a typo is the usual
    reason it did not match) or the patient's name; with no query, claims of the same total
    charge not yet answered by a remittance. Void claims are listed (marked) but refused."""
    qs = matchable_claims(scopes=scopes).select_related("patient", "payer")
    query = query.strip()
    if query:
        terms = query.replace(",", " ").split()
        name_q = Q()
        for term in terms:
            name_q &= Q(patient__first_name__icontains=term) | Q(patient__last_name__icontains=term)
        qs = qs.filter(Q(patient_control_number__icontains=query) | name_q)
    else:
        answered = models.RemittanceClaim.objects.filter(claim__isnull=False).values("claim_id")
        qs = qs.filter(total_charge=rc.charge).exclude(pk__in=answered)
    return list(qs.order_by("-statement_from", "patient_control_number")[:MATCH_SEARCH_LIMIT])


def denials(*, scopes: Scopes) -> QuerySet[models.Denial]:
    """The denials the caller may see (for lookups by id: a Part 2 one is "not found")."""
    return part2.visible(models.Denial.objects.select_related("claim", "payer"), scopes)


@dataclass(frozen=True)
class DenialFilter:
    category: str = ""
    payer_id: Any = None


def _denials(filters: DenialFilter) -> QuerySet[models.Denial]:
    qs = models.Denial.objects.order_by("appeal_deadline", "pk")
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.payer_id:
        qs = qs.filter(payer_id=filters.payer_id)
    return qs


def denials_list(filters: DenialFilter, *, scopes: Scopes) -> QuerySet[models.Denial]:
    """Denials by appeal deadline, for the API list."""
    return part2.visible(_denials(filters), scopes)


def denials_hidden(filters: DenialFilter, *, scopes: Scopes) -> int:
    return part2.hidden_count(_denials(filters), scopes)


def _adjustments(payment_id: Any) -> QuerySet[models.RemittanceAdjustment]:
    qs = models.RemittanceAdjustment.objects.select_related("remittance_claim", "remittance_line")
    if payment_id:
        qs = qs.filter(remittance_claim__payment_id=payment_id)
    return qs.order_by("-created_at")


def adjustments_list(
    *, payment_id: Any = None, scopes: Scopes
) -> QuerySet[models.RemittanceAdjustment]:
    """CAS adjustments (of one payment, if given), newest first."""
    return part2.visible(_adjustments(payment_id), scopes)


def adjustments_hidden(*, payment_id: Any = None, scopes: Scopes) -> int:
    return part2.hidden_count(_adjustments(payment_id), scopes)


def appeals(*, scopes: Scopes) -> QuerySet[models.Appeal]:
    """The appeals the caller may see, newest first (lists, letters, submit and decide)."""
    return part2.visible(
        models.Appeal.objects.select_related("denial__claim", "denial__payer").order_by(
            "-created_at"
        ),
        scopes,
    )


def appeals_hidden(*, scopes: Scopes) -> int:
    return part2.hidden_count(models.Appeal.objects.all(), scopes)


def write_offs(*, scopes: Scopes) -> QuerySet[models.WriteOff]:
    return part2.visible(models.WriteOff.objects.all(), scopes)


def line_balances(*, scopes: Scopes) -> QuerySet[models.LineBalance]:
    return part2.visible(models.LineBalance.objects.all(), scopes)


def denial_detail(pk: Any, *, scopes: Scopes) -> dict[str, Any]:
    """One denial with its work item, history, appeals and adjustments; Denial.DoesNotExist when
    there is none the caller may see (a Part 2 denial without the grant: the same answer)."""
    denial = part2.visible(
        models.Denial.objects.select_related(
            "claim", "claim__patient", "claim_line", "payer", "remittance_claim__payment"
        ),
        scopes,
    ).get(pk=pk)
    item = (
        models.WorkItem.objects.filter(kind="denial", source_id=denial.pk)
        .select_related("assignee")
        .first()
    )
    return {
        "denial": denial,
        "work_item": item,
        "events": list(
            models.WorkItemEvent.objects.filter(work_item=item).select_related("actor")
            if item
            else []
        ),
        "appeals": list(models.Appeal.objects.filter(denial=denial)),
        "adjustments": list(
            models.RemittanceAdjustment.objects.filter(remittance_line_id=denial.remittance_line_id)
            if denial.remittance_line_id
            else models.RemittanceAdjustment.objects.filter(
                remittance_claim=denial.remittance_claim, remittance_line__isnull=True
            )
        ),
    }


def work_item_source(item: models.WorkItem) -> models.Denial | None:
    if item.kind == "denial":
        return models.Denial.objects.filter(pk=item.source_id).first()
    return None


# --- Parity review -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParityFlag:
    kind: str  # "nqtl_denial", "denial_rate", "review_frequency"
    payer_id: Any
    payer_name: str
    evidence: str
    denial_id: Any = None


@dataclass(frozen=True)
class ParityReview:
    flags: list[ParityFlag]
    # Part 2 claims remitted and Part 2 concurrent reviews in the period that the caller may not
    # see: the flags (and the payer rates) are computed without them.
    part2_hidden: int


def parity_flags(*, today: date, scopes: Scopes, since_days: int = 365) -> list[ParityFlag]:
    return parity_review(today=today, scopes=scopes, since_days=since_days).flags


def parity_review(*, today: date, scopes: Scopes, since_days: int = 365) -> ParityReview:
    """Denials that may breach parity rules, with the evidence in words:

    - authorization or medical-necessity denials of outpatient behavioral health services;
    - a payer whose line denial rate is far above the organization's rate across all payers
      (every claim here is behavioral health, so the organization's own book is the baseline);
    - a payer whose concurrent reviews come more often than the organization's norm across
      payers (reviews per authorization).

    Everything is computed over the rows the caller may see (42 CFR Part 2): a member without
    the grant gets no flag naming a Part 2 denial, and payer rates without Part 2 claims;
    `part2_hidden` says how many claims and reviews were left out."""
    since = today - timedelta(days=since_days)
    flags: list[ParityFlag] = []
    denials = part2.visible(
        models.Denial.objects.filter(remittance_date__gte=since).select_related(
            "claim", "payer", "claim_line"
        ),
        scopes,
    )
    for d in denials:
        if rules.is_parity_sensitive_denial(d.category, d.claim.level):
            flags.append(
                ParityFlag(
                    kind="nqtl_denial",
                    payer_id=d.payer_id,
                    payer_name=d.payer.name,
                    denial_id=d.pk,
                    evidence=(
                        f"{d.payer.name} denied {d.claim_line.service_code if d.claim_line else 'the claim'} "
                        f"(level of care {d.claim.level}, outpatient) on "
                        f"{d.remittance_date:%Y-%m-%d} for {d.get_category_display().lower()} "
                        f"(CARC {d.carc}{', ' + ', '.join(d.rarcs) if d.rarcs else ''}), "
                        f"${d.amount}. Prior authorization and medical-necessity limits on "
                        "outpatient mental health/SUD care must be comparable to, and applied no "
                        "more stringently than, those for medical/surgical care."
                    ),
                )
            )
    lines = (
        part2.visible(
            models.RemittanceLine.objects.filter(
                claim_line__isnull=False, remittance_claim__payment__payment_date__gte=since
            ),
            scopes,
        )
        .exclude(remittance_claim__status_code="22")
        .values("remittance_claim__claim__payer_id")
        .annotate(total=Count("pk"), denied=Count("denial"))
    )
    rates = {
        row["remittance_claim__claim__payer_id"]: (row["denied"], row["total"]) for row in lines
    }
    all_denied = sum(d for d, _ in rates.values())
    all_total = sum(t for _, t in rates.values())
    names = dict(Payer.objects.filter(pk__in=list(rates)).values_list("pk", "name"))
    for payer_id, (denied, total) in rates.items():
        others_denied, others_total = all_denied - denied, all_total - total
        baseline = (others_denied, others_total) if others_total else (all_denied, all_total)
        if rules.rate_far_above(
            denied=denied, total=total, baseline_denied=baseline[0], baseline_total=baseline[1]
        ):
            flags.append(
                ParityFlag(
                    kind="denial_rate",
                    payer_id=payer_id,
                    payer_name=names.get(payer_id, ""),
                    evidence=(
                        f"{names.get(payer_id, '')} denied {denied} of {total} behavioral health "
                        f"lines ({100 * denied / total:.0f}%) since {since:%Y-%m-%d}, against "
                        f"{100 * baseline[0] / baseline[1]:.0f}% ({baseline[0]} of {baseline[1]}) "
                        "for the organization's other payers."
                    ),
                )
            )
    window_reviews = ConcurrentReview.objects.filter(scheduled_on__gte=since)
    reviews = (
        part2.visible(window_reviews, scopes)
        .values("authorization__payer_id")
        .annotate(reviews=Count("pk"), auths=Count("authorization", distinct=True))
    )
    per_payer = {r["authorization__payer_id"]: (r["reviews"], r["auths"]) for r in reviews}
    total_reviews = sum(r for r, _ in per_payer.values())
    total_auths = sum(a for _, a in per_payer.values())
    review_names = dict(Payer.objects.filter(pk__in=list(per_payer)).values_list("pk", "name"))
    for payer_id, (count, auths) in per_payer.items():
        other_reviews, other_auths = total_reviews - count, total_auths - auths
        if not other_auths or auths < 2:
            continue
        mine, norm = count / auths, other_reviews / other_auths
        if mine >= norm * 1.5 and mine - norm >= 1:
            flags.append(
                ParityFlag(
                    kind="review_frequency",
                    payer_id=payer_id,
                    payer_name=review_names.get(payer_id, ""),
                    evidence=(
                        f"{review_names.get(payer_id, '')} held {count} concurrent reviews on "
                        f"{auths} authorizations ({mine:.1f} each) since {since:%Y-%m-%d}; the "
                        f"organization's other payers average {norm:.1f}. More frequent "
                        "concurrent review of behavioral health stays is a non-quantitative "
                        "treatment limitation."
                    ),
                )
            )
    remitted = Claim.objects.filter(
        pk__in=models.RemittanceClaim.objects.filter(
            claim__isnull=False, payment__payment_date__gte=since
        ).values("claim_id")
    )
    hidden = part2.hidden_count(remitted, scopes) + part2.hidden_count(window_reviews, scopes)
    return ParityReview(flags, hidden)


@dataclass(frozen=True)
class ParityPacket:
    rows: list[dict[str, str]]
    part2_hidden: int


def parity_packet(*, today: date, scopes: Scopes) -> ParityPacket:
    """One row per flag with the denial facts, for the complaint packet (CSV and PDF); only the
    caller's visible rows (`part2_hidden` says how many claims and reviews were left out)."""
    review = parity_review(today=today, scopes=scopes)
    flags = review.flags
    denial_ids = [f.denial_id for f in flags if f.denial_id]
    denials = {
        d.pk: d
        for d in models.Denial.objects.filter(pk__in=denial_ids).select_related(
            "claim", "claim_line"
        )
    }
    rows = []
    for f in flags:
        d = denials.get(f.denial_id)
        rows.append(
            {
                "flag": f.kind,
                "payer": f.payer_name,
                "claim": d.claim.patient_control_number if d else "",
                "service": d.claim_line.service_code if d and d.claim_line else "",
                "date_of_service": d.claim_line.date_of_service.isoformat()
                if d and d.claim_line
                else "",
                "denied_on": d.remittance_date.isoformat() if d else "",
                "reason": f"{d.group_code}-{d.carc} {' '.join(d.rarcs)}".strip() if d else "",
                "category": d.category if d else "",
                "amount": str(d.amount) if d else "",
                "evidence": f.evidence,
            }
        )
    return ParityPacket(rows, review.part2_hidden)


def parity_packet_rows(*, today: date, scopes: Scopes) -> list[dict[str, str]]:
    return parity_packet(today=today, scopes=scopes).rows


def unresolved_exception_count(*, scopes: Scopes) -> int:
    return exceptions_list(ExceptionFilter(status="open"), scopes=scopes).count()


def _secondaries(status: str) -> QuerySet[models.SecondaryClaim]:
    qs = models.SecondaryClaim.objects.select_related(
        "primary_claim__patient", "primary_claim__payer", "payer", "claim"
    ).order_by("-created_at", "pk")
    if status:
        qs = qs.filter(status=status)
    return qs


def secondaries_list(*, status: str, scopes: Scopes) -> QuerySet[models.SecondaryClaim]:
    """Balances moved to a secondary coverage, newest first, for one screen (one query); only
    those of claims the caller may see (42 CFR Part 2)."""
    return part2.visible(_secondaries(status), scopes)


def secondaries_hidden(*, status: str, scopes: Scopes) -> int:
    return part2.hidden_count(_secondaries(status), scopes)
