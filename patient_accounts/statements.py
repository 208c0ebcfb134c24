"""Services of patient statements (issue 20 item 3): the organization's statement settings, the
statement run of a cycle (one statement per guarantor whose balance reaches the minimum) and
its execution by an outbox handler with progress counts, and the PDFs.

Each statement is a snapshot kept as history: the ledger lines since the guarantor's last
statement, the open charges, insurance paid, the amount owed, aging and the message by age.
42 CFR Part 2: a line from a Part 2 claim on a statement to a guarantor other than the patient
shows the organization's generic label (`part2_service_label`) unless the patient signed a
consent naming that guarantor (`rules.guarantor_consent`; fail closed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Sum
from django.template.loader import render_to_string

from patient_accounts import rules
from patient_accounts.models import (
    ZERO,
    AccountSettings,
    ChargeBalance,
    LedgerEntry,
    Relationship,
    RunStatus,
    Statement,
    StatementRun,
)
from patient_accounts.services import (
    _lock_patient,
    account_credit,
    account_settings,
    guarantor_of,
)
from patients.models import Consent, Patient
from rcm.audit.services import audit_record
from rcm.errors import DomainError, ErrorCollector
from rcm.outbox.services import outbox_enqueue

RUN_TOPIC = "patient_accounts.statement_run"
CENT = Decimal("0.01")
MESSAGE_FIELDS = (
    "message_friendly",
    "message_reminder",
    "message_past_due",
    "message_final_notice",
)
REMIT_FIELDS = (
    "remit_to_name",
    "remit_to_address_line1",
    "remit_to_address_line2",
    "remit_to_city",
    "remit_to_state",
    "remit_to_postal_code",
)
SETTINGS_FIELDS = (
    "statement_cycle_day",
    "statement_minimum",
    *MESSAGE_FIELDS,
    "part2_service_label",
    *REMIT_FIELDS,
)


# --- Settings ---------------------------------------------------------------------------------


def statement_settings_set(*, data: dict[str, Any]) -> AccountSettings:
    """Set the organization's statement settings; every bad field is named, nothing changes."""
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    try:
        day = int(str(data.get("statement_cycle_day", "")).strip())
        if not 1 <= day <= 28:
            raise ValueError
        clean["statement_cycle_day"] = day
    except ValueError:
        errors.add("Enter a day of the month from 1 to 28.", field="statement_cycle_day")
    try:
        minimum = Decimal(str(data.get("statement_minimum", "")).strip())
        if (
            not minimum.is_finite()
            or minimum < 0
            or minimum > 10000
            or minimum != minimum.quantize(CENT)
        ):
            raise ValueError
        clean["statement_minimum"] = minimum
    except (InvalidOperation, ValueError):
        errors.add("Enter an amount from 0.00 to 10000.00.", field="statement_minimum")
    for name in (*MESSAGE_FIELDS, "part2_service_label"):
        text = " ".join(str(data.get(name, "")).split())
        limit = getattr(AccountSettings._meta.get_field(name), "max_length", 0) or 0
        if not text:
            errors.add("Write the text: it is empty.", field=name)
        elif len(text) > limit:
            errors.add(f"At most {limit} characters.", field=name)
        clean[name] = text
    for name in REMIT_FIELDS:
        text = " ".join(str(data.get(name, "")).split())
        limit = getattr(AccountSettings._meta.get_field(name), "max_length", 0) or 0
        if len(text) > limit:
            errors.add(f"At most {limit} characters.", field=name)
        clean[name] = text
    if clean.get("remit_to_address_line1") and not (
        clean.get("remit_to_city")
        and clean.get("remit_to_state")
        and clean.get("remit_to_postal_code")
    ):
        errors.add("A remit-to address needs a city, state and ZIP code.", field="remit_to_city")
    if clean.get("remit_to_state") and not (
        len(clean["remit_to_state"]) == 2 and clean["remit_to_state"].isalpha()
    ):
        errors.add("Use the two-letter state code.", field="remit_to_state")
    errors.raise_any()
    with transaction.atomic():
        settings = account_settings(create=True)
        settings = AccountSettings.objects.select_for_update().get(pk=settings.pk)
        for name, value in clean.items():
            setattr(settings, name, value.upper() if name == "remit_to_state" else value)
        settings.save()
        audit_record(
            action="patient_accounts.statement_settings",
            obj=settings,
            detail={"statement_cycle_day": clean["statement_cycle_day"]},
        )
    return settings


