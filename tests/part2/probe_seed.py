"""The Part 2 probe's organization: everything of tests/tenant_data.py (one visible row of every
tenant model, so no page is empty) plus a patient whose only episode is a substance use program,
with a record of every kind that belongs to it.

Named `probe_seed`, not `probe_data`: tests/tenant_data.py builds every `tests/*/probe_data.py`
into both organizations of the isolation probe, and this seed is for the Part 2 probe alone.

`build_part2(org)` returns the markers: strings that must appear on no page, export or API answer
of a member without the Part 2 grant (the identity ones may appear on the patient pages).
"""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Model

from alerts.models import Alert, Area
from alerts.services import AlertSpec, alerts_raise
from authorizations import services as auth_services
from claims import services as claim_services
from claims.models import Claim, ClaimLine, ContractRate, ServiceEntry
from denials import models as dm
from interfaces.models import HeldMessage, Hl7Message
from patient_accounts import models as pa
from patients import services as patient_services
from patients.models import Note, Payer
from rcm import crypto, part2
from rcm.audit.models import AuditEvent
from rcm.audit.services import audit_record
from rcm.tenancy.models import Organization, TenantModel
from reconciliation.models import UnderpaymentItem
from submissions import services as batch_services
from submissions.models import (
    Acknowledgment,
    BatchClaim,
    ClaimRejection,
    ClaimStatusInquiry,
    ClaimStatusRequest,
    Clearinghouse,
    EligibilityBatch,
    EligibilityBatchItem,
    SubmissionBatch,
)
from tests import clock
from tests.clock import days_ago, months_ago, today, years_ago
from tests.credentialing.factories import billable_provider

D = Decimal

FIRST_NAME = "Zebulon"
LAST_NAME = "Quixtonmarsh"
MRN = "P2-ZQX-40417"
SUD_CODE = "F11.20"  # opioid dependence: used by no other seed
AUTH_NUMBER = "PA-QXM-771903"
# The Part 2 charge's amount (a distinctive figure: a page that shows it shows the record).
AMOUNT = D("4321.09")
ALERT_TITLE = f"Authorization {AUTH_NUMBER} for {FIRST_NAME} {LAST_NAME} expires soon"


@dataclass
class Part2Seed:
    patient: Any
    episode: Any
    authorization: Any
    claim_denied: Claim  # submitted, batched, remitted, denied, appealed, in the work queue
    claim_ready: Claim  # ready to batch (bulk actions must leave it alone)
    open_entry: ServiceEntry  # an unbilled charge (claims build must leave it alone)
    work_item: Any
    secondary: Any
    alerts: list[Alert]
    audit_events: list[AuditEvent]
    batch: SubmissionBatch
    # Identity: may appear on the patient pages only.
    identity: list[str] = field(default_factory=list)
    # Everything else: may appear nowhere for a member without the grant.
    records: list[str] = field(default_factory=list)
    # Ids of the Part 2 rows, by model (404 for a member without the grant).
    ids_by_model: dict[type[Model], list[str]] = field(default_factory=dict)


def _id_forms(pk: Any) -> list[str]:
    value = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    return [str(value), value.hex]


def _flag_kw(func: Any, name: str = "part2") -> dict[str, Any]:
    """`part2=True` when the service takes it (the flag is coming to alerts and audit events)."""
    try:
        return {name: True} if name in inspect.signature(func).parameters else {}
    except (TypeError, ValueError):
        return {}


def _spec(**kwargs: Any) -> AlertSpec:
    names = {f.name for f in dataclasses.fields(AlertSpec)}
    return AlertSpec(**kwargs, **({"part2": True} if "part2" in names else {}))


