"""Claim building: charges into claims, set-based (a fixed number of queries for any number
of charges; bench/claim_build.py measures it), and secondary claims after a primary paid."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims import rules
from claims.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EntryStatus,
    ServiceEntry,
)
from claims.services.scrubbing import claims_scrub
from patients.levels import FACILITY_LEVELS
from patients.models import (
    Coverage,
    EpisodeDiagnosis,
    Payer,
)
from rcm import part2
from rcm.audit.services import audit_record, audit_record_many
from rcm.errors import DomainError

MAX_LINES_837P = 50


# --- Claim building ------------------------------------------------------------------------------

PCN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_pcn() -> str:
    return "P" + "".join(secrets.choice(PCN_ALPHABET) for _ in range(11))


@dataclass
class BuildReport:
    claims: list[Claim] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # entry id -> reason
    # Open charges the caller may not see (42 CFR Part 2), left for a member with the grant.
    part2_hidden: int = 0


def _primary_on(coverages: list[Coverage], day: date) -> Coverage | None:
    in_force = [c for c in coverages if c.is_active_on(day)]
    return min(in_force, key=lambda c: c.priority) if in_force else None


def _no_coverage_reason(coverages: list[Coverage], day: date) -> str:
    """Why a charge gets no claim: a coverage that ended before its date (a 271 that came back
    inactive or with an end date sets the end) is named with its end, so the biller knows the
    claim is blocked rather than self-pay by choice."""
    ended = [c for c in coverages if c.termination_date and c.effective_date <= day]
    ended = [c for c in ended if c.termination_date and c.termination_date < day]
    if ended:
        last = max(ended, key=lambda c: (c.termination_date, -c.priority))
        return (
            f"Coverage with {last.payer.name} (member {last.member_id}) ended on "
            f"{last.termination_date}: no claim for {day}. Verify eligibility and add the "
            "coverage in force on that date."
        )
    return f"No coverage in force on {day} (self-pay)."


def claims_build(
    *,
    entry_ids: Iterable[Any] | None = None,
    today: date,
    actor: Any = None,
    scopes: Collection[str],
) -> BuildReport:
    """Group open charges into claims by patient, coverage (payer), rendering provider and claim
    form (837I per-diem claims span a statement month); total = sum of lines. Then scrub them.
    Set-based: a fixed number of queries however many charges. `today` is the organization's
    day (timely filing is judged against it).

    `scopes` are the member's or the API key's (a page or the API): only the charges they may
    see are billed (42 CFR Part 2). Given ids of charges they may not see are ignored like
    unknown ones; building every open charge says in `part2_hidden` how many it left out.
    `part2.ORGANIZATION` is the organization as a whole (a task, the demo), which bills every
    charge."""
    report = BuildReport()
    with transaction.atomic():
        open_entries = ServiceEntry.objects.filter(status=EntryStatus.OPEN)
        entries_qs = open_entries.select_for_update(skip_locked=True, of=("self",))
        entries_qs = part2.visible(entries_qs, scopes)
        if entry_ids is None:
            report.part2_hidden = part2.hidden_count(open_entries, scopes)
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
                report.skipped[str(entry.pk)] = _no_coverage_reason(
                    coverages[entry.patient_id], entry.date_of_service
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
        _record_created(claims, actor=actor, notes=["Built from charges"] * len(claims))
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
        _record_created(
            claims,
            actor=actor,
            notes=[
                f"Secondary of {s.primary.patient_control_number} after "
                f"{s.adjudication.get('payer_name', 'the primary')} paid "
                f"${s.adjudication.get('paid', '0')}"[:300]
                for s in sources
            ],
        )
        audit_record_many(
            "claim.secondary_build", [(c, {"primary": str(c.primary_claim_id)}) for c in claims]
        )
        claims_scrub(claim_ids=[c.pk for c in claims], today=today, actor=actor)
    return claims


def _record_created(claims: list[Claim], *, actor: Any, notes: list[str]) -> None:
    """The first history event of each new claim (draft), with its note, in one INSERT."""
    ClaimEvent.objects.bulk_create(
        [
            ClaimEvent(
                claim=c,
                organization_id=c.organization_id,
                from_status="",
                to_status=ClaimStatus.DRAFT,
                actor=actor,
                note=note,
            )
            for c, note in zip(claims, notes, strict=True)
        ],
        batch_size=1000,
    )
