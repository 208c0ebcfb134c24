"""Every change in the claims app: charges, fee schedules, claim building, scrubbing and the
claim lifecycle. Building and scrubbing are set-based: a fixed number of queries for any number
of charges (bench/claim_build.py measures it)."""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from authorizations import rules as auth_rules
from authorizations.models import Authorization
from authorizations.services import authorization_record_usage, authorization_release_usage
from claims import rules, scrubber
from claims.models import (
    ChargeMasterItem,
    Claim,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    ClaimStatus,
    ContractRate,
    EntryStatus,
    Frequency,
    PayerBillingRule,
    ServiceEntry,
)
from credentialing.models import Provider, ServiceFacility
from credentialing.services import BillabilityQuery, billability_for_pairs
from patients.levels import FACILITY_LEVELS
from patients.models import (
    Consent,
    Coverage,
    EpisodeDiagnosis,
    EpisodeOfCare,
    LevelOfCareStay,
    Patient,
    Payer,
)
from patients.rules import consent_decision
from patients.services import coverage_in_force
from rcm.audit.services import audit_record, audit_record_many
from rcm.errors import DomainError

MAX_LINES_837P = 50
# A claim not yet sent is disclosed later than any revocation already on file: every recorded
# revocation counts against it (consent_decision's `revoked_before`), whatever the clock says.
NOT_YET_DISCLOSED = datetime.max.replace(tzinfo=UTC)


# --- Fee schedules -----------------------------------------------------------------------------


def charge_master_set(
    *,
    service_code: str,
    charge: Decimal,
    effective_from: date,
    modifier: str = "",
    description: str = "",
    effective_to: date | None = None,
) -> ChargeMasterItem:
    """Set the organization's price for a code (and modifier) from a date; the same key again
    updates it."""
    if charge < 0:
        raise DomainError("A charge cannot be negative.", field="charge")
    if effective_to and effective_to < effective_from:
        raise DomainError("The end date is before the start date.", field="effective_to")
    with transaction.atomic():
        item, created = ChargeMasterItem.objects.update_or_create(
            service_code=service_code.strip().upper(),
            modifier=modifier.strip().upper(),
            effective_from=effective_from,
            defaults={"charge": charge, "description": description, "effective_to": effective_to},
        )
        audit_record(action="chargemaster.set", obj=item, detail={"created": created})
    return item


def contract_rate_set(
    *,
    payer: Payer,
    service_code: str,
    allowed: Decimal,
    effective_from: date,
    modifier: str = "",
    education_level: str = "",
    effective_to: date | None = None,
) -> ContractRate:
    if allowed < 0:
        raise DomainError("An allowed amount cannot be negative.", field="allowed")
    if education_level and education_level not in set(rules.LICENSURE_MODIFIER):
        raise DomainError(f"Unknown licensure level: {education_level}", field="education_level")
    with transaction.atomic():
        rate, created = ContractRate.objects.update_or_create(
            payer=payer,
            service_code=service_code.strip().upper(),
            modifier=modifier.strip().upper(),
            education_level=education_level,
            effective_from=effective_from,
            defaults={"allowed": allowed, "effective_to": effective_to},
        )
        audit_record(action="contractrate.set", obj=rate, detail={"created": created})
    return rate


def _in_effect(items: Iterable[Any], day: date) -> list[Any]:
    return [
        i
        for i in items
        if i.effective_from <= day and (i.effective_to is None or day <= i.effective_to)
    ]


def charge_for(
    *, service_code: str, modifiers: Sequence[str], date_of_service: date, units: int
) -> Decimal:
    """Charge master price x units: the price for the code with its first modifier, else the
    code's plain price; 0.00 when the code has no price (the scrubber then flags the line)."""
    items = _in_effect(ChargeMasterItem.objects.filter(service_code=service_code), date_of_service)
    by_modifier = {i.modifier: i for i in sorted(items, key=lambda i: i.effective_from)}
    item = next((by_modifier[m] for m in modifiers if m in by_modifier), None) or by_modifier.get(
        ""
    )
    return (item.charge * units).quantize(Decimal("0.01")) if item else Decimal("0.00")


# --- Payer billing rules (edits as data) ---------------------------------------------------------


