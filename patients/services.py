"""Every change to payers, patients, coverage, episodes and consents.

Each function runs in one transaction, raises DomainError naming the field for anything a user can
fix, and writes the audit trail (field names only; values are PHI)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone

from alerts.models import Area
from alerts.services import AlertSpec, alerts_raise
from patients.levels import LevelOfCare, transition_kind
from patients.models import (
    BenefitVerification,
    Consent,
    Coverage,
    EligibilityRequest,
    EligibilityStatus,
    EpisodeDiagnosis,
    EpisodeOfCare,
    EpisodeStatus,
    LevelOfCareStay,
    Note,
    NoteSubject,
    Patient,
    Payer,
    PayerType,
    VerificationMethod,
)
from patients.rules import (
    ConsentDecision,
    benefit_snapshot,
    check_icd10,
    consent_decision,
    verification_differences,
)
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError, ErrorCollector
from rcm.outbox.services import outbox_enqueue
from rcm.service_helpers import apply_fields as _apply
from rcm.service_helpers import validate_model as _validate
from rcm.tenancy.models import MAILING_ADDRESS_FIELDS
from rcm.validators import (
    PATIENT_CLEANERS,
    PAYER_CLEANERS,
    SUBSCRIBER_NAME_CLEANERS,
    Cleaner,
    clean_fields,
)
from x12.eligibility import Member, parse_271
from x12.reader import X12Error

AUTHORIZATION_NEEDED_TOPIC = "patients.authorization_needed"
# A 271 ended a coverage: claims on it not yet sent are scrubbed again (claims/handlers.py).
COVERAGE_ENDED_TOPIC = "patients.coverage_ended"

# Sensible starting points per payer type (domain.md section 7); every value stays editable.
PAYER_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    PayerType.MEDICARE: {
        "timely_filing_days": 365,
        "appeal_window_days": 120,
        "corrected_claim_days": 365,
    },
    PayerType.MEDICARE_ADVANTAGE: {"timely_filing_days": 365, "appeal_window_days": 60},
    PayerType.MEDICAID: {
        "timely_filing_days": 365,
        "appeal_window_days": 90,
        "requires_licensure_modifier": True,
    },
    PayerType.MEDICAID_MANAGED: {
        "timely_filing_days": 180,
        "appeal_window_days": 90,
        "requires_licensure_modifier": True,
    },
    PayerType.COMMERCIAL: {"timely_filing_days": 90, "appeal_window_days": 180},
    PayerType.TRICARE: {"timely_filing_days": 365, "appeal_window_days": 90},
    PayerType.SELF_PAY: {"timely_filing_days": 365, "appeal_window_days": 0},
}


# --- Payers -----------------------------------------------------------------------------------

# The payer's rules kept as JSON: the payer form asks for them with fields of its own.
PAYER_RULE_FIELDS = ("claim_form_by_level", "auth_required_levels", "auth_required_codes")

# In the order forms show them.
APPEALS_ADDRESS_FIELDS = tuple(f"appeals_{name}" for name in MAILING_ADDRESS_FIELDS)
PAYER_FIELDS = (
    "name",
    "payer_id",
    "payer_type",
    *MAILING_ADDRESS_FIELDS,
    "phone",
    *APPEALS_ADDRESS_FIELDS,
    "default_claim_form",
    "submission_method",
    "claim_form_by_level",
    "timely_filing_days",
    "corrected_claim_days",
    "appeal_window_days",
    "response_days",
    "auth_required_levels",
    "auth_required_codes",
    "telehealth_pos",
    "telehealth_modifier",
    "audio_only_modifier",
    "requires_licensure_modifier",
    "is_active",
)


def _clean(row: Payer | Patient | Coverage, cleaners: dict[str, Cleaner]) -> None:
    """The values an 837 must accept (rcm.validators: ZIP, state, phone, names), normalized on
    the row (ZIP without hyphen, phone in E.164); every refused one at once, each on its field."""
    values: dict[str, object] = {name: getattr(row, name) for name in cleaners}
    problems = clean_fields(values, cleaners)
    errors = ErrorCollector()
    for field, message in problems.items():
        errors.add(message, field=field)
    errors.raise_any()
    for name, value in values.items():
        setattr(row, name, value)


def _check_payer_rules(payer: Payer) -> None:
    _clean(payer, PAYER_CLEANERS)
    bad_levels = [lvl for lvl in payer.auth_required_levels if lvl not in LevelOfCare.values]
    if bad_levels:
        raise DomainError(f"Unknown level of care: {bad_levels[0]}", field="auth_required_levels")
    for level, form in payer.claim_form_by_level.items():
        if level not in LevelOfCare.values:
            raise DomainError(f"Unknown level of care: {level}", field="claim_form_by_level")
        if form not in {"837P", "837I"}:
            raise DomainError(
                f"Claim form must be 837P or 837I, not {form}", field="claim_form_by_level"
            )
    payer.auth_required_codes = sorted(
        {c.strip().upper() for c in payer.auth_required_codes if c.strip()}
    )


def payer_create(**data: Any) -> Payer:
    """Add a payer; rules not given start from the defaults of its type."""
    payer = Payer()
    defaults = PAYER_TYPE_DEFAULTS.get(data.get("payer_type", ""), {})
    _apply(payer, {**defaults, **data}, PAYER_FIELDS)
    _check_payer_rules(payer)
    _validate(payer)
    with transaction.atomic():
        payer.save()
        audit_record(action="payer.create", obj=payer)
    return payer


def payer_update(*, payer: Payer, data: dict[str, Any]) -> Payer:
    with transaction.atomic():
        payer = Payer.objects.select_for_update().get(pk=payer.pk)
        fields = _apply(payer, data, PAYER_FIELDS)
        _check_payer_rules(payer)
        _validate(payer)
        payer.save()
        audit_record(action="payer.update", obj=payer, detail={"fields": fields})
    return payer


# --- Patients ---------------------------------------------------------------------------------

# In the order forms show them.
PATIENT_FIELDS = (
    "mrn",
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    *MAILING_ADDRESS_FIELDS,
    "phone",
    "email",
    "status",
)


def _check_patient(patient: Patient, *, today: date) -> None:
    """Every refusal at once (the form shows each beside its field)."""
    errors = ErrorCollector()
    patient.mrn = (patient.mrn or "").strip()
    if patient.date_of_birth and patient.date_of_birth > today:
        errors.add("Date of birth is in the future.", field="date_of_birth")
    with errors.check():
        _clean(patient, PATIENT_CLEANERS)
    with errors.check():
        _validate(patient)
    duplicate = Patient.objects.filter(mrn=patient.mrn).exclude(pk=patient.pk)
    if duplicate.exists():
        errors.add(f"MRN {patient.mrn} belongs to another patient.", field="mrn")
    errors.raise_any()


def patient_create(*, today: date, **data: Any) -> Patient:
    """`today` is the organization's date: a date of birth after it is refused."""
    patient = Patient()
    _apply(patient, data, PATIENT_FIELDS)
    with transaction.atomic():
        _check_patient(patient, today=today)
        patient.save()
        audit_record(action="patient.create", obj=patient, patient_id=patient.pk)
    return patient


