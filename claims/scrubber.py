"""The claim scrubber: pure rules over plain facts (no ORM, no clock). Each finding has a rule
code, a severity (an error blocks the claim, a warning lets it go), the field at fault and a fix
hint. Payer-specific edits arrive as data in the facts (`PayerEdits`), never as code branches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from claims import codesets
from claims.rules import (
    ADDON_PRIMARIES,
    TELEHEALTH_MODIFIERS,
    TELEHEALTH_POS,
    check_billed_code,
    per_diem_day,
)
from patients.rules import check_icd10, normalize_icd10
from x12 import professional as x12p

ERROR, WARNING = "error", "warning"
TIMELY_FILING_WARN_DAYS = 14


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    field: str
    message: str
    fix_hint: str = ""
    line_number: int | None = None


@dataclass(frozen=True)
class DiagnosisFacts:
    code: str
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class Decision:
    """A yes / no with the reason, from another app's check (authorization, billability, consent)."""

    ok: bool
    reason: str = ""
    code: str = ""


@dataclass(frozen=True)
class LineFacts:
    number: int
    service_code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    date_of_service: date
    place_of_service: str
    kind: str
    minutes: int | None
    telehealth: str
    diagnosis_pointers: tuple[int, ...]
    level: str
    documentation_signed: bool
    program_minutes: int | None = None
    authorization: Decision | None = None  # None: the payer needs no authorization here
    billability: Decision = Decision(True)
    supervisor_required: str = ""  # the supervisor's name when billable only under them
    duplicate_of: str = ""  # the other claim's patient control number
    rendering_provider: str = ""  # same-day edits group lines by provider and date
    revenue_code: str = ""  # 837I only (SV201)


@dataclass(frozen=True)
class SameDayLine:
    """A line of another live claim for the same patient and payer on a date of service of this
    claim (the same-day edits count it)."""

    claim: str  # its patient control number
    number: int
    service_code: str
    modifiers: tuple[str, ...]
    units: int
    date_of_service: date
    rendering_provider: str


@dataclass(frozen=True)
class PayerCoding:
    """A payer's overrides of the code sets: rounding and unit per code, codes it refuses."""

    rounding_by_code: dict[str, str] = field(default_factory=dict)
    unit_types: dict[str, str] = field(default_factory=dict)
    not_accepted: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PayerEdits:
    name: str
    telehealth_pos: str
    telehealth_modifier: str
    audio_only_modifier: str
    timely_filing_days: int
    expected_licensure_modifier: str | None = None
    required_modifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    per_diem_minimum_minutes: dict[str, int] = field(default_factory=dict)
    unit_rounding: str = "midpoint"
    coding: PayerCoding = PayerCoding()

    def rounding_for(self, code: str) -> str:
        return self.coding.rounding_by_code.get(code, self.unit_rounding)


@dataclass(frozen=True)
class SubmissionFacts:
    """What the 837 carries besides the lines, as the writer will see it: the billing provider
    (with the labels of the organization's billing fields left blank), the subscriber, the
    patient when not the subscriber, and the payer."""

    patient_control_number: str
    billing: x12p.BillingProvider
    billing_missing: tuple[tuple[str, str], ...]  # (field, label) left blank in the settings
    subscriber: x12p.Subscriber
    patient: x12p.Patient | None
    payer: x12p.Payer


@dataclass(frozen=True)
class ClaimFacts:
    lines: tuple[LineFacts, ...]
    diagnoses: tuple[DiagnosisFacts, ...]  # in HI order; pointers are 1-based into this
    payer: PayerEdits
    coverage_from: date
    coverage_to: date | None
    has_supervising_provider: bool
    part2_consent: Decision | None  # None: not a Part 2 claim
    today: date
    submission: SubmissionFacts | None = None  # None: the 837 parties are not checked
    same_day_lines: tuple[SameDayLine, ...] = ()
    claim_form: str = "837P"  # 837I lines need a revenue code (claims.coding_edits)


Rule = Callable[[ClaimFacts], list[Finding]]


def icd10_year_tracked(raw: str) -> bool:
    """A code the ICD-10-CM year files add or delete: its validity depends on the date of
    service (claims.coding_edits checks it line by line)."""
    code = normalize_icd10(raw)
    return any(c.code == code for c in codesets.load().icd_changes)