def payer_billing_rule_create(
    *, payer: Payer, rule_type: str, value: str, service_code: str = "", level: str = ""
) -> PayerBillingRule:
    value = value.strip()
    if rule_type == "required_modifier":
        value = value.upper()
        if len(value) != 2 or not service_code.strip():
            raise DomainError(
                "A required modifier is 2 characters and names its service code.", field="value"
            )
    elif rule_type == "per_diem_minimum_minutes":
        if not value.isdigit() or not level:
            raise DomainError(
                "A per-diem minimum is a number of minutes for a level of care.", field="value"
            )
    elif rule_type == "unit_rounding":
        if value not in rules.UnitRounding.__members__.values():
            raise DomainError("Unit rounding is 'midpoint' or 'whole_units'.", field="value")
    else:
        raise DomainError(f"Unknown rule type: {rule_type}", field="rule_type")
    rule = PayerBillingRule(
        payer=payer,
        rule_type=rule_type,
        service_code=service_code.strip().upper(),
        level=level,
        value=value,
    )
    with transaction.atomic():
        rule.save()
        audit_record(action="payer_billing_rule.create", obj=rule, detail={"rule_type": rule_type})
    return rule


def payer_edits(
    payer: Payer, billing_rules: Iterable[PayerBillingRule], *, licensure_modifier: str | None
) -> scrubber.PayerEdits:
    required: dict[str, list[str]] = defaultdict(list)
    minimums: dict[str, int] = {}
    rounding = rules.UnitRounding.MIDPOINT.value
    for rule in billing_rules:
        if rule.rule_type == "required_modifier":
            required[rule.service_code].append(rule.value)
        elif rule.rule_type == "per_diem_minimum_minutes":
            minimums[rule.level] = int(rule.value)
        elif rule.rule_type == "unit_rounding":
            rounding = rule.value
    return scrubber.PayerEdits(
        name=payer.name,
        telehealth_pos=payer.telehealth_pos,
        telehealth_modifier=payer.telehealth_modifier,
        audio_only_modifier=payer.audio_only_modifier,
        timely_filing_days=payer.timely_filing_days,
        expected_licensure_modifier=licensure_modifier,
        required_modifiers={k: tuple(v) for k, v in required.items()},
        per_diem_minimum_minutes=minimums,
        unit_rounding=rounding,
    )


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


def _rounding(payer: Payer | None) -> str:
    if payer is None:
        return rules.UnitRounding.MIDPOINT.value
    rule = PayerBillingRule.objects.filter(payer=payer, rule_type="unit_rounding").first()
    return rule.value if rule else rules.UnitRounding.MIDPOINT.value


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
    suggestion = rules.suggest_codes(
        kind, minutes=minutes, code=service_code, rounding=_rounding(payer)
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
) -> ServiceEntry:
    """Record a delivered service, on or before `today` (the organization's day). Timed codes
    come from the documented minutes: a billed code that disagrees with them is refused, never
    silently changed. A crisis session past 74 minutes also records its 90840 add-on. Usage is
    recorded against the authorization when the payer requires one. The same idempotency key
    twice records once (EHRs retry)."""
    if idempotency_key:
        existing = ServiceEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
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
                rounding=_rounding(preview.payer),
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


# --- Claim building ------------------------------------------------------------------------------

PCN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_pcn() -> str:
    return "P" + "".join(secrets.choice(PCN_ALPHABET) for _ in range(11))


@dataclass
class BuildReport:
    claims: list[Claim] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # entry id -> reason


def _primary_on(coverages: list[Coverage], day: date) -> Coverage | None:
    in_force = [c for c in coverages if c.is_active_on(day)]
    return min(in_force, key=lambda c: c.priority) if in_force else None