def patient_check(*, patient: Patient | None, data: dict[str, Any], today: date) -> None:
    """The refusals `patient_create` (patient None) or `patient_update` would give for `data`,
    without saving anything: a form whose own validation failed shows these too, so every error
    appears in one submit."""
    row = Patient() if patient is None else Patient.objects.get(pk=patient.pk)
    _apply(row, data, PATIENT_FIELDS)
    _check_patient(row, today=today)


def patient_update(*, patient: Patient, data: dict[str, Any], today: date) -> Patient:
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        fields = _apply(patient, data, PATIENT_FIELDS)
        _check_patient(patient, today=today)
        patient.save()
        audit_record(
            action="patient.update", obj=patient, patient_id=patient.pk, detail={"fields": fields}
        )
    return patient


# --- Coverage ---------------------------------------------------------------------------------

# What a benefit verification may confirm on the coverage.
BENEFIT_FIELDS = (
    "copay",
    "coinsurance_percent",
    "deductible",
    "deductible_met",
    "visit_limit",
    "day_limit",
    "auth_required",
)

# In the order forms show them.
COVERAGE_FIELDS = (
    "payer",
    "priority",
    "member_id",
    "group_number",
    "plan_name",
    "effective_date",
    "termination_date",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_date_of_birth",
    "subscriber_sex",
    *BENEFIT_FIELDS,
    "benefits_notes",
)


def _ranges_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start <= (b_end or date.max) and b_start <= (a_end or date.max)


def _check_coverage(coverage: Coverage) -> None:
    _clean(coverage, SUBSCRIBER_NAME_CLEANERS)
    coverage.member_id = (coverage.member_id or "").strip()
    if not coverage.member_id:
        raise DomainError("The member id is required.", field="member_id")
    if (
        coverage.termination_date
        and coverage.effective_date
        and coverage.termination_date < coverage.effective_date
    ):
        raise DomainError(
            "The termination date is before the effective date.", field="termination_date"
        )
    if coverage.relationship != "18":
        for name in ("subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth"):
            if not getattr(coverage, name):
                label = name.replace("subscriber_", "subscriber's ").replace("_", " ")
                raise DomainError(
                    f"The {label} is required when the patient is not the subscriber.", field=name
                )
    _validate(coverage)
    # Coordination of benefits must be unambiguous: one coverage per priority on any date.
    siblings = Coverage.objects.filter(
        patient_id=coverage.patient_id, priority=coverage.priority
    ).exclude(pk=coverage.pk)
    for other in siblings:
        if _ranges_overlap(
            coverage.effective_date,
            coverage.termination_date,
            other.effective_date,
            other.termination_date,
        ):
            label = coverage.get_priority_display().lower()
            raise DomainError(
                f"{other.payer} is already the {label} coverage from {other.effective_date}"
                f"{' to ' + str(other.termination_date) if other.termination_date else ''}; "
                f"two {label} coverages cannot overlap. End that one first or choose another priority.",
                field="priority",
            )


