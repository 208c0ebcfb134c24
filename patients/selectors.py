"""Reads for the patients screens and API, shaped so a page costs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from patients.levels import STAGE_OF, Stage
from patients.models import (
    BenefitVerification,
    Consent,
    Coverage,
    EpisodeDiagnosis,
    EpisodeOfCare,
    LevelOfCareStay,
    Patient,
    Payer,
)

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


def _as_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007  (a date, no time zone)
        except ValueError:
            continue
    return None


def patient_search(*, query: str = "", status: str = "") -> QuerySet[Patient]:
    """Patients by name, MRN, date of birth (YYYY-MM-DD or MM/DD/YYYY) or member id."""
    qs = Patient.objects.all()
    if status:
        qs = qs.filter(status=status)
    query = query.strip()
    if query:
        dob = _as_date(query)
        if dob:
            qs = qs.filter(date_of_birth=dob)
        else:
            terms = query.replace(",", " ").split()
            name_q = Q()
            for term in terms:
                name_q &= (
                    Q(first_name__icontains=term)
                    | Q(last_name__icontains=term)
                    | Q(preferred_name__icontains=term)
                )
            member_ids = Coverage.objects.filter(member_id__iexact=query).values("patient_id")
            qs = qs.filter(name_q | Q(mrn__iexact=query) | Q(pk__in=member_ids))
    return qs.order_by("last_name", "first_name", "mrn")


def patient_detail(*, pk: Any) -> Patient:
    """A patient with everything the patient page shows, prefetched."""
    return Patient.objects.prefetch_related(
        Prefetch(
            "coverages",
            queryset=Coverage.objects.select_related("payer").prefetch_related(
                Prefetch(
                    "verifications",
                    queryset=BenefitVerification.objects.select_related("verified_by"),
                )
            ),
        ),
        Prefetch(
            "episodes",
            queryset=EpisodeOfCare.objects.prefetch_related(
                Prefetch("stays", queryset=LevelOfCareStay.objects.order_by("start_date")),
                Prefetch(
                    "diagnoses", queryset=EpisodeDiagnosis.objects.order_by("-is_primary", "rank")
                ),
            ),
        ),
        Prefetch("consents", queryset=Consent.objects.select_related("recipient_payer")),
    ).get(pk=pk)


def payer_list(*, include_inactive: bool = True) -> QuerySet[Payer]:
    qs = Payer.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


@dataclass(frozen=True)
class TimelineSegment:
    stay: LevelOfCareStay
    stage: str
    stage_label: str
    days: int
    percent: float
    is_current: bool


def episode_timeline(episode: EpisodeOfCare, *, today: date) -> list[TimelineSegment]:
    """The level-of-care stays as proportional segments (detox -> ... -> outpatient); an open
    stay runs to `today`."""
    stays = list(episode.stays.all())
    spans = [((s.end_date or max(today, s.start_date)) - s.start_date).days + 1 for s in stays]
    total = sum(spans) or 1
    return [
        TimelineSegment(
            stay=stay,
            stage=STAGE_OF[stay.level],
            stage_label=Stage(STAGE_OF[stay.level]).label,
            days=days,
            percent=round(100 * days / total, 2),
            is_current=stay.end_date is None,
        )
        for stay, days in zip(stays, spans, strict=True)
    ]


@dataclass(frozen=True)
class ConsentStatus:
    label: str  # valid, expired, revoked
    badge: str


def consent_status(consent: Consent, *, today: date) -> ConsentStatus:
    if consent.revoked_at:
        return ConsentStatus("Revoked", "danger")
    if consent.expires_on and consent.expires_on < today:
        return ConsentStatus("Expired", "muted")
    if consent.signed_on > today:
        return ConsentStatus("Not yet signed", "warn")
    return ConsentStatus("Valid", "ok")


def cob_order(coverages: list[Coverage], *, today: date) -> list[Coverage]:
    """Coverages in force on `today` first (by priority), then the rest (newest first)."""
    active = sorted((c for c in coverages if c.is_active_on(today)), key=lambda c: c.priority)
    rest = sorted(
        (c for c in coverages if not c.is_active_on(today)),
        key=lambda c: c.effective_date,
        reverse=True,
    )
    return active + rest


def pending_authorization_needs(*, episode_ids: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """'Authorization needed' events not yet turned into authorization requests, by episode."""
    from patients.services import AUTHORIZATION_NEEDED_TOPIC
    from rcm.outbox.models import OutboxMessage, OutboxStatus

    needs: dict[str, list[dict[str, Any]]] = {}
    messages = OutboxMessage.objects.filter(
        topic=AUTHORIZATION_NEEDED_TOPIC,
        status=OutboxStatus.PENDING,
        payload__episode_id__in=[str(i) for i in episode_ids],
    ).order_by("created_at")
    for message in messages:
        payload = dict(message.payload)
        payload["transition_label"] = str(payload.get("transition", "")).replace("_", " ")
        needs.setdefault(payload["episode_id"], []).append(payload)
    return needs