def claims_build(
    *, entry_ids: Iterable[Any] | None = None, today: date, actor: Any = None
) -> BuildReport:
    """Group open charges into claims by patient, coverage (payer), rendering provider and claim
    form (837I per-diem claims span a statement month); total = sum of lines. Then scrub them.
    Set-based: a fixed number of queries however many charges. `today` is the organization's
    day (timely filing is judged against it)."""
    report = BuildReport()
    with transaction.atomic():
        entries_qs = ServiceEntry.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=EntryStatus.OPEN
        )
        if entry_ids is not None:
            entries_qs = entries_qs.filter(pk__in=list(entry_ids))
        entries = list(
            entries_qs.select_related("episode").order_by(
                "patient_id", "date_of_service", "created_at"
            )
        )
        if not entries:
            return report
        coverages: dict[Any, list[Coverage]] = defaultdict(list)
        for coverage in Coverage.objects.select_related("payer").filter(
            patient_id__in={e.patient_id for e in entries}
        ):
            coverages[coverage.patient_id].append(coverage)
        diagnoses = {
            str(d.pk): d
            for d in EpisodeDiagnosis.objects.filter(episode_id__in={e.episode_id for e in entries})
        }
        groups: dict[tuple[Any, ...], list[ServiceEntry]] = defaultdict(list)
        group_coverage: dict[tuple[Any, ...], Coverage] = {}
        for entry in entries:
            coverage = _primary_on(coverages[entry.patient_id], entry.date_of_service)
            if coverage is None:
                report.skipped[str(entry.pk)] = (
                    f"No coverage in force on {entry.date_of_service} (self-pay)."
                )
                continue
            form = coverage.payer.claim_form_for(entry.level)
            month = (
                (entry.date_of_service.year, entry.date_of_service.month)
                if form == "837I"
                else None
            )
            key = (
                entry.patient_id,
                entry.episode_id,
                coverage.pk,
                entry.rendering_provider_id,
                entry.supervising_provider_id,
                entry.service_facility_id,
                form,
                month,
                # An 837I's type of bill and condition codes follow one level of care: a step
                # down within the month starts a new claim.
                entry.level if form == "837I" else None,
            )
            groups[key].append(entry)
            group_coverage[key] = coverage
        claims: list[Claim] = []
        lines: list[ClaimLine] = []
        for key, members in groups.items():
            coverage = group_coverage[key]
            form = key[6]
            chunks = [
                members[i : i + MAX_LINES_837P] for i in range(0, len(members), MAX_LINES_837P)
            ]
            for chunk in chunks:
                codes: list[str] = []
                for entry in chunk:
                    for diagnosis_id in entry.diagnosis_ids:
                        code = diagnoses[diagnosis_id].code if diagnosis_id in diagnoses else ""
                        if code and code not in codes:
                            codes.append(code)
                pcn = _new_pcn()
                claim = Claim(
                    patient_id=key[0],
                    episode_id=key[1],
                    coverage=coverage,
                    payer_id=coverage.payer_id,
                    claim_form=form,
                    rendering_provider_id=key[3],
                    supervising_provider_id=key[4],
                    service_facility_id=key[5],
                    patient_control_number=pcn,
                    total_charge=sum((e.charge for e in chunk), Decimal("0.00")),
                    statement_from=min(e.date_of_service for e in chunk),
                    statement_to=max(e.date_of_service for e in chunk),
                    level=chunk[0].level,
                    diagnosis_codes=codes,
                    is_part2=chunk[0].episode.is_part2,
                )
                claim.organization_id = chunk[0].organization_id
                claims.append(claim)
                for number, entry in enumerate(chunk, start=1):
                    pointers = [
                        codes.index(diagnoses[d].code) + 1
                        for d in entry.diagnosis_ids
                        if d in diagnoses
                    ][:4]
                    line = ClaimLine(
                        claim=claim,
                        service_entry=entry,
                        line_number=number,
                        service_code=entry.service_code,
                        modifiers=entry.modifiers,
                        units=entry.units,
                        charge=entry.charge,
                        date_of_service=entry.date_of_service,
                        place_of_service=entry.place_of_service,
                        revenue_code=rules.revenue_code(
                            entry.level, substance_use=entry.episode.is_part2
                        )
                        if form == "837I" and entry.level in FACILITY_LEVELS
                        else "",
                        diagnosis_pointers=pointers,
                        line_control_number=f"{pcn}-{number}",
                        rendering_provider_id=entry.rendering_provider_id,
                    )
                    line.organization_id = claim.organization_id
                    lines.append(line)
        Claim.objects.bulk_create(claims, batch_size=1000)
        ClaimLine.objects.bulk_create(lines, batch_size=2000)
        billed = [line.service_entry_id for line in lines]
        ServiceEntry.objects.filter(pk__in=billed).update(status=EntryStatus.BILLED)
        ClaimEvent.objects.bulk_create(
            [
                ClaimEvent(
                    claim=c,
                    organization_id=c.organization_id,
                    from_status="",
                    to_status=ClaimStatus.DRAFT,
                    actor=actor,
                    note="Built from charges",
                )
                for c in claims
            ],
            batch_size=1000,
        )
        audit_record(
            action="claims.build",
            detail={"claims": len(claims), "lines": len(lines), "skipped": len(report.skipped)},
        )
        report.claims = claims
        claims_scrub(claim_ids=[c.pk for c in claims], today=today, actor=actor)
    return report