def coverage_create(*, patient: Patient, **data: Any) -> Coverage:
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)  # serialises COB changes per patient
        coverage = Coverage(patient=patient)
        _apply(coverage, data, COVERAGE_FIELDS)
        _check_coverage(coverage)
        coverage.save()
        audit_record(action="coverage.create", obj=coverage, patient_id=patient.pk)
    return coverage


def coverage_update(*, coverage: Coverage, data: dict[str, Any]) -> Coverage:
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=coverage.patient_id)
        coverage = Coverage.objects.select_related("payer").get(pk=coverage.pk)
        fields = _apply(coverage, data, COVERAGE_FIELDS)
        _check_coverage(coverage)
        coverage.save()
        audit_record(
            action="coverage.update",
            obj=coverage,
            patient_id=coverage.patient_id,
            detail={"fields": fields},
        )
    return coverage


def coverage_verify(
    *,
    coverage: Coverage,
    verified_by: Any,
    method: str,
    benefits: dict[str, Any] | None = None,
    **data: Any,
) -> BenefitVerification:
    """Record a benefit verification and, in the same transaction, the benefits it confirmed."""
    with transaction.atomic():
        verification = BenefitVerification(
            coverage=coverage,
            verified_by=verified_by,
            method=method,
            verified_at=data.pop("verified_at", None) or timezone.now(),
        )
        _apply(
            verification,
            data,
            {"reference_number", "payer_representative", "is_active_coverage", "notes"},
        )
        _validate(verification)
        if benefits:
            coverage = coverage_update(coverage=coverage, data=benefits)
        # The benefits as this verification leaves them: the next one is compared with it.
        verification.benefits = benefit_snapshot(
            {name: getattr(coverage, name) for name in BENEFIT_FIELDS},
            active=verification.is_active_coverage,
        )
        verification.save()
        audit_record(
            action="coverage.verify",
            obj=verification,
            patient_id=coverage.patient_id,
            detail={"method": method, "benefit_fields": sorted(benefits or {})},
        )
    return verification


def coverage_in_force(*, patient: Patient, on_date: date) -> list[Coverage]:
    """The patient's coverages on a date, in COB order (primary first)."""
    return list(
        Coverage.objects.select_related("payer")
        .filter(patient=patient, effective_date__lte=on_date)
        .filter(Q(termination_date__isnull=True) | Q(termination_date__gte=on_date))
        .order_by("priority")
    )


# --- Electronic eligibility (270/271) -------------------------------------------------------

# The service type behavioral health asks about and reads the benefits for (X12 1365: MH mental
# health), in network, for the individual.
ELIGIBILITY_SERVICE_TYPE = "MH"

# The coverage's benefit fields a 271 may fill (and a verification's snapshot compares).
BENEFIT_FIELDS = (
    "termination_date",
    "deductible",
    "deductible_met",
    "copay",
    "coinsurance_percent",
    "visit_limit",
    "auth_required",
)


def eligibility_request_create(
    *, coverage: Coverage, trace_number: str, raw_request: str, now: datetime
) -> EligibilityRequest:
    """Record a 270 sent (or about to be sent) about a coverage; its trace number (TRN02) is
    unique in the organization."""
    trace_number = (trace_number or "").strip()
    if not trace_number:
        raise DomainError("The trace number (TRN02) is required.", field="trace_number")
    with transaction.atomic():
        if EligibilityRequest.objects.filter(trace_number=trace_number).exists():
            raise DomainError(
                f"The trace number {trace_number!r} (TRN02) is already used.",
                field="trace_number",
            )
        request = EligibilityRequest(coverage=coverage, trace_number=trace_number, sent_at=now)
        request.raw_request = raw_request  # encrypted at rest
        _validate(request)
        request.save()
        audit_record(action="eligibility.request", obj=request, patient_id=coverage.patient_id)
    return request


def eligibility_request_fail(
    *, request: EligibilityRequest, status: str, error: str, raw_response: str = ""
) -> EligibilityRequest:
    """The 270 got no usable answer: no answer (timeout, the clearinghouse down) or an error (a
    response that was refused). The request says why; nothing else changes."""
    if status not in (EligibilityStatus.NO_ANSWER, EligibilityStatus.ERROR):
        raise DomainError(f"Not a failure status: {status}", field="status")
    with transaction.atomic():
        request = EligibilityRequest.objects.select_for_update().get(pk=request.pk)
        request.status = status
        request.error = error
        if raw_response:
            request.raw_response = raw_response
        request.save(update_fields=["status", "error", "raw_response_encrypted", "updated_at"])
        audit_record(
            action="eligibility.fail",
            obj=request,
            patient_id=request.coverage.patient_id,
            detail={"status": status},
        )
    return request