def build_part2(org: Organization) -> Part2Seed:
    """Inside tenant_context(org), after build_tenant_data(org)."""
    payer = Payer.objects.order_by("created_at").first()
    assert payer is not None
    patient = patient_services.patient_create(
        today=today(),
        mrn=MRN,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        date_of_birth=date(1984, 7, 19),
        sex="M",
    )
    coverage = patient_services.coverage_create(
        patient=patient, payer=payer, member_id="ZQX-MEMBER-77", effective_date=years_ago(2)
    )
    secondary_payer = patient_services.payer_create(
        name="Part 2 probe secondary plan", payer_id="P2SEC", payer_type="medicaid"
    )
    secondary_coverage = patient_services.coverage_create(
        patient=patient,
        payer=secondary_payer,
        member_id="ZQX-MCD-88",
        effective_date=years_ago(2),
        priority=2,
    )
    episode = patient_services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="substance_use",
        admission_date=months_ago(3),
        level="1",
    )
    patient_services.diagnosis_add(episode=episode, code=SUD_CODE)
    authorization = auth_services.authorization_create(
        episode=episode,
        coverage=coverage,
        level="1",
        unit_type="per_diem",
        units_requested=30,
        units_approved=30,
        start_date=months_ago(3),
        end_date=days_ago(-5),
        status="approved",
        auth_number=AUTH_NUMBER,
        requested_on=months_ago(3) - timedelta(days=2),
        decided_on=months_ago(3) - timedelta(days=1),
        next_review_on=days_ago(-3),
        today=today(),
    )
    auth_services.authorization_record_usage(
        episode=episode,
        payer=payer,
        level="1",
        unit_type="per_diem",
        date_of_service=months_ago(2, day=2),
        units=1,
        authorization=authorization,
    )
    provider = billable_provider(org, payer)

    def session(day: Any) -> ServiceEntry:
        start = datetime.combine(day, time(10), tzinfo=UTC)
        return claim_services.service_entry_create(
            scopes=part2.ORGANIZATION,
            patient=patient,
            episode=episode,
            rendering_provider=provider,
            date_of_service=day,
            kind="psychotherapy",
            start_at=start,
            end_at=start + timedelta(minutes=45),
            charge=AMOUNT,
            today=today(),
        )

    denied_day, ready_day, open_day = months_ago(2, day=9), months_ago(1, day=13), days_ago(3)
    first, second = session(denied_day), session(ready_day)
    claims = []
    for entry in (first, second):  # one claim each (a patient's month would be one claim)
        report = claim_services.claims_build(
            scopes=part2.ORGANIZATION,
            entry_ids=[entry.pk],
            today=entry.date_of_service + timedelta(days=1),
        )
        assert len(report.claims) == 1, report.skipped
        claims.append(report.claims[0])
    claim_denied, claim_ready = claims
    open_entry = session(open_day)
    # A care-management month (collaborative care minutes, rolled up) on the SUD episode.
    claim_services.care_minutes_add(
        patient=patient, episode=episode, program="cocm", staff_name="Care manager",
        performed_on=ready_day, minutes=40, today=today(), scopes=part2.ORGANIZATION,
    )  # fmt: skip
    claim_services.care_month_rollup(month=ready_day.replace(day=1), now=clock.now())
    Claim.objects.filter(pk=claim_ready.pk).update(status="ready")
    Claim.objects.filter(pk=claim_denied.pk).update(status="denied")
    claim_denied.refresh_from_db()
    claim_ready.refresh_from_db()
    assert claim_denied.is_part2 and claim_ready.is_part2

    # A released batch of the denied claim (its file is the claim's real 837).
    clearinghouse = Clearinghouse.objects.order_by("created_at").first()
    text, _problems = batch_services.claim_x12_preview(claim=claim_denied, now=clock.now())
    batch = SubmissionBatch.objects.create(
        clearinghouse=clearinghouse, claim_form=claim_denied.claim_form, status="released",
        interchange_control_number=90, group_control_number=90, transaction_control_number=90,
        claim_count=1, progress_total=1, progress_done=1,
        file_name="837P_part2_000000090.x12", content=text or f"ISA*{LAST_NAME}~",
    )  # fmt: skip
    BatchClaim.objects.create(batch=batch, claim=claim_denied, position=1)
    ack = Acknowledgment.objects.create(
        kind="277CA", batch=batch, sha256=f"part2-probe-{org.slug}", content="ISA*part2~",
        source="upload", summary="277CA: 0 accepted, 1 rejected", rejected_count=1,
    )  # fmt: skip
    ClaimRejection.objects.create(
        claim=claim_denied, batch=batch, acknowledgment=ack, source="277CA",
        reason=f"Subscriber {LAST_NAME} not found",
    )  # fmt: skip
    # A claim status answer (277) about it.
    status_request = ClaimStatusRequest.objects.create(
        clearinghouse=clearinghouse, payer=claim_denied.payer, transport="batch",
        status="answered", reference=f"CSRPROBE{org.slug[:10]}", requested_at=clock.now(),
        answered_at=clock.now(),
    )  # fmt: skip
    ClaimStatusInquiry.objects.create(
        request=status_request, claim=claim_denied, trace_number=f"CSPROBE{org.slug[:10]}",
        answered_at=clock.now(), category_code="F2", status_code="88", action="denied",
        status_text=f"Finalized: denied ({LAST_NAME})",
    )  # fmt: skip

    # An eligibility batch checked the coverage for the substance use episode.
    eligibility = EligibilityBatch.objects.create(
        clearinghouse=clearinghouse, status="done", started_at=clock.now(),
        finished_at=clock.now(), total=1, checked=1, failed=1,
    )  # fmt: skip
    EligibilityBatchItem.objects.create(
        batch=eligibility, coverage=coverage, episode=episode, status="error",
        error=f"NM1: the 271 names member ZQX-MEMBER-77 ({LAST_NAME})",
    )  # fmt: skip

    # The 835: the payer's check that paid the visible claim also denies this one.
    line = ClaimLine.objects.filter(claim=claim_denied).order_by("line_number").first()
    assert line is not None
    payment = dm.Payment.objects.order_by("created_at").first()
    assert payment is not None
    paid_on = days_ago(12)
    deadline = paid_on + timedelta(days=180)
    rc = dm.RemittanceClaim.objects.create(
        payment=payment,
        claim=claim_denied,
        patient_control_number=claim_denied.patient_control_number,
        status_code="1",
        charge=line.charge,
        paid=D("0"),
    )
    rl = dm.RemittanceLine.objects.create(
        remittance_claim=rc,
        claim_line=line,
        service_code=line.service_code,
        charge=line.charge,
        paid=D("0"),
    )
    dm.RemittanceAdjustment.objects.create(
        remittance_claim=rc,
        remittance_line=rl,
        group_code="CO",
        reason_code="197",
        amount=line.charge,
    )
    dm.RemittanceException.objects.create(
        remittance_import=payment.remittance_import,
        remittance_claim=rc,
        kind="unmatched_line",
        message=f"Line of {claim_denied.patient_control_number} did not match",
    )
    # Reconciliation's underpayment queue names the claim (Part 2 through it); the contract row
    # is no Part 2 record, so it carries none of the claim's amounts.
    rate = ContractRate.objects.create(
        payer_id=claim_denied.payer_id, service_code=line.service_code, modifier="ZQ",
        allowed=D("1.00"), effective_from=years_ago(9),
    )  # fmt: skip
    UnderpaymentItem.objects.create(
        remittance_line=rl, claim=claim_denied, claim_line=line, payer_id=claim_denied.payer_id,
        contract_rate=rate, service_code=line.service_code, date_of_service=line.date_of_service,
        remittance_date=paid_on, units=D("1"), contracted_allowed=D("1.00"),
        patient_responsibility=D("0"), expected=D("1.00"), paid=D("0"), variance=D("1.00"),
    )  # fmt: skip
    # The patient's account (patient_accounts): a balance on the Part 2 claim's line, its ledger
    # entry and a write-off, each Part 2 through the claim.
    charge_balance = pa.ChargeBalance.objects.create(
        patient=patient, claim=claim_denied, claim_line=line, date_of_service=line.date_of_service,
        procedure_code=line.service_code, billed=line.charge, patient_responsibility=D("31.17"),
        written_off=D("4.17"), balance=D("27.00"), responsible_since=paid_on,
    )  # fmt: skip
    pa.PatientWriteOff.objects.create(
        patient=patient, charge_balance=charge_balance, amount=D("4.17"),
        reason=f"Probe write-off for {SUD_CODE}", status="approved",
    )  # fmt: skip
    pa.LedgerEntry.objects.create(
        patient=patient, charge_balance=charge_balance, kind="patient_responsibility",
        sequence=1, balance_after=D("31.17"), posted_on=paid_on, patient_amount=D("31.17"),
        description=f"{line.service_code} for {SUD_CODE}",
    )  # fmt: skip
    # A statement listing the Part 2 line (patient_accounts: Flag("part2"), set when made).
    statement_run = pa.StatementRun.objects.create(
        cycle=f"{paid_on:%Y-%m}", statement_date=paid_on, status="done", accounts_total=1,
        accounts_done=1, statements_count=1, amount_total=D("27.00"),
    )  # fmt: skip
    pa.Statement.objects.create(
        run=statement_run, patient=patient, statement_date=paid_on,
        guarantor_name=f"{FIRST_NAME} {LAST_NAME}",
        lines=[{"description": f"{line.service_code} for {SUD_CODE}", "amount": "27.00"}],
        amount_due=D("27.00"), message_level="friendly", message="Thank you", part2=True,
    )  # fmt: skip
    dm.LineBalance.objects.create(
        claim=claim_denied, claim_line=line, charge=line.charge, denied=line.charge
    )
    secondary = dm.SecondaryClaim.objects.create(
        primary_claim=claim_denied,
        remittance_claim=rc,
        coverage=secondary_coverage,
        payer=secondary_payer,
        amount=line.charge,
        primary_paid=D("0"),
        primary_adjudication={
            "payer_claim_number": "ZQX-PAYER-CLAIM",
            "adjudication_date": paid_on.isoformat(),
            "paid": "0",
            "patient_responsibility": "0",
            "payer_name": payer.name,
            "payer_id": payer.payer_id,
            "subscriber_last_name": LAST_NAME,
            "subscriber_first_name": FIRST_NAME,
            "member_id": "ZQX-MEMBER-77",
            "claim_adjustments": [],
            "lines": [
                {
                    "line_control_number": line.line_control_number,
                    "service_entry_id": str(line.service_entry_id),
                    "modifiers": [],
                    "revenue_code": "",
                    "service_code": line.service_code,
                    "paid": "0",
                    "units": "1",
                    "date_of_service": line.date_of_service.isoformat(),
                    "adjustments": [{"group": "CO", "reason": "197", "amount": str(line.charge)}],
                }
            ],
        },
    )
    # tenant_data's secondary names the primary's own coverage (building it is refused, which
    # would stop "build every one" before it reached this one): it is taken as crossed over.
    dm.SecondaryClaim.objects.exclude(pk=secondary.pk).update(status="crossed_over")
    denial = dm.Denial.objects.create(
        claim=claim_denied,
        claim_line=line,
        remittance_claim=rc,
        remittance_line=rl,
        payer=claim_denied.payer,
        group_code="CO",
        carc="197",
        category="authorization",
        amount=line.charge,
        remittance_date=paid_on,
        appeal_deadline=deadline,
    )
    work_item = dm.WorkItem.objects.create(
        kind="denial",
        source_id=denial.pk,
        claim=claim_denied,
        payer=claim_denied.payer,
        title=f"Denied: {claim_denied.patient_control_number} {LAST_NAME}",
        category="authorization",
        amount=line.charge,
        deadline=deadline,
        priority_score=D("999999"),  # first in line: "take next" reaches it
        is_due=True,
        status_changed_on=paid_on,
        opened_on=paid_on,
    )
    dm.WorkItemEvent.objects.create(work_item=work_item, to_status="new")
    dm.Appeal.objects.create(
        denial=denial,
        level="level_1",
        deadline=deadline,
        letter_body=f"Re: {FIRST_NAME} {LAST_NAME}, authorization {AUTH_NUMBER}, {SUD_CODE}.",
    )
    dm.WriteOff.objects.create(
        claim=claim_denied, claim_line=line, amount=D("21.09"), reason="Part 2 probe",
        status="pending",
    )  # fmt: skip

    # A note on the Part 2 claim (patients.Note: Flag("part2"), copied from the claim).
    Note.objects.create(
        patient=patient,
        subject_type="claim",
        subject_id=claim_denied.pk,
        body=f"Called the payer about {SUD_CODE}, authorization {AUTH_NUMBER}.",
        part2=True,
    )

    # A charge the EHR sent for the Part 2 episode, held for an unknown provider
    # (interfaces: Flag("part2"), set when the message is received).
    message = Hl7Message.objects.create(
        control_id="PROBE-PART2",
        message_type="DFT^P03",
        channel="https",
        status="held",
        raw_encrypted=crypto.encrypt(
            f"MSH|^~\\&|EHR|CLINIC|PARITY|ORG|20261201090000||DFT^P03|PROBE-PART2|P|2.5.1\r"
            f"PID|1||{MRN}^^^CLINIC^MR||{LAST_NAME}^{FIRST_NAME}\rDG1|1||{SUD_CODE}"
        ),
        ack_encrypted=crypto.encrypt("MSA|AA|PROBE-PART2|Held for review"),
        patient=patient,
        part2=True,
    )
    HeldMessage.objects.create(
        message=message, reason="unknown_provider", detail="FT1-20 NPI 1999999992", part2=True
    )

    # An event about the Part 2 claim sent to a webhook endpoint an owner allowed Part 2 events
    # (webhooks.WebhookDelivery: Flag("part2"), from the claim).
    from webhooks.services import endpoint_create, endpoint_part2_set, event_emit

    hook = endpoint_create(
        url="https://93.184.215.14/part2-hook", event_types=["claim.status_changed"]
    ).endpoint
    endpoint_part2_set(endpoint_id=hook.pk, allowed=True)
    event_emit(
        event_type="claim.status_changed",
        data={"claim_id": str(claim_denied.pk), "from": "accepted", "to": "denied"},
        subject=f"claim:{claim_denied.pk}",
        part2=part2.is_part2(claim_denied),
        now=clock.now(),
    )

    alerts = alerts_raise(
        specs=[
            _spec(
                area=Area.AUTHORIZATIONS,
                kind="authorization.expiring",
                dedupe_key=f"authorization.expiring:{authorization.pk}",
                title=ALERT_TITLE,
                message=f"{SUD_CODE} episode; authorization {AUTH_NUMBER}.",
                subject_type="authorizations.authorization",
                subject_id=authorization.pk,
                patient_id=patient.pk,
                link_path=f"/o/{org.slug}/authorizations/{authorization.pk}/",
                due_on=days_ago(-5),
            ),
            _spec(
                area=Area.AUTHORIZATIONS,
                kind="authorization.review_due",
                dedupe_key=f"authorization.review_due:{authorization.pk}",
                title=f"Concurrent review due: {AUTH_NUMBER}",
                subject_type="authorizations.authorization",
                subject_id=authorization.pk,
                patient_id=patient.pk,
                due_on=days_ago(-3),
            ),
        ]
    )
    alerts = list(Alert.objects.filter(subject_id=authorization.pk))
    if hasattr(Alert, "part2"):
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(part2=True)

    flag = _flag_kw(audit_record)
    audit_events = [
        audit_record(
            action="claim.view", obj=claim_denied, patient_id=patient.pk,
            detail={"diagnosis": SUD_CODE, "auth_number": AUTH_NUMBER}, **flag,
        ),
        audit_record(
            action="authorization.view", obj=authorization, patient_id=patient.pk,
            detail={"auth_number": AUTH_NUMBER}, **flag,
        ),
        audit_record(
            action="episode.view", obj=episode, patient_id=patient.pk,
            detail={"program_type": "substance_use", "diagnosis": SUD_CODE}, **flag,
        ),
    ]  # fmt: skip

    seed = Part2Seed(
        patient=patient,
        episode=episode,
        authorization=authorization,
        claim_denied=claim_denied,
        claim_ready=claim_ready,
        open_entry=open_entry,
        work_item=work_item,
        secondary=secondary,
        alerts=alerts,
        audit_events=audit_events,
        batch=batch,
    )
    seed.identity = [FIRST_NAME, LAST_NAME, MRN, *_id_forms(patient.pk)]
    seed.ids_by_model = part2_ids_by_model(extra_alerts=[a.pk for a in alerts])
    ids = [i for pks in seed.ids_by_model.values() for i in pks]
    seed.records = sorted(
        {
            SUD_CODE,
            AUTH_NUMBER,
            f"{AMOUNT}",
            f"{AMOUNT:,}",
            claim_denied.patient_control_number,
            claim_ready.patient_control_number,
            *(form for i in ids for form in _id_forms(i)),
        }
    )
    return seed