@dataclass(frozen=True)
class SecondarySource:
    """What a secondary claim is built from: the primary's claim, the coverage next in line, and
    the primary's adjudication snapshot (claims.cob describes its shape)."""

    primary: Claim
    coverage: Coverage
    adjudication: dict[str, Any]


def secondary_claims_create(
    *, sources: Sequence[SecondarySource], today: date, actor: Any = None
) -> list[Claim]:
    """Claims to the next payer in line, one per source: the primary's services, diagnoses and
    providers at their full charges, sent to the secondary coverage with the primary's
    adjudication for the 837 COB loops; then scrubbed like any claim (the secondary payer's own
    authorization, credentialing and timely filing rules apply). A fixed number of queries."""
    if not sources:
        return []
    with transaction.atomic():
        primaries = [s.primary for s in sources]
        for source in sources:
            if source.coverage.patient_id != source.primary.patient_id:
                raise DomainError(
                    f"Claim {source.primary.patient_control_number}: the secondary coverage is "
                    "another patient's.",
                    field="coverage",
                )
            if source.coverage.pk == source.primary.coverage_id:
                raise DomainError(
                    f"Claim {source.primary.patient_control_number} already went to this coverage.",
                    field="coverage",
                )
        lines_by_claim: dict[Any, list[ClaimLine]] = defaultdict(list)
        for line in (
            ClaimLine.objects.filter(claim_id__in=[c.pk for c in primaries])
            .select_related("service_entry", "rendering_provider")
            .order_by("line_number")
        ):
            lines_by_claim[line.claim_id].append(line)
        payers = {
            p.pk: p for p in Payer.objects.filter(pk__in={s.coverage.payer_id for s in sources})
        }
        claims: list[Claim] = []
        lines: list[ClaimLine] = []
        now = timezone.now()
        for source in sources:
            primary = source.primary
            claim = Claim(
                organization_id=primary.organization_id,
                patient_id=primary.patient_id,
                episode_id=primary.episode_id,
                coverage=source.coverage,
                payer_id=source.coverage.payer_id,
                claim_form=primary.claim_form,
                rendering_provider_id=primary.rendering_provider_id,
                supervising_provider_id=primary.supervising_provider_id,
                service_facility_id=primary.service_facility_id,
                patient_control_number=_new_pcn(),
                primary_claim=primary,
                other_payer_adjudication=source.adjudication,
                total_charge=primary.total_charge,
                statement_from=primary.statement_from,
                statement_to=primary.statement_to,
                level=primary.level,
                diagnosis_codes=list(primary.diagnosis_codes),
                is_part2=primary.is_part2,
                created_at=now,
            )
            claims.append(claim)
            payer = payers[source.coverage.payer_id]
            for line in lines_by_claim[primary.pk]:
                education = rules.EDUCATION_BY_PROVIDER_TYPE.get(
                    line.rendering_provider.provider_type, ""
                )
                coded = rules.recode_for_payer(
                    line.modifiers,
                    line.place_of_service,
                    telehealth=line.service_entry.telehealth,
                    payer_pos=payer.telehealth_pos,
                    payer_modifier=payer.telehealth_modifier,
                    payer_audio_only_modifier=payer.audio_only_modifier,
                    licensure=rules.licensure_modifier(
                        education, payer_requires=payer.requires_licensure_modifier
                    ),
                )
                lines.append(
                    ClaimLine(
                        organization_id=primary.organization_id,
                        claim=claim,
                        service_entry_id=line.service_entry_id,
                        line_number=line.line_number,
                        service_code=line.service_code,
                        modifiers=list(coded.modifiers),
                        units=line.units,
                        charge=line.charge,
                        date_of_service=line.date_of_service,
                        place_of_service=coded.place_of_service,
                        revenue_code=line.revenue_code,
                        diagnosis_pointers=list(line.diagnosis_pointers),
                        line_control_number=f"{claim.patient_control_number}-{line.line_number}",
                        rendering_provider_id=line.rendering_provider_id,
                    )
                )
        Claim.objects.bulk_create(claims, batch_size=1000)
        ClaimLine.objects.bulk_create(lines, batch_size=2000)
        ClaimEvent.objects.bulk_create(
            [
                ClaimEvent(
                    claim=c,
                    organization_id=c.organization_id,
                    from_status="",
                    to_status=ClaimStatus.DRAFT,
                    actor=actor,
                    note=f"Secondary of {s.primary.patient_control_number} after "
                    f"{s.adjudication.get('payer_name', 'the primary')} paid "
                    f"${s.adjudication.get('paid', '0')}"[:300],
                )
                for c, s in zip(claims, sources, strict=True)
            ],
            batch_size=1000,
        )
        audit_record_many(
            "claim.secondary_build", [(c, {"primary": str(c.primary_claim_id)}) for c in claims]
        )
        claims_scrub(claim_ids=[c.pk for c in claims], today=today, actor=actor)
    return claims