def _answer_trace(response: Any) -> tuple[Member | None, str, str]:
    """The member a 271 answers about, the trace number it echoes and where it says it."""
    for member in response.members:
        number = member.trace_number
        if number:
            return member, number, f"TRN (member at segment {member.segment_position})"
    return response.patient, response.reference, f"BHT03 (segment {response.segment_position})"


def _benefits_of(member: Member) -> dict[str, Any]:
    """The coverage's benefit fields a 271 answered (those it did not answer are left out)."""
    st = ELIGIBILITY_SERVICE_TYPE
    cents = Decimal("0.01")
    out: dict[str, Any] = {}
    deductible = member.deductible(st)
    if deductible is not None and deductible.total is not None:
        out["deductible"] = deductible.total.quantize(cents)
        if deductible.remaining is not None:
            met = max(deductible.total - deductible.remaining, Decimal(0))
            out["deductible_met"] = met.quantize(cents)
    copay = member.copay(st)
    if copay is not None:
        out["copay"] = copay.quantize(cents)
    coinsurance = member.coinsurance(st)
    if coinsurance is not None:
        out["coinsurance_percent"] = coinsurance
    visits = member.visit_limit(st, in_network=True)
    if visits is not None and visits.total is not None:
        out["visit_limit"] = int(visits.total)
    auth = member.authorization_required(st)
    if auth is not None:
        out["auth_required"] = auth
    return out


def _previous_snapshot(coverage: Coverage) -> dict[str, str | None]:
    """What the last verification said; for one recorded before snapshots were kept (or none),
    the benefits on file, which the last verification confirmed."""
    last = coverage.verifications.order_by("-verified_at").first()
    if last is not None and last.benefits:
        return dict(last.benefits)
    on_file = {name: getattr(coverage, name) for name in BENEFIT_FIELDS}
    return benefit_snapshot(on_file, active=True)


def eligibility_response_apply(
    *, raw: str, now: datetime, verified_by: Any = None, expect_trace: str = ""
) -> list[EligibilityRequest]:
    """Apply a 271 to the requests it answers, matched by our trace number (TRN02, else BHT03):
    each becomes a benefit verification (source: electronic, 270/271) that records what changed
    from the last one and updates the coverage's benefits; coverage that came back inactive
    raises an alert. An AAA rejection marks the request rejected and changes nothing. A late
    answer (a verification newer than the request exists) is kept on the request, not applied.

    A 271 that cannot be read or whose trace number is unknown to the organization (another
    organization's is unknown too) is refused whole with an error naming the segment; so is one
    answering another trace number than `expect_trace` (a real-time answer to its request)."""
    try:
        parsed = parse_271(raw)
    except X12Error as exc:
        raise DomainError(f"The 271 cannot be read: {exc}", field="raw_response") from exc
    refused: tuple[EligibilityRequest, DomainError] | None = None
    with transaction.atomic():
        matched = []
        for response in parsed.responses:
            member, trace, where = _answer_trace(response)
            if not trace:
                raise DomainError(
                    f"The 271 at segment {response.segment_position} names no trace number "
                    "(TRN02 or BHT03).",
                    field="TRN",
                )
            if expect_trace and trace != expect_trace:
                raise DomainError(
                    f"{where}: the answer is for trace number {trace!r}, not {expect_trace!r}.",
                    field="TRN",
                )
            request = (
                EligibilityRequest.objects.select_for_update()
                .select_related("coverage__payer")
                .filter(trace_number=trace)
                .first()
            )
            if request is None:
                raise DomainError(
                    f"{where}: trace number {trace!r} matches no eligibility request of this "
                    "organization.",
                    field="TRN",
                )
            if request.status in (EligibilityStatus.ANSWERED, EligibilityStatus.REJECTED):
                raise DomainError(
                    f"{where}: the request with trace number {trace!r} was already answered.",
                    field="TRN",
                )
            unknown = _unknown_subscriber(response, member, request.coverage)
            if unknown is not None:
                refused = (request, unknown)
                break
            matched.append((response, member, request))
        if refused is None:
            applied = [
                _apply_answer(
                    response=response,
                    member=member,
                    request=request,
                    raw=raw,
                    now=now,
                    verified_by=verified_by,
                )
                for response, member, request in matched
            ]
            for answered in applied:
                # A domain event for the apps above (webhooks): which request was answered.
                outbox_enqueue(
                    topic="patients.eligibility_result",
                    payload={"eligibility_request_id": str(answered.pk)},
                    idempotency_key=f"patients.eligibility_result:{answered.pk}",
                )
            return applied
    # Nothing was written while matching: the refusal is kept on its request, the coverage and
    # the patient stay as they were.
    request, error = refused
    eligibility_request_fail(
        request=request, status=EligibilityStatus.ERROR, error=error.message, raw_response=raw
    )
    raise error