def remit_to(settings: AccountSettings, organization: Any) -> dict[str, str]:
    """Where payments go: the remit-to address when set, else the organization's own."""
    if settings.remit_to_address_line1:
        return {
            "name": settings.remit_to_name or organization.name,
            "line1": settings.remit_to_address_line1,
            "line2": settings.remit_to_address_line2,
            "city": settings.remit_to_city,
            "state": settings.remit_to_state,
            "postal_code": settings.remit_to_postal_code,
        }
    return {
        "name": organization.name,
        "line1": organization.address_line1,
        "line2": organization.address_line2,
        "city": organization.city,
        "state": organization.state,
        "postal_code": organization.postal_code,
    }


# --- The run ----------------------------------------------------------------------------------


def statement_run_create(*, cycle: str, today: date, user: Any = None) -> StatementRun:
    """Start the statement run of `cycle` (YYYY-MM), dated `today`; the statements are made by
    the outbox handler. A second run of the same cycle is refused on `cycle`, nothing changed."""
    cycle = (cycle or "").strip()
    if not rules.cycle_valid(cycle):
        raise DomainError(
            "Enter the cycle as a month, YYYY-MM (for example 2026-03).", field="cycle"
        )
    with transaction.atomic():
        # The settings row, locked, serializes two runs started at once.
        settings = account_settings(create=True)
        AccountSettings.objects.select_for_update().get(pk=settings.pk)
        if StatementRun.objects.filter(cycle=cycle).exists():
            raise DomainError(
                f"Statements for {cycle} were already run: a cycle is run once.", field="cycle"
            )
        run = StatementRun.objects.create(cycle=cycle, statement_date=today, created_by=user)
        outbox_enqueue(
            topic=RUN_TOPIC,
            payload={"run_id": str(run.pk)},
            idempotency_key=f"statement-run:{run.pk}",
        )
        audit_record(action="statement_run.create", obj=run, detail={"cycle": cycle})
    return run


def _candidates() -> list[Any]:
    return sorted(
        set(ChargeBalance.objects.filter(balance__gt=0).values_list("patient_id", flat=True)),
        key=str,
    )


def statement_run_execute(*, run_id: Any, now: datetime) -> StatementRun:
    """Make the run's statements, one account per transaction, counting as it goes. Safe to run
    again from the start: an account with a statement in this run is skipped."""
    run = StatementRun.objects.get(pk=run_id)
    if run.status == RunStatus.DONE:
        return run
    patient_ids = _candidates()
    with transaction.atomic():
        StatementRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, accounts_total=len(patient_ids)
        )
    settings = account_settings()
    for patient_id in patient_ids:
        with transaction.atomic():
            if Statement.objects.filter(run=run, patient_id=patient_id).exists():
                continue
            statement = statement_build(run=run, patient_id=patient_id, settings=settings, now=now)
            StatementRun.objects.filter(pk=run.pk).update(
                accounts_done=F("accounts_done") + 1,
                statements_count=F("statements_count") + (1 if statement else 0),
                skipped_count=F("skipped_count") + (0 if statement else 1),
                amount_total=F("amount_total") + (statement.amount_due if statement else ZERO),
            )
    with transaction.atomic():
        StatementRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, finished_at=now)
        run.refresh_from_db()
        audit_record(
            action="statement_run.finish",
            obj=run,
            detail={"statements": run.statements_count, "skipped": run.skipped_count},
        )
    return run


def _guarantor_identity(patient: Patient) -> tuple[bool, str, dict[str, str]]:
    guarantor = guarantor_of(patient=patient)
    is_self = guarantor.relationship == Relationship.SELF
    person: Any = patient if is_self else guarantor
    name = f"{person.first_name} {person.last_name}".strip()
    address = {
        k: getattr(person, k) or ""
        for k in ("address_line1", "address_line2", "city", "state", "postal_code")
    }
    return is_self, name, address


