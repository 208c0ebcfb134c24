"""Scrubbing: the findings of every claim (scrubber rules, payer edits, authorizations,
duplicates), set-based."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from authorizations import rules as auth_rules
from authorizations.models import Authorization
from claims import rules, scrubber
from claims.models import (
    Claim,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    ClaimStatus,
    Frequency,
    PayerBillingRule,
)
from claims.services.payer_rules import payer_edits
from credentialing.services import BillabilityQuery, billability_for_pairs
from patients.models import (
    Consent,
    EpisodeDiagnosis,
)
from patients.rules import consent_decision
from rcm.tenancy.models import Organization
from x12 import professional as x12p

# A claim not yet sent is disclosed later than any revocation already on file: every recorded
# revocation counts against it (consent_decision's `revoked_before`), whatever the clock says.
NOT_YET_DISCLOSED = datetime.max.replace(tzinfo=UTC)


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
            .select_related("payer", "coverage", "rendering_provider", "episode", "patient")
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
        organization = Organization.objects.get(pk=claims[0].organization_id)
        duplicates = _duplicates(claims, lines_by_claim)
        same_day = _same_day_lines(claims, lines_by_claim)
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
                organization,
            )
            facts = replace(facts, same_day_lines=same_day_for(claim, same_day))
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


def _same_day_lines(
    claims: list[Claim], lines_by_claim: dict[Any, list[ClaimLine]]
) -> list[tuple[Any, Any, Any, scrubber.SameDayLine]]:
    """Lines of every live claim (voids, rejected claims and replaced originals left out) for
    the patients and dates of service of these claims: (patient, payer, claim id, line). One
    query; the same-day edits then count them per patient, provider and date of service."""
    patient_ids = {c.patient_id for c in claims}
    days = {line.date_of_service for lines in lines_by_claim.values() for line in lines}
    replaced = set(
        Claim.objects.filter(original_claim_id__isnull=False, patient_id__in=patient_ids)
        .exclude(status=ClaimStatus.VOID)
        .values_list("original_claim_id", flat=True)
    )
    rows = (
        ClaimLine.objects.filter(claim__patient_id__in=patient_ids, date_of_service__in=days)
        .exclude(claim__status__in=[ClaimStatus.VOID, ClaimStatus.REJECTED])
        .exclude(claim__frequency=Frequency.VOID)
        .exclude(claim_id__in=replaced)
        .values_list(
            "claim__patient_id",
            "claim__payer_id",
            "claim_id",
            "claim__patient_control_number",
            "line_number",
            "service_code",
            "modifiers",
            "units",
            "date_of_service",
            "rendering_provider_id",
        )
    )
    return [
        (
            patient,
            payer,
            claim_id,
            scrubber.SameDayLine(pcn, number, code, tuple(mods), units, day, str(provider)),
        )
        for patient, payer, claim_id, pcn, number, code, mods, units, day, provider in rows
    ]


def same_day_for(
    claim: Claim, rows: list[tuple[Any, Any, Any, scrubber.SameDayLine]]
) -> tuple[scrubber.SameDayLine, ...]:
    """The other claims' lines that count with this claim's: same patient and payer (the same
    service sent on to a secondary payer is not a second service), not itself nor the claim it
    replaces."""
    return tuple(
        line
        for patient, payer, claim_id, line in rows
        if patient == claim.patient_id
        and payer == claim.payer_id
        and claim_id not in (claim.pk, claim.original_claim_id)
    )


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
    organization: Organization,
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
                rendering_provider=str(line.rendering_provider_id),
                revenue_code=line.revenue_code,
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
        submission=submission_facts(claim, organization),
        claim_form=claim.claim_form,
    )
    return facts, auth_by_line


# The organization's billing fields the 837's billing provider loop (2010AA) cannot do without.
BILLING_FIELDS = (
    ("group_npi", "group NPI"),
    ("tax_id", "tax id (EIN)"),
    ("address_line1", "billing street address"),
    ("city", "billing city"),
    ("state", "billing state"),
    ("postal_code", "billing ZIP code"),
)


def _address(row: Any) -> x12p.Address:
    return x12p.Address(
        row.address_line1, row.city, row.state, row.postal_code.replace("-", ""), row.address_line2
    )


def submission_facts(claim: Claim, organization: Organization) -> scrubber.SubmissionFacts:
    """The 837's parties of a claim as the writer will see them (the subscriber's address is
    the patient's home address: the claim sends one address for the household)."""
    patient, coverage, payer = claim.patient, claim.coverage, claim.payer
    home = _address(patient)
    patient_person = x12p.Person(
        patient.last_name, patient.first_name, patient.date_of_birth, patient.sex or "U", home,
        patient.middle_name,
    )  # fmt: skip
    dependent = None
    person = patient_person
    if coverage.relationship != "18":
        person = x12p.Person(
            coverage.subscriber_last_name,
            coverage.subscriber_first_name,
            coverage.subscriber_date_of_birth,  # type: ignore[arg-type]
            coverage.subscriber_sex or "U",
            home,
        )
        dependent = x12p.Patient(patient_person, coverage.relationship)
    billing = x12p.BillingProvider(
        organization.name,
        organization.group_npi,
        organization.tax_id.replace("-", ""),
        _address(organization),
    )
    return scrubber.SubmissionFacts(
        patient_control_number=claim.patient_control_number,
        billing=billing,
        billing_missing=tuple(
            (name, label)
            for name, label in BILLING_FIELDS
            if not str(getattr(organization, name) or "").strip()
        ),
        subscriber=x12p.Subscriber(person, coverage.member_id.strip()),
        patient=dependent,
        payer=x12p.Payer(payer.name, payer.payer_id),
    )