def _unknown_subscriber(
    response: Any, member: Member | None, coverage: Coverage
) -> DomainError | None:
    """A 271 that answers about another subscriber than the coverage's (NM109 of loop 2100C is
    not its member id) is refused, naming the segment. An AAA rejection is not checked: the
    payer may echo the id it could not find."""
    if member is None or response.rejections:
        return None
    ours = coverage.member_id.strip().upper()
    for subscriber in response.subscribers:
        theirs = subscriber.member_id.strip().upper()
        if theirs and theirs != ours:
            return DomainError(
                f"NM1 (subscriber at segment {subscriber.segment_position}): the 271 names "
                f"member {subscriber.member_id!r}, not this coverage's {coverage.member_id!r}; "
                "nothing was changed.",
                field="NM1",
            )
    return None


def _apply_answer(
    *,
    response: Any,
    member: Member | None,
    request: EligibilityRequest,
    raw: str,
    now: datetime,
    verified_by: Any,
) -> EligibilityRequest:
    coverage = Coverage.objects.select_related("payer").get(pk=request.coverage_id)
    request.raw_response = raw
    request.answered_at = now
    rejections = response.rejections
    if rejections or member is None:
        request.status = EligibilityStatus.REJECTED
        request.error = "; ".join(r.text for r in rejections) or "The 271 names no member."
        request.save()
        audit_record(action="eligibility.rejected", obj=request, patient_id=coverage.patient_id)
        return request
    newer = coverage.verifications.filter(verified_at__gt=request.sent_at).first()
    request.status = EligibilityStatus.ANSWERED
    if newer is not None:
        request.error = (
            f"A newer verification ({newer}) exists; this late answer is kept here and was "
            "not applied."
        )
        request.save()
        audit_record(action="eligibility.late", obj=request, patient_id=coverage.patient_id)
        return request
    benefits = _benefits_of(member)
    active = member.active is not False
    # Coverage that came back inactive ends on its eligibility end date (the day of the answer
    # when it states none); active coverage with an eligibility end date (357, not the plan
    # year's end, which renews) ends then too. An end is only ever moved earlier.
    eligibility_end = (member.dates.get("357") or (None, None))[0]
    end = (member.coverage_end or now.date()) if not active else eligibility_end
    if end is not None and (coverage.termination_date is None or coverage.termination_date > end):
        benefits["termination_date"] = max(end, coverage.effective_date)
    changes = verification_differences(
        _previous_snapshot(coverage), benefit_snapshot(benefits, active=active)
    )
    verification = coverage_verify(
        coverage=coverage,
        verified_by=verified_by,
        method=VerificationMethod.EDI_271,
        verified_at=now,
        reference_number=request.trace_number,
        payer_representative="",
        is_active_coverage=active,
        notes="\n".join(member.messages),
        benefits=benefits,
    )
    verification.changes = changes
    verification.save(update_fields=["changes", "updated_at"])
    request.verification = verification
    request.save()
    ended_on = benefits.get("termination_date") or coverage.termination_date
    if not active or "termination_date" in benefits:
        _coverage_ended_alert(coverage, ended_on=ended_on, active=active)
    if "termination_date" in benefits:
        outbox_enqueue(
            topic=COVERAGE_ENDED_TOPIC,
            payload={"coverage_id": str(coverage.pk)},
            idempotency_key=f"coverage-ended:{coverage.pk}:{benefits['termination_date']}",
        )
    return request


def _coverage_ended_alert(coverage: Coverage, *, ended_on: date | None, active: bool) -> None:
    """One alert per coverage and end date, however many answers say so (alerts de-duplicate
    on the key): claims for dates after the end are not built (claims.services.building)."""
    state = "came back inactive" if not active else "has an end date"
    alerts_raise(
        specs=[
            AlertSpec(
                area=Area.PATIENTS,
                kind="coverage.inactive",
                dedupe_key=f"coverage.inactive:{coverage.pk}:{ended_on}",
                title=f"{coverage.payer} coverage {state}",
                message=(
                    f"The 271 for member {coverage.member_id} says the coverage "
                    + ("is inactive" if not active else "ends")
                    + (f" (ended {ended_on})" if ended_on and not active else "")
                    + (f" on {ended_on}" if ended_on and active else "")
                    + ": no claim is built for services after that date. Verify the patient's "
                    "current coverage."
                ),
                subject_type="patients.coverage",
                subject_id=coverage.pk,
                patient_id=coverage.patient_id,
                link_path=f"patients/{coverage.patient_id}/",
            )
        ]
    )


# --- Episodes, diagnoses and levels of care ---------------------------------------------------