def statement_build(
    *, run: StatementRun, patient_id: Any, settings: AccountSettings, now: datetime
) -> Statement | None:
    """One account's statement (in the caller's transaction), or None when its balance is zero,
    a credit or under the minimum. Sets `first_statement_on` on the charges first billed."""
    patient = _lock_patient(patient_id)
    today = run.statement_date
    charges = list(
        ChargeBalance.objects.filter(patient=patient, balance__gt=0)
        .select_related("claim")
        .order_by("date_of_service", "created_at")
    )
    credit = account_credit(patient=patient)
    amount_due = sum((c.balance for c in charges), ZERO) - credit
    if amount_due <= ZERO or amount_due < settings.statement_minimum:
        return None
    is_self, name, address = _guarantor_identity(patient)
    consent = None
    if not is_self:
        consent = rules.guarantor_consent(
            Consent.objects.filter(patient=patient), guarantor_name=name, on_date=today
        )
    mask = not is_self and consent is None
    label = settings.part2_service_label

    def service(cb: ChargeBalance | None, text: str) -> tuple[str, bool]:
        if cb is None or not cb.claim.is_part2:
            return text, False
        return (label if mask else text), True

    previous = (
        Statement.objects.filter(patient=patient)
        .exclude(run=run)
        .order_by("-statement_date", "-created_at")
        .first()
    )
    since = previous.through_sequence if previous else 0
    entries = list(
        LedgerEntry.objects.filter(patient=patient, sequence__gt=since)
        .select_related("charge_balance__claim")
        .order_by("sequence")
    )
    through = LedgerEntry.objects.filter(patient=patient).aggregate(m=Max("sequence"))["m"] or 0
    has_part2 = False
    lines = []
    for e in entries:
        if e.patient_amount == ZERO and e.insurance_amount == ZERO:
            continue
        text, is_p2 = service(e.charge_balance, e.description or e.get_kind_display())
        has_part2 = has_part2 or is_p2
        lines.append(
            {
                "date": e.posted_on.isoformat(),
                "service_date": e.charge_balance.date_of_service.isoformat()
                if e.charge_balance
                else "",
                "description": text if not (is_p2 and mask) else f"{e.get_kind_display()}: {label}",
                "insurance": str(e.insurance_amount),
                "patient": str(e.patient_amount),
            }
        )
    first_billed = [c.pk for c in charges if c.first_statement_on is None]
    ChargeBalance.objects.filter(pk__in=first_billed).update(first_statement_on=today)
    for c in charges:
        if c.first_statement_on is None:
            c.first_statement_on = today
    aging = rules.aging_totals(((c.aging_from or today, c.balance) for c in charges), today=today)
    charge_rows = []
    for c in charges:
        text, is_p2 = service(c, c.procedure_code)
        has_part2 = has_part2 or is_p2
        charge_rows.append(
            {
                "date_of_service": c.date_of_service.isoformat(),
                "service": text,
                "billed": str(c.billed),
                "insurance_paid": str(c.insurance_paid),
                "adjusted": str(c.adjusted),
                "patient_paid": str(c.patient_paid + c.written_off),
                "balance": str(c.balance),
            }
        )
    level = rules.message_level(aging)
    statement = Statement.objects.create(
        run=run,
        patient=patient,
        statement_date=today,
        guarantor_name=name,
        guarantor_address=address,
        through_sequence=through,
        lines=lines,
        charges=charge_rows,
        previous_balance=previous.amount_due if previous else ZERO,
        insurance_paid=sum((c.insurance_paid for c in charges), ZERO),
        amount_due=amount_due,
        aging={k: str(v) for k, v in aging.items()},
        message_level=level,
        message=getattr(settings, f"message_{level}"),
        part2=has_part2,
    )
    # A domain event for the apps above (webhooks: statement.sent).
    outbox_enqueue(
        topic="patient_accounts.statement_sent",
        payload={"statement_id": str(statement.pk)},
        idempotency_key=f"patient_accounts.statement_sent:{statement.pk}",
    )
    audit_record(
        action="statement.create",
        obj=statement,
        patient_id=patient.pk,
        part2=has_part2,
        detail={"amount_due": str(amount_due), "part2_label": bool(has_part2 and mask)},
    )
    if has_part2 and consent is not None:
        audit_record(
            action="part2.disclosure",
            obj=consent,
            patient_id=patient.pk,
            part2=True,
            detail={"consent_id": str(consent.pk), "recipient": name, "what": "patient statement"},
        )
    return statement


# --- PDFs -------------------------------------------------------------------------------------


def statement_html(statements: list[Statement], *, organization: Any) -> str:
    settings = account_settings()
    return render_to_string(
        "patient_accounts/statement.html",
        {
            "statements": statements,
            "organization": organization,
            "remit_to": remit_to(settings, organization),
        },
    )


def statement_pdf(statements: list[Statement], *, organization: Any) -> bytes:
    """One PDF of the statements, each starting on its own page (one for a guarantor, all of a
    run for printing)."""
    from weasyprint import HTML

    return HTML(string=statement_html(statements, organization=organization)).write_pdf()  # type: ignore[no-any-return]


def run_amount(run: StatementRun) -> Decimal:
    return Statement.objects.filter(run=run).aggregate(s=Sum("amount_due"))["s"] or ZERO
