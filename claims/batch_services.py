"""Electronic submission: clearinghouses, submission batches (837P / 837I files), control
numbers, transport, and the 999 / 277CA acknowledgments that come back.

A batch is built in phases, each committed on its own so the batch page can show progress:
number it (control numbers taken under a row lock and recorded before anything is released),
render the file from a fixed number of queries, validate it with pyx12, release it (the file is
recorded and its claims become submitted in one transaction), then hand it to the transport.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from claims import cob
from claims.models import (
    AckKind,
    Acknowledgment,
    AckStatus,
    BatchClaim,
    BatchStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimRejection,
    ClaimStatus,
    Clearinghouse,
    ControlNumberCounter,
    SubmissionBatch,
)
from claims.services import NOT_YET_DISCLOSED, TRANSITIONS, claim_transition
from claims.transport import sender_for
from patients.models import ClaimForm, Consent
from patients.rules import consent_decision
from patients.services import part2_disclosure_record
from rcm.audit.services import audit_record, audit_record_many
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from x12 import institutional as x12i
from x12 import professional as x12p
from x12.ack277ca import parse_277ca
from x12.ack999 import parse_999
from x12.cob import OtherPayer
from x12.reader import Separators, X12Error, read
from x12.writer import Envelope, SegmentWriter

log = logging.getLogger(__name__)

FILING_INDICATOR = {
    "commercial": "CI",
    "medicaid": "MC",
    "medicaid_mco": "MC",
    "medicare": "MB",
    "medicare_advantage": "16",
    "tricare": "CH",
}
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}
INPATIENT_LEVELS = {"3.7-WM", "4-WM"}
RESIDENTIAL_LEVELS = {"3.1", "3.3", "3.5", "3.7", "3.2-WM"}
MEDICARE_CONDITION = {"2.5": "41", "2.1": "92"}
VERSION = {ClaimForm.PROFESSIONAL: x12p.VERSION, ClaimForm.INSTITUTIONAL: x12i.VERSION}
OPEN_BATCH = (BatchStatus.QUEUED, BatchStatus.BUILDING)


# --- Clearinghouses ------------------------------------------------------------------------------


CLEARINGHOUSE_FIELDS = [
    "name",
    "code",
    "receiver_name",
    "receiver_id",
    "receiver_qualifier",
    "submitter_id",
    "submitter_qualifier",
    "contact_name",
    "contact_phone",
    "usage",
    "element_separator",
    "component_separator",
    "repetition_separator",
    "segment_terminator",
    "line_break_after_segment",
    "transport",
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_password_env",
    "sftp_host_key",
    "sftp_remote_dir",
    "is_active",
]


def _clearinghouse_check(ch: Clearinghouse) -> None:
    try:
        SegmentWriter(_separators(ch))
    except X12Error as error:
        raise DomainError(error.message, field="element_separator") from error
    for name in ("receiver_id", "submitter_id"):
        value = getattr(ch, name)
        seps = _separators(ch)
        chars = {seps.element, seps.component, seps.repetition, seps.segment}
        if not value.strip() or any(c in value for c in chars):
            raise DomainError(f"Enter a valid {name.replace('_', ' ')}.", field=name)
    if not re.fullmatch(r"\d{10}", ch.contact_phone):
        raise DomainError("The contact phone is ten digits.", field="contact_phone")
    if ch.transport == "sftp" and not (ch.sftp_host and ch.sftp_username and ch.sftp_host_key):
        raise DomainError(
            "SFTP needs a host, a user name and the server's host key.", field="sftp_host"
        )


def clearinghouse_save(*, clearinghouse: Clearinghouse | None = None, **data: Any) -> Clearinghouse:
    """Create or change a clearinghouse (receiver ids, separators, transport)."""
    ch = clearinghouse or Clearinghouse()
    unknown = set(data) - set(CLEARINGHOUSE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown field: {', '.join(sorted(unknown))}")
    for key, value in data.items():
        setattr(
            ch, key, value.strip() if isinstance(value, str) and key != "sftp_host_key" else value
        )
    _clearinghouse_check(ch)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ch.save()
        except IntegrityError as error:
            raise DomainError(
                "Another clearinghouse already uses that code.", field="code"
            ) from error
        audit_record(action="clearinghouse.save", obj=ch, detail={"fields": sorted(data)})
    return ch


def _separators(ch: Clearinghouse) -> Separators:
    return Separators(
        ch.element_separator, ch.component_separator, ch.repetition_separator, ch.segment_terminator
    )


# --- Creating batches ------------------------------------------------------------------------------


def batches_create(
    *, clearinghouse: Clearinghouse, actor: Any = None, claim_ids: Iterable[Any] | None = None
) -> list[SubmissionBatch]:
    """Queue one batch per claim form from ready claims (all of them, or the ones given) that
    are in no other open batch. The caller starts `claims.tasks.batch_build` for each."""
    if not clearinghouse.is_active:
        raise DomainError(f"{clearinghouse.name} is not active.", field="clearinghouse")
    with transaction.atomic():
        claims = Claim.objects.select_for_update(of=("self",)).filter(status=ClaimStatus.READY)
        if claim_ids is not None:
            ids = list(claim_ids)
            claims = claims.filter(pk__in=ids)
        claims = claims.exclude(batch_items__batch__status__in=OPEN_BATCH)
        by_form: dict[str, list[Claim]] = defaultdict(list)
        for claim in claims.order_by("patient_control_number"):
            by_form[claim.claim_form].append(claim)
        if claim_ids is not None and sum(len(v) for v in by_form.values()) != len(set(ids)):
            raise DomainError(
                "Only ready claims that are in no other open batch can be batched.",
                field="claim_ids",
            )
        if not by_form:
            raise DomainError("There is no ready claim to send.", field="claim_ids")
        batches = []
        for form in sorted(by_form):
            chosen = by_form[form]
            batch = SubmissionBatch.objects.create(
                clearinghouse=clearinghouse,
                claim_form=form,
                usage=clearinghouse.usage,
                claim_count=len(chosen),
                progress_total=len(chosen),
                total_charge=sum((c.total_charge for c in chosen), 0),
                created_by=actor,
            )
            BatchClaim.objects.bulk_create(
                BatchClaim(
                    organization_id=batch.organization_id, batch=batch, claim=claim, position=n
                )
                for n, claim in enumerate(chosen, start=1)
            )
            audit_record(
                action="batch.create",
                obj=batch,
                detail={"claims": len(chosen), "claim_form": form},
            )
            batches.append(batch)
    return batches


# --- Control numbers -------------------------------------------------------------------------------


def batch_number(*, batch_id: Any) -> SubmissionBatch:
    """Give the batch its ISA13 / GS06 / ST02 (once: a batch is never renumbered). The counter
    row is locked, so two batches built at once get different, increasing numbers."""
    with transaction.atomic():
        batch = (
            SubmissionBatch.objects.select_for_update()
            .select_related("clearinghouse")
            .get(pk=batch_id)
        )
        if batch.interchange_control_number:
            return batch
        ch = batch.clearinghouse
        # A new submitter id (a new counter row) carries on from the numbers this clearinghouse
        # has already used: ISA13/GS06 stay unique per clearinghouse.
        used = SubmissionBatch.objects.filter(clearinghouse=ch).aggregate(
            interchange=Max("interchange_control_number"),
            group=Max("group_control_number"),
            transaction=Max("transaction_control_number"),
        )
        ControlNumberCounter.objects.bulk_create(
            [
                ControlNumberCounter(
                    organization_id=ch.organization_id,
                    clearinghouse=ch,
                    submitter_id=ch.submitter_id,
                    last_interchange=used["interchange"] or 0,
                    last_group=used["group"] or 0,
                    last_transaction=used["transaction"] or 0,
                )
            ],
            ignore_conflicts=True,
        )
        counter = ControlNumberCounter.objects.select_for_update().get(
            clearinghouse=ch, submitter_id=ch.submitter_id
        )
        if counter.last_interchange >= 999_999_999:
            raise DomainError("The interchange control numbers are exhausted.")
        counter.last_interchange += 1
        counter.last_group += 1
        counter.last_transaction += 1
        counter.save(update_fields=["last_interchange", "last_group", "last_transaction"])
        now = timezone.now().astimezone(UTC).replace(second=0, microsecond=0)
        batch.interchange_control_number = counter.last_interchange
        batch.group_control_number = counter.last_group
        batch.transaction_control_number = counter.last_transaction
        batch.reference = f"{counter.last_interchange:09d}"
        batch.envelope_created = now
        batch.status = BatchStatus.BUILDING
        batch.file_name = f"{batch.claim_form}_{ch.code}_{counter.last_interchange:09d}.x12"
        batch.save()
        audit_record(
            action="batch.number",
            obj=batch,
            detail={"interchange_control_number": batch.interchange_control_number},
        )
    return batch


# --- Rendering from the database (a fixed number of queries) ------------------------------------


class BatchRefused(Exception):
    """The data cannot make a valid 837: the reasons, for a biller."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def _address(line1: str, line2: str, city: str, state: str, postal: str) -> x12p.Address:
    return x12p.Address(line1.upper(), city.upper(), state.upper(), postal.replace("-", ""),
                        line2.upper())  # fmt: skip