def episode_open(
    *,
    patient: Patient,
    program_type: str,
    admission_date: date,
    level: str,
    referral_source: str = "",
    reason: str = "Admission",
    clinical_justification: str = "",
    recorded_by: Any = None,
    diagnosis: str = "",
    today: date,
    scopes: Collection[str],
) -> EpisodeOfCare:
    """Admit a patient: the episode and its first level-of-care stay, and the primary diagnosis
    when given (a code that is refused leaves nothing behind).

    `scopes`: the member's (or API key's) scopes when a person or partner opens the episode (the
    page and the API pass them): 42 CFR Part 2, only a caller who may see a substance use episode
    may open one; `part2.ORGANIZATION` for the organization's own processes (demo data, imports)."""
    if level not in LevelOfCare.values:
        raise DomainError(f"Unknown level of care: {level}", field="level")
    episode = EpisodeOfCare(
        patient=patient,
        program_type=program_type,
        admission_date=admission_date,
        referral_source=referral_source,
    )
    if part2.restricted(episode, scopes):
        raise DomainError(
            "Opening a substance use or co-occurring episode needs the Part 2 grant "
            "(42 CFR Part 2); ask an owner for Part 2 access.",
            field="program_type",
        )
    with transaction.atomic():
        _validate(episode)
        episode.save()
        stay = LevelOfCareStay.objects.create(
            episode=episode,
            level=level,
            start_date=admission_date,
            transition="admission",
            reason=reason,
            clinical_justification=clinical_justification,
            recorded_by=recorded_by,
        )
        audit_record(
            action="episode.open",
            obj=episode,
            patient_id=patient.pk,
            detail={"program_type": program_type, "level": level},
        )
        _authorization_needed(episode, stay, today=today)
        if diagnosis:
            diagnosis_add(episode=episode, code=diagnosis, is_primary=True)
    return episode


def episode_discharge(
    *, episode: EpisodeOfCare, discharge_date: date, reason: str = ""
) -> EpisodeOfCare:
    with transaction.atomic():
        episode = EpisodeOfCare.objects.select_for_update().get(pk=episode.pk)
        if episode.status == EpisodeStatus.DISCHARGED:
            raise DomainError("The episode is already discharged.", field="discharge_date")
        if discharge_date < episode.admission_date:
            raise DomainError("Discharge is before admission.", field="discharge_date")
        current = episode.stays.filter(end_date__isnull=True).first()
        if current and discharge_date < current.start_date:
            raise DomainError(
                f"Discharge is before the current stay began ({current.start_date}).",
                field="discharge_date",
            )
        if current:
            current.end_date = discharge_date
            current.save(update_fields=["end_date", "updated_at"])
        episode.discharge_date, episode.status = discharge_date, EpisodeStatus.DISCHARGED
        episode.save(update_fields=["discharge_date", "status", "updated_at"])
        audit_record(
            action="episode.discharge",
            obj=episode,
            patient_id=episode.patient_id,
            detail={"reason": bool(reason)},
        )
    return episode


def diagnosis_add(
    *,
    episode: EpisodeOfCare,
    code: str,
    effective_from: date | None = None,
    rank: int | None = None,
    is_primary: bool = False,
) -> EpisodeDiagnosis:
    """Add an ICD-10-CM diagnosis (validated against the code set) to an episode."""
    check = check_icd10(code)
    if not check.ok:
        raise DomainError(check.reason, field="code")
    with transaction.atomic():
        EpisodeOfCare.objects.select_for_update().get(pk=episode.pk)
        current = EpisodeDiagnosis.objects.filter(episode=episode, effective_to__isnull=True)
        if current.filter(code=check.code).exists():
            raise DomainError(
                f"{check.code} is already a current diagnosis of this episode.", field="code"
            )
        if current.count() >= 12:
            raise DomainError(
                "An episode carries at most 12 current diagnoses (a claim holds 12).", field="code"
            )
        if is_primary or not current.filter(is_primary=True).exists():
            current.filter(is_primary=True).update(is_primary=False)
            is_primary = True
        diagnosis = EpisodeDiagnosis.objects.create(
            episode=episode,
            code=check.code,
            description=check.description,
            rank=rank or (current.count() + 1),
            is_primary=is_primary,
            effective_from=effective_from or episode.admission_date,
        )
        audit_record(
            action="diagnosis.add",
            obj=diagnosis,
            patient_id=episode.patient_id,
            detail={"primary": is_primary},
        )
    return diagnosis


def diagnosis_end(*, diagnosis: EpisodeDiagnosis, effective_to: date) -> EpisodeDiagnosis:
    if effective_to < diagnosis.effective_from:
        raise DomainError("The end date is before the diagnosis took effect.", field="effective_to")
    with transaction.atomic():
        diagnosis.effective_to = effective_to
        diagnosis.save(update_fields=["effective_to", "updated_at"])
        audit_record(action="diagnosis.end", obj=diagnosis, patient_id=diagnosis.episode.patient_id)
    return diagnosis


def _authorization_needed(episode: EpisodeOfCare, stay: LevelOfCareStay, *, today: date) -> None:
    """When the primary payer on the stay's first day requires authorization for its level,
    record an 'authorization needed' event (the authorizations app consumes it)."""
    coverages = coverage_in_force(patient=episode.patient, on_date=stay.start_date)
    primary = coverages[0] if coverages else None
    if primary is None or not primary.payer.requires_authorization(level=stay.level):
        return
    outbox_enqueue(
        topic=AUTHORIZATION_NEEDED_TOPIC,
        payload={
            "episode_id": str(episode.pk),
            "stay_id": str(stay.pk),
            "level": stay.level,
            "coverage_id": str(primary.pk),
            "payer_id": str(primary.payer_id),
            "start_date": stay.start_date.isoformat(),
            "transition": stay.transition,
            # The organization's date, given by the edge; a relay runs later and in UTC.
            "recorded_on": today.isoformat(),
        },
        idempotency_key=f"authorization-needed:{stay.pk}",
    )


