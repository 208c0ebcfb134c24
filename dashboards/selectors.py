"""The manager dashboard's figures. Each figure is one aggregate query (or two), whatever the
volume, so the dashboard costs a fixed number of queries; drill-down lists use the same filters.

42 CFR Part 2: every figure is computed over the rows the caller may see (`scopes`), and says
how many it left out (`Dashboard.hidden`, by figure), so a figure equals the count of its
drill-down list for everybody. The aggregates group by "is this row Part 2" (`_p2`) and fold the
restricted groups into the hidden counts: no extra query, with the grant or without."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from authorizations.models import APPROVED_STATUSES, Authorization, AuthorizationUsage
from claims.models import Claim, ClaimEvent, ClaimLine, ClaimStatus, ServiceEntry
from credentialing.models import PayerEnrollment, Provider
from dashboards import rules
from denials.models import (
    OPEN_WORK_STATUSES,
    AdjustmentReason,
    Appeal,
    Denial,
    DenialCategory,
    LineBalance,
    Payment,
    ReasonKind,
    RemittanceClaim,
    WorkItem,
)
from patients.levels import FACILITY_LEVELS
from patients.models import EpisodeOfCare, LevelOfCareStay, Payer
from rcm import part2
from rcm.tenancy.context import require_organization_id

Scopes = Collection[str]

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))
IN_AR = [
    ClaimStatus.SUBMITTED,
    ClaimStatus.ACCEPTED,
    ClaimStatus.PAID,
    ClaimStatus.PARTIALLY_PAID,
    ClaimStatus.DENIED,
    ClaimStatus.APPEALED,
]


def _p2(model: type[models.Model], path: str = "") -> ExpressionWrapper:
    """The row is Part 2 (rcm.part2's rule for `model`, through `path`), as a column to group by."""
    return ExpressionWrapper(part2.restricted_q(model, path), output_field=BooleanField())


def _hiding(scopes: Scopes) -> bool:
    """Whether the caller's figures leave Part 2 rows out (they lack the grant)."""
    return not part2.may_see(scopes)


def _fold(rows: Iterable[Mapping[str, object]], hiding: bool, *keys: str) -> tuple[dict, dict]:
    """Sum grouped rows (each with a `p2` column) into (shown, hidden) totals of `keys`."""
    shown: dict[str, Any] = dict.fromkeys(keys, 0)
    hidden: dict[str, Any] = dict.fromkeys(keys, 0)
    for row in rows:
        into = hidden if hiding and row["p2"] else shown
        for key in keys:
            into[key] += row[key] or 0
    return shown, hidden


@dataclass(frozen=True)
class DashboardFilters:
    date_from: date
    date_to: date
    payer_id: Any = None
    provider_id: Any = None
    level: str = ""

    def claims(self, prefix: str = "") -> Q:
        q = Q()
        if self.payer_id:
            q &= Q(**{f"{prefix}payer_id": self.payer_id})
        if self.provider_id:
            q &= Q(**{f"{prefix}rendering_provider_id": self.provider_id})
        if self.level:
            q &= Q(**{f"{prefix}level": self.level})
        return q


@dataclass
class Breakdown:
    label: str
    key: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> Decimal | None:
        return rules.rate(self.numerator, self.denominator)


@dataclass
class Dashboard:
    filters: DashboardFilters
    today: date
    clean_claims: tuple[int, int] = (0, 0)
    denials: tuple[int, int] = (0, 0)
    denial_by_payer: list[Breakdown] = field(default_factory=list)
    denial_by_provider: list[Breakdown] = field(default_factory=list)
    denial_by_level: list[Breakdown] = field(default_factory=list)
    denial_by_month: list[Breakdown] = field(default_factory=list)
    denial_by_category: list[Breakdown] = field(default_factory=list)
    ar_total: Decimal = Decimal("0.00")
    ar_over_90: Decimal = Decimal("0.00")
    ar_by_payer: list[dict[str, Any]] = field(default_factory=list)
    ar_buckets: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    charges_last_90: Decimal = Decimal("0.00")
    collections: tuple[Decimal, Decimal, Decimal] = (Decimal(0), Decimal(0), Decimal(0))
    appeals: tuple[int, int] = (0, 0)
    cash_by_week: list[tuple[date, Decimal]] = field(default_factory=list)
    cash_by_month: list[tuple[date, Decimal]] = field(default_factory=list)
    authorizations_expiring: int = 0
    authorizations_lapsed: int = 0
    not_billable: list[tuple[str, int]] = field(default_factory=list)
    backlog: dict[str, int] = field(default_factory=dict)
    unbilled_days: int = 0
    # 42 CFR Part 2: by figure, how many restricted records the caller's figures left out (the
    # same number the figure's drill-down list says): "clean_claims", "denials" (adjudicated
    # claims), "denied" (denied claims), "ar" (claims with an open balance), "collections"
    # (remitted claims), "appeals", "authorizations_expiring", "authorizations_lapsed",
    # "unbilled_days", "backlog" (work items).
    hidden: dict[str, int] = field(default_factory=dict)

    @property
    def part2_hidden(self) -> int:
        """The most restricted records any one figure left out (for one note per page)."""
        return max(self.hidden.values(), default=0)

    @property
    def clean_claim_rate(self) -> Decimal | None:
        return rules.rate(*self.clean_claims)

    @property
    def initial_denial_rate(self) -> Decimal | None:
        return rules.rate(*self.denials)

    @property
    def days_in_ar(self) -> Decimal | None:
        return rules.days_in_ar(self.ar_total, self.charges_last_90)

    @property
    def ar_bucket_totals(self) -> dict[str, Decimal]:
        """Open A/R by age bucket (insurance and patient shares together)."""
        return {b: v["insurance"] + v["patient"] for b, v in self.ar_buckets.items()}

    @property
    def ar_over_90_share(self) -> Decimal | None:
        return rules.rate(self.ar_over_90, self.ar_total)

    @property
    def net_collection_rate(self) -> Decimal | None:
        return rules.net_collection_rate(*self.collections)

    @property
    def denial_overturn_rate(self) -> Decimal | None:
        return rules.rate(*self.appeals)

    def headline(self) -> dict[str, Any]:
        return {
            "clean_claim_rate": self.clean_claim_rate,
            "initial_denial_rate": self.initial_denial_rate,
            "days_in_ar": self.days_in_ar,
            "ar_over_90_share": self.ar_over_90_share,
            "net_collection_rate": self.net_collection_rate,
            "denial_overturn_rate": self.denial_overturn_rate,
            "ar_total": self.ar_total,
            "cash_posted": sum((amount for _, amount in self.cash_by_week), Decimal("0.00")),
        }

    def headline_hidden(self) -> dict[str, int]:
        """How many restricted records each headline figure left out."""
        return {
            "clean_claim_rate": self.hidden.get("clean_claims", 0),
            "initial_denial_rate": self.hidden.get("denials", 0),
            "days_in_ar": self.hidden.get("ar", 0),
            "ar_over_90_share": self.hidden.get("ar", 0),
            "net_collection_rate": self.hidden.get("collections", 0),
            "denial_overturn_rate": self.hidden.get("appeals", 0),
            "ar_total": self.hidden.get("ar", 0),
            "cash_posted": 0,  # payments are the payer's, not a patient's record
        }


def _submitted_between(f: DashboardFilters) -> dict[str, datetime]:
    """A datetime range (not `__date`), so the (organization, submitted_at) index is used."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(f.date_from, time.min, tzinfo=tz)
    return {
        "submitted_at__gte": start,
        "submitted_at__lt": datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=tz),
    }


def _clean_claims(f: DashboardFilters, scopes: Scopes) -> tuple[tuple[int, int], int]:
    """((first-pass clean, answered at the front door), hidden) for claims submitted in the
    period: one aggregate over their accepted/rejected events."""
    window = {f"claim__{k}": v for k, v in _submitted_between(f).items()}
    rows = (
        ClaimEvent.objects.filter(
            f.claims("claim__"),
            claim__organization_id=require_organization_id(),
            to_status__in=[ClaimStatus.ACCEPTED, ClaimStatus.REJECTED],
            **window,
        )
        .annotate(p2=_p2(ClaimEvent))
        .values("p2")
        .annotate(
            answered=Count("claim_id", distinct=True),
            rejected=Count("claim_id", distinct=True, filter=Q(to_status=ClaimStatus.REJECTED)),
        )
    )
    row, hidden = _fold(rows, _hiding(scopes), "answered", "rejected")
    return (row["answered"] - row["rejected"], row["answered"]), hidden["answered"]


def _answered_claims(f: DashboardFilters, *, clean: bool) -> QuerySet[Claim]:
    """The claims behind the clean-claim rate: submitted in the period and answered at the
    front door (accepted or rejected); with `clean`, those never rejected (its numerator)."""
    events = ClaimEvent.objects.filter(claim=OuterRef("pk"))
    claims = Claim.objects.filter(f.claims(), **_submitted_between(f)).filter(
        Exists(events.filter(to_status__in=[ClaimStatus.ACCEPTED, ClaimStatus.REJECTED]))
    )
    if clean:
        claims = claims.exclude(Exists(events.filter(to_status=ClaimStatus.REJECTED)))
    return claims


def _adjudicated_claims(f: DashboardFilters) -> QuerySet[Claim]:
    """Claims remitted (835) in the period: the denominator of the denial rate (every row)."""
    remitted = RemittanceClaim.objects.filter(
        claim=OuterRef("pk"),
        payment__payment_date__gte=f.date_from,
        payment__payment_date__lte=f.date_to,
    ).exclude(status_code="22")
    return Claim.objects.filter(f.claims()).filter(Exists(remitted))


def _denied_claims(f: DashboardFilters, *, category: str = "") -> QuerySet[Claim]:
    denials = Denial.objects.filter(claim=OuterRef("pk"))
    if category:
        denials = denials.filter(category=category)
    return _adjudicated_claims(f).filter(Exists(denials))


def adjudicated_claims(f: DashboardFilters, *, scopes: Scopes) -> QuerySet[Claim]:
    return part2.visible(_adjudicated_claims(f), scopes)


def denied_claims(f: DashboardFilters, *, category: str = "", scopes: Scopes) -> QuerySet[Claim]:
    return part2.visible(_denied_claims(f, category=category), scopes)


def _denials(
    f: DashboardFilters,
    dashboard: Dashboard,
    payers: dict[Any, str],
    providers: dict[Any, str],
    scopes: Scopes,
) -> None:
    hiding = _hiding(scopes)
    rows = (
        _adjudicated_claims(f)
        .annotate(
            denied=Exists(Denial.objects.filter(claim=OuterRef("pk"))),
            month=TruncMonth("statement_from"),
            p2=_p2(Claim),
        )
        .values("payer_id", "rendering_provider_id", "level", "month", "p2")
        .annotate(claims=Count("pk"), denied_claims=Count("pk", filter=Q(denied=True)))
    )
    by: dict[str, dict[Any, list[int]]] = {
        k: defaultdict(lambda: [0, 0]) for k in ("payer", "provider", "level", "month")
    }
    total = [0, 0]
    hidden = [0, 0]
    for row in rows:
        if hiding and row["p2"]:
            hidden[0] += row["denied_claims"]
            hidden[1] += row["claims"]
            continue
        for dim, key in (
            ("payer", row["payer_id"]),
            ("provider", row["rendering_provider_id"]),
            ("level", row["level"]),
            ("month", row["month"]),
        ):
            by[dim][key][0] += row["denied_claims"]
            by[dim][key][1] += row["claims"]
        total[0] += row["denied_claims"]
        total[1] += row["claims"]
    dashboard.denials = (total[0], total[1])
    dashboard.hidden["denied"], dashboard.hidden["denials"] = hidden
    dashboard.denial_by_payer = sorted(
        (Breakdown(payers.get(k, "?"), str(k), *v) for k, v in by["payer"].items()),
        key=lambda b: -(b.rate or 0),
    )
    dashboard.denial_by_provider = sorted(
        (Breakdown(providers.get(k, "?"), str(k), *v) for k, v in by["provider"].items()),
        key=lambda b: -(b.rate or 0),
    )
    dashboard.denial_by_level = sorted(
        (Breakdown(k, k, *v) for k, v in by["level"].items()), key=lambda b: b.label
    )
    dashboard.denial_by_month = sorted(
        (
            Breakdown(k.strftime("%Y-%m") if k else "?", k.strftime("%Y-%m") if k else "", *v)
            for k, v in by["month"].items()
        ),
        key=lambda b: b.key,
    )
    categories = (
        Denial.objects.filter(claim__in=adjudicated_claims(f, scopes=scopes))
        .values("category")
        .annotate(claims=Count("claim_id", distinct=True))
    )
    dashboard.denial_by_category = sorted(
        (
            Breakdown(
                dict(DenialCategory.choices).get(r["category"], r["category"]),
                r["category"],
                r["claims"],
                total[1],
            )
            for r in categories
        ),
        key=lambda b: -b.numerator,
    )


def _open_balance() -> Any:
    """Open balance of a claim line: its charge until something is posted, then the balance."""
    return Coalesce(
        F("balance__charge")
        - F("balance__paid")
        - F("balance__contractual")
        - F("balance__other_adjusted")
        - F("balance__written_off")
        - F("balance__transferred")
        - F("balance__prior_payer"),
        F("charge"),
    )


def ar_lines(f: DashboardFilters) -> QuerySet[ClaimLine]:
    """Every line in A/R (narrowed by the claims built from it)."""
    return ClaimLine.objects.filter(
        f.claims("claim__"), claim__status__in=IN_AR, claim__submitted_at__isnull=False
    )


OVER_90 = "91+"  # the A/R-over-90-days figure's drill-down


def ar_claims(f: DashboardFilters, *, bucket: str, today: date, scopes: Scopes) -> QuerySet[Claim]:
    """Claims with an open balance the caller may see, optionally only those in one bucket."""
    return part2.visible(_ar_claims(f, bucket=bucket, today=today), scopes)


def _ar_claims(f: DashboardFilters, *, bucket: str, today: date) -> QuerySet[Claim]:
    """Claims whose open balance (the sum over their A/R lines) is above zero: the claims the A/R
    figures add up (`_ar`), so the figure and its list agree."""
    open_claims = (
        ar_lines(f)
        .values("claim_id")
        .annotate(open=Sum(_open_balance()))
        .filter(open__gt=0)
        .values("claim_id")
    )
    claims = Claim.objects.filter(pk__in=open_claims)
    bounds = {**rules.AGING_BOUNDS, OVER_90: (91, None)}
    if bucket in bounds:
        low, high = bounds[bucket]
        claims = claims.filter(submitted_at__date__lte=today - timedelta(days=low))
        if high is not None:
            claims = claims.filter(submitted_at__date__gte=today - timedelta(days=high))
    return claims


MONEY = DecimalField(max_digits=14, decimal_places=2)


def _claim_open_balance() -> Subquery:
    """A claim's open balance (the sum of its lines'), as a column of a claim list."""
    return Subquery(
        ClaimLine.objects.filter(claim=OuterRef("pk"))
        .values("claim_id")
        .annotate(total=Sum(_open_balance()))
        .values("total"),
        output_field=MONEY,
    )


def _ar_rows(f: DashboardFilters, scopes: Scopes) -> list[dict[str, Any]]:
    """Open balance and patient share by claim (with its payer and submission date), in two
    aggregates: lines with postings (from their balance rows) and lines with nothing posted yet
    (their charge); only the claims the caller may see. A claim with both has two rows."""
    org_id = require_organization_id()
    claim_filter = {
        "claim__organization_id": org_id,
        "claim__status__in": IN_AR,
        "claim__submitted_at__isnull": False,
    }
    posted = (
        part2.visible(LineBalance.objects.filter(f.claims("claim__"), **claim_filter), scopes)
        .values("claim_id", "claim__payer_id", "claim__submitted_at__date")
        .annotate(
            open=Sum(
                F("charge")
                - F("paid")
                - F("contractual")
                - F("other_adjusted")
                - F("written_off")
                - F("transferred")
                - F("prior_payer")
            ),
            patient=Sum("patient_responsibility"),
        )
    )
    unposted = (
        part2.visible(
            ClaimLine.objects.filter(f.claims("claim__"), balance__isnull=True, **claim_filter),
            scopes,
        )
        .values("claim_id", "claim__payer_id", "claim__submitted_at__date")
        .annotate(open=Sum("charge"), patient=ZERO)
    )
    return [*posted, *unposted]


def _ar(f: DashboardFilters, dashboard: Dashboard, payers: dict[Any, str], scopes: Scopes) -> None:
    today = dashboard.today
    rows = _ar_rows(f, scopes)
    # The claims the A/R drill-down leaves out (one COUNT, none with the grant).
    dashboard.hidden["ar"] = part2.hidden_count(_ar_claims(f, bucket="", today=today), scopes)
    buckets: dict[str, dict[str, Decimal]] = {
        b: {"insurance": Decimal("0.00"), "patient": Decimal("0.00")} for b in rules.AGING_BUCKETS
    }
    per_payer: dict[Any, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(rules.AGING_BUCKETS, Decimal("0.00"))
    )
    total = over_90 = Decimal("0.00")
    # A claim is in A/R when its open balance (over all its lines) is above zero: the rule its
    # drill-down list (`_ar_claims`) applies.
    by_claim: dict[Any, dict[str, Any]] = {}
    for row in rows:
        claim = by_claim.setdefault(
            row["claim_id"], {**row, "open": Decimal("0.00"), "patient": Decimal("0.00")}
        )
        claim["open"] += row["open"] or Decimal("0.00")
        claim["patient"] += row["patient"] or Decimal("0.00")
    for row in by_claim.values():
        open_amount = row["open"]
        if open_amount <= 0:
            continue
        patient = min(row["patient"], open_amount)
        bucket = rules.aging_bucket((today - row["claim__submitted_at__date"]).days)
        buckets[bucket]["insurance"] += open_amount - patient
        buckets[bucket]["patient"] += patient
        per_payer[row["claim__payer_id"]][bucket] += open_amount
        total += open_amount
        if bucket in {"91-120", "120+"}:
            over_90 += open_amount
    dashboard.ar_total, dashboard.ar_over_90, dashboard.ar_buckets = total, over_90, buckets
    dashboard.ar_by_payer = sorted(
        (
            {
                "payer": payers.get(k, "?"),
                "payer_id": str(k),
                **v,
                "total": sum(v.values(), Decimal("0.00")),
            }
            for k, v in per_payer.items()
        ),
        key=lambda r: -r["total"],
    )
    start = today - timedelta(days=90)
    dashboard.charges_last_90 = (
        part2.visible(
            Claim.objects.filter(
                f.claims(),
                statement_from__gte=start,
                statement_from__lte=today,
                # A secondary claim re-bills the primary's charges: count each service once.
                primary_claim__isnull=True,
            ),
            scopes,
        )
        .exclude(status__in=[ClaimStatus.VOID])
        .aggregate(total=Coalesce(Sum("total_charge"), ZERO))["total"]
    )


def _remitted(f: DashboardFilters) -> QuerySet[RemittanceClaim]:
    """The 835 claim payments (and reversals) of the period, matched to a claim: what the
    collections figures add up, and what their drill-down lists (kind "collected")."""
    return RemittanceClaim.objects.filter(
        f.claims("claim__"),
        claim__isnull=False,
        payment__payment_date__gte=f.date_from,
        payment__payment_date__lte=f.date_to,
    )


def _collected_claims(f: DashboardFilters) -> QuerySet[Claim]:
    """The claims behind "collected": every claim with a payment or reversal in the period."""
    return Claim.objects.filter(Exists(_remitted(f).filter(claim=OuterRef("pk"))))


def _claim_collected(f: DashboardFilters) -> Subquery:
    """What a claim was paid in the period (reversals subtract), as a column of a claim list."""
    return Subquery(
        _remitted(f)
        .filter(claim=OuterRef("pk"))
        .values("claim_id")
        .annotate(total=Sum("paid"))
        .values("total"),
        output_field=MONEY,
    )


def _collections(f: DashboardFilters, dashboard: Dashboard, scopes: Scopes) -> None:
    remitted = _remitted(f)
    rows = (
        remitted.annotate(p2=_p2(RemittanceClaim))
        .values("p2")
        .annotate(
            paid=Coalesce(Sum("paid"), ZERO),
            charge=Coalesce(Sum("charge"), ZERO),
            claims=Count("claim_id", distinct=True),
        )
    )
    row, hidden = _fold(rows, _hiding(scopes), "paid", "charge", "claims")
    dashboard.hidden["collections"] = hidden["claims"]
    contractual = part2.visible(remitted, scopes).aggregate(
        co=Coalesce(
            Sum(
                "adjustments__amount",
                # Contractual write-downs only: a CO denial (197, 50...) is money still owed.
                filter=Q(
                    adjustments__group_code="CO",
                    adjustments__reason_code__in=AdjustmentReason.objects.filter(
                        kind=ReasonKind.CONTRACTUAL
                    ).values("code"),
                ),
            ),
            ZERO,
        )
    )["co"]
    dashboard.collections = (
        Decimal(row["paid"]).quantize(Decimal("0.01")),
        Decimal(row["charge"]).quantize(Decimal("0.01")),
        contractual,
    )


def _appeals(f: DashboardFilters, dashboard: Dashboard, scopes: Scopes) -> None:
    rows = (
        Appeal.objects.filter(
            f.claims("denial__claim__"), decided_on__gte=f.date_from, decided_on__lte=f.date_to
        )
        .exclude(outcome="")
        .annotate(p2=_p2(Appeal))
        .values("p2")
        .annotate(
            decided=Count("pk"),
            overturned=Count("pk", filter=Q(outcome__in=["overturned", "partial"])),
        )
    )
    row, hidden = _fold(rows, _hiding(scopes), "decided", "overturned")
    dashboard.appeals = (row["overturned"], row["decided"])
    dashboard.hidden["appeals"] = hidden["decided"]


def _cash(f: DashboardFilters, dashboard: Dashboard) -> None:
    payments = Payment.objects.filter(payment_date__gte=f.date_from, payment_date__lte=f.date_to)
    if f.payer_id:
        payments = payments.filter(payer_id=f.payer_id)
    by_day = payments.values("payment_date").annotate(total=Sum("amount")).order_by("payment_date")
    weeks: dict[date, Decimal] = defaultdict(lambda: Decimal("0.00"))
    months: dict[date, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for row in by_day:
        day = row["payment_date"]
        weeks[day - timedelta(days=day.weekday())] += row["total"]
        months[day.replace(day=1)] += row["total"]
    dashboard.cash_by_week = sorted(weeks.items())
    dashboard.cash_by_month = sorted(months.items())


def _authorizations_expiring(today: date) -> QuerySet[Authorization]:
    return Authorization.objects.filter(
        status__in=APPROVED_STATUSES,
        end_date__gte=today,
        end_date__lte=today + timedelta(days=7),
    )


def _lapsed_usage() -> QuerySet[AuthorizationUsage]:
    return AuthorizationUsage.objects.filter(
        Q(authorization__isnull=True) | Q(date_of_service__gt=F("authorization__end_date"))
    )


def authorizations_expiring(today: date, *, scopes: Scopes) -> QuerySet[Authorization]:
    return part2.visible(_authorizations_expiring(today), scopes)


def lapsed_usage(*, scopes: Scopes) -> QuerySet[AuthorizationUsage]:
    return part2.visible(_lapsed_usage(), scopes)


def _count_split(qs: QuerySet[Any], scopes: Scopes) -> tuple[int, int]:
    """(shown, hidden) rows of `qs` for the caller, in one aggregate."""
    row = qs.aggregate(n=Count("pk"), p2=Count("pk", filter=part2.restricted_q(qs.model)))
    hidden = row["p2"] if _hiding(scopes) else 0
    return row["n"] - hidden, hidden


def _operations(
    f: DashboardFilters, dashboard: Dashboard, payers: dict[Any, str], scopes: Scopes
) -> None:
    today = dashboard.today
    hidden = dashboard.hidden
    dashboard.authorizations_expiring, hidden["authorizations_expiring"] = _count_split(
        _authorizations_expiring(today), scopes
    )
    dashboard.authorizations_lapsed, hidden["authorizations_lapsed"] = _count_split(
        _lapsed_usage(), scopes
    )
    providers = (
        Provider.objects.filter(active_from__lte=today)
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=today))
        .count()
    )
    enrolled = (
        PayerEnrollment.objects.filter(status="approved", effective_date__lte=today)
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gte=today))
        .values("payer_id")
        .annotate(n=Count("provider_id", distinct=True))
    )
    enrolled_by_payer = {r["payer_id"]: r["n"] for r in enrolled}
    dashboard.not_billable = sorted(
        ((name, max(providers - enrolled_by_payer.get(pk, 0), 0)) for pk, name in payers.items()),
        key=lambda r: -r[1],
    )
    ages = (
        WorkItem.objects.filter(status__in=OPEN_WORK_STATUSES)
        .annotate(p2=_p2(WorkItem))
        .values("opened_on", "p2")
        .annotate(n=Count("pk"))
    )
    backlog = dict.fromkeys(rules.AGING_BUCKETS, 0)
    hidden["backlog"] = 0
    for row in ages:
        if _hiding(scopes) and row["p2"]:
            hidden["backlog"] += row["n"]
            continue
        backlog[rules.aging_bucket((today - row["opened_on"]).days)] += row["n"]
    dashboard.backlog = backlog
    unbilled = unbilled_per_diem_days(f, today=today, scopes=scopes)
    dashboard.unbilled_days, hidden["unbilled_days"] = len(unbilled.days), unbilled.part2_hidden


@dataclass(frozen=True)
class UnbilledDays:
    days: list[tuple[Any, date]]  # (episode id, day), of the episodes the caller may see
    part2_hidden: int  # the days of Part 2 episodes left out


def unbilled_per_diem_days(f: DashboardFilters, *, today: date, scopes: Scopes) -> UnbilledDays:
    """(episode, day) pairs at a per-diem level in the period with no charge that day (2 queries);
    the days of episodes the caller may not see (42 CFR Part 2) are only counted."""
    end = min(f.date_to, today - timedelta(days=1))
    hiding = _hiding(scopes)
    stays = list(
        LevelOfCareStay.objects.filter(level__in=FACILITY_LEVELS, start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=f.date_from))
        .annotate(p2=_p2(LevelOfCareStay))
        .values_list("episode_id", "start_date", "end_date", "p2")
    )
    charged = set(
        ServiceEntry.objects.filter(
            episode_id__in={s[0] for s in stays},
            date_of_service__gte=f.date_from,
            date_of_service__lte=end,
        )
        .exclude(status="void")
        .values_list("episode_id", "date_of_service")
    )
    missing = []
    hidden = 0
    for episode_id, start, stop, p2 in stays:
        day = max(start, f.date_from)
        last = min(stop or end, end)
        while day <= last:
            if (episode_id, day) not in charged:
                if hiding and p2:
                    hidden += 1
                else:
                    missing.append((episode_id, day))
            day += timedelta(days=1)
    return UnbilledDays(missing, hidden)


def dashboard_figures(*, filters: DashboardFilters, today: date, scopes: Scopes) -> Dashboard:
    """Every figure of the manager dashboard for the organization in context, over the rows
    `scopes` may see (42 CFR Part 2), with how many each left out (`Dashboard.hidden`)."""
    payers = dict(Payer.objects.values_list("pk", "name"))
    providers = {
        p.pk: p.display_name
        for p in Provider.objects.only("pk", "first_name", "last_name", "credentials_suffix")
    }
    dashboard = Dashboard(filters=filters, today=today)
    dashboard.clean_claims, dashboard.hidden["clean_claims"] = _clean_claims(filters, scopes)
    _denials(filters, dashboard, payers, providers, scopes)
    _ar(filters, dashboard, payers, scopes)
    _collections(filters, dashboard, scopes)
    _appeals(filters, dashboard, scopes)
    _cash(filters, dashboard)
    _operations(filters, dashboard, payers, scopes)
    return dashboard


def headline_figures(
    *, date_from: date, date_to: date, today: date, scopes: Scopes
) -> dict[str, Any]:
    """The portfolio page's headline KPIs of the organization in context, over the rows `scopes`
    (that membership's) may see; `part2_hidden` is the most any one of them left out."""
    filters = DashboardFilters(date_from=date_from, date_to=date_to)
    dashboard = Dashboard(filters=filters, today=today)
    dashboard.clean_claims, dashboard.hidden["clean_claims"] = _clean_claims(filters, scopes)
    adjudicated = _adjudicated_claims(filters)
    dashboard.denials = (
        denied_claims(filters, scopes=scopes).count(),
        adjudicated_claims(filters, scopes=scopes).count(),
    )
    dashboard.hidden["denials"] = part2.hidden_count(adjudicated, scopes)
    _ar(filters, dashboard, {}, scopes)
    _collections(filters, dashboard, scopes)
    _cash(filters, dashboard)
    return {**dashboard.headline(), "part2_hidden": max(dashboard.headline_hidden().values())}


@dataclass(frozen=True)
class Drilldown:
    claims: QuerySet[Claim]
    part2_hidden: int
    # A money figure's list: each claim's `amount` column (annotated on `claims`), its heading,
    # and the total of the whole list (not only the page), the sum its figure shows.
    amount_label: str = ""
    amount_total: Decimal | None = None


# The lists behind money figures: (the amount column's heading, the claim's amount).
AMOUNTS = {
    "ar": "Open balance",
    "collected": "Paid in the period",
}


def drilldown_claims(
    kind: str,
    f: DashboardFilters,
    *,
    today: date,
    scopes: Scopes,
    category: str = "",
    bucket: str = "",
    month: tuple[int, int] | None = None,
) -> Drilldown:
    """The claims behind a figure (`kind`: clean, answered, denied, adjudicated, ar, collected),
    the same selectors and filters as the figure, the caller's visible ones and how many were
    left out (one COUNT); for a money figure (ar, collected), each claim's amount and the
    list's total (one aggregate)."""
    if kind in ("clean", "answered"):
        claims = _answered_claims(f, clean=kind == "clean")
    elif kind == "denied":
        claims = _denied_claims(f, category=category)
    elif kind == "adjudicated":
        claims = _adjudicated_claims(f)
    elif kind == "collected":
        claims = _collected_claims(f)
    else:
        claims = _ar_claims(f, bucket=bucket, today=today)
    if month is not None:
        claims = claims.filter(statement_from__year=month[0], statement_from__month=month[1])
    hidden = part2.hidden_count(claims, scopes)
    claims = part2.visible(claims, scopes)
    if kind not in AMOUNTS:
        return Drilldown(claims, hidden)
    amount = _claim_collected(f) if kind == "collected" else _claim_open_balance()
    claims = claims.annotate(amount=amount)
    total = claims.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    return Drilldown(claims, hidden, AMOUNTS[kind], total)


def episodes_by_id(ids: set[Any], *, scopes: Scopes) -> dict[Any, EpisodeOfCare]:
    return {
        e.pk: e
        for e in part2.visible(EpisodeOfCare.objects.select_related("patient"), scopes).filter(
            pk__in=ids
        )
    }
