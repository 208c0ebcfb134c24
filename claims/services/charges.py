"""Charge capture: previewing, recording and voiding a service entry (a charge), and the
authorization usage it records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from authorizations import rules as auth_rules
from authorizations.models import Authorization
from authorizations.services import authorization_record_usage, authorization_release_usage
from claims import rules
from claims.models import (
    EntryStatus,
    PayerBillingRule,
    ServiceEntry,
)
from claims.services.fees import charge_for
from credentialing.models import Provider, ServiceFacility
from patients.models import (
    EpisodeDiagnosis,
    EpisodeOfCare,
    LevelOfCareStay,
    Patient,
    Payer,
)
from patients.services import coverage_in_force
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError

# --- Charge capture ------------------------------------------------------------------------------


def _level_on(episode: EpisodeOfCare, day: date) -> str:
    stay = (
        LevelOfCareStay.objects.filter(episode=episode, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .order_by("-start_date")
        .first()
    )
    if stay is None:
        raise DomainError(f"The episode has no level of care on {day}.", field="date_of_service")
    return stay.level


def _minutes(start_at: datetime | None, end_at: datetime | None) -> int | None:
    if start_at is None and end_at is None:
        return None
    if start_at is None or end_at is None:
        raise DomainError(
            "Enter both the start and the end time.", field="end_at" if start_at else "start_at"
        )
    if end_at <= start_at:
        raise DomainError("The end time must be after the start time.", field="end_at")
    return round((end_at - start_at).total_seconds() / 60)


def _rounding(payer: Payer | None, code: str = "") -> tuple[str, str]:
    """The payer's unit rounding and unit type for a code (a rule naming the code wins over the
    payer's general rounding)."""
    if payer is None:
        return rules.UnitRounding.MIDPOINT.value, ""
    found = PayerBillingRule.objects.filter(
        payer=payer, rule_type__in=["unit_rounding", "unit_type"], service_code__in=["", code]
    )
    rounding, by_code, unit_type = rules.UnitRounding.MIDPOINT.value, "", ""
    for rule in found:
        if rule.rule_type == "unit_type":
            unit_type = rule.value if rule.service_code == code and code else unit_type
        elif rule.service_code and rule.service_code == code:
            by_code = rule.value
        elif not rule.service_code:
            rounding = rule.value
    return by_code or rounding, unit_type


@dataclass(frozen=True)
class ChargePreview:
    """What charge entry will bill: the suggested code(s), place of service and modifiers."""

    suggestion: rules.CodeSuggestion
    place_of_service: str
    modifiers: tuple[str, ...]
    minutes: int | None
    payer: Payer | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def charge_preview(
    *,
    patient: Patient,
    rendering_provider: Provider | None,
    date_of_service: date,
    kind: str,
    service_code: str = "",
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    telehealth: str = "",
    place_of_service: str = "",
    modifiers: Sequence[str] = (),
) -> ChargePreview:
    """The live suggestion shown while a charge is typed (no writes)."""
    minutes = _minutes(start_at, end_at)
    coverages = coverage_in_force(patient=patient, on_date=date_of_service)
    payer = coverages[0].payer if coverages else None
    rounding, unit_type = _rounding(payer, service_code.strip().upper())
    suggestion = rules.suggest_codes(
        kind, minutes=minutes, code=service_code, rounding=rounding, unit_type=unit_type
    )
    in_person = place_of_service or "11"
    coding = rules.telehealth_coding(
        telehealth,
        in_person_pos=in_person,
        payer_pos=payer.telehealth_pos if payer else "10",
        payer_modifier=payer.telehealth_modifier if payer else "95",
        payer_audio_only_modifier=payer.audio_only_modifier if payer else "93",
    )
    final = [m.strip().upper() for m in modifiers if m.strip()]
    final += [m for m in coding.modifiers if m not in final]
    notes = []
    if payer and payer.requires_licensure_modifier and rendering_provider is not None:
        education = rules.EDUCATION_BY_PROVIDER_TYPE.get(rendering_provider.provider_type, "")
        licensure = rules.licensure_modifier(education, payer_requires=True)
        if licensure and licensure not in final:
            final.append(licensure)
            notes.append(f"{payer.name} wants the practitioner-level modifier {licensure}.")
    if payer is None:
        notes.append(
            "No coverage in force on this date: the charge is self-pay until coverage is added."
        )
    return ChargePreview(
        suggestion, coding.place_of_service, tuple(final), minutes, payer, tuple(notes)
    )


