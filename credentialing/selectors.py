"""Reads for the credentialing screens and API, each shaped for one screen so a page costs a
fixed number of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, Prefetch, Q, QuerySet, Value, When

from credentialing import rules
from credentialing.models import (
    Credential,
    EnrollmentEvent,
    EnrollmentStatus,
    PayerEnrollment,
    PayerProviderRule,
    Provider,
    ServiceFacility,
)
from patients.models import Payer


def provider_roster(
    *, q: str = "", provider_type: str = "", show: str = "active", today: date
) -> QuerySet[Provider]:
    qs = Provider.objects.select_related("supervising_provider")
    if show == "active":
        qs = qs.filter(Q(active_until__isnull=True) | Q(active_until__gte=today))
    elif show == "inactive":
        qs = qs.filter(active_until__lt=today)
    if provider_type:
        qs = qs.filter(provider_type=provider_type)
    for term in q.split():
        qs = qs.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(npi__startswith=term)
        )
    return qs.order_by("last_name", "first_name")


def provider_page_queryset() -> QuerySet[Provider]:
    """Providers shaped for their page: supervisor, account, credentials, enrollments (payer,
    facility) and supervisees prefetched."""
    return Provider.objects.select_related("supervising_provider", "user").prefetch_related(
        Prefetch("credentials", queryset=Credential.objects.order_by("kind", "-expires_on")),
        Prefetch(
            "enrollments",
            queryset=PayerEnrollment.objects.select_related("payer", "service_facility").order_by(
                "payer__name", "service_facility__name"
            ),
        ),
        "supervisees",
    )


def enrollment_history(
    *, provider: Provider | None = None, enrollment: PayerEnrollment | None = None
) -> QuerySet[EnrollmentEvent]:
    qs = EnrollmentEvent.objects.select_related(
        "enrollment__payer", "enrollment__service_facility", "changed_by"
    )
    if provider is not None:
        qs = qs.filter(enrollment__provider=provider)
    if enrollment is not None:
        qs = qs.filter(enrollment=enrollment)
    return qs.order_by("-created_at")


def credential_status(credential: Credential, today: date) -> tuple[str, str]:
    """(badge class, text) for a credential's expiry standing on `today`."""
    if credential.kind == "oig_check":
        return ("danger", "Excluded") if credential.result == "excluded" else ("ok", "Not excluded")
    if credential.kind == "caqh" and credential.attested_on:
        due = credential.attested_on.toordinal() + rules.CAQH_ATTESTATION_DAYS
        days = due - today.toordinal()
        if days < 0:
            return "danger", f"Attestation overdue since {date.fromordinal(due)}"
        return ("warn" if days <= 14 else "ok"), f"Attestation due {date.fromordinal(due)}"
    if credential.expires_on is None:
        return "muted", "No expiry"
    threshold = rules.expiry_threshold(credential.expires_on, today)
    if threshold == 0:
        return "danger", f"Expired {credential.expires_on}"
    if threshold is not None:
        return (
            "danger" if threshold == 7 else "warn"
        ), f"Expires in {(credential.expires_on - today).days} days"
    return "ok", f"Valid to {credential.expires_on}"


# --- The credentialing matrix -----------------------------------------------------------------

CELL_CLASS = {
    "effective": "ok",
    "future": "warn",
    "submitted": "warn",
    "in_process": "warn",
    "denied": "danger",
    "terminated": "danger",
    "not_started": "muted",
    "none": "muted",
}
# Best first: the cell of a provider x payer shows its most useful enrollment (there may be one
# per facility).
CELL_RANK = [
    "effective",
    "future",
    "in_process",
    "submitted",
    "denied",
    "terminated",
    "not_started",
    "none",
]

MATRIX_FILTERS = [
    ("", "Everything"),
    ("gaps", "Gaps (not billable today)"),
    ("none", "No enrollment at all"),
    *[(s.value, s.label) for s in EnrollmentStatus],
]


@dataclass
class MatrixCell:
    payer_id: uuid.UUID
    state: str = "none"
    label: str = "Not enrolled"
    css: str = "muted"
    effective_date: date | None = None
    termination_date: date | None = None
    enrollment_id: uuid.UUID | None = None
    locations: int = 0
    matches: bool = True

    @property
    def is_gap(self) -> bool:
        return self.state != "effective"


@dataclass
class MatrixRow:
    provider: Provider
    cells: list[MatrixCell] = field(default_factory=list)


@dataclass
class Matrix:
    payers: list[Payer]
    rows: list[MatrixRow]


def _cell_state(e: PayerEnrollment, today: date) -> str:
    if e.status in {"approved", "terminated"} and e.effective_date and e.effective_date <= today:
        if e.termination_date is None or today <= e.termination_date:
            return "effective"
        return "terminated"
    if e.status == "approved":
        return "future"
    return e.status


