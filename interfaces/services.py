"""HL7 v2 inbound: one message in, one ACK out, through the same services as the pages and the API.

ADT^A04/A08/A28/A31 register or update a patient (PID) and their coverage (IN1/IN2, GT1) with
`patients.services`; DFT^P03 records charges (FT1, DG1) with `claims.services.service_entry_create`,
the charge service of charges typed in (time-based coding, per-diem usage, Part 2). Each message is
one transaction: AA commits everything and the message; AE and AR roll everything back. A message
control id (MSH-10) is processed once per organization: a resend gets the original ACK. A charge
for a patient or rendering provider Parity does not know is held in the exceptions queue.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from claims import codesets
from claims import rules as claim_rules
from claims.services import service_entry_create
from credentialing.models import Provider
from interfaces import hl7v2
from interfaces.hl7v2 import ErrorCode, Hl7Problem, Location
from interfaces.models import (
    Channel,
    HeldMessage,
    HeldReason,
    HeldStatus,
    Hl7Message,
    MessageStatus,
)
from patients.models import Coverage, EpisodeDiagnosis, EpisodeOfCare, Patient, Payer
from patients.services import coverage_create, coverage_update, patient_create, patient_update
from rcm import crypto, part2
from rcm.audit.models import Outcome
from rcm.audit.services import audit_record
from rcm.errors import DomainError


@dataclass(frozen=True)
class Receipt:
    """The ACK to send back, its code (AA/AE/AR), the recorded message (AA only) and whether it
    is the stored answer to a message received before."""

    ack: str
    code: str
    message: Hl7Message | None = None
    replayed: bool = False


@dataclass
class _Outcome:
    text: str
    patient: Patient | None = None
    charge_ids: tuple[str, ...] = ()
    held: tuple[str, str] | None = None  # (HeldReason, detail)
    part2: bool = False


# --- Receiving ------------------------------------------------------------------------------


def hl7_receive(
    *, raw: str, channel: str, scopes: Collection[str], today: date, now: datetime
) -> Receipt:
    """Process one HL7 v2 message for the organization in context and answer its ACK. `today` and
    `now` are the organization's (naive HL7 times are read in `now`'s zone); `scopes` are the
    sender's (an API key's; the MLLP listener's are set when it starts): without the Part 2 grant
    a charge on a substance use episode is refused as the charge service refuses it."""
    try:
        message = hl7v2.parse(raw)
        head = hl7v2.header(message)
    except Hl7Problem as problem:
        return _refuse(problem, problem.header, now)
    if earlier := _replay(head.control_id):
        return earlier
    try:
        with transaction.atomic():
            outcome = _process(message, head, scopes=scopes, today=today, now=now, user=None)
            record = _record(raw, head, outcome, channel=channel, now=now)
    except Hl7Problem as problem:
        return _refuse(problem, head, now)
    except IntegrityError:
        # Another copy of the message committed first (a sender retrying on a second connection).
        if earlier := _replay(head.control_id):
            return earlier
        raise
    return Receipt(crypto.decrypt(record.ack_encrypted), "AA", record)


def _replay(control_id: str) -> Receipt | None:
    earlier = Hl7Message.objects.filter(control_id=control_id).first()
    if earlier is None:
        return None
    return Receipt(crypto.decrypt(earlier.ack_encrypted), "AA", earlier, replayed=True)


def _ack_id() -> str:
    return uuid.uuid4().hex[:20]


def _refuse(problem: Hl7Problem, head: hl7v2.Header | None, now: datetime) -> Receipt:
    code = "AR" if problem.reject else "AE"
    audit_record(
        action="hl7.refuse",
        object_type="interfaces.hl7message",
        object_id=head.control_id if head else "",
        outcome=Outcome.FAILURE,
        detail={
            "ack": code,
            "type": head.type_label if head else "",
            "location": str(problem.location),
            "error_code": problem.code,
        },
    )
    text = problem.text
    ack = hl7v2.ack(
        code=code, header=head, now=now, ack_control_id=_ack_id(), text=text, problem=problem
    )
    return Receipt(ack, code)


def _record(
    raw: str, head: hl7v2.Header, outcome: _Outcome, *, channel: str, now: datetime
) -> Hl7Message:
    ack = hl7v2.ack(code="AA", header=head, now=now, ack_control_id=_ack_id(), text=outcome.text)
    record = Hl7Message.objects.create(
        control_id=head.control_id,
        message_type=head.type_label,
        sending_application=head.sending_application[:227],
        channel=channel,
        status=MessageStatus.HELD if outcome.held else MessageStatus.PROCESSED,
        raw_encrypted=crypto.encrypt(hl7v2.normalize(raw)),
        ack_encrypted=crypto.encrypt(ack),
        patient=outcome.patient,
        charge_ids=list(outcome.charge_ids),
        part2=outcome.part2,
    )
    if outcome.held:
        reason, detail = outcome.held
        HeldMessage.objects.create(
            message=record, reason=reason, detail=detail[:300], part2=outcome.part2
        )
    audit_record(
        action="hl7.receive",
        obj=record,
        patient_id=outcome.patient.pk if outcome.patient else None,
        detail={
            "type": head.type_label,
            "status": record.status,
            "charges": len(outcome.charge_ids),
            "channel": channel,
        },
        part2=outcome.part2,
    )
    return record


def _process(
    message: Any,
    head: hl7v2.Header,
    *,
    scopes: Collection[str],
    today: date,
    now: datetime,
    user: Any,
) -> _Outcome:
    tz = now.tzinfo
    assert tz is not None
    if head.message_type == "ADT":
        return _adt(message, today=today)
    return _dft(message, head, scopes=scopes, today=today, tz=tz, user=user)


@contextmanager
def _at(fields: dict[str, int], segment: str, sequence: int, default: int) -> Iterator[None]:
    """A service's DomainError as an AE naming the segment and the field it concerns."""
    try:
        yield
    except DomainError as exc:
        first = exc.errors[0]
        where = Location(segment, sequence, fields.get(first.field or "", default))
        raise Hl7Problem(
            " ".join(e.message for e in exc.errors),
            location=where,
            code=ErrorCode.UNKNOWN_KEY if first.code == "not_found" else ErrorCode.DATA_TYPE_ERROR,
        ) from exc


