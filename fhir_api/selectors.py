"""The rows behind each FHIR resource type, narrowed for the caller (tenant by the managers,
42 CFR Part 2 by `rcm.part2`) and shaped so a page costs a fixed number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from claims.models import Claim, ClaimStatus
from credentialing.models import Provider
from denials.models import RemittanceClaim
from fhir_api import resources
from fhir_api.search import Criterion, DateRange, Search
from patients.models import Coverage, Patient, Payer
from rcm import part2
from rcm.tenancy.models import Organization

# Which scope reads each resource type (the REST API's areas: the same key reads the same rows).
READ_SCOPES: dict[str, str] = {
    "Patient": "patients:read",
    "Coverage": "patients:read",
    "Organization": "patients:read",
    "Practitioner": "credentialing:read",
    "Claim": "claims:read",
    "ClaimResponse": "denials:read",
    "ExplanationOfBenefit": "denials:read",
}
RESOURCE_TYPES = tuple(READ_SCOPES)
# The patient compartment (Patient/$export).
PATIENT_COMPARTMENT = ("Patient", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit")

# FHIR financial status -> our claim statuses (resources.CLAIM_STATUS is the other way).
CLAIM_STATUSES: dict[str, list[str]] = {
    "draft": [ClaimStatus.DRAFT, ClaimStatus.READY],
    "cancelled": [ClaimStatus.VOID],
    "entered-in-error": [],
    "active": [
        s for s in ClaimStatus.values if s not in {ClaimStatus.DRAFT, ClaimStatus.READY, "void"}
    ],
}


@dataclass(frozen=True)
class Source:
    """How one resource type is read: its rows, their order, its search parameters' lookups and
    the function that turns a row into the resource."""

    rows: Callable[[Collection[str]], QuerySet[Any]]
    order: tuple[str, ...]
    lookups: dict[str, Callable[[Criterion, date], Q]]
    render: Callable[[Any, Organization, date], dict[str, Any]]
    patient_path: str | None


def _date_q(path: str) -> Callable[[Criterion, date], Q]:
    def lookup(criterion: Criterion, today: date) -> Q:
        value = criterion.values[0]
        assert isinstance(value, DateRange)
        start, end = value.start, value.end
        return {
            "eq": Q(**{f"{path}__gte": start, f"{path}__lt": end}),
            "ne": ~Q(**{f"{path}__gte": start, f"{path}__lt": end}),
            "lt": Q(**{f"{path}__lt": start}),
            "le": Q(**{f"{path}__lt": end}),
            "gt": Q(**{f"{path}__gte": end}),
            "ge": Q(**{f"{path}__gte": start}),
        }[value.prefix]

    return lookup


def _in(path: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[Criterion, date], Q]:
    def lookup(criterion: Criterion, today: date) -> Q:
        return Q(**{f"{path}__in": [convert(v) for v in criterion.values]})

    return lookup


def _text(*paths: str) -> Callable[[Criterion, date], Q]:
    """A string parameter: starts with, ignoring case (`:exact`: equal), over any of `paths`."""

    def lookup(criterion: Criterion, today: date) -> Q:
        suffix = "exact" if criterion.modifier == "exact" else "istartswith"
        q = Q()
        for value in criterion.values:
            for path in paths:
                q |= Q(**{f"{path}__{suffix}": value})
        return q

    return lookup


def _boolean(active: Callable[[date], Q]) -> Callable[[Criterion, date], Q]:
    def lookup(criterion: Criterion, today: date) -> Q:
        q = Q(pk__in=[])
        for value in criterion.values:
            q |= active(today) if value else ~active(today)
        return q

    return lookup


def _claim_status(path: str) -> Callable[[Criterion, date], Q]:
    def lookup(criterion: Criterion, today: date) -> Q:
        statuses = [s for v in criterion.values for s in CLAIM_STATUSES[str(v)]]
        return Q(**{f"{path}__in": statuses})

    return lookup


def _coverage_active(today: date) -> Q:
    return Q(termination_date__isnull=True) | Q(termination_date__gte=today)


def _coverage_status(criterion: Criterion, today: date) -> Q:
    q = Q(pk__in=[])
    for value in criterion.values:
        if value == "active":
            q |= _coverage_active(today)
        elif value == "cancelled":
            q |= ~_coverage_active(today)
    return q


def _provider_active(today: date) -> Q:
    return Q(active_from__lte=today) & (Q(active_until__isnull=True) | Q(active_until__gte=today))


def _only(value: str) -> Callable[[Criterion, date], Q]:
    """A token whose every row has the one value `value`."""

    def lookup(criterion: Criterion, today: date) -> Q:
        return Q() if value in criterion.values else Q(pk__in=[])

    return lookup


GENDERS = {"female": "F", "male": "M", "unknown": "U"}


def _patients(scopes: Collection[str]) -> QuerySet[Any]:
    return Patient.objects.all()


def _coverages(scopes: Collection[str]) -> QuerySet[Any]:
    return Coverage.objects.select_related("payer")


def _claims(scopes: Collection[str]) -> QuerySet[Any]:
    return part2.visible(Claim.objects.prefetch_related("lines"), scopes)


def _remittances(scopes: Collection[str]) -> QuerySet[Any]:
    rows = RemittanceClaim.objects.filter(claim__isnull=False).select_related("payment", "claim")
    rows = rows.prefetch_related("lines__claim_line", "adjustments", "claim__lines")
    return part2.visible(rows, scopes)


def _providers(scopes: Collection[str]) -> QuerySet[Any]:
    return Provider.objects.all()


def _payers(scopes: Collection[str]) -> QuerySet[Any]:
    return Payer.objects.all()


def _id() -> Callable[[Criterion, date], Q]:
    return _in("pk")


SOURCES: dict[str, Source] = {
    "Patient": Source(
        rows=_patients,
        order=("last_name", "first_name", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "identifier": _in("mrn"),
            "name": _text("first_name", "last_name", "middle_name", "preferred_name"),
            "family": _text("last_name"),
            "given": _text("first_name", "middle_name"),
            "birthdate": _date_q("date_of_birth"),
            "gender": _in("sex", lambda v: GENDERS.get(v, "")),
            "active": _boolean(lambda today: Q(status="active")),
        },
        render=lambda obj, org, today: resources.patient(obj, org),
        patient_path="pk",
    ),
    "Coverage": Source(
        rows=_coverages,
        order=("patient_id", "priority", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "patient": _in("patient_id"),
            "beneficiary": _in("patient_id"),
            "payor": _in("payer_id"),
            "identifier": _in("member_id"),
            "status": _coverage_status,
        },
        render=lambda obj, org, today: resources.coverage(obj, org, today=today),
        patient_path="patient_id",
    ),
    "Claim": Source(
        rows=_claims,
        order=("-created_at", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "patient": _in("patient_id"),
            "created": _date_q("created_at__date"),
            "status": _claim_status("status"),
            "identifier": _in("patient_control_number"),
            "insurer": _in("payer_id"),
        },
        render=lambda obj, org, today: resources.claim(obj, org),
        patient_path="patient_id",
    ),
    "ClaimResponse": Source(
        rows=_remittances,
        order=("-created_at", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "patient": _in("claim__patient_id"),
            "created": _date_q("created_at__date"),
            "status": _only("active"),
            "request": _in("claim_id"),
            "outcome": _only("complete"),
        },
        render=lambda obj, org, today: resources.claim_response(obj, org),
        patient_path="claim__patient_id",
    ),
    "ExplanationOfBenefit": Source(
        rows=_remittances,
        order=("-created_at", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "patient": _in("claim__patient_id"),
            "created": _date_q("created_at__date"),
            "service-date": _date_q("claim__statement_from"),
            "status": _claim_status("claim__status"),
            "claim": _in("claim_id"),
            "identifier": _in("claim__patient_control_number"),
        },
        render=lambda obj, org, today: resources.explanation_of_benefit(obj, org),
        patient_path="claim__patient_id",
    ),
    "Practitioner": Source(
        rows=_providers,
        order=("last_name", "first_name", "id"),
        lookups={
            "_id": _id(),
            "_lastUpdated": _date_q("updated_at__date"),
            "identifier": _in("npi"),
            "name": _text("first_name", "last_name"),
            "family": _text("last_name"),
            "given": _text("first_name"),
            "active": _boolean(_provider_active),
        },
        render=lambda obj, org, today: resources.practitioner(obj, today=today),
        patient_path=None,
    ),
    "Organization": Source(
        rows=_payers,
        order=("name", "id"),
        lookups={
            "_id": _id(),
            "identifier": _in("payer_id"),
            "name": _text("name"),
            "type": _only("pay"),
            "active": _boolean(lambda today: Q(is_active=True)),
        },
        render=lambda obj, org, today: resources.organization_payer(obj),
        patient_path=None,
    ),
}


def _filtered(search: Search, scopes: Collection[str], today: date) -> QuerySet[Any]:
    source = SOURCES[search.resource_type]
    rows = source.rows(scopes)
    for criterion in search.criteria:
        rows = rows.filter(source.lookups[criterion.name](criterion, today))
    return rows.order_by(*source.order)


def _tenant_matches(search: Search, org: Organization, today: date) -> bool:
    """Whether the clinic itself (an Organization resource besides the payers) matches."""
    for criterion in search.criteria:
        values = criterion.values
        if criterion.name == "_id" and org.pk not in values:
            return False
        if criterion.name == "identifier" and org.group_npi not in values:
            return False
        if criterion.name == "type" and "prov" not in values:
            return False
        if criterion.name == "active" and org.is_active not in values:
            return False
        if criterion.name == "name":
            name = org.name.lower()
            if criterion.modifier == "exact":
                if org.name not in values:
                    return False
            elif not any(name.startswith(str(v).lower()) for v in values):
                return False
    return True


@dataclass
class Page:
    resources: list[dict[str, Any]]
    total: int
    has_next: bool
    rows: list[Any]
    hidden: int


def fhir_search(*, search: Search, org: Organization, scopes: Collection[str], today: date) -> Page:
    """One page of a search: the resources, the total, whether there is a next page, the rows
    (for the audit event) and how many rows 42 CFR Part 2 kept from the caller. Queries: the
    count, the page and its prefetches, whatever the page size."""
    rows = _filtered(search, scopes, today)
    start, count = search.offset, search.count
    extra: list[dict[str, Any]] = []
    if search.resource_type == "Organization" and _tenant_matches(search, org, today):
        # The clinic is the first entry of every Organization search it matches.
        if start == 0:
            extra = [resources.organization_tenant(org)]
            count -= 1
        else:
            start -= 1
        total_extra = 1
    else:
        total_extra = 0
    total = rows.count() + total_extra
    page = list(rows[start : start + count]) if count > 0 else []
    source = SOURCES[search.resource_type]
    rendered = extra + [source.render(obj, org, today) for obj in page]
    hidden = 0
    if search.resource_type in {"Claim", "ClaimResponse", "ExplanationOfBenefit"}:
        unfiltered = _filtered(search, part2.ORGANIZATION, today)
        hidden = part2.hidden_count(unfiltered, scopes)
    return Page(
        resources=rendered,
        total=total,
        has_next=search.offset + search.count < total,
        rows=page,
        hidden=hidden,
    )


def fhir_read(
    *, resource_type: str, pk: uuid.UUID, org: Organization, scopes: Collection[str], today: date
) -> tuple[dict[str, Any], Any] | None:
    """One resource by id (and its row, for the audit event), or None: not ours, not there, or
    a Part 2 record the caller may not see — the same answer for all three."""
    if resource_type == "Organization" and pk == org.pk:
        return resources.organization_tenant(org), org
    source = SOURCES[resource_type]
    obj = source.rows(scopes).filter(pk=pk).first()
    if obj is None:
        return None
    return source.render(obj, org, today), obj


def export_rows(*, resource_type: str, scopes: Collection[str], since: Any) -> QuerySet[Any]:
    """Every row of one type for a bulk export (changed since `since`, when given)."""
    source = SOURCES[resource_type]
    rows = source.rows(scopes)
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    return rows.order_by(*source.order)


def patient_id_of(resource_type: str, obj: Any) -> Any:
    """The patient a row belongs to (for the audit trail), or None."""
    path = SOURCES[resource_type].patient_path
    if path is None or isinstance(obj, Organization):
        return None
    current = obj
    for name in path.split("__"):
        current = getattr(current, name)
    return current