def _billing(org: Organization) -> tuple[x12p.BillingProvider, list[str]]:
    problems = []
    for field_name, label in (
        ("group_npi", "Billing NPI"),
        ("tax_id", "Tax ID (EIN)"),
        ("address_line1", "Billing address"),
        ("city", "Billing city"),
        ("state", "Billing state"),
        ("postal_code", "Billing ZIP code"),
    ):
        if not getattr(org, field_name).strip():
            problems.append(f"{label} is missing: set it in Organization settings.")
    pay_to = None
    if org.pay_to_address_line1:
        pay_to = _address(org.pay_to_address_line1, org.pay_to_address_line2, org.pay_to_city,
                          org.pay_to_state, org.pay_to_postal_code)  # fmt: skip
    billing = x12p.BillingProvider(
        name=org.name.upper(),
        npi=org.group_npi,
        tax_id=org.tax_id.replace("-", ""),
        address=_address(
            org.address_line1, org.address_line2, org.city, org.state, org.postal_code
        ),
        taxonomy=org.taxonomy_code,
        pay_to=pay_to,
    )
    return billing, problems


def _provider(p: Any) -> x12p.Provider:
    return x12p.Provider(p.last_name.upper(), p.first_name.upper(), p.npi, p.taxonomy_code)


def _parties(claim: Claim) -> tuple[x12p.Subscriber, x12p.Patient | None, x12p.Payer]:
    patient, coverage, payer = claim.patient, claim.coverage, claim.payer
    home = _address(patient.address_line1, patient.address_line2, patient.city, patient.state,
                    patient.postal_code)  # fmt: skip
    patient_person = x12p.Person(patient.last_name.upper(), patient.first_name.upper(),
                                 patient.date_of_birth, patient.sex or "U", home,
                                 patient.middle_name.upper())  # fmt: skip
    dependent = None
    person = patient_person
    if coverage.relationship != "18":
        person = x12p.Person(
            coverage.subscriber_last_name.upper(),
            coverage.subscriber_first_name.upper(),
            coverage.subscriber_date_of_birth,  # type: ignore[arg-type]
            coverage.subscriber_sex or "U",
            home,
        )
        dependent = x12p.Patient(patient_person, coverage.relationship)
    subscriber = x12p.Subscriber(
        person,
        coverage.member_id.strip(),
        FILING_INDICATOR.get(payer.payer_type, "ZZ"),
        RESPONSIBILITY.get(coverage.priority, "P"),
        coverage.group_number,
    )
    payer_address = None
    if payer.address_line1:
        payer_address = _address(payer.address_line1, payer.address_line2, payer.city,
                                 payer.state, payer.postal_code)  # fmt: skip
    return subscriber, dependent, x12p.Payer(payer.name.upper(), payer.payer_id, payer_address)


