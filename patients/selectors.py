"""Reads for the patients screens and API, shaped so a page costs a fixed number of queries.

42 CFR Part 2: reads of episodes, their stays and diagnoses, and of Part 2 consents take the
caller's `scopes` and narrow through `rcm.part2`; the views and API views never test the grant."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from patients.levels import STAGE_OF, Stage
from patients.models import (
    BenefitVerification,
    Consent,
    Coverage,
    EpisodeDiagnosis,
    EpisodeOfCare,
    LevelOfCareStay,
    Note,
    Patient,
    Payer,
    ProgramType,
)
from rcm import part2

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


# --- 42 CFR Part 2 ----------------------------------------------------------------------------


def episodes_visible(*, scopes: Collection[str]) -> QuerySet[EpisodeOfCare]:
    """Episodes the caller may see in full and act on."""
    return part2.visible(EpisodeOfCare.objects.select_related("patient"), scopes)


def episode_get(*, pk: Any, scopes: Collection[str]) -> EpisodeOfCare:
    """One episode to act on (transition, discharge, diagnoses); Http404 when there is none or
    Part 2 keeps it from the caller (the same answer, so nothing says a Part 2 episode is there)."""
    return get_object_or_404(episodes_visible(scopes=scopes), pk=pk)  # type: ignore[no-any-return]


def diagnosis_get(*, pk: Any, scopes: Collection[str]) -> EpisodeDiagnosis:
    """One diagnosis to end; Http404 as for its episode."""
    qs = part2.visible(EpisodeDiagnosis.objects.select_related("episode__patient"), scopes)
    return get_object_or_404(qs, pk=pk)  # type: ignore[no-any-return]


def stays_visible(*, scopes: Collection[str]) -> QuerySet[LevelOfCareStay]:
    return part2.visible(LevelOfCareStay.objects.all(), scopes)


def diagnoses_visible(*, scopes: Collection[str]) -> QuerySet[EpisodeDiagnosis]:
    return part2.visible(EpisodeDiagnosis.objects.all(), scopes)


def program_type_choices(*, scopes: Collection[str]) -> list[tuple[str, str]]:
    """The programs the caller may open an episode in: no substance use or co-occurring program
    without the grant (opening one would create a record the caller may not see)."""
    return [
        (value, label)
        for value, label in ProgramType.choices
        if not part2.restricted(EpisodeOfCare(program_type=value), scopes)
    ]


@dataclass(frozen=True)
class EpisodeCard:
    """One episode on the patient page."""

    episode: EpisodeOfCare
    restricted: bool
    timeline: list[TimelineSegment]
    authorization_needs: list[dict[str, Any]]


def episode_cards(patient: Patient, *, scopes: Collection[str], today: date) -> list[EpisodeCard]:
    """The patient page's episodes (of `patient_detail`, prefetched): a Part 2 episode the caller
    may not see is listed as restricted, without its timeline or pending authorization needs."""
    episodes = list(patient.episodes.all())
    restricted = {e.pk for e in episodes if part2.restricted(e, scopes)}
    needs = pending_authorization_needs(
        episode_ids=[e.pk for e in episodes if e.pk not in restricted]
    )
    return [
        EpisodeCard(
            episode=e,
            restricted=e.pk in restricted,
            timeline=[] if e.pk in restricted else episode_timeline(e, today=today),
            authorization_needs=needs.get(str(e.pk), []),
        )
        for e in episodes
    ]


def consents_readable(*, scopes: Collection[str]) -> None:
    """Part 2 consents say the patient is in a substance use program, so reading or recording
    them needs the grant (PermissionDenied otherwise: a 403 on the page and the API)."""
    if not part2.may_see(scopes):
        raise PermissionDenied("Part 2 consents need the Part 2 grant (42 CFR Part 2).")


def consent_list(*, scopes: Collection[str], patient_id: Any = None) -> QuerySet[Consent]:
    consents_readable(scopes=scopes)
    qs = Consent.objects.select_related("recipient_payer")
    return qs.filter(patient_id=patient_id) if patient_id else qs


def patient_consents(
    patient: Patient, *, scopes: Collection[str], today: date
) -> list[tuple[Consent, ConsentStatus]] | None:
    """The patient page's consents (prefetched by `patient_detail`) with their status, or None
    when the caller may not read Part 2 consents."""
    if not part2.may_see(scopes):
        return None
    return [(c, consent_status(c, today=today)) for c in patient.consents.all()]


def notes_search(
    *,
    scopes: Collection[str],
    query: str = "",
    patient_id: Any = None,
    subjects: Collection[tuple[str, Any]] = (),
) -> QuerySet[Note]:
    """Notes the caller may see (42 CFR Part 2 through rcm.part2), newest first, whose text
    contains `query`; narrowed to one patient and/or to the given (subject type, id) pairs."""
    qs = part2.visible(Note.objects.all(), scopes).select_related("author", "patient")
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if subjects:
        where = Q()
        for subject_type, subject_id in subjects:
            where |= Q(subject_type=subject_type, subject_id=subject_id)
        qs = qs.filter(where)
    if query.strip():
        qs = qs.filter(body__icontains=query.strip()).exclude(retracted_at__isnull=False)
    return qs.order_by("-created_at")


def notes_hidden(
    *, scopes: Collection[str], patient_id: Any = None, subjects: Collection[tuple[str, Any]] = ()
) -> int:
    qs = Note.objects.all()
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if subjects:
        where = Q()
        for subject_type, subject_id in subjects:
            where |= Q(subject_type=subject_type, subject_id=subject_id)
        qs = qs.filter(where)
    return part2.hidden_count(qs, scopes)