def _coverage_active(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        day = line.date_of_service
        if day < claim.coverage_from or (claim.coverage_to and day > claim.coverage_to):
            span = f"{claim.coverage_from} to {claim.coverage_to or 'open'}"
            if claim.coverage_to and day > claim.coverage_to:
                # Ended (a 271 that came back inactive or with an end date sets the end).
                message = (
                    f"Coverage with {claim.payer.name} ended on {claim.coverage_to}: "
                    f"not active on {day} ({span})."
                )
            else:
                message = f"Coverage with {claim.payer.name} is not active on {day} ({span})."
            out.append(
                Finding(
                    "coverage_inactive",
                    ERROR,
                    "coverage",
                    message,
                    "Verify eligibility and add the coverage in force on that date.",
                    line.number,
                )
            )
    return out


def _authorization(claim: ClaimFacts) -> list[Finding]:
    return [
        Finding(
            f"authorization_{line.authorization.code}",
            ERROR,
            "authorization",
            line.authorization.reason,
            "Add or update the prior authorization for this level, code and date, then re-scrub.",
            line.number,
        )
        for line in claim.lines
        if line.authorization is not None and not line.authorization.ok
    ]


def _provider_billable(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        if not line.billability.ok:
            out.append(
                Finding(
                    f"provider_{line.billability.code or 'not_billable'}",
                    ERROR,
                    "rendering_provider",
                    line.billability.reason,
                    "Fix the enrollment or credential, or bill under an eligible provider.",
                    line.number,
                )
            )
        elif line.supervisor_required and not claim.has_supervising_provider:
            out.append(
                Finding(
                    "provider_needs_supervisor",
                    ERROR,
                    "supervising_provider",
                    f"This payer pays this provider only under the supervising provider ({line.supervisor_required}).",
                    "Set the supervising provider on the charge.",
                    line.number,
                )
            )
    return out


def _part2_consent(claim: ClaimFacts) -> list[Finding]:
    if claim.part2_consent is None or claim.part2_consent.ok:
        return []
    return [
        Finding(
            "part2_consent",
            ERROR,
            "consent",
            f"Held under 42 CFR Part 2: {claim.part2_consent.reason}",
            "Record the patient's written consent to disclose to this payer for payment.",
        )
    ]


def _documented_time(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        check = check_billed_code(
            line.kind,
            billed_code=line.service_code,
            billed_units=line.units,
            minutes=line.minutes,
            rounding=claim.payer.rounding_for(line.service_code),
            unit_type=claim.payer.coding.unit_types.get(line.service_code, ""),
        )
        if not check.ok:
            out.append(
                Finding(
                    "time_mismatch",
                    ERROR,
                    "service_code",
                    check.message,
                    "Bill the code the documented time supports, or correct the documented times.",
                    line.number,
                )
            )
    return out


def _addon_has_primary(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        primaries = ADDON_PRIMARIES.get(line.service_code)
        if primaries is None:
            continue
        same_day = {
            other.service_code
            for other in claim.lines
            if other.date_of_service == line.date_of_service and other.number != line.number
        }
        if not same_day & primaries:
            out.append(
                Finding(
                    "addon_without_primary",
                    ERROR,
                    "service_code",
                    f"Add-on code {line.service_code} needs its primary service on the same day ({', '.join(sorted(primaries)[:4])}…).",
                    "Add the primary service to the claim or remove the add-on.",
                    line.number,
                )
            )
    return out


def _diagnoses(claim: ClaimFacts) -> list[Finding]:
    out = []
    if not claim.diagnoses:
        return [
            Finding(
                "no_diagnosis",
                ERROR,
                "diagnosis",
                "The claim has no diagnosis.",
                "Add a diagnosis to the episode and point the line at it.",
            )
        ]
    if len(claim.diagnoses) > 12:
        out.append(
            Finding(
                "too_many_diagnoses",
                ERROR,
                "diagnosis",
                f"A claim holds 12 diagnoses; this one has {len(claim.diagnoses)}.",
                "Split the claim or drop diagnoses no line points at.",
            )
        )
    for diagnosis in claim.diagnoses:
        check = check_icd10(diagnosis.code)
        if not check.ok and not icd10_year_tracked(diagnosis.code):
            out.append(
                Finding(
                    "diagnosis_invalid",
                    ERROR,
                    "diagnosis",
                    check.reason,
                    "Replace it with a valid, billable ICD-10-CM code.",
                )
            )
    for line in claim.lines:
        if not line.diagnosis_pointers:
            out.append(
                Finding(
                    "pointer_missing",
                    ERROR,
                    "diagnosis_pointers",
                    "The line points at no diagnosis.",
                    "Point the line at the diagnosis that justifies it.",
                    line.number,
                )
            )
        if len(line.diagnosis_pointers) > 4:
            out.append(
                Finding(
                    "pointer_too_many",
                    ERROR,
                    "diagnosis_pointers",
                    "A line points at 4 diagnoses at most.",
                    "Keep the 4 most relevant.",
                    line.number,
                )
            )
        for pointer in line.diagnosis_pointers:
            if not 1 <= pointer <= len(claim.diagnoses):
                out.append(
                    Finding(
                        "pointer_invalid",
                        ERROR,
                        "diagnosis_pointers",
                        f"Diagnosis pointer {pointer} points at nothing.",
                        "Re-point the line.",
                        line.number,
                    )
                )
                continue
            diagnosis = claim.diagnoses[pointer - 1]
            if line.date_of_service < diagnosis.effective_from or (
                diagnosis.effective_to and line.date_of_service > diagnosis.effective_to
            ):
                out.append(
                    Finding(
                        "diagnosis_not_current",
                        ERROR,
                        "diagnosis_pointers",
                        f"{diagnosis.code} is not in effect on {line.date_of_service}.",
                        "Point the line at a diagnosis current on the date of service.",
                        line.number,
                    )
                )
    return out


def _payer_modifiers(claim: ClaimFacts) -> list[Finding]:
    out = []
    expected = claim.payer.expected_licensure_modifier
    for line in claim.lines:
        if expected and expected not in line.modifiers:
            out.append(
                Finding(
                    "licensure_modifier",
                    ERROR,
                    "modifiers",
                    f"{claim.payer.name} requires the practitioner-level modifier {expected}.",
                    f"Add modifier {expected}.",
                    line.number,
                )
            )
        for modifier in claim.payer.required_modifiers.get(line.service_code, ()):
            if modifier not in line.modifiers:
                out.append(
                    Finding(
                        "payer_modifier",
                        ERROR,
                        "modifiers",
                        f"{claim.payer.name} requires modifier {modifier} on {line.service_code}.",
                        f"Add modifier {modifier}.",
                        line.number,
                    )
                )
    return out


def _telehealth(claim: ClaimFacts) -> list[Finding]:
    out = []
    payer = claim.payer
    for line in claim.lines:
        if line.telehealth:
            expected_modifier = (
                payer.audio_only_modifier
                if line.telehealth == "audio_only"
                else payer.telehealth_modifier
            )
            if line.place_of_service != payer.telehealth_pos:
                out.append(
                    Finding(
                        "telehealth_pos",
                        ERROR,
                        "place_of_service",
                        f"{payer.name} wants telehealth billed with POS {payer.telehealth_pos}, not {line.place_of_service}.",
                        f"Use POS {payer.telehealth_pos}.",
                        line.number,
                    )
                )
            if expected_modifier and expected_modifier not in line.modifiers:
                out.append(
                    Finding(
                        "telehealth_modifier",
                        ERROR,
                        "modifiers",
                        f"{payer.name} wants modifier {expected_modifier} on this telehealth service.",
                        f"Add modifier {expected_modifier}.",
                        line.number,
                    )
                )
        elif line.place_of_service in TELEHEALTH_POS or set(line.modifiers) & TELEHEALTH_MODIFIERS:
            out.append(
                Finding(
                    "telehealth_inconsistent",
                    ERROR,
                    "telehealth",
                    "The line has a telehealth place of service or modifier but the service was in person.",
                    "Mark the service as telehealth, or remove the telehealth POS/modifier.",
                    line.number,
                )
            )
    return out


def _per_diem(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        if line.program_minutes is None:
            continue
        decision = per_diem_day(
            line.level,
            documented_minutes=line.program_minutes,
            payer_minimum_minutes=claim.payer.per_diem_minimum_minutes.get(line.level),
        )
        if not decision.billable:
            out.append(
                Finding(
                    "per_diem_short_day",
                    ERROR,
                    "program_minutes",
                    decision.reason,
                    "Bill the day at a lower code if the payer allows, or do not bill it.",
                    line.number,
                )
            )
    return out


def _documentation(claim: ClaimFacts) -> list[Finding]:
    return [
        Finding(
            "documentation_unsigned",
            ERROR,
            "documentation_signed",
            "The progress note is not signed.",
            "Ask the clinician to sign the note.",
            line.number,
        )
        for line in claim.lines
        if not line.documentation_signed
    ]


def _timely_filing(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        deadline = line.date_of_service + timedelta(days=claim.payer.timely_filing_days)
        if claim.today > deadline:
            out.append(
                Finding(
                    "timely_filing_passed",
                    ERROR,
                    "date_of_service",
                    f"The filing limit for {claim.payer.name} ({claim.payer.timely_filing_days} days) passed on {deadline}.",
                    "Send only with proof of timely filing, or write the line off.",
                    line.number,
                )
            )
        elif claim.today > deadline - timedelta(days=TIMELY_FILING_WARN_DAYS):
            out.append(
                Finding(
                    "timely_filing_soon",
                    WARNING,
                    "date_of_service",
                    f"The filing limit for {claim.payer.name} ends on {deadline}.",
                    "Submit this claim now.",
                    line.number,
                )
            )
    return out


def _duplicates(claim: ClaimFacts) -> list[Finding]:
    out = []
    seen: dict[tuple[object, ...], int] = {}
    for line in claim.lines:
        key = (line.service_code, line.date_of_service, tuple(sorted(line.modifiers)))
        if key in seen:
            out.append(
                Finding(
                    "duplicate_line",
                    ERROR,
                    "service_code",
                    f"Line {line.number} repeats line {seen[key]} (same code, date and modifiers).",
                    "Remove the duplicate, or add the modifier that makes it distinct (59/XE/XS/XP/XU).",
                    line.number,
                )
            )
        seen.setdefault(key, line.number)
        if line.duplicate_of:
            out.append(
                Finding(
                    "duplicate_claim_line",
                    ERROR,
                    "service_code",
                    f"{line.service_code} on {line.date_of_service} is already billed on claim {line.duplicate_of}.",
                    "Void this line or correct the other claim instead.",
                    line.number,
                )
            )
    return out


def _zero(claim: ClaimFacts) -> list[Finding]:
    out = []
    for line in claim.lines:
        if line.units <= 0:
            out.append(
                Finding(
                    "zero_units",
                    ERROR,
                    "units",
                    "The line has no units.",
                    "Enter the units delivered.",
                    line.number,
                )
            )
        if line.charge <= 0:
            out.append(
                Finding(
                    "zero_charge",
                    ERROR,
                    "charge",
                    f"{line.service_code} has no charge.",
                    "Add the code to the charge master, or enter the charge.",
                    line.number,
                )
            )
    return out


# Where a biller fixes what the 837 writer would refuse, by the first part of its field.
SUBMISSION_FIXES = {
    "billing_provider": "Complete the billing identity in Organization settings.",
    "patient": "Correct it on the patient's page.",
    "subscriber.address": "Add the address on the patient's page (the claim sends it for the "
    "subscriber too).",
    "subscriber": "Correct the subscriber on the coverage (or on the patient's page when the "
    "patient is the subscriber).",
    "relationship": "Set the patient's relationship to the subscriber on the coverage.",
    "payer": "Correct the payer's record.",
}


def _submission_fix(field: str, self_insured: bool) -> str:
    if (
        field.startswith("subscriber")
        and self_insured
        and not field.startswith("subscriber.member_id")
    ):
        return SUBMISSION_FIXES["patient"]
    for prefix, fix in sorted(SUBMISSION_FIXES.items(), key=lambda kv: -len(kv[0])):
        if field.startswith(prefix):
            return fix
    return ""


def _submission_data(claim: ClaimFacts) -> list[Finding]:
    """Everything the 837 writer checks before it writes a byte (x12.professional's own checks:
    billing provider NPI, EIN and street address; the subscriber's and the patient's names,
    addresses, dates of birth and sex; the relationship; member and payer ids), so a ready claim
    is one its batch will build."""
    facts = claim.submission
    if facts is None:
        return []
    prefix = f"claim {facts.patient_control_number}"
    found = [
        x12p.Problem(f"billing_provider.{name}", f"The organization's {label} is missing.")
        for name, label in facts.billing_missing
    ]
    if not facts.billing_missing:
        found += x12p.billing_problems(facts.billing)
    found += x12p.subscriber_problems(facts.subscriber, facts.payer, prefix)
    found += x12p.party_problems(facts, prefix)
    out = []
    for problem in found:
        field_name = problem.field.removeprefix(prefix + ".")
        message = problem.message.removeprefix(f"Claim {facts.patient_control_number}: ")
        out.append(
            Finding(
                "x12_" + field_name.split(".")[0],
                ERROR,
                field_name,
                message[:1].upper() + message[1:],
                _submission_fix(field_name, facts.patient is None),
            )
        )
    return out


RULES: tuple[Rule, ...] = (
    _coverage_active,
    _authorization,
    _provider_billable,
    _part2_consent,
    _documented_time,
    _addon_has_primary,
    _diagnoses,
    _payer_modifiers,
    _telehealth,
    _per_diem,
    _documentation,
    _timely_filing,
    _duplicates,
    _zero,
    _submission_data,
)


def scrub(claim: ClaimFacts) -> list[Finding]:
    from claims.coding_edits import CODING_RULES  # they build on this module's facts

    findings: list[Finding] = []
    for rule in (*RULES, *CODING_RULES):
        findings.extend(rule(claim))
    return findings