def _claim_problems(
    claim: Claim, lines: list[LineRow], part2_ok: bool, *, require_ready: bool
) -> list[str]:
    pcn = claim.patient_control_number
    problems = []
    if require_ready and claim.status != ClaimStatus.READY:
        problems.append(f"Claim {pcn} is {claim.get_status_display().lower()}, not ready.")
    if claim.coverage.relationship != "18" and not (
        claim.coverage.subscriber_last_name and claim.coverage.subscriber_date_of_birth
    ):
        problems.append(f"Claim {pcn}: the subscriber's name and birth date are missing.")
    if not claim.diagnosis_codes:
        problems.append(f"Claim {pcn} has no diagnosis.")
    patient = claim.patient
    if not (patient.address_line1 and patient.city and patient.state and patient.postal_code):
        problems.append(
            f"Claim {pcn}: the patient's address is missing (the 837 requires it): add it on "
            "the patient's page."
        )
    if not lines:
        problems.append(f"Claim {pcn} has no service lines.")
    if claim.is_part2 and not part2_ok:
        problems.append(
            f"Claim {pcn} holds Part 2 (substance use) records and no consent covers sending "
            "them to this payer."
        )
    return problems


@dataclass(slots=True)
class LineRow:
    """The claim line columns the 837 needs (plain rows: 15,000 model instances cost a second)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "id", "claim_id", "line_number", "service_code", "modifiers", "units", "charge",
        "date_of_service", "place_of_service", "revenue_code", "diagnosis_pointers",
        "line_control_number", "authorization__auth_number", "service_entry_id",
    )  # fmt: skip
    pk: Any
    claim_id: Any
    line_number: int
    service_code: str
    modifiers: list[str]
    units: int
    charge: Any
    date_of_service: Any
    place_of_service: str
    revenue_code: str
    diagnosis_pointers: list[int]
    line_control_number: str
    auth_number: str | None
    service_entry_id: Any


def _line_authorizations(claim: Claim, lines: list[LineRow]) -> tuple[str, dict[Any, str]]:
    """REF*G1: at claim level, and per line for lines with a different authorization."""
    numbers = {line.pk: line.auth_number or "" for line in lines}
    claim_level = claim.prior_authorization_number
    per_line = {pk: n for pk, n in numbers.items() if n and n != claim_level}
    return claim_level, per_line


def _other_payers(claim: Claim, lines: list[LineRow]) -> tuple[OtherPayer, ...]:
    """A secondary claim's 2320/2330/2430 from the primary's adjudication snapshot."""
    other = cob.other_payer(
        claim.other_payer_adjudication,
        [(line.line_control_number, line.service_entry_id) for line in lines],
    )
    return (other,) if other else ()


def _professional(claim: Claim, lines: list[LineRow], org: Organization) -> x12p.ProfessionalClaim:
    claim_pos = lines[0].place_of_service if lines else ""
    claim_auth, line_auths = _line_authorizations(claim, lines)
    rendering = claim.rendering_provider
    supervising = claim.supervising_provider
    facility = claim.service_facility
    return x12p.ProfessionalClaim(
        patient_control_number=claim.patient_control_number,
        total_charge=claim.total_charge,
        place_of_service=claim_pos,
        diagnoses=list(claim.diagnosis_codes),
        lines=[
            x12p.ServiceLine(
                procedure_code=line.service_code,
                charge=line.charge,
                units=line.units,  # type: ignore[arg-type]
                service_date=line.date_of_service,
                diagnosis_pointers=tuple(line.diagnosis_pointers),
                modifiers=tuple(line.modifiers),
                place_of_service=""
                if line.place_of_service == claim_pos
                else line.place_of_service,
                line_control_number=line.line_control_number,
                prior_authorization=line_auths.get(line.pk, ""),
            )
            for line in lines
        ],
        frequency_code=claim.frequency,
        original_claim_number=claim.payer_claim_number if claim.frequency != "1" else "",
        prior_authorization=claim_auth,
        other_payers=_other_payers(claim, lines),
        rendering_provider=_provider(rendering) if rendering.npi != org.group_npi else None,
        supervising_provider=(
            _provider(supervising) if supervising and supervising.npi != rendering.npi else None
        ),
        service_facility=(
            x12p.ServiceFacility(
                facility.name.upper(),
                facility.npi,
                _address(
                    facility.address_line1,
                    facility.address_line2,
                    facility.city,
                    facility.state,
                    facility.postal_code,
                ),
            )
            if facility
            else None
        ),
    )


def type_of_bill(level: str, frequency: str) -> str:
    """Hospital inpatient (011x) for medically managed withdrawal, residential facility (086x)
    for residential levels, hospital outpatient (013x) for PHP, IOP and the rest."""
    if level in INPATIENT_LEVELS:
        return f"011{frequency}"
    if level in RESIDENTIAL_LEVELS:
        return f"086{frequency}"
    return f"013{frequency}"


def _institutional(
    claim: Claim, lines: list[LineRow], org: Organization
) -> x12i.InstitutionalClaim:
    base = _professional(claim, lines, org)
    tob = type_of_bill(claim.level, claim.frequency)
    inpatient = tob[:3] in ("011", "086")
    medicare = claim.payer.payer_type in ("medicare", "medicare_advantage")
    condition = MEDICARE_CONDITION.get(claim.level) if medicare else None
    _, line_auths = _line_authorizations(claim, lines)
    return x12i.InstitutionalClaim(
        patient_control_number=claim.patient_control_number,
        total_charge=claim.total_charge,
        type_of_bill=tob,
        statement_from=claim.statement_from,
        statement_to=claim.statement_to,
        diagnoses=list(claim.diagnosis_codes),
        lines=[
            x12i.InstitutionalLine(
                revenue_code=line.revenue_code,
                charge=line.charge,
                units=line.units,  # type: ignore[arg-type]
                service_date=line.date_of_service,
                procedure_code=line.service_code,
                modifiers=tuple(line.modifiers),
                unit_basis="DA" if inpatient else "UN",
                line_control_number=line.line_control_number,
                prior_authorization=line_auths.get(line.pk, ""),
            )
            for line in lines
        ],
        attending_provider=_provider(claim.rendering_provider),
        patient_status="30",
        admission_date=claim.episode.admission_date if inpatient else None,
        admission_type="3" if inpatient else "",
        admission_source="1" if inpatient else "",
        admitting_diagnosis=claim.diagnosis_codes[0] if inpatient and claim.diagnosis_codes else "",
        condition_codes=(condition,) if condition else (),
        original_claim_number=base.original_claim_number,
        prior_authorization=base.prior_authorization,
        service_facility=base.service_facility,
        other_payers=base.other_payers,
    )


@dataclass
class RenderedBatch:
    text: str
    claims: list[Claim]
    part2_consents: dict[Any, Consent]


@dataclass
class PreparedBatch:
    """Everything the file needs, loaded and checked; rendering needs no database."""

    claim_form: str
    data: Any
    envelope: Envelope
    writer: SegmentWriter
    claims: list[Claim]
    part2_consents: dict[Any, Consent]

    def render(self, on_progress: Callable[[int], None] | None = None) -> RenderedBatch:
        try:
            if self.claim_form == ClaimForm.INSTITUTIONAL:
                text = x12i.render_837i(self.data, self.envelope, self.writer, on_progress)
            else:
                text = x12p.render_837p(self.data, self.envelope, self.writer, on_progress)
        except X12Error as error:
            raise BatchRefused([error.message]) from error
        return RenderedBatch(text, self.claims, self.part2_consents)


def batch_prepare(*, batch: SubmissionBatch, claim: Claim | None = None) -> PreparedBatch:
    """The batch's X12 file from the database, with its recorded control numbers and time (so
    the same claims render to the same bytes). Six queries however many claims. Raises
    BatchRefused with the reasons when the data cannot make a valid 837."""
    if not batch.interchange_control_number or batch.envelope_created is None:
        raise DomainError("The batch has no control numbers yet.")
    ch = batch.clearinghouse
    org = Organization.objects.get(pk=batch.organization_id)
    if claim is not None:  # a preview of one claim, in no batch
        claims_qs = Claim.objects.filter(pk=claim.pk)
        lines_qs = ClaimLine.objects.filter(claim_id=claim.pk)
    else:
        claims_qs = Claim.objects.filter(batch_items__batch=batch).order_by("batch_items__position")
        lines_qs = ClaimLine.objects.filter(claim__batch_items__batch=batch)
    claims = list(
        claims_qs.select_related(
            "patient",
            "coverage",
            "payer",
            "episode",
            "rendering_provider",
            "supervising_provider",
            "service_facility",
        )
    )
    lines_by_claim: dict[Any, list[LineRow]] = defaultdict(list)
    for row in lines_qs.order_by("claim_id", "line_number").values_list(*LineRow.FIELDS):
        line = LineRow(*row)
        lines_by_claim[line.claim_id].append(line)
    part2_patients = {c.patient_id for c in claims if c.is_part2}
    consents: dict[Any, list[Consent]] = defaultdict(list)
    if part2_patients:
        for consent in Consent.objects.filter(patient_id__in=part2_patients):
            consents[consent.patient_id].append(consent)
    billing, problems = _billing(org)
    billing_incomplete = bool(problems)

    def keep(problem: x12p.Problem) -> bool:  # "missing" already said it for the billing fields
        return not (billing_incomplete and problem.field.startswith("billing_provider"))

    part2_consents: dict[Any, Consent] = {}
    submissions = []
    released = batch.status not in OPEN_BATCH or claim is not None
    for claim in claims:
        lines = lines_by_claim[claim.pk]
        part2_ok = True
        if claim.is_part2:
            decision = consent_decision(
                consents[claim.patient_id],  # type: ignore[arg-type]
                payer_id=claim.payer_id,
                purpose="payment",
                on_date=batch.envelope_created.date(),
                # A released batch was disclosed under the consent as it stood at release; one
                # not yet released is disclosed after every revocation already on file.
                revoked_before=(batch.released_at if released else None) or NOT_YET_DISCLOSED,
            )
            part2_ok = decision.covered
            if decision.consent is not None:
                part2_consents[claim.pk] = decision.consent  # type: ignore[assignment]
        # A released batch is regenerated from claims that have moved on from ready.
        problems += _claim_problems(claim, lines, part2_ok, require_ready=not released)
        if problems and not lines:
            continue
        subscriber, dependent, payer = _parties(claim)
        if batch.claim_form == ClaimForm.INSTITUTIONAL:
            submissions.append(x12i.InstitutionalSubmission(
                subscriber, payer, _institutional(claim, lines, org), dependent))  # type: ignore[arg-type]  # fmt: skip
        else:
            submissions.append(x12p.ClaimSubmission(  # type: ignore[arg-type]
                subscriber, payer, _professional(claim, lines, org), dependent))  # fmt: skip
    submitter = x12p.Submitter(org.name.upper(), ch.submitter_id, ch.contact_name.upper(),
                               ch.contact_phone)  # fmt: skip
    receiver = x12p.Receiver(ch.receiver_name.upper(), ch.receiver_id)
    created = batch.envelope_created.astimezone(UTC).replace(tzinfo=None)
    envelope = Envelope(
        sender_id=ch.submitter_id,
        receiver_id=ch.receiver_id,
        sender_qualifier=ch.submitter_qualifier,
        receiver_qualifier=ch.receiver_qualifier,
        interchange_control_number=batch.interchange_control_number,
        group_control_number=batch.group_control_number,  # type: ignore[arg-type]
        transaction_control_number=batch.transaction_control_number,  # type: ignore[arg-type]
        created=created,
        version=VERSION[batch.claim_form],  # type: ignore[index]
        usage=batch.usage,
    )
    writer = SegmentWriter(_separators(ch), newline=ch.line_break_after_segment)
    if batch.claim_form == ClaimForm.INSTITUTIONAL:
        data: Any = x12i.Batch837I(submitter, receiver, billing, submissions, batch.reference, created)  # fmt: skip
        found = x12i.check_837i(data)
    else:
        data = x12p.Batch837P(submitter, receiver, billing, submissions, batch.reference, created)
        found = x12p.check_837p(data)
    refused = problems + [p.message for p in found if keep(p)]
    if refused:
        raise BatchRefused(refused)
    return PreparedBatch(batch.claim_form, data, envelope, writer, claims, part2_consents)


def batch_render(
    *, batch: SubmissionBatch, on_progress: Callable[[int], None] | None = None
) -> RenderedBatch:
    """The batch's X12 file from the database (see batch_prepare), rendered at once."""
    return batch_prepare(batch=batch).render(on_progress)