def _required(segment: str, sequence: int, field: int, what: str) -> Hl7Problem:
    return Hl7Problem(
        f"{what} is required.",
        location=Location(segment, sequence, field),
        code=ErrorCode.REQUIRED_FIELD_MISSING,
    )


def _one(message: Any, name: str) -> Any:
    found = hl7v2.segments(message, name)
    if not found:
        raise Hl7Problem(
            f"The {name} segment is required.",
            location=Location(name, 1, 0),
            code=ErrorCode.REQUIRED_FIELD_MISSING,
        )
    return found[0]


# --- ADT: patients and coverage -------------------------------------------------------------

PID_FIELDS = {
    "mrn": 3,
    "first_name": 5,
    "middle_name": 5,
    "last_name": 5,
    "date_of_birth": 7,
    "sex": 8,
    "address_line1": 11,
    "address_line2": 11,
    "city": 11,
    "state": 11,
    "postal_code": 11,
    "phone": 13,
    "email": 13,
}
IN1_FIELDS = {
    "payer": 3,
    "member_id": 36,
    "group_number": 8,
    "plan_name": 9,
    "effective_date": 12,
    "termination_date": 13,
    "priority": 22,
    "relationship": 17,
    "subscriber_first_name": 16,
    "subscriber_last_name": 16,
    "subscriber_date_of_birth": 18,
    "subscriber_sex": 43,
}
# HL7 table 0063 (relationship) to X12's individual relationship codes.
RELATIONSHIPS = {"SEL": "18", "SPO": "01", "CHD": "19"}
SEXES = {"F": "F", "M": "M", "U": "U", "O": "U", "A": "U", "N": "U"}


def _mrn(pid: Any) -> list[str]:
    """Every identifier of PID-3 (the MR one first)."""
    ids: list[tuple[bool, str]] = []
    for rep in range(1, hl7v2.repetitions(pid, 3) + 1):
        ident = hl7v2.value(pid, 3, 1, rep)
        if ident:
            ids.append((hl7v2.value(pid, 3, 5, rep).upper() != "MR", ident))
    return [ident for _, ident in sorted(ids, key=lambda item: item[0])]