# --- Scrubbing -----------------------------------------------------------------------------------


def claims_scrub(
    *, claim_ids: Iterable[Any], today: date, actor: Any = None
) -> dict[Any, list[scrubber.Finding]]:
    """Run the scrubber over claims in draft or ready as of `today` (the organization's day):
    clean claims become ready, claims with an error go (back) to draft. A fixed number of queries
    however many claims."""
    with transaction.atomic():
        claims = list(
            Claim.objects.select_for_update(of=("self",))
            .select_related("payer", "coverage", "rendering_provider", "episode")
            .filter(pk__in=list(claim_ids), status__in=[ClaimStatus.DRAFT, ClaimStatus.READY])
        )
        if not claims:
            return {}
        ids = [c.pk for c in claims]
        lines_by_claim: dict[Any, list[ClaimLine]] = defaultdict(list)
        for line in (
            ClaimLine.objects.select_related("service_entry")
            .filter(claim_id__in=ids)
            .order_by("line_number")
        ):
            lines_by_claim[line.claim_id].append(line)
        episode_ids = {c.episode_id for c in claims}
        payer_ids = {c.payer_id for c in claims}
        diagnoses_by_code: dict[tuple[Any, str], EpisodeDiagnosis] = {
            (d.episode_id, d.code): d
            for d in EpisodeDiagnosis.objects.filter(episode_id__in=episode_ids)
        }
        authorizations: dict[tuple[Any, Any], list[Authorization]] = defaultdict(list)
        for auth in Authorization.objects.filter(
            episode_id__in=episode_ids, payer_id__in=payer_ids
        ):
            authorizations[(auth.episode_id, auth.payer_id)].append(auth)
        billing_rules: dict[Any, list[PayerBillingRule]] = defaultdict(list)
        for rule in PayerBillingRule.objects.filter(payer_id__in=payer_ids):
            billing_rules[rule.payer_id].append(rule)
        part2_patients = {c.patient_id for c in claims if c.is_part2}
        consents: dict[Any, list[Consent]] = defaultdict(list)
        for consent in Consent.objects.filter(patient_id__in=part2_patients):
            consents[consent.patient_id].append(consent)
        queries = {
            line.pk: BillabilityQuery(
                line.rendering_provider_id,
                claim.payer_id,
                line.date_of_service,
                line.service_code,
                claim.service_facility_id,
            )
            for claim in claims
            for line in lines_by_claim[claim.pk]
        }
        billability = billability_for_pairs(queries.values())
        duplicates = _duplicates(claims, lines_by_claim)
        now = timezone.now()
        findings: dict[Any, list[scrubber.Finding]] = {}
        rows: list[ClaimFinding] = []
        line_auth: dict[Any, Any] = {}
        for claim in claims:
            facts, auth_by_line = _facts(
                claim,
                lines_by_claim[claim.pk],
                diagnoses_by_code,
                authorizations,
                billing_rules,
                consents,
                billability,
                queries,
                duplicates,
                today,
            )
            line_auth.update(auth_by_line)
            found = scrubber.scrub(facts)
            findings[claim.pk] = found
            by_number = {line.line_number: line for line in lines_by_claim[claim.pk]}
            rows.extend(
                ClaimFinding(
                    claim=claim,
                    organization_id=claim.organization_id,
                    line=by_number.get(f.line_number) if f.line_number else None,
                    rule=f.rule,
                    severity=f.severity,
                    field=f.field,
                    message=f.message[:300],
                    fix_hint=f.fix_hint[:300],
                )
                for f in found
            )
        ClaimFinding.objects.filter(claim_id__in=ids).delete()
        ClaimFinding.objects.bulk_create(rows, batch_size=2000)
        lines_to_update = [
            line
            for claim in claims
            for line in lines_by_claim[claim.pk]
            if line_auth.get(line.pk) != line.authorization_id
        ]
        for line in lines_to_update:
            line.authorization_id = line_auth.get(line.pk)
        ClaimLine.objects.bulk_update(lines_to_update, ["authorization"], batch_size=2000)
        events = []
        ready: list[Any] = []
        draft: list[Any] = []
        for claim in claims:
            blocked = any(f.severity == scrubber.ERROR for f in findings[claim.pk])
            new_status = ClaimStatus.DRAFT if blocked else ClaimStatus.READY
            (draft if blocked else ready).append(claim.pk)
            if new_status != claim.status:
                events.append(
                    ClaimEvent(
                        claim=claim,
                        organization_id=claim.organization_id,
                        from_status=claim.status,
                        to_status=new_status,
                        actor=actor,
                        note="Scrubbed",
                    )
                )
            claim.status = new_status
            approved = [line_auth.get(line.pk) for line in lines_by_claim[claim.pk]]
            claim.prior_authorization_number = _authorization_number(
                authorizations[(claim.episode_id, claim.payer_id)], approved
            )
        Claim.objects.filter(pk__in=ready).update(status=ClaimStatus.READY, scrubbed_at=now)
        Claim.objects.filter(pk__in=draft).update(status=ClaimStatus.DRAFT, scrubbed_at=now)
        Claim.objects.bulk_update(claims, ["prior_authorization_number"], batch_size=1000)
        ClaimEvent.objects.bulk_create(events, batch_size=1000)
    return findings


