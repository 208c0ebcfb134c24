"""Reads of reconciliation, each shaped for one screen or endpoint (a fixed number of queries
whatever the page size). ERAs appear at payment level only (payer, trace, amount, date), as on
the payment page; their claims are read through denials.selectors.payment_detail, which applies
42 CFR Part 2."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, Upper

from denials.models import Denial, Payment
from rcm import part2
from rcm.tenancy.context import require_organization_id
from reconciliation.models import (
    BankAccount,
    Deposit,
    Match,
    MatchDeposit,
    MatchPayment,
    ReconciliationSettings,
    StatementImport,
    UnderpaymentItem,
    UnderpaymentOutcome,
)
from reconciliation.services import matchable_payments, unmatched_deposits, unmatched_payments

QUEUES = {
    "eras": "ERAs without a deposit",
    "deposits": "Deposits without an ERA",
    "mismatches": "Amount mismatches",
}


def reconciliation_settings() -> ReconciliationSettings:
    found = ReconciliationSettings.objects.first()
    return found or ReconciliationSettings(organization_id=require_organization_id())


def bank_accounts() -> QuerySet[BankAccount]:
    return BankAccount.objects.order_by("name", "pk")


def statement_imports() -> QuerySet[StatementImport]:
    return StatementImport.objects.select_related("bank_account", "uploaded_by").order_by(
        "-created_at", "-pk"
    )


def _amount_of(search: str) -> Decimal | None:
    try:
        value = Decimal(search.replace("$", "").replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and abs(value) < Decimal("1e10") else None


def _deposit_search(qs: QuerySet[Deposit], search: str) -> QuerySet[Deposit]:
    if not search:
        return qs
    q = Q(trace_number__icontains=search) | Q(reference__icontains=search)
    amount = _amount_of(search)
    if amount is not None:
        q |= Q(amount=amount)
    return qs.filter(q)


def _payment_search(qs: QuerySet[Payment], search: str) -> QuerySet[Payment]:
    if not search:
        return qs
    q = Q(trace_number__icontains=search) | Q(payer_name__icontains=search)
    amount = _amount_of(search)
    if amount is not None:
        q |= Q(amount=amount)
    return qs.filter(q)


def _live_deposit_match(deposit_ref: str = "pk") -> QuerySet[MatchDeposit]:
    return MatchDeposit.objects.filter(deposit=OuterRef(deposit_ref), active=True)


def deposits_list(*, search: str, status: str) -> QuerySet[Deposit]:
    """Deposits, newest first, each with whether it is matched; `status` "matched",
    "unmatched" or "" for all."""
    qs = Deposit.objects.select_related("bank_account").annotate(
        matched=Exists(_live_deposit_match()),
        match_id=Subquery(_live_deposit_match().values("match_id")[:1]),
    )
    if status == "matched":
        qs = qs.filter(matched=True)
    elif status == "unmatched":
        qs = qs.filter(matched=False)
    return _deposit_search(qs, search).order_by("-deposit_date", "-created_at", "-pk")


def deposit_detail(pk: Any) -> Deposit:
    """One deposit with its live match (or none). Deposit.DoesNotExist if none."""
    return deposits_list(search="", status="").get(pk=pk)


def eras_without_deposit(*, today: date, days: int, search: str) -> QuerySet[Payment]:
    """ERAs that moved money, unmatched, dated `days` or more before `today` (the payment date,
    or the day the 835 arrived without one): oldest first."""
    dated = Coalesce("payment_date", TruncDate("created_at"), output_field=DateField())
    cutoff = today - timedelta(days=days)
    qs = (
        unmatched_payments()
        .select_related("payer", "remittance_import")
        .filter(
            Q(payment_date__lte=cutoff) | Q(payment_date__isnull=True, created_at__date__lte=cutoff)
        )
        .annotate(dated=dated)
    )
    return _payment_search(qs, search).order_by(dated.asc(), "created_at", "pk")


def deposits_without_era(*, search: str, window: int) -> QuerySet[Deposit]:
    """Unmatched deposits, oldest first, each with whether an unmatched ERA of the same amount
    within `window` days could be it (`has_suggestion`)."""
    candidate = unmatched_payments().filter(
        amount=OuterRef("amount"),
        payment_date__gte=OuterRef("deposit_date") - timedelta(days=window),
        payment_date__lte=OuterRef("deposit_date") + timedelta(days=window),
    )
    qs = (
        unmatched_deposits()
        .select_related("bank_account")
        .annotate(has_suggestion=Exists(candidate))
    )
    return _deposit_search(qs, search).order_by("deposit_date", "created_at", "pk")


def amount_mismatches(*, search: str) -> QuerySet[Deposit]:
    """Deposits whose money disagrees with their ERA: unmatched with an unmatched ERA of the same
    trace and another amount (`era_amount` is that ERA's), or in a match made by hand whose
    totals differ (`match_difference`, with its reason)."""
    same_trace = (
        unmatched_payments()
        .annotate(trace_key=Upper("trace_number"))
        .filter(trace_key=Upper(OuterRef("trace_number")))
        .exclude(amount=OuterRef("amount"))
    )
    live = _live_deposit_match().exclude(match__deposit_total=F("match__payment_total"))
    qs = (
        Deposit.objects.select_related("bank_account")
        .annotate(
            matched=Exists(_live_deposit_match()),
            era_amount=Subquery(same_trace.order_by("created_at").values("amount")[:1]),
            era_trace_conflict=Exists(same_trace),
            mismatched_match=Exists(live),
            match_id=Subquery(live.values("match_id")[:1]),
            match_deposit_total=Subquery(live.values("match__deposit_total")[:1]),
            match_payment_total=Subquery(live.values("match__payment_total")[:1]),
            match_reason=Subquery(live.values("match__reason")[:1]),
        )
        .filter((Q(matched=False) & Q(era_trace_conflict=True)) | Q(mismatched_match=True))
        .exclude(trace_number="", mismatched_match=False)
    )
    return _deposit_search(qs, search).order_by("deposit_date", "created_at", "pk")


@dataclass(frozen=True)
class Suggestion:
    payment: Payment
    why: str


def suggestions_for_deposit(deposit: Deposit, *, window: int) -> list[Suggestion]:
    """Unmatched ERAs that could be this deposit: the same trace (whatever the amount), or the
    same amount dated within `window` days. One query."""
    same_amount = Q(
        amount=deposit.amount,
        payment_date__gte=deposit.deposit_date - timedelta(days=window),
        payment_date__lte=deposit.deposit_date + timedelta(days=window),
    )
    q = same_amount
    if deposit.trace_number:
        q |= Q(trace_number__iexact=deposit.trace_number)
    rows = (
        unmatched_payments().filter(q).select_related("payer").order_by("payment_date", "pk")[:20]
    )
    found = []
    for p in rows:
        if deposit.trace_number and p.trace_number.upper() == deposit.trace_number.upper():
            why = "Same trace" + ("" if p.amount == deposit.amount else ", another amount")
        else:
            days = abs((p.payment_date - deposit.deposit_date).days) if p.payment_date else 0
            why = f"Same amount, {days} day{'s' if days != 1 else ''} apart"
        found.append(Suggestion(p, why))
    return found


def matches_list(*, active: str) -> QuerySet[Match]:
    """Matches, newest first, with their deposits and ERAs (three queries a page); `active`
    "true", "false" or "" for all."""
    qs = Match.objects.select_related("matched_by", "unmatched_by").prefetch_related(
        Prefetch(
            "deposit_links",
            queryset=MatchDeposit.objects.select_related("deposit__bank_account").order_by("pk"),
        ),
        Prefetch(
            "payment_links",
            queryset=MatchPayment.objects.select_related("payment__payer").order_by("pk"),
        ),
    )
    if active == "true":
        qs = qs.filter(active=True)
    elif active == "false":
        qs = qs.filter(active=False)
    return qs.order_by("-matched_at", "-pk")


def match_candidates(
    *, deposit_search: str, payment_search: str, include: list[str]
) -> tuple[list[Deposit], list[Payment]]:
    """The unmatched deposits and ERAs a person may match by hand: 50 of each (searchable),
    plus the ones already chosen (`include`, ids), wherever they sort."""
    ids = [i for i in include if _is_uuid(i)]
    deposits = unmatched_deposits().select_related("bank_account")
    payments = unmatched_payments().select_related("payer")
    found_d = list(
        deposits.filter(
            Q(pk__in=ids)
            | Q(
                pk__in=_deposit_search(deposits, deposit_search)
                .order_by("deposit_date", "pk")
                .values("pk")[:50]
            )
        ).order_by("deposit_date", "pk")
    )
    found_p = list(
        payments.filter(
            Q(pk__in=ids)
            | Q(
                pk__in=_payment_search(payments, payment_search)
                .order_by("payment_date", "pk")
                .values("pk")[:50]
            )
        ).order_by("payment_date", "pk")
    )
    return found_d, found_p


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def payments_for_matching() -> QuerySet[Payment]:
    return matchable_payments()


# --- Underpayments ----------------------------------------------------------------------------


def _underpayments(search: str, outcome: str) -> QuerySet[UnderpaymentItem]:
    qs = UnderpaymentItem.objects.all()
    if outcome in UnderpaymentOutcome.values:
        qs = qs.filter(outcome=outcome)
    words = search.strip()
    if words:
        q = (
            Q(service_code__iexact=words)
            | Q(payer__name__icontains=words)
            | Q(claim__patient_control_number__iexact=words)
            | Q(claim__patient__last_name__icontains=words)
        )
        amount = _amount_of(words)
        if amount is not None:
            q |= Q(variance=amount) | Q(paid=amount)
        qs = qs.filter(q)
    return qs


def underpayments_list(
    *, scopes: Collection[str], search: str, outcome: str
) -> QuerySet[UnderpaymentItem]:
    """Underpayment items the caller may see (42 CFR Part 2 through the claim), largest variance
    of the newest remittances first; `outcome` one of UnderpaymentOutcome or "" for all; `search`
    a code, payer, claim number, patient last name or amount."""
    return (
        part2.visible(_underpayments(search, outcome), scopes)
        .select_related("payer", "claim__patient", "contract_rate", "resolved_by")
        .annotate(
            # The claim's latest denial, where the appeal flow starts (none: the claim page).
            appeal_denial_id=Subquery(
                Denial.objects.filter(claim=OuterRef("claim_id"))
                .order_by("-remittance_date", "-pk")
                .values("pk")[:1]
            )
        )
        .order_by("-remittance_date", "-variance", "pk")
    )


def underpayments_hidden(*, scopes: Collection[str], search: str, outcome: str) -> int:
    return part2.hidden_count(_underpayments(search, outcome), scopes)


def underpayment_detail(pk: Any, *, scopes: Collection[str]) -> UnderpaymentItem:
    """UnderpaymentItem.DoesNotExist for another organization's item or, without the grant, a
    Part 2 one."""
    return underpayments_list(scopes=scopes, search="", outcome="").get(pk=pk)


@dataclass(frozen=True)
class VarianceRow:
    payer: str
    month: date
    items: int
    variance: Decimal
    recovered: Decimal
    open_variance: Decimal


def variance_by_payer_month(*, scopes: Collection[str], months: int = 12) -> list[VarianceRow]:
    """For the dashboard: per payer and month of the remittance, the underpayment items, their
    variance, what was recovered and what is still open (one query; the caller's rows only)."""
    rows = (
        part2.visible(UnderpaymentItem.objects.all(), scopes)
        .annotate(month=TruncMonth("remittance_date"))
        .values("payer__name", "month")
        .annotate(
            items=Count("pk"),
            total=Sum("variance"),
            recovered=Sum("recovered_amount"),
            open_variance=Coalesce(
                Sum("variance", filter=Q(outcome=UnderpaymentOutcome.OPEN)), Decimal("0")
            ),
        )
        .order_by("-month", "payer__name")[: months * 20]
    )
    return [
        VarianceRow(
            payer=r["payer__name"],
            month=r["month"],
            items=r["items"],
            variance=r["total"],
            recovered=r["recovered"],
            open_variance=r["open_variance"],
        )
        for r in rows
    ]