def _patient_data(pid: Any) -> dict[str, Any]:
    ids = _mrn(pid)
    if not ids:
        raise _required("PID", 1, 3, "PID-3 (the patient's MRN)")
    data: dict[str, Any] = {
        "mrn": ids[0],
        "last_name": hl7v2.value(pid, 5, 1),
        "first_name": hl7v2.value(pid, 5, 2),
        "middle_name": hl7v2.value(pid, 5, 3),
        "date_of_birth": hl7v2.to_date(hl7v2.value(pid, 7), location=Location("PID", 1, 7)),
        "sex": SEXES.get(hl7v2.value(pid, 8).upper(), hl7v2.value(pid, 8).upper()),
        "address_line1": hl7v2.value(pid, 11, 1),
        "address_line2": hl7v2.value(pid, 11, 2),
        "city": hl7v2.value(pid, 11, 3),
        "state": hl7v2.value(pid, 11, 4),
        "postal_code": hl7v2.value(pid, 11, 5),
        "phone": hl7v2.value(pid, 13, 1),
        "email": hl7v2.value(pid, 13, 4),
    }
    # Fields the message leaves empty keep what Parity has (an A08 often sends only changes).
    return {name: v for name, v in data.items() if v not in ("", None)}


def _adt(message: Any, *, today: date) -> _Outcome:
    pid = _one(message, "PID")
    data = _patient_data(pid)
    patient = Patient.objects.filter(mrn=data["mrn"]).first()
    with _at(PID_FIELDS, "PID", 1, 3):
        if patient is None:
            patient = patient_create(today=today, **data)
            done = "registered"
        else:
            patient = patient_update(patient=patient, data=data, today=today)
            done = "updated"
    guarantor = next(iter(hl7v2.segments(message, "GT1")), None)
    covered = 0
    in1: Any = None
    in2: Any = None
    sequence = 0
    pending: list[tuple[int, Any, Any]] = []
    for segment in message:
        name = str(segment[0])
        if name == "IN1":
            if in1 is not None:
                pending.append((sequence, in1, in2))
            sequence, in1, in2 = sequence + 1, segment, None
        elif name == "IN2" and in1 is not None:
            in2 = segment
    if in1 is not None:
        pending.append((sequence, in1, in2))
    for seq, in1_segment, in2_segment in pending:
        _coverage(patient, seq, in1_segment, in2_segment, guarantor)
        covered += 1
    return _Outcome(text=f"Patient {done}; {covered} coverage(s) recorded.", patient=patient)


def _payer(in1: Any, sequence: int) -> Payer:
    payer_id = hl7v2.value(in1, 3, 1)
    if not payer_id:
        raise _required("IN1", sequence, 3, "IN1-3 (the insurance company id: Parity's payer id)")
    payers = list(Payer.objects.filter(payer_id=payer_id, is_active=True).order_by("name"))
    name = hl7v2.value(in1, 4, 1).lower()
    if len(payers) > 1 and name:
        payers = [p for p in payers if p.name.lower() == name] or payers
    if not payers:
        raise Hl7Problem(
            f"No active payer has the payer id {payer_id}.",
            location=Location("IN1", sequence, 3),
            code=ErrorCode.UNKNOWN_KEY,
        )
    return payers[0]