def _authorization_number(auths: list[Authorization], approved_ids: list[Any]) -> str:
    numbers = {a.auth_number for a in auths if a.pk in set(approved_ids) and a.auth_number}
    return next(iter(numbers)) if len(numbers) == 1 else ""


def _duplicates(claims: list[Claim], lines_by_claim: dict[Any, list[ClaimLine]]) -> dict[Any, str]:
    """Lines already billed to the same payer on another live claim (same patient, code, date,
    modifiers); the same service on the secondary payer's claim is not a duplicate."""
    patient_ids = {c.patient_id for c in claims}
    claim_ids = {c.pk for c in claims}
    originals = {c.original_claim_id for c in claims if c.original_claim_id}
    others = (
        ClaimLine.objects.filter(claim__patient_id__in=patient_ids)
        .exclude(claim_id__in=claim_ids | originals)
        .exclude(claim__status__in=[ClaimStatus.VOID, ClaimStatus.REJECTED])
        .exclude(claim__frequency=Frequency.VOID)
        .values_list(
            "claim__patient_id",
            "service_code",
            "date_of_service",
            "modifiers",
            "claim__patient_control_number",
            "claim_id",
            "claim__payer_id",
        )
    )
    corrected = set(
        Claim.objects.filter(
            original_claim_id__isnull=False, patient_id__in=patient_ids
        ).values_list("original_claim_id", flat=True)
    )
    seen = {
        (p, payer, code, dos, tuple(sorted(mods))): pcn
        for p, code, dos, mods, pcn, cid, payer in others
        if cid not in corrected
    }
    found = {}
    for claim in claims:
        for line in lines_by_claim[claim.pk]:
            key = (
                claim.patient_id,
                claim.payer_id,
                line.service_code,
                line.date_of_service,
                tuple(sorted(line.modifiers)),
            )
            if key in seen:
                found[line.pk] = seen[key]
    return found