def claim_x12_preview(*, claim: Claim, now: datetime) -> tuple[str, list[str]]:
    """The 837 one claim would produce if sent `now` (with placeholder control numbers 1), or
    the reasons it cannot be written. Uses the first active clearinghouse's ids and separators."""
    ch = Clearinghouse.objects.filter(is_active=True).order_by("name").first()
    if ch is None:
        return "", ["Add a clearinghouse first: the file carries its ids."]
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    preview = SubmissionBatch(
        organization_id=claim.organization_id, clearinghouse=ch, claim_form=claim.claim_form,
        status=BatchStatus.RELEASED, interchange_control_number=1, group_control_number=1,
        transaction_control_number=1, reference="PREVIEW", envelope_created=now, usage="T",
    )  # fmt: skip
    try:
        return batch_prepare(batch=preview, claim=claim).render().text, []
    except BatchRefused as refused:
        return "", refused.reasons


def pyx12_validate(text: str) -> list[str]:
    """Every error pyx12 reports for the file (empty when valid)."""
    import io
    import json

    import pyx12.params
    import pyx12.x12n_document

    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = Collect(level=logging.ERROR)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False
    report = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None,
            fd_html=None, fd_json=report,
        )  # fmt: skip
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous
    errors = list(logged)

    def collect(node: object) -> None:
        if isinstance(node, dict):
            errors.extend(error["err_str"] for error in node.get("errors", []))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(json.loads(report.getvalue() or "{}"))
    if not valid and not errors:
        errors.append("pyx12 found the file invalid.")
    return errors