def episode_transition_level(
    *,
    episode: EpisodeOfCare,
    level: str,
    on_date: date,
    clinical_justification: str,
    reason: str = "",
    end_current_on: date | None = None,
    allow_gap: bool = False,
    allow_overlap: bool = False,
    recorded_by: Any = None,
    today: date,
) -> LevelOfCareStay:
    """Step an episode down or up: close the current stay and open the next one on `on_date`.

    The current stay ends the day before by default. A gap (days at no level) or an overlap
    (two levels on one day) is refused unless explicitly allowed. The justification is required:
    payers ask for it at the next review."""
    if level not in LevelOfCare.values:
        raise DomainError(f"Unknown level of care: {level}", field="level")
    if not clinical_justification.strip():
        raise DomainError(
            "Document the clinical justification for the new level.", field="clinical_justification"
        )
    with transaction.atomic():
        episode = (
            EpisodeOfCare.objects.select_for_update().select_related("patient").get(pk=episode.pk)
        )
        if episode.status == EpisodeStatus.DISCHARGED:
            raise DomainError(
                "The episode is discharged; open a new episode instead.", field="level"
            )
        current = episode.stays.filter(end_date__isnull=True).first()
        if current is None:
            raise DomainError("The episode has no current level of care.", field="level")
        if current.level == level:
            raise DomainError(
                f"The patient is already at {current.get_level_display()}.", field="level"
            )
        if on_date <= current.start_date:
            raise DomainError(
                f"The new level must start after the current stay began ({current.start_date}).",
                field="on_date",
            )
        end = end_current_on or (on_date - timedelta(days=1))
        if end < current.start_date:
            raise DomainError("The current stay would end before it began.", field="end_current_on")
        if end >= on_date and not allow_overlap:
            raise DomainError(
                f"The stays would overlap from {on_date} to {end}; allow the overlap explicitly if it is intended.",
                field="end_current_on",
            )
        if end < on_date - timedelta(days=1) and not allow_gap:
            raise DomainError(
                f"There would be a gap from {end + timedelta(days=1)} to {on_date - timedelta(days=1)} with no level of care; allow the gap explicitly if it is intended.",
                field="end_current_on",
            )
        current.end_date = end
        current.save(update_fields=["end_date", "updated_at"])
        try:
            with transaction.atomic():
                stay = LevelOfCareStay.objects.create(
                    episode=episode,
                    level=level,
                    start_date=on_date,
                    transition=transition_kind(current.level, level),
                    reason=reason,
                    clinical_justification=clinical_justification,
                    recorded_by=recorded_by,
                )
        except IntegrityError as exc:
            raise DomainError(
                "Another change to this episode happened at the same time; reload and retry.",
                field="level",
            ) from exc
        audit_record(
            action="episode.transition",
            obj=stay,
            patient_id=episode.patient_id,
            detail={"from": current.level, "to": level, "kind": stay.transition},
        )
        _authorization_needed(episode, stay, today=today)
    return stay


# --- 42 CFR Part 2 consent --------------------------------------------------------------------

# In the order forms show them.
CONSENT_FIELDS = (
    "disclosing_party",
    "recipient_class",
    "recipient_payer",
    "recipient_name",
    "purpose",
    "purpose_detail",
    "information_scope",
    "includes_counseling_notes",
    "signed_on",
    "expires_on",
    "expiry_event",
)


def consent_create(*, patient: Patient, **data: Any) -> Consent:
    consent = Consent(patient=patient)
    _apply(consent, data, CONSENT_FIELDS)
    if consent.expires_on and consent.signed_on and consent.expires_on < consent.signed_on:
        raise DomainError("The consent expires before it was signed.", field="expires_on")
    if consent.recipient_class == "named_payer" and consent.recipient_payer_id is None:
        raise DomainError("Choose the payer this consent names.", field="recipient_payer")
    if consent.recipient_class == "other" and not consent.recipient_name.strip():
        raise DomainError("Name the recipient.", field="recipient_name")
    if not consent.expires_on and not consent.expiry_event.strip():
        raise DomainError("A Part 2 consent needs an expiry date or event.", field="expires_on")
    _validate(consent)
    with transaction.atomic():
        consent.save()
        audit_record(
            action="consent.create",
            obj=consent,
            patient_id=patient.pk,
            part2=True,
            detail={"purpose": consent.purpose, "recipient_class": consent.recipient_class},
        )
    return consent


def consent_revoke(*, consent: Consent, note: str = "") -> Consent:
    """Revocation stops future disclosures; revoking twice keeps the first time."""
    with transaction.atomic():
        updated = Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revocation_note=note[:200]
        )
        consent.refresh_from_db()
        if updated:
            audit_record(
                action="consent.revoke", obj=consent, patient_id=consent.patient_id, part2=True
            )
    return consent