def _facts(
    claim: Claim,
    lines: list[ClaimLine],
    diagnoses_by_code: dict[tuple[Any, str], EpisodeDiagnosis],
    authorizations: dict[tuple[Any, Any], list[Authorization]],
    billing_rules: dict[Any, list[PayerBillingRule]],
    consents: dict[Any, list[Consent]],
    billability: dict[Any, Any],
    queries: dict[Any, Any],
    duplicates: dict[Any, str],
    today: date,
) -> tuple[scrubber.ClaimFacts, dict[Any, Any]]:
    payer = claim.payer
    education = rules.EDUCATION_BY_PROVIDER_TYPE.get(claim.rendering_provider.provider_type, "")
    licensure = rules.licensure_modifier(
        education, payer_requires=payer.requires_licensure_modifier
    )
    auths = authorizations[(claim.episode_id, claim.payer_id)]
    auth_by_line: dict[Any, Any] = {}
    line_facts = []
    for line in lines:
        entry = line.service_entry
        decision = None
        if payer.requires_authorization(level=entry.level, service_code=line.service_code):
            coverage = auth_rules.coverage_decision(
                auths,  # type: ignore[arg-type]
                level=entry.level,
                service_code=line.service_code,
                date_of_service=line.date_of_service,
                units=0,
            )
            decision = scrubber.Decision(coverage.covered, coverage.message, coverage.code)
            auth_by_line[line.pk] = (
                coverage.authorization.pk
                if coverage.covered and coverage.authorization is not None
                else None
            )  # type: ignore[attr-defined]
        result = billability[queries[line.pk]]
        line_facts.append(
            scrubber.LineFacts(
                number=line.line_number,
                service_code=line.service_code,
                modifiers=tuple(line.modifiers),
                units=line.units,
                charge=line.charge,
                date_of_service=line.date_of_service,
                place_of_service=line.place_of_service,
                kind=entry.kind,
                minutes=entry.minutes,
                telehealth=entry.telehealth,
                diagnosis_pointers=tuple(line.diagnosis_pointers),
                level=entry.level,
                documentation_signed=entry.documentation_signed,
                program_minutes=entry.program_minutes,
                authorization=decision,
                billability=scrubber.Decision(result.billable, result.reason, result.code),
                supervisor_required=result.under_supervisor.display_name
                if result.under_supervisor is not None
                else "",
                duplicate_of=duplicates.get(line.pk, ""),
            )
        )
    diagnoses = []
    for code in claim.diagnosis_codes:
        d = diagnoses_by_code.get((claim.episode_id, code))
        diagnoses.append(
            scrubber.DiagnosisFacts(
                code, d.effective_from if d else date.min, d.effective_to if d else None
            )
        )
    part2 = None
    if claim.is_part2:
        consent = consent_decision(
            consents[claim.patient_id],  # type: ignore[arg-type]
            payer_id=payer.pk,
            purpose="payment",
            on_date=claim.statement_to,
            revoked_before=NOT_YET_DISCLOSED,
        )
        part2 = scrubber.Decision(consent.covered, consent.reason)
    facts = scrubber.ClaimFacts(
        lines=tuple(line_facts),
        diagnoses=tuple(diagnoses),
        payer=payer_edits(payer, billing_rules[payer.pk], licensure_modifier=licensure),
        coverage_from=claim.coverage.effective_date,
        coverage_to=claim.coverage.termination_date,
        has_supervising_provider=claim.supervising_provider_id is not None,
        part2_consent=part2,
        today=today,
    )
    return facts, auth_by_line


# --- Lifecycle -------------------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.DRAFT: frozenset({ClaimStatus.VOID}),
    ClaimStatus.READY: frozenset({ClaimStatus.SUBMITTED, ClaimStatus.DRAFT, ClaimStatus.VOID}),
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.ACCEPTED, ClaimStatus.REJECTED}),
    ClaimStatus.ACCEPTED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED}
    ),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.DRAFT, ClaimStatus.VOID}),
    ClaimStatus.PAID: frozenset({ClaimStatus.CLOSED}),
    ClaimStatus.PARTIALLY_PAID: frozenset(
        {ClaimStatus.APPEALED, ClaimStatus.CLOSED, ClaimStatus.PAID}
    ),
    ClaimStatus.DENIED: frozenset({ClaimStatus.APPEALED, ClaimStatus.CLOSED}),
    ClaimStatus.APPEALED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED, ClaimStatus.CLOSED}
    ),
    ClaimStatus.CLOSED: frozenset(),
    ClaimStatus.VOID: frozenset(),
}


def claim_transition(*, claim: Claim, to_status: str, actor: Any = None, note: str = "") -> Claim:
    """Move a claim along its lifecycle; an illegal move is refused with the legal ones named.
    `ready` is reached only by scrubbing clean."""
    if to_status not in ClaimStatus.values:
        raise DomainError(f"Unknown status: {to_status}", field="status")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        allowed = TRANSITIONS[claim.status]
        if to_status not in allowed:
            legal = ", ".join(sorted(ClaimStatus(s).label for s in allowed)) or "none (final)"
            raise DomainError(
                f"A claim that is {claim.get_status_display().lower()} cannot become {ClaimStatus(to_status).label.lower()}. Possible: {legal}.",
                field="status",
            )
        if to_status == ClaimStatus.SUBMITTED and claim.status != ClaimStatus.READY:
            raise DomainError("Only a claim that scrubbed clean can be submitted.", field="status")
        previous = claim.status
        claim.status = to_status
        update = ["status", "updated_at"]
        if to_status == ClaimStatus.SUBMITTED:
            claim.submitted_at = timezone.now()
            update.append("submitted_at")
        claim.save(update_fields=update)
        if (
            to_status == ClaimStatus.VOID
            and claim.frequency == Frequency.ORIGINAL
            and claim.primary_claim_id is None
            and previous in {ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED}
        ):
            # Never sent (or refused at the front door): its charges may be billed again. Not a
            # secondary claim's: its charges stay billed on the primary's claim.
            ServiceEntry.objects.filter(claim_lines__claim=claim).update(status=EntryStatus.OPEN)
        ClaimEvent.objects.create(
            claim=claim, from_status=previous, to_status=to_status, actor=actor, note=note[:300]
        )
        audit_record(
            action="claim.transition",
            obj=claim,
            patient_id=claim.patient_id,
            detail={"from": previous, "to": to_status},
        )
    return claim