# --- Release -----------------------------------------------------------------------------------


def batch_release(*, batch_id: Any, rendered: RenderedBatch) -> SubmissionBatch:
    """Record the validated file and move its claims to submitted, in one transaction; Part 2
    claims get their disclosure logged with the consent that covered them."""
    assert ClaimStatus.SUBMITTED in TRANSITIONS[ClaimStatus.READY]
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != BatchStatus.BUILDING:
            raise DomainError(f"The batch is {batch.get_status_display().lower()}, not building.")
        ids = [c.pk for c in rendered.claims]
        locked = {
            c.pk: c.status
            for c in Claim.objects.select_for_update().filter(pk__in=ids).only("id", "status")
        }
        moved = [c for c in rendered.claims if locked.get(c.pk) != ClaimStatus.READY]
        if moved:
            raise BatchRefused(
                [
                    f"Claim {c.patient_control_number} changed while the file was built."
                    for c in moved
                ]
            )
        now = timezone.now()
        Claim.objects.filter(pk__in=ids).update(
            status=ClaimStatus.SUBMITTED, submitted_at=now, updated_at=now
        )
        note = f"In batch {batch.interchange_control_number:09d}"
        ClaimEvent.objects.bulk_create(
            ClaimEvent(organization_id=batch.organization_id, claim_id=c.pk, from_status=ClaimStatus.READY,
                       to_status=ClaimStatus.SUBMITTED, actor=batch.created_by, note=note)
            for c in rendered.claims
        )  # fmt: skip
        audit_record_many(
            "claim.transition",
            [
                (c, {"from": ClaimStatus.READY, "to": ClaimStatus.SUBMITTED})
                for c in rendered.claims
            ],
        )
        ClaimRejection.objects.filter(claim_id__in=ids, resolved_at__isnull=True).update(
            resolved_at=now
        )
        for claim in rendered.claims:
            if claim.is_part2:
                part2_disclosure_record(
                    patient=claim.patient,
                    payer=claim.payer,
                    consent=rendered.part2_consents[claim.pk],
                    what=f"837 batch {batch.pk}",
                    obj=claim,
                )
        content = rendered.text
        batch.content = content
        batch.sha256 = hashlib.sha256(content.encode("latin-1")).hexdigest()
        batch.status = BatchStatus.RELEASED
        batch.released_at = now
        batch.progress_done = batch.progress_total
        batch.error = ""
        batch.save()
        audit_record(
            action="batch.release",
            obj=batch,
            detail={"claims": len(ids), "sha256": batch.sha256},
        )
    return batch