def part2_ids_by_model(extra_alerts: list[Any] = ()) -> dict[type[Model], list[str]]:  # type: ignore[assignment]
    """The ids of every Part 2 row of the organization, by model, read through the access
    layer's own rules (alerts by their flag once it exists, else the probe's own alerts; audit
    events are left out: the trail may say that an event happened)."""
    found: dict[type[Model], list[str]] = {}
    for label, rule in part2.RULES.items():
        model = apps.get_model(label)
        if model is AuditEvent:
            continue
        if isinstance(rule, part2.Flag) and not _has_field(model, rule.field):
            pks = list(extra_alerts) if model is Alert else []
        else:
            pks = list(model.objects.filter(rule.q()).values_list("pk", flat=True))
        found[model] = sorted(str(pk) for pk in pks)
    return found


def _has_field(model: type[Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def visible_ids_by_model() -> dict[type[Model], list[str]]:
    """The ids of the rows a member without the grant may see, by tenant model."""
    hidden = {m: set(ids) for m, ids in part2_ids_by_model().items()}
    out: dict[type[Model], list[str]] = {}
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        pks = [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)]
        if model is Alert and not _has_field(Alert, "part2"):
            hidden[model] = {
                str(pk)
                for pk in Alert.objects.filter(title__contains=LAST_NAME).values_list(
                    "pk", flat=True
                )
            } | {
                str(pk)
                for pk in Alert.objects.filter(title__contains=AUTH_NUMBER).values_list(
                    "pk", flat=True
                )
            }
        label = model._meta.label
        if label not in part2.RULES and label not in part2.NOT_PART2 and part2.reaches_part2(model):
            continue  # hidden whole from a member without the grant
        out[model] = [pk for pk in pks if pk not in hidden.get(model, set())]
    return out