def _copy(claim: Claim, *, frequency: str, actor: Any) -> Claim:
    if claim.status not in {
        ClaimStatus.ACCEPTED,
        ClaimStatus.PAID,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
        ClaimStatus.CLOSED,
    }:
        raise DomainError(
            "Only a claim the payer accepted can be corrected or voided with the payer; void a draft or ready claim directly.",
            field="frequency",
        )
    if not claim.payer_claim_number:
        raise DomainError(
            "Record the payer's claim number first: a replacement or void must cite it (REF*F8).",
            field="payer_claim_number",
        )
    copy = Claim.objects.get(pk=claim.pk)
    copy.pk = uuid.uuid4()
    copy.patient_control_number = _new_pcn()
    copy.frequency = frequency
    copy.original_claim = claim
    copy.status = ClaimStatus.DRAFT
    copy.submitted_at = copy.scrubbed_at = None
    copy.created_at = timezone.now()
    copy.save(force_insert=True)
    lines = []
    for line in ClaimLine.objects.filter(claim=claim).order_by("line_number"):
        line.pk = uuid.uuid4()
        line.claim = copy
        line.line_control_number = f"{copy.patient_control_number}-{line.line_number}"
        lines.append(line)
    ClaimLine.objects.bulk_create(lines)
    ClaimEvent.objects.create(
        claim=copy,
        from_status="",
        to_status=ClaimStatus.DRAFT,
        actor=actor,
        note=f"{Frequency(frequency).label} of {claim.patient_control_number}",
    )
    return copy


def claim_correct(*, claim: Claim, actor: Any = None) -> Claim:
    """A replacement claim (frequency 7) that cites the original's payer claim number; fix its
    lines, then scrub and submit it like any claim."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.REPLACEMENT, actor=actor)
        audit_record(
            action="claim.correct",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy


def claim_void_with_payer(*, claim: Claim, actor: Any = None) -> Claim:
    """A void claim (frequency 8) asking the payer to cancel an accepted claim."""
    with transaction.atomic():
        copy = _copy(claim, frequency=Frequency.VOID, actor=actor)
        audit_record(
            action="claim.void_request",
            obj=copy,
            patient_id=claim.patient_id,
            detail={"original": str(claim.pk)},
        )
    return copy


# --- Daily scan: charges a provider cannot bill ----------------------------------------------------


def claims_unbillable_scan(*, today: date) -> list[Any]:
    """Alert credentialing about recorded charges whose rendering provider cannot bill the
    patient's payer on the date of service (not enrolled, pending, licence expired, ...).
    Set-based; deduplicated per provider x payer x reason, so running it twice raises nothing new."""
    from credentialing.services import unbillable_service_alerts

    entries = list(
        ServiceEntry.objects.filter(status=EntryStatus.OPEN).values_list(
            "patient_id",
            "rendering_provider_id",
            "date_of_service",
            "service_code",
            "service_facility_id",
        )
    )
    coverages: dict[Any, list[Coverage]] = defaultdict(list)
    for coverage in Coverage.objects.filter(patient_id__in={e[0] for e in entries}):
        coverages[coverage.patient_id].append(coverage)
    queries = []
    for patient_id, provider_id, day, code, facility_id in entries:
        primary = _primary_on(coverages[patient_id], day)
        if primary is not None:
            queries.append(BillabilityQuery(provider_id, primary.payer_id, day, code, facility_id))
    return unbillable_service_alerts(queries=queries, today=today)


def saved_filter_save(*, user: Any, name: str, query: str) -> Any:
    """Save (or overwrite) a named set of claims-list filters for this user."""
    from claims.models import SavedClaimFilter

    if not name.strip():
        raise DomainError("Name the filters.", field="name")
    with transaction.atomic():
        saved, _ = SavedClaimFilter.objects.update_or_create(
            user=user, name=name.strip(), defaults={"query": query[:500]}
        )
    return saved