def batch_fail(*, batch_id: Any, reasons: Sequence[str]) -> SubmissionBatch:
    """Nothing is released: the claims stay ready, the reasons are shown on the batch page."""
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return batch
        batch.status = BatchStatus.FAILED
        batch.error = "\n".join(reasons)[:5000]
        batch.save(update_fields=["status", "error", "updated_at"])
        audit_record(
            action="batch.fail", obj=batch, outcome="failure", detail={"reasons": len(reasons)}
        )
    return batch


def batch_send(*, batch: SubmissionBatch) -> SubmissionBatch:
    """Hand the released file to the clearinghouse's transport (folder or SFTP). Safe to call
    again: the same name and bytes are written."""
    if batch.status == BatchStatus.FAILED or not batch.content:
        raise DomainError("Only a released batch can be sent.")
    org = Organization.objects.get(pk=batch.organization_id)
    try:
        delivery = sender_for(batch.clearinghouse, org.slug).send(
            name=batch.file_name, content=batch.content.encode("latin-1")
        )
        detail = f"Delivered to {delivery.where} at {timezone.now():%Y-%m-%d %H:%M} UTC"
    except DomainError as error:
        detail = f"Not delivered: {error.message}"
    with transaction.atomic():
        SubmissionBatch.objects.filter(pk=batch.pk).update(transport_detail=detail[:300])
        audit_record(
            action="batch.send", obj=batch, detail={"delivered": detail.startswith("Deliv")}
        )
    batch.transport_detail = detail[:300]
    return batch


def _set_progress(batch_id: Any, done: int) -> None:
    SubmissionBatch.objects.filter(pk=batch_id, progress_total__gte=done).update(progress_done=done)


def batch_build(*, organization_id: Any, batch_id: Any) -> SubmissionBatch:
    """Number, render, validate with pyx12, release and send one batch. Each phase commits on
    its own so the page sees progress; any refusal fails the batch with the reasons (nothing is
    released). Calling it again for a released batch changes nothing."""
    with tenant_context(organization_id):
        batch = SubmissionBatch.objects.get(pk=batch_id)
        if batch.status not in OPEN_BATCH:
            return batch
        batch = batch_number(batch_id=batch_id)

    def progress(done: int) -> None:
        with tenant_context(organization_id):
            _set_progress(batch_id, done)

    try:
        with tenant_context(organization_id):
            batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
            prepared = batch_prepare(batch=batch)
        rendered = prepared.render(progress)  # outside the transaction: progress commits
        errors = pyx12_validate(rendered.text)
        if errors:
            raise BatchRefused([f"pyx12: {e}" for e in errors[:20]])
        with tenant_context(organization_id):
            batch = batch_release(batch_id=batch_id, rendered=rendered)
    except BatchRefused as refused:
        with tenant_context(organization_id):
            return batch_fail(batch_id=batch_id, reasons=refused.reasons)
    with tenant_context(organization_id):
        batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
        return batch_send(batch=batch)


