"""Rendering a batch (837P / 837I) from the database in a fixed number of queries, and
validating it with pyx12."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from claims import cob
from claims.models import Claim, ClaimLine, ClaimStatus
from claims.services import NOT_YET_DISCLOSED
from patients.models import ClaimForm, Consent
from patients.rules import consent_decision
from rcm.tenancy.models import Organization
from submissions.models import (
    BatchStatus,
    Clearinghouse,
    SubmissionBatch,
)
from submissions.services.building import OPEN_BATCH
from submissions.services.clearinghouses import _separators
from x12 import institutional as x12i
from x12 import professional as x12p
from x12.cob import OtherPayer
from x12.reader import X12Error
from x12.writer import Envelope, SegmentWriter

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


# --- Rendering from the database (a fixed number of queries) ------------------------------------


@dataclass(frozen=True)
class BuildProblem:
    """One reason a batch's file cannot be written: the claim (None for the organization's
    billing identity or the file as a whole), the field at fault and what is wrong."""

    message: str
    field: str = ""
    claim_id: Any = None
    patient_control_number: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "claim_id": str(self.claim_id or ""),
            "claim": self.patient_control_number,
            "field": self.field,
            "message": self.message,
        }


class BatchRefused(Exception):
    """The data cannot make a valid 837: the reasons, for a biller, and (when known) the claims
    and fields they concern."""

    def __init__(self, reasons: list[str], problems: Sequence[BuildProblem] = ()) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons
        self.problems = list(problems) or [BuildProblem(reason) for reason in reasons]

    @classmethod
    def of(cls, problems: Sequence[BuildProblem]) -> BatchRefused:
        return cls([p.message for p in problems], problems)


# The envelope of a file checked before it has control numbers (they are taken only when the
# file is written, so a refused build uses none): any valid values do, they are not sent.
UNNUMBERED = {"interchange_control_number": 1, "group_control_number": 1,
              "transaction_control_number": 1}  # fmt: skip
UNNUMBERED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
UNNUMBERED_REFERENCE = "000000000"


def _address(line1: str, line2: str, city: str, state: str, postal: str) -> x12p.Address:
    return x12p.Address(line1.upper(), city.upper(), state.upper(), postal.replace("-", ""),
                        line2.upper())  # fmt: skip


def _billing(org: Organization) -> tuple[x12p.BillingProvider, list[BuildProblem]]:
    problems: list[BuildProblem] = []
    for field_name, label in (
        ("group_npi", "Billing NPI"),
        ("tax_id", "Tax ID (EIN)"),
        ("address_line1", "Billing address"),
        ("city", "Billing city"),
        ("state", "Billing state"),
        ("postal_code", "Billing ZIP code"),
    ):
        if not getattr(org, field_name).strip():
            problems.append(
                BuildProblem(
                    f"{label} is missing: set it in Organization settings.",
                    f"billing_provider.{field_name}",
                )
            )
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
) -> list[BuildProblem]:
    pcn = claim.patient_control_number
    problems = []

    def add(field: str, message: str) -> None:
        problems.append(BuildProblem(message, field, claim.pk, pcn))

    if require_ready and claim.status != ClaimStatus.READY:
        add("status", f"Claim {pcn} is {claim.get_status_display().lower()}, not ready.")
    if claim.coverage.relationship != "18" and not (
        claim.coverage.subscriber_last_name and claim.coverage.subscriber_date_of_birth
    ):
        add("subscriber", f"Claim {pcn}: the subscriber's name and birth date are missing.")
    if not claim.diagnosis_codes:
        add("diagnoses", f"Claim {pcn} has no diagnosis.")
    patient = claim.patient
    if not (patient.address_line1 and patient.city and patient.state and patient.postal_code):
        add(
            "subscriber.address" if claim.coverage.relationship == "18" else "patient.address",
            f"Claim {pcn}: the patient's address is missing (the 837 requires it): add it on "
            "the patient's page.",
        )
    if not lines:
        add("lines", f"Claim {pcn} has no service lines.")
    if claim.is_part2 and not part2_ok:
        add(
            "consent",
            f"Claim {pcn} holds Part 2 (substance use) records and no consent covers sending "
            "them to this payer.",
        )
    return problems


def _build_problem(problem: x12p.Problem, claim_ids: dict[str, Any]) -> BuildProblem:
    """The writer's problem with its claim: its fields read "claim <PCN>.<field>"."""
    head, _, rest = problem.field.partition(".")
    if head.startswith("claim ") and head.removeprefix("claim ") in claim_ids:
        pcn = head.removeprefix("claim ")
        return BuildProblem(problem.message, rest, claim_ids[pcn], pcn)
    return BuildProblem(problem.message, problem.field)