def _coverage(patient: Patient, sequence: int, in1: Any, in2: Any, guarantor: Any) -> None:
    payer = _payer(in1, sequence)

    def at(field: int) -> Location:
        return Location("IN1", sequence, field)

    member_id = (
        hl7v2.value(in1, 36)
        or hl7v2.value(in1, 49, 1)
        or (hl7v2.value(in2, 8) if in2 is not None else "")
        or (hl7v2.value(in2, 6) if in2 is not None else "")
    )
    if not member_id:
        raise _required("IN1", sequence, 36, "IN1-36 (the policy / member id)")
    priority_text = hl7v2.value(in1, 22) or hl7v2.value(in1, 1) or "1"
    if priority_text not in {"1", "2", "3"}:
        raise Hl7Problem(
            f"The coordination of benefits priority must be 1, 2 or 3, not {priority_text!r}.",
            location=at(22),
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    relationship = RELATIONSHIPS.get(hl7v2.value(in1, 17, 1).upper() or "SEL", "G8")
    data: dict[str, Any] = {
        "payer": payer,
        "member_id": member_id,
        "group_number": hl7v2.value(in1, 8),
        "plan_name": hl7v2.value(in1, 9, 1),
        "effective_date": hl7v2.to_date(hl7v2.value(in1, 12), location=at(12)),
        "termination_date": hl7v2.to_date(hl7v2.value(in1, 13), location=at(13)),
        "priority": int(priority_text),
        "relationship": relationship,
    }
    if data["effective_date"] is None:
        raise _required("IN1", sequence, 12, "IN1-12 (the plan effective date)")
    if relationship != "18":
        # The insured (IN1-16/18/43); the guarantor (GT1-3/8/9) when the EHR sends them there.
        last, first = hl7v2.value(in1, 16, 1), hl7v2.value(in1, 16, 2)
        born, sex = hl7v2.value(in1, 18), hl7v2.value(in1, 43)
        if not last and guarantor is not None:
            last, first = hl7v2.value(guarantor, 3, 1), hl7v2.value(guarantor, 3, 2)
            born = born or hl7v2.value(guarantor, 8)
            sex = sex or hl7v2.value(guarantor, 9)
        data |= {
            "subscriber_last_name": last,
            "subscriber_first_name": first,
            "subscriber_date_of_birth": hl7v2.to_date(born, location=at(18)),
            "subscriber_sex": SEXES.get(sex.upper(), "") if sex else "",
        }
    existing = Coverage.objects.filter(patient=patient, payer=payer, member_id=member_id).first()
    with _at(IN1_FIELDS, "IN1", sequence, 3):
        if existing is None:
            coverage_create(patient=patient, **data)
        else:
            data.pop("payer")
            coverage_update(coverage=existing, data=data)


# --- DFT: charges ---------------------------------------------------------------------------

FT1_FIELDS = {
    "date_of_service": 4,
    "start_at": 4,
    "end_at": 4,
    "service_code": 7,
    "kind": 7,
    "units": 10,
    "modifiers": 26,
    "rendering_provider": 20,
    "episode": 4,
}
TIMED_CODES = {
    "90832": claim_rules.ServiceKind.PSYCHOTHERAPY,
    "90834": claim_rules.ServiceKind.PSYCHOTHERAPY,
    "90837": claim_rules.ServiceKind.PSYCHOTHERAPY,
    "90833": claim_rules.ServiceKind.PSYCHOTHERAPY_ADDON,
    "90836": claim_rules.ServiceKind.PSYCHOTHERAPY_ADDON,
    "90838": claim_rules.ServiceKind.PSYCHOTHERAPY_ADDON,
    "90839": claim_rules.ServiceKind.CRISIS,
    "90840": claim_rules.ServiceKind.CRISIS,
    "90846": claim_rules.ServiceKind.FAMILY_WITHOUT_PATIENT,
    "90847": claim_rules.ServiceKind.FAMILY_WITH_PATIENT,
}


def service_kind(code: str) -> str | None:
    """The charge service's kind of service for a procedure code Parity carries (None: unknown).
    Timed codes are coded from the documented minutes (FT1-4's start and end)."""
    known = codesets.load().procedures.get(code)
    if known is None:
        return None
    if code in TIMED_CODES:
        return TIMED_CODES[code]
    for prefix, kind in (
        ("testing", claim_rules.ServiceKind.TESTING),
        ("health_behavior_", claim_rules.ServiceKind.HEALTH_BEHAVIOR),
        ("adaptive_behavior", claim_rules.ServiceKind.ADAPTIVE_BEHAVIOR),
    ):
        if known.family.startswith(prefix) and known.unit_type == codesets.UnitType.LADDER:
            return kind
    if known.family == "adaptive_behavior":
        return claim_rules.ServiceKind.ADAPTIVE_BEHAVIOR
    if known.unit_type in {codesets.UnitType.PER_15, codesets.UnitType.PER_HOUR}:
        return claim_rules.ServiceKind.PER_15_MINUTES
    if known.unit_type == codesets.UnitType.MONTHLY:
        return "monthly"
    return claim_rules.ServiceKind.UNTIMED


@dataclass(frozen=True)
class _Line:
    sequence: int
    code: str
    kind: str
    date_of_service: date
    start_at: datetime | None
    end_at: datetime | None
    units: int | None
    modifiers: tuple[str, ...]
    npi: str


def _line(ft1: Any, sequence: int, tz: tzinfo) -> _Line:
    def at(field: int) -> Location:
        return Location("FT1", sequence, field)

    start_text, end_text = hl7v2.value(ft1, 4, 1), hl7v2.value(ft1, 4, 2)
    day = hl7v2.to_date(start_text, location=at(4))
    if day is None:
        raise _required("FT1", sequence, 4, "FT1-4 (the date of service)")
    start = hl7v2.to_datetime(start_text, tz=tz, location=at(4))
    end = hl7v2.to_datetime(end_text, tz=tz, location=at(4))
    if start is not None:
        day = start.date()
    kind_of_transaction = hl7v2.value(ft1, 6).upper()
    if kind_of_transaction != "CG":
        raise Hl7Problem(
            f"Only charges (CG) are accepted, not {kind_of_transaction or 'nothing'}.",
            location=at(6),
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    code = hl7v2.value(ft1, 7, 1).upper()
    if not code:
        raise _required("FT1", sequence, 7, "FT1-7 (the procedure code)")
    kind = service_kind(code)
    if kind is None:
        raise Hl7Problem(
            f"Unknown procedure code {code}.",
            location=at(7),
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    if kind == "monthly":
        raise Hl7Problem(
            f"{code} is billed once a month from care minutes, not as a charge.",
            location=at(7),
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    units_text = hl7v2.value(ft1, 10)
    units = None
    if units_text:
        whole = re.fullmatch(r"0*(\d{1,3})(?:\.0*)?", units_text)
        units = int(whole.group(1)) if whole else 0
        if not 1 <= units <= 999:
            raise Hl7Problem(
                f"The quantity must be a whole number of units from 1 to 999, not {units_text!r}.",
                location=at(10),
                code=ErrorCode.DATA_TYPE_ERROR,
            )
    modifiers = tuple(
        m
        for rep in range(1, hl7v2.repetitions(ft1, 26) + 1)
        if (m := hl7v2.value(ft1, 26, 1, rep).upper())
    )
    for modifier in modifiers:
        if len(modifier) != 2 or not modifier.isalnum():
            raise Hl7Problem(
                f"{modifier!r} is not a procedure modifier (two letters or digits).",
                location=at(26),
                code=ErrorCode.DATA_TYPE_ERROR,
            )
    npi = hl7v2.value(ft1, 20, 1)
    if not npi:
        raise _required("FT1", sequence, 20, "FT1-20 (the rendering provider's NPI)")
    if len(npi) != 10 or not npi.isdigit():
        raise Hl7Problem(
            f"{npi!r} is not an NPI (10 digits).", location=at(20), code=ErrorCode.DATA_TYPE_ERROR
        )
    return _Line(sequence, code, kind, day, start, end, units, modifiers, npi)


def _find_patient(pid: Any) -> Patient | None:
    """The organization's patient PID-3 names (an MRN, or Parity's own patient id). The tenant
    manager looks in this organization only: another's patient is as unknown as no patient."""
    for ident in _mrn(pid):
        found = Patient.objects.filter(mrn=ident).first()
        if found is None:
            try:
                found = Patient.objects.filter(pk=uuid.UUID(ident)).first()
            except ValueError:
                found = None
        if found is not None:
            return found
    return None


def _is_sud(code: str) -> bool:
    """ICD-10-CM F10-F19: mental and behavioural disorders due to psychoactive substance use."""
    return code.startswith("F1") and len(code) > 2 and code[2].isdigit()


def _episode(patient: Patient, day: date, codes: list[str], sequence: int) -> EpisodeOfCare:
    """The patient's episode on the date of service; when several are open, the one whose
    diagnoses in effect include every DG1 code."""
    candidates = list(
        EpisodeOfCare.objects.filter(patient=patient, admission_date__lte=day)
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=day))
        .order_by("admission_date", "pk")
    )
    if not candidates:
        raise Hl7Problem(
            f"The patient has no episode of care on {day}; open one first.",
            location=Location("FT1", sequence, 4),
            code=ErrorCode.UNKNOWN_KEY,
        )
    if len(candidates) == 1 or not codes:
        if len(candidates) > 1:
            raise _required("DG1", 1, 3, "DG1 (the patient has several episodes on that date)")
        return candidates[0]
    matching = [
        episode
        for episode in candidates
        if set(codes) <= set(_diagnoses(episode, day, codes).values())
    ]
    if len(matching) != 1:
        raise Hl7Problem(
            "The DG1 diagnoses do not name one of the patient's episodes on the date of service.",
            location=Location("DG1", 1, 3),
            code=ErrorCode.TABLE_VALUE_NOT_FOUND,
        )
    return matching[0]


def _diagnoses(episode: EpisodeOfCare, day: date, codes: list[str]) -> dict[str, str]:
    """{diagnosis id: code} for the episode's diagnoses in effect on `day` among `codes`."""
    rows = (
        EpisodeDiagnosis.objects.filter(episode=episode, code__in=codes, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .values_list("pk", "code")
    )
    return {str(pk): code for pk, code in rows}


def _idempotency_key(control_id: str, sequence: int) -> str:
    digest = hashlib.sha256(control_id.encode()).hexdigest()[:40]
    return f"hl7:{digest}:{sequence}"


def _dft(
    message: Any,
    head: hl7v2.Header,
    *,
    scopes: Collection[str],
    today: date,
    tz: tzinfo,
    user: Any,
) -> _Outcome:
    pid = _one(message, "PID")
    ft1s = hl7v2.segments(message, "FT1")
    if not ft1s:
        raise _required("FT1", 1, 0, "An FT1 segment")
    codes: list[str] = []
    for index, dg1 in enumerate(hl7v2.segments(message, "DG1"), start=1):
        code = hl7v2.icd10(hl7v2.value(dg1, 3, 1))
        if not code:
            raise _required("DG1", index, 3, "DG1-3 (the ICD-10-CM diagnosis code)")
        if code not in codes:
            codes.append(code)
    lines = [_line(ft1, index, tz) for index, ft1 in enumerate(ft1s, start=1)]
    sud = any(_is_sud(code) for code in codes)
    patient = _find_patient(pid)
    if patient is None:
        shown = ", ".join(_mrn(pid)) or "(none)"
        return _Outcome(
            text="Held for review: no patient with this PID-3 identifier.",
            held=(HeldReason.UNKNOWN_PATIENT, f"PID-3 {shown}"),
            part2=sud,
        )
    providers = {p.npi: p for p in Provider.objects.filter(npi__in={line.npi for line in lines})}
    missing = sorted({line.npi for line in lines} - set(providers))
    episodes = {}
    for line in lines:
        episodes[line.sequence] = _episode(patient, line.date_of_service, codes, line.sequence)
    sud = sud or any(e.program_type in part2.PROGRAM_TYPES for e in episodes.values())
    if missing:
        return _Outcome(
            text="Held for review: no provider with this FT1-20 NPI.",
            patient=patient,
            held=(HeldReason.UNKNOWN_PROVIDER, f"FT1-20 NPI {', '.join(missing)}"),
            part2=sud,
        )
    charge_ids: list[str] = []
    for line in lines:
        episode = episodes[line.sequence]
        known = _diagnoses(episode, line.date_of_service, codes)
        by_code = {code: pk for pk, code in known.items()}
        missing_codes = [code for code in codes if code not in by_code]
        if missing_codes and not part2.restricted(episode, scopes):
            raise Hl7Problem(
                f"{missing_codes[0]} is not a diagnosis of the patient's episode in effect on "
                f"{line.date_of_service}.",
                location=Location("DG1", codes.index(missing_codes[0]) + 1, 3),
                code=ErrorCode.TABLE_VALUE_NOT_FOUND,
            )
        with _at(FT1_FIELDS | {"diagnosis_ids": 19}, "FT1", line.sequence, 7):
            entry = service_entry_create(
                patient=patient,
                episode=episode,
                rendering_provider=providers[line.npi],
                date_of_service=line.date_of_service,
                kind=line.kind,
                service_code=line.code,
                units=line.units,
                modifiers=line.modifiers,
                start_at=line.start_at,
                end_at=line.end_at,
                diagnosis_ids=[by_code[code] for code in codes if code in by_code] or None,
                idempotency_key=_idempotency_key(head.control_id, line.sequence),
                created_by=user,
                today=today,
                scopes=scopes,
            )
        charge_ids.append(str(entry.pk))
    return _Outcome(
        text=f"{len(charge_ids)} charge(s) recorded.",
        patient=patient,
        charge_ids=tuple(charge_ids),
        part2=sud,
    )


# --- The exceptions queue -------------------------------------------------------------------


def held_retry(
    *, held: HeldMessage, scopes: Collection[str], today: date, now: datetime, user: Any
) -> HeldMessage:
    """Process a held DFT again (after the patient or provider was added). Still unknown, it
    stays open with the reason; any other refusal is a DomainError naming the segment and field,
    and nothing is charged."""
    if part2.restricted(held, scopes):
        raise DomainError("No such held message.", field="held", code="not_found")
    if held.status != HeldStatus.OPEN:
        raise DomainError("This message is no longer open.", field="status")
    record = held.message
    raw = crypto.decrypt(record.raw_encrypted)
    try:
        message = hl7v2.parse(raw)
        head = hl7v2.header(message)
        with transaction.atomic():
            held = HeldMessage.objects.select_for_update().get(pk=held.pk)
            if held.status != HeldStatus.OPEN:
                raise DomainError("This message is no longer open.", field="status")
            outcome = _dft(message, head, scopes=scopes, today=today, tz=_zone(now), user=user)
            if outcome.held:
                held.reason, held.detail = outcome.held[0], outcome.held[1][:300]
                held.last_retry_error = f"Still held: {held.detail}."
                held.save(update_fields=["reason", "detail", "last_retry_error", "updated_at"])
                return held
            record.status = MessageStatus.PROCESSED
            record.patient = outcome.patient
            record.charge_ids = list(outcome.charge_ids)
            record.part2 = record.part2 or outcome.part2
            record.save(update_fields=["status", "patient", "charge_ids", "part2", "updated_at"])
            held.status, held.resolved_at, held.resolved_by = HeldStatus.RESOLVED, now, user
            held.last_retry_error = ""
            held.save()
            audit_record(
                action="hl7.held.retry",
                obj=held,
                patient_id=outcome.patient.pk if outcome.patient else None,
                detail={"charges": len(outcome.charge_ids)},
                part2=held.part2,
            )
    except Hl7Problem as problem:
        HeldMessage.objects.filter(pk=held.pk).update(last_retry_error=problem.text[:500])
        raise DomainError(problem.text, field="held") from problem
    return held


def _zone(now: datetime) -> tzinfo:
    assert now.tzinfo is not None
    return now.tzinfo


def held_dismiss(
    *, held: HeldMessage, reason: str, scopes: Collection[str], now: datetime, user: Any
) -> HeldMessage:
    """Close a held message without charging it; the reason is required and kept."""
    if part2.restricted(held, scopes):
        raise DomainError("No such held message.", field="held", code="not_found")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the message is dismissed.", field="reason")
    with transaction.atomic():
        held = HeldMessage.objects.select_for_update().get(pk=held.pk)
        if held.status != HeldStatus.OPEN:
            raise DomainError("This message is no longer open.", field="status")
        held.status, held.dismiss_reason = HeldStatus.DISMISSED, reason[:300]
        held.resolved_at, held.resolved_by = now, user
        held.save()
        audit_record(
            action="hl7.held.dismiss", obj=held, detail={"reason_given": True}, part2=held.part2
        )
    return held


def message_text(record: Hl7Message) -> tuple[str, str]:
    """The stored message and its ACK, decrypted, for the pages that show them."""
    return crypto.decrypt(record.raw_encrypted), crypto.decrypt(record.ack_encrypted)


__all__ = [
    "Channel",
    "Receipt",
    "held_dismiss",
    "held_retry",
    "hl7_receive",
    "message_text",
    "service_kind",
]