def _diagnosis_ids(episode: EpisodeOfCare, given: Sequence[Any] | None, day: date) -> list[str]:
    current = list(
        EpisodeDiagnosis.objects.filter(episode=episode, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-is_primary", "rank")
    )
    if not given:
        if not current:
            raise DomainError(
                "The episode has no diagnosis in effect on this date; add one first.",
                field="diagnosis_ids",
            )
        return [str(current[0].pk)]
    ids = [str(i) for i in given]
    if len(ids) > 4:
        raise DomainError("A line points at 4 diagnoses at most.", field="diagnosis_ids")
    known = {str(d.pk) for d in current}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise DomainError(
            "Point only at the episode's diagnoses in effect on the date of service.",
            field="diagnosis_ids",
        )
    return ids


def service_entry_replay(*, idempotency_key: str, scopes: Collection[str]) -> ServiceEntry | None:
    """The charge an Idempotency-Key already recorded (an EHR retrying), or None. A key used for
    a charge the caller may not see is refused without showing it (42 CFR Part 2)."""
    if not idempotency_key:
        return None
    existing = ServiceEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and part2.restricted(existing, scopes):
        raise DomainError(
            "This Idempotency-Key was already used.",
            field="idempotency_key",
            code="idempotency_key_used",
        )
    return existing


def service_entry_create(
    *,
    patient: Patient,
    episode: EpisodeOfCare,
    rendering_provider: Provider,
    date_of_service: date,
    kind: str,
    service_code: str = "",
    units: int | None = None,
    modifiers: Sequence[str] = (),
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    telehealth: str = "",
    place_of_service: str = "",
    diagnosis_ids: Sequence[Any] | None = None,
    supervising_provider: Provider | None = None,
    service_facility: ServiceFacility | None = None,
    group_session_id: str = "",
    program_minutes: int | None = None,
    services_delivered: str = "",
    documentation_ref: str = "",
    documentation_signed: bool = False,
    signed_at: datetime | None = None,
    charge: Decimal | None = None,
    idempotency_key: str = "",
    created_by: Any = None,
    today: date,
    scopes: Collection[str],
) -> ServiceEntry:
    """Record a delivered service, on or before `today` (the organization's day). Timed codes
    come from the documented minutes: a billed code that disagrees with them is refused, never
    silently changed. A crisis session past 74 minutes also records its 90840 add-on. Usage is
    recorded against the authorization when the payer requires one. The same idempotency key
    twice records once (EHRs retry).

    `scopes` are the member's or the API key's: without the Part 2 grant a charge on a substance
    use episode is refused as if the episode did not exist, and a key already used for such a
    charge is refused without showing it (42 CFR Part 2). `part2.ORGANIZATION`: the organization
    as a whole."""
    if part2.restricted(episode, scopes):
        raise DomainError("No such episode.", field="episode", code="not_found")
    if existing := service_entry_replay(idempotency_key=idempotency_key, scopes=scopes):
        return existing
    if episode.patient_id != patient.pk:
        raise DomainError("The episode belongs to another patient.", field="episode")
    if date_of_service < episode.admission_date or (
        episode.discharge_date and date_of_service > episode.discharge_date
    ):
        raise DomainError(
            f"{date_of_service} is outside the episode ({episode.admission_date} to {episode.discharge_date or 'now'}).",
            field="date_of_service",
        )
    if date_of_service > today:
        raise DomainError("The date of service is in the future.", field="date_of_service")
    if supervising_provider is not None and supervising_provider.pk == rendering_provider.pk:
        raise DomainError(
            "The supervising provider must be someone else.", field="supervising_provider"
        )
    preview = charge_preview(
        patient=patient,
        rendering_provider=rendering_provider,
        date_of_service=date_of_service,
        kind=kind,
        service_code=service_code,
        start_at=start_at,
        end_at=end_at,
        telehealth=telehealth,
        place_of_service=place_of_service
        or (service_facility.place_of_service if service_facility else ""),
        modifiers=modifiers,
    )
    code = service_code.strip().upper()
    if kind == rules.ServiceKind.UNTIMED:
        if not code:
            raise DomainError("Choose the service code.", field="service_code")
        lines = [rules.CodedLine(code, units or 1)]
    else:
        if preview.minutes is None:
            raise DomainError(
                "Enter the start and end times: this code is chosen by documented time.",
                field="start_at",
            )
        if not preview.suggestion.billable:
            raise DomainError(preview.suggestion.reason, field="end_at")
        if code:
            check = rules.check_billed_code(
                kind,
                billed_code=code,
                billed_units=units or preview.suggestion.lines[0].units,
                minutes=preview.minutes,
                code=code,
                rounding=_rounding(preview.payer, code)[0],
                unit_type=_rounding(preview.payer, code)[1],
            )
            if not check.ok:
                raise DomainError(check.message, field="service_code")
        lines = list(preview.suggestion.lines)
    if len(preview.modifiers) > 4:
        raise DomainError("A line carries 4 modifiers at most.", field="modifiers")
    if program_minutes is not None and program_minutes < 0:
        raise DomainError("Programming minutes cannot be negative.", field="program_minutes")
    with transaction.atomic():
        level = _level_on(episode, date_of_service)
        diagnoses = _diagnosis_ids(episode, diagnosis_ids, date_of_service)
        entries: list[ServiceEntry] = []
        for index, line in enumerate(lines):
            entry = ServiceEntry(
                patient=patient,
                episode=episode,
                level=level,
                rendering_provider=rendering_provider,
                supervising_provider=supervising_provider,
                service_facility=service_facility,
                date_of_service=date_of_service,
                start_at=start_at,
                end_at=end_at,
                minutes=preview.minutes,
                kind=kind if index == 0 else rules.ServiceKind.UNTIMED,
                service_code=line.code,
                modifiers=list(preview.modifiers),
                units=line.units,
                place_of_service=preview.place_of_service,
                telehealth=telehealth,
                diagnosis_ids=diagnoses,
                group_session_id=group_session_id,
                addon_of=entries[0] if index else None,
                program_minutes=program_minutes,
                services_delivered=services_delivered,
                documentation_ref=documentation_ref,
                documentation_signed=documentation_signed,
                signed_at=signed_at or (timezone.now() if documentation_signed else None),
                charge=charge
                if (charge is not None and index == 0)
                else charge_for(
                    service_code=line.code,
                    modifiers=preview.modifiers,
                    date_of_service=date_of_service,
                    units=line.units,
                ),
                idempotency_key=idempotency_key if index == 0 else "",
                created_by=created_by,
            )
            entry.save()
            entries.append(entry)
            _record_usage(entry, preview.payer, created_by)
        audit_record(
            action="charge.create",
            obj=entries[0],
            patient_id=patient.pk,
            detail={
                "codes": [e.service_code for e in entries],
                "units": [e.units for e in entries],
            },
        )
    return entries[0]


def _record_usage(entry: ServiceEntry, payer: Payer | None, recorded_by: Any) -> None:
    """Write the authorization usage ledger for a service the payer authorizes."""
    if payer is None or not payer.requires_authorization(
        level=entry.level, service_code=entry.service_code
    ):
        return
    candidates = Authorization.objects.filter(episode_id=entry.episode_id, payer=payer)
    decision = auth_rules.coverage_decision(
        candidates,
        level=entry.level,
        service_code=entry.service_code,
        date_of_service=entry.date_of_service,
        units=0,
    )
    covering: Any = decision.authorization
    unit_type = (
        covering.unit_type
        if covering is not None and decision.code in {"covered", "exhausted"}
        else auth_rules.default_unit_type(entry.level)
    )
    units = entry.units if unit_type == "units_15min" else 1
    try:
        authorization_record_usage(
            episode=entry.episode,
            payer=payer,
            level=entry.level,
            date_of_service=entry.date_of_service,
            units=units,
            unit_type=unit_type,
            service_code=entry.service_code,
            source="claim",
            source_id=str(entry.pk),
            recorded_by=recorded_by,
        )
    except DomainError as exc:
        if exc.field != "units":
            raise
        # A day-based authorization counts the day once; another service that day is included.


def service_entry_void(*, entry: ServiceEntry, reason: str) -> ServiceEntry:
    """Void a charge not yet on a claim (on a claim, correct or void the claim instead)."""
    if not reason.strip():
        raise DomainError("Say why the charge is voided.", field="reason")
    with transaction.atomic():
        entry = ServiceEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status == EntryStatus.BILLED:
            raise DomainError(
                "The charge is on a claim: correct or void the claim instead.", field="status"
            )
        if entry.status == EntryStatus.VOID:
            return entry
        voided = list(
            ServiceEntry.objects.filter(Q(pk=entry.pk) | Q(addon_of=entry)).values_list(
                "pk", flat=True
            )
        )
        ServiceEntry.objects.filter(pk__in=voided).update(status=EntryStatus.VOID)
        authorization_release_usage(source_ids=[str(pk) for pk in voided])
        entry.refresh_from_db()
        audit_record(
            action="charge.void",
            obj=entry,
            patient_id=entry.patient_id,
            detail={"reason_given": True},
        )
    return entry