# Columns of the claim and its related rows the file and the release never read: not loading
# them saves parsing 60,000 timestamps (and the JSON of every payer row) in a 5,000-claim batch.
_STAMPS = ("created_at", "updated_at")
UNUSED_COLUMNS = (
    *_STAMPS, "scrubbed_at", "submitted_at",
    *(f"{relation}__{stamp}" for relation in (
        "patient", "coverage", "payer", "episode", "rendering_provider", "supervising_provider",
        "service_facility", "original_claim") for stamp in _STAMPS),
    "coverage__benefits_notes", "episode__clinical_notes", "payer__claim_form_by_level",
    "payer__auth_required_levels", "payer__auth_required_codes",
)  # fmt: skip


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


def _original_claim_number(claim: Claim) -> str:
    if claim.frequency == "1":
        return ""
    if claim.original_claim_id is not None:
        return claim.original_claim.payer_claim_number  # type: ignore[union-attr]
    return claim.payer_claim_number  # a correction recorded before claims were linked


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
        # REF*F8: the payer's claim control number of the claim this one replaces or voids.
        original_claim_number=_original_claim_number(claim),
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

    def numbered(self, batch: SubmissionBatch) -> PreparedBatch:
        """The same file with the control numbers, reference and time the batch was given."""
        assert batch.interchange_control_number and batch.envelope_created
        created = batch.envelope_created.astimezone(UTC).replace(tzinfo=None)
        envelope = dataclasses.replace(
            self.envelope,
            interchange_control_number=batch.interchange_control_number,
            group_control_number=batch.group_control_number or 0,
            transaction_control_number=batch.transaction_control_number or 0,
            created=created,
        )
        data = dataclasses.replace(self.data, reference=batch.reference, created=created)
        return dataclasses.replace(self, envelope=envelope, data=data)

    def render(self, on_progress: Callable[[int], None] | None = None) -> RenderedBatch:
        try:
            # batch_prepare ran the form's checks and refused the batch on any problem.
            form = (
                x12i.WRITER_837I if self.claim_form == ClaimForm.INSTITUTIONAL else x12p.WRITER_837P
            )
            text = form.render(self.data, self.envelope, self.writer, on_progress, checked=True)
        except X12Error as error:
            raise BatchRefused([error.message], [BuildProblem(error.message, "file")]) from error
        return RenderedBatch(text, self.claims, self.part2_consents)


def batch_prepare(*, batch: SubmissionBatch, claim: Claim | None = None) -> PreparedBatch:
    """The batch's X12 file from the database, with its recorded control numbers and time (so
    the same claims render to the same bytes), or placeholders when it has none yet (a file
    checked before it is numbered: `PreparedBatch.numbered` gives it its numbers). Six queries
    however many claims. Raises BatchRefused with the reasons, claims and fields when the data
    cannot make a valid 837."""
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
            "original_claim",
        ).defer(*UNUSED_COLUMNS)
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
                on_date=(batch.envelope_created or UNNUMBERED_TIME).date(),
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
    numbered = bool(batch.interchange_control_number)
    created = (batch.envelope_created or UNNUMBERED_TIME).astimezone(UTC).replace(tzinfo=None)
    numbers: dict[str, Any] = (
        {
            "interchange_control_number": batch.interchange_control_number,
            "group_control_number": batch.group_control_number,
            "transaction_control_number": batch.transaction_control_number,
        }
        if numbered
        else UNNUMBERED
    )
    reference = batch.reference if numbered else UNNUMBERED_REFERENCE
    envelope = Envelope(
        sender_id=ch.submitter_id,
        receiver_id=ch.receiver_id,
        sender_qualifier=ch.submitter_qualifier,
        receiver_qualifier=ch.receiver_qualifier,
        **numbers,
        created=created,
        version=VERSION[batch.claim_form],  # type: ignore[index]
        usage=batch.usage,
    )
    writer = SegmentWriter(_separators(ch), newline=ch.line_break_after_segment)
    if batch.claim_form == ClaimForm.INSTITUTIONAL:
        data: Any = x12i.Batch837I(submitter, receiver, billing, submissions, reference, created)  # fmt: skip
        found = x12i.check_837i(data)
    else:
        data = x12p.Batch837P(submitter, receiver, billing, submissions, reference, created)
        found = x12p.check_837p(data)
    claim_ids = {c.patient_control_number: c.pk for c in claims}
    refused = problems + [_build_problem(p, claim_ids) for p in found if keep(p)]
    if refused:
        raise BatchRefused.of(refused)
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