def consent_covers(
    *, patient: Patient, payer: Payer, purpose: str, on_date: date, now: datetime
) -> ConsentDecision:
    """Yes with the consent, or the reason why not (revoked, expired, wrong payer, ...).
    `now` is the moment of the question: a revocation at or before it counts."""
    consents = list(Consent.objects.filter(patient=patient))
    return consent_decision(
        consents, payer_id=payer.pk, purpose=purpose, on_date=on_date, revoked_before=now
    )


def part2_disclosure_record(
    *, patient: Patient, payer: Payer | None, consent: Consent, what: str, obj: Model | None = None
) -> None:
    """Log a disclosure of Part 2 records made under a consent (claim file, export, API read)."""
    audit_record(
        action="part2.disclosure",
        obj=obj or consent,
        patient_id=patient.pk,
        part2=True,
        detail={
            "consent_id": str(consent.pk),
            "recipient_payer_id": str(payer.pk) if payer else None,
            "what": what,
        },
    )


# --- Notes ------------------------------------------------------------------------------------

NOTE_MAX_LENGTH = 5000


def _note_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the note: it is empty.", field="body")
    if len(body) > NOTE_MAX_LENGTH:
        raise DomainError(
            f"A note holds at most {NOTE_MAX_LENGTH} characters ({len(body)} given).", field="body"
        )
    return body


def note_create(
    *,
    patient: Patient,
    subject_type: str,
    subject_id: Any,
    body: str,
    author: Any,
    part2: bool,
) -> Note:
    """Write a note on a subject the caller resolved (and may see); `part2` is the subject's own
    flag (42 CFR Part 2), copied onto the note so the access layer can hide it."""
    if subject_type not in NoteSubject.values:
        raise DomainError(f"Unknown note subject {subject_type!r}.", field="subject_type")
    body = _note_body(body)
    with transaction.atomic():
        note = Note.objects.create(
            patient=patient,
            subject_type=subject_type,
            subject_id=subject_id,
            body=body,
            author=author if getattr(author, "is_authenticated", False) else None,
            part2=part2,
        )
        audit_record(
            action="note.create",
            obj=note,
            patient_id=patient.pk,
            detail={"subject_type": subject_type, "subject_id": str(subject_id)},
        )
    return note


def note_correct(*, note: Note, body: str, author: Any, now: datetime) -> Note:
    """Correct a current note: a new note with the new text replaces it; the old one stays in
    the record, marked corrected (notes are append-only)."""
    body = _note_body(body)
    with transaction.atomic():
        old = Note.objects.select_for_update().get(pk=note.pk)
        if not old.is_current:
            raise DomainError(
                "This note was already corrected or retracted: correct its latest version.",
                field="body",
            )
        new = Note.objects.create(
            patient_id=old.patient_id,
            subject_type=old.subject_type,
            subject_id=old.subject_id,
            body=body,
            author=author if getattr(author, "is_authenticated", False) else None,
            part2=old.part2,
            corrects=old,
        )
        old.corrected_at = now
        old.save(update_fields=["corrected_at", "updated_at"])
        audit_record(
            action="note.correct",
            obj=new,
            patient_id=old.patient_id,
            detail={"corrects": str(old.pk)},
        )
    return new


def note_retract(*, note: Note, reason: str, actor: Any, now: datetime) -> Note:
    """Retract (delete) a current note: kept for the audit trail, its text no longer shown."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the note is retracted.", field="reason")
    with transaction.atomic():
        note = Note.objects.select_for_update().get(pk=note.pk)
        if not note.is_current:
            raise DomainError("This note was already corrected or retracted.", field="reason")
        note.retracted_at = now
        note.retracted_by = actor if getattr(actor, "is_authenticated", False) else None
        note.retraction_reason = reason[:200]
        note.save(update_fields=["retracted_at", "retracted_by", "retraction_reason", "updated_at"])
        audit_record(action="note.retract", obj=note, patient_id=note.patient_id)
    return note


def eligibility_raw_purge(*, now: datetime, retention_days: int) -> int:
    """Delete the raw 270/271 texts (PHI) of requests sent more than `retention_days` ago; the
    requests, their status and the verifications they produced stay. One UPDATE; a second run
    purges nothing (purged rows are marked). Returns how many requests were purged."""
    if retention_days < 1:
        raise DomainError("Keep raw eligibility texts for at least one day.", field="retention")
    cutoff = now - timedelta(days=retention_days)
    with transaction.atomic():
        purged = EligibilityRequest.objects.filter(
            sent_at__lt=cutoff, raw_purged_at__isnull=True
        ).update(raw_request_encrypted="", raw_response_encrypted="", raw_purged_at=now)
        if purged:
            audit_record(
                action="eligibility.raw_purge",
                detail={"requests": purged, "retention_days": retention_days},
            )
    return purged