def _cell(payer: Payer, enrollments: list[PayerEnrollment], today: date) -> MatrixCell:
    cell = MatrixCell(payer_id=payer.pk, locations=len(enrollments))
    if not enrollments:
        return cell
    best = min(enrollments, key=lambda e: CELL_RANK.index(_cell_state(e, today)))
    state = _cell_state(best, today)
    labels = {"effective": "Approved", "future": "Approved (future)", **rules.STATUS_LABELS}
    cell.state, cell.label, cell.css = state, labels.get(state, state), CELL_CLASS[state]
    cell.effective_date, cell.termination_date = best.effective_date, best.termination_date
    cell.enrollment_id = best.pk
    return cell


def _matches(cell: MatrixCell, status: str) -> bool:
    if not status:
        return True
    if status == "gaps":
        return cell.is_gap
    if status == "approved":
        return cell.state in {"effective", "future"}
    if status == "terminated":
        return cell.state == "terminated"
    return cell.state == status


def enrollment_matrix(
    *, today: date, status: str = "", provider_type: str = "", q: str = "", payer_id: object = None
) -> Matrix:
    """Providers down, payers across, each cell the enrollment standing on `today`. With a
    status filter only the providers with at least one matching cell remain, and the cells that
    do not match are marked so the page can dim them. Three queries whatever the size."""
    payers = list(Payer.objects.filter(is_active=True).order_by("name"))
    if payer_id:
        payers = [p for p in payers if str(p.pk) == str(payer_id)]
    providers = list(provider_roster(q=q, provider_type=provider_type, today=today))
    by_pair: dict[tuple[uuid.UUID, uuid.UUID], list[PayerEnrollment]] = {}
    enrollments = PayerEnrollment.objects.filter(
        provider_id__in=[p.pk for p in providers], payer_id__in=[p.pk for p in payers]
    ).only(
        "id",
        "provider_id",
        "payer_id",
        "status",
        "effective_date",
        "termination_date",
        "service_facility_id",
    )
    for e in enrollments:
        by_pair.setdefault((e.provider_id, e.payer_id), []).append(e)
    rows = []
    for provider in providers:
        cells = [_cell(payer, by_pair.get((provider.pk, payer.pk), []), today) for payer in payers]
        for cell in cells:
            cell.matches = _matches(cell, status)
        if not status or any(c.matches for c in cells):
            rows.append(MatrixRow(provider=provider, cells=cells))
    return Matrix(payers=payers, rows=rows)


def enrollment_pipeline(*, status: str = "", payer_id: object = None) -> QuerySet[PayerEnrollment]:
    qs = PayerEnrollment.objects.select_related("provider", "payer", "service_facility")
    if status:
        qs = qs.filter(status=status)
    if payer_id:
        qs = qs.filter(payer_id=payer_id)
    order = Case(*[When(status=s, then=Value(i)) for i, s in enumerate(EnrollmentStatus.values)])
    return qs.annotate(step=order).order_by("step", "submitted_on", "provider__last_name")


def facility_list() -> QuerySet[ServiceFacility]:
    return ServiceFacility.objects.order_by("-is_active", "name")


def payer_rule_list() -> QuerySet[PayerProviderRule]:
    return PayerProviderRule.objects.select_related("payer").order_by(
        "payer__name", "provider_type", "service_code"
    )


def active_payers() -> QuerySet[Payer]:
    return Payer.objects.filter(is_active=True).order_by("name")


@dataclass
class PayerStanding:
    payer: Payer
    billable: bool
    code: str
    reason: str
    under_supervisor: Provider | None
    enrollments: list[PayerEnrollment]


def provider_page_context(*, provider: Provider, today: date) -> dict[str, object]:
    """The provider page (`provider` from `provider_page_queryset`): credentials with their
    expiry standing, and for every active payer whether the provider can bill it today and why
    not (fixed number of queries)."""
    from credentialing.services import BillabilityQuery, billability_for_pairs

    payers = list(active_payers())
    queries = {p.pk: BillabilityQuery(provider.pk, p.pk, today) for p in payers}
    results = billability_for_pairs(queries.values())
    enrollments = list(provider.enrollments.all())
    standings = [
        PayerStanding(
            payer=p,
            billable=results[queries[p.pk]].billable,
            code=results[queries[p.pk]].code,
            reason=results[queries[p.pk]].reason,
            under_supervisor=results[queries[p.pk]].under_supervisor,
            enrollments=[e for e in enrollments if e.payer_id == p.pk],
        )
        for p in payers
    ]
    credentials = [(c, *credential_status(c, today)) for c in provider.credentials.all()]
    return {
        "provider": provider,
        "credentials": credentials,
        "standings": standings,
        "enrollments": enrollments,
        "history": list(enrollment_history(provider=provider)[:50]),
        "today": today,
    }