def batch_regenerate(*, batch: SubmissionBatch) -> str:
    """The released file rendered again from the database with the same control numbers and
    time: byte-identical, or refused if anything it holds has changed since."""
    if batch.status in OPEN_BATCH or batch.status == BatchStatus.FAILED:
        raise DomainError("Only a released batch can be regenerated.")
    try:
        text = batch_render(batch=batch).text
    except BatchRefused as refused:
        raise DomainError(" ".join(refused.reasons)) from refused
    if hashlib.sha256(text.encode("latin-1")).hexdigest() != batch.sha256:
        raise DomainError(
            "The claims in this batch changed since it was released, so the file cannot be "
            "regenerated identically; the released file is kept as it was."
        )
    audit_record(action="batch.regenerate", obj=batch, detail={"sha256": batch.sha256})
    return text


# --- Acknowledgments (999, 277CA) --------------------------------------------------------------


def _where(error: X12Error) -> str:
    return str(error)


def _kind_of(text: str) -> str:
    try:
        parsed = read(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    kinds = {ts.id for ts in parsed.transactions}
    if kinds == {"999"}:
        return AckKind.ACK_999
    if kinds == {"277"}:
        return AckKind.ACK_277CA
    raise DomainError(
        f"The file was not applied: it holds {', '.join(sorted(kinds)) or 'no'} transaction "
        "sets; upload a 999 or a 277CA.",
        field="file",
    )


def _sender(text: str) -> str:
    return text[35:50].strip() if text.startswith("ISA") and len(text) > 50 else ""


def _batches_for_groups(numbers: set[int], sender: str) -> dict[int, SubmissionBatch]:
    batches = (
        SubmissionBatch.objects.select_related("clearinghouse")
        .filter(group_control_number__in=numbers)
        .exclude(status__in=[*OPEN_BATCH, BatchStatus.FAILED])
    )
    found: dict[int, list[SubmissionBatch]] = defaultdict(list)
    for batch in batches:
        found[batch.group_control_number].append(batch)  # type: ignore[index]
    result = {}
    for number, candidates in found.items():
        narrowed = [b for b in candidates if b.clearinghouse.receiver_id == sender] or candidates
        if len(narrowed) > 1:
            raise DomainError(
                f"Group control number {number} matches batches at several clearinghouses.",
                field="file",
            )
        result[number] = narrowed[0]
    return result


def _reject(
    claims: list[Claim],
    *,
    batch: SubmissionBatch,
    ack: Acknowledgment,
    reasons: dict[Any, tuple[str, list[str]]],
    actor: Any,
) -> int:
    count = 0
    for claim in claims:
        reason, codes = reasons[claim.pk]
        if claim.status == ClaimStatus.SUBMITTED:
            claim_transition(
                claim=claim, to_status=ClaimStatus.REJECTED, actor=actor, note=reason[:300]
            )
        ClaimRejection.objects.get_or_create(
            acknowledgment=ack,
            claim=claim,
            defaults={"batch": batch, "source": ack.kind, "reason": reason[:500], "codes": codes},
        )
        BatchClaim.objects.filter(batch=batch, claim=claim).update(
            ack_status=AckStatus.REJECTED, ack_reason=reason[:500]
        )
        count += 1
    return count


def _apply_999(text: str, ack: Acknowledgment, actor: Any) -> tuple[int, int]:
    try:
        parsed = parse_999(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    numbers = set()
    for fa in parsed.acknowledgments:
        if not fa.group_control_number.isdigit():
            raise DomainError(
                f"The 999 acknowledges group {fa.group_control_number!r}, which is not a number "
                "we sent (AK102).",
                field="file",
            )
        numbers.add(int(fa.group_control_number))
    batches = _batches_for_groups(numbers, _sender(text))
    unknown = sorted(numbers - set(batches))
    if unknown:
        raise DomainError(
            "The file was not applied: it acknowledges group control number(s) "
            f"{', '.join(map(str, unknown))} (AK102), which match none of our released batches.",
            field="file",
        )
    for fa in parsed.acknowledgments:
        batch = batches[int(fa.group_control_number)]
        for ts in fa.transaction_sets:
            if (
                not ts.control_number.isdigit()
                or int(ts.control_number) != batch.transaction_control_number
            ):
                raise DomainError(
                    f"The file was not applied: it acknowledges transaction set "
                    f"{ts.control_number} (AK202) in group {fa.group_control_number}, but that "
                    f"batch's set is {batch.transaction_control_number:04d}.",
                    field="file",
                )
    accepted = rejected = 0
    for fa in parsed.acknowledgments:
        batch = batches[int(fa.group_control_number)]
        ack.batch = batch
        set_rejected = (
            any(ts.ack_code in ("R", "M", "W", "X") for ts in fa.transaction_sets)
            or fa.group_ack_code == "R"
        )
        if not set_rejected:
            batch.status = (
                BatchStatus.ACKNOWLEDGED if fa.group_ack_code in ("A", "E") else BatchStatus.PARTIAL
            )
            batch.save(update_fields=["status", "updated_at"])
            accepted += batch.claim_count
            continue
        words = []
        for ts in fa.transaction_sets:
            words += ts.error_descriptions
            for se in ts.segment_errors:
                words.append(
                    f"{se.description} in segment {se.segment_id} (position {se.segment_position})"
                    + (f", claim {se.patient_control_number}" if se.patient_control_number else "")
                    + "".join(
                        f"; {ee.description}" + (f" ({ee.bad_value!r})" if ee.bad_value else "")
                        for ee in se.element_errors
                    )
                )
        words += fa.group_error_descriptions
        reason = "The clearinghouse rejected the whole file (999): " + (
            "; ".join(words) or fa.group_status_text
        )
        batch.status = BatchStatus.REJECTED
        batch.save(update_fields=["status", "updated_at"])
        claims = list(Claim.objects.filter(batch_items__batch=batch))
        codes = [se.error_code for ts in fa.transaction_sets for se in ts.segment_errors]
        rejected += _reject(
            claims,
            batch=batch,
            ack=ack,
            reasons={c.pk: (reason, codes) for c in claims},
            actor=actor,
        )
    return accepted, rejected


def _apply_277ca(text: str, ack: Acknowledgment, actor: Any) -> tuple[int, int]:
    try:
        parsed = parse_277ca(text, strict=True)
    except X12Error as error:
        raise DomainError(f"The file was not applied: {_where(error)}", field="file") from error
    pcns = {c.patient_control_number for c in parsed.claims}
    items = {
        item.claim.patient_control_number: item
        for item in BatchClaim.objects.select_related("claim", "batch")
        .filter(claim__patient_control_number__in=pcns)
        .exclude(batch__status__in=[*OPEN_BATCH, BatchStatus.FAILED])
        .order_by("batch__interchange_control_number")
    }  # the latest batch a claim was in wins
    for claim_ack in parsed.claims:
        if claim_ack.patient_control_number not in items:
            raise DomainError(
                f"The file was not applied: claim {claim_ack.patient_control_number!r} (TRN02 at "
                f"segment {claim_ack.segment_position}) is none of the claims we sent.",
                field="file",
            )
    accepted = rejected = 0
    for claim_ack in parsed.claims:
        item = items[claim_ack.patient_control_number]
        claim = item.claim
        ack.batch = item.batch
        if claim_ack.rejected:
            codes = [
                f"{s.category_code}:{s.status_code}"
                for info in claim_ack.status_information
                for s in info.statuses
            ]
            rejected += _reject(
                [claim],
                batch=item.batch,
                ack=ack,
                reasons={
                    claim.pk: (
                        f"Rejected by the payer's front door (277CA): {claim_ack.reason}",
                        codes,
                    )
                },
                actor=actor,
            )
        elif claim_ack.accepted:
            if claim.status == ClaimStatus.SUBMITTED:
                claim_transition(
                    claim=claim, to_status=ClaimStatus.ACCEPTED, actor=actor, note="277CA accepted"
                )
            if claim_ack.payer_claim_control_number and not claim.payer_claim_number:
                Claim.objects.filter(pk=claim.pk).update(
                    payer_claim_number=claim_ack.payer_claim_control_number[:50]
                )
            BatchClaim.objects.filter(pk=item.pk).update(
                ack_status=AckStatus.ACCEPTED, ack_reason=claim_ack.reason[:500]
            )
            accepted += 1
    return accepted, rejected


def acknowledgment_import(
    *, content: str | bytes, file_name: str = "", source: str = "upload", actor: Any = None
) -> tuple[Acknowledgment, bool]:
    """Apply a 999 or 277CA file: batches and claims are updated, rejected claims join the
    rejections queue with the reason in words. Returns (acknowledgment, applied). The same file
    again changes nothing. A file that is not X12, is cut short, has wrong counts or names
    control numbers we never sent is refused with the position and reason, nothing applied."""
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    if not text.strip():
        raise DomainError("The file is empty.", field="file")
    digest = hashlib.sha256(text.encode("latin-1", errors="replace")).hexdigest()
    existing = Acknowledgment.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    kind = _kind_of(text)
    with transaction.atomic():
        ack = Acknowledgment(
            kind=kind, file_name=file_name[:200], sha256=digest, content=text, source=source,
            summary="", received_by=actor if getattr(actor, "pk", None) else None,
        )  # fmt: skip
        ack.save()
        apply = _apply_999 if kind == AckKind.ACK_999 else _apply_277ca
        accepted, rejected = apply(text, ack, actor)
        ack.accepted_count, ack.rejected_count = accepted, rejected
        ack.summary = f"{kind}: {accepted} accepted, {rejected} rejected"
        ack.save()
        audit_record(
            action="acknowledgment.import",
            obj=ack,
            detail={"kind": kind, "accepted": accepted, "rejected": rejected},
        )
    return ack, True


def acknowledgments_import_folder(*, folder: Any) -> list[str]:
    """Apply every file in an inbound folder; applied files move to processed/, refused ones to
    failed/ with the reason next to them. Returns one line per file."""
    from pathlib import Path

    folder = Path(folder)
    results: list[Any] = []
    if not folder.is_dir():
        return results
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            ack, applied = acknowledgment_import(
                content=path.read_bytes(), file_name=path.name, source="folder"
            )
            target = folder / "processed"
            results.append(f"{path.name}: {ack.summary if applied else 'already applied'}")
        except DomainError as error:
            target = folder / "failed"
            target.mkdir(exist_ok=True)
            (target / f"{path.name}.reason.txt").write_text(error.message)
            results.append(f"{path.name}: refused: {error.message}")
        target.mkdir(exist_ok=True)
        path.replace(target / path.name)
    return results


def rejection_resolve(*, rejection: ClaimRejection, actor: Any = None) -> ClaimRejection:
    """Take a rejection off the queue (the claim was fixed or voided)."""
    with transaction.atomic():
        if rejection.resolved_at is None:
            rejection.resolved_at = timezone.now()
            rejection.save(update_fields=["resolved_at", "updated_at"])
            audit_record(action="rejection.resolve", obj=rejection, patient_id=None)
    return rejection
