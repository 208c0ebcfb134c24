"""Every change in reconciliation: bank accounts, statement imports (all or nothing), matching
deposits to ERAs (automatically by trace and amount, or by hand) and unmatching, the settings.

Reconciliation only reads the 835 payments (denials.Payment): it never changes a posted
payment's amount or anything else of it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Upper

from claims.models import ContractRate
from claims.selectors import contract_rate_for
from denials.models import Payment, RemittanceAdjustment, RemittanceLine
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.service_helpers import tenant_advisory_lock
from reconciliation import rules
from reconciliation.models import (
    BankAccount,
    Deposit,
    Match,
    MatchDeposit,
    MatchMethod,
    MatchPayment,
    ReconciliationSettings,
    StatementFormat,
    StatementImport,
    UnderpaymentItem,
    UnderpaymentOutcome,
)
from reconciliation.statements import (
    BankLine,
    CsvMapping,
    StatementError,
    is_bai2,
    parse_bai2,
    parse_csv,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
MATCH_CONSTRAINTS = ("matchdeposit_one_live_uniq", "matchpayment_one_live_uniq")


# --- Bank accounts ----------------------------------------------------------------------------


def _check_account_fields(
    *, name: str, account_number: str, csv_date_format: str, exclude_id: Any = None
) -> None:
    problems = []
    if not name.strip():
        problems.append(DomainError("Give the account a name.", field="name"))
    number = account_number.strip()
    if not number or not number.replace("-", "").isalnum() or len(number) > 40:
        problems.append(
            DomainError(
                "The account number as the bank's BAI2 files give it: letters, digits and "
                "dashes, up to 40.",
                field="account_number",
            )
        )
    elif BankAccount.objects.filter(account_number=number).exclude(pk=exclude_id).exists():
        problems.append(
            DomainError("Another bank account has this number.", field="account_number")
        )
    if csv_date_format:
        try:
            sample = date(2031, 12, 24)
            if datetime.strptime(sample.strftime(csv_date_format), csv_date_format).date() != (  # noqa: DTZ007
                sample
            ):
                raise ValueError
        except ValueError:
            problems.append(
                DomainError(
                    "A date format with day, month and year, such as %m/%d/%Y or %Y-%m-%d.",
                    field="csv_date_format",
                )
            )
    if problems:
        raise DomainError.combine(problems)


def bank_account_create(
    *,
    name: str,
    account_number: str,
    bank_name: str = "",
    csv_date_column: str = "Date",
    csv_date_format: str = "%m/%d/%Y",
    csv_amount_column: str = "Amount",
    csv_type_column: str = "Type",
    csv_reference_column: str = "Description",
) -> BankAccount:
    """Add a bank account with its CSV column mapping; the number is unique in the
    organization."""
    _check_account_fields(name=name, account_number=account_number, csv_date_format=csv_date_format)
    with transaction.atomic():
        try:
            with transaction.atomic():
                account = BankAccount.objects.create(
                    name=name.strip(),
                    bank_name=bank_name.strip(),
                    account_number=account_number.strip(),
                    csv_date_column=csv_date_column.strip(),
                    csv_date_format=csv_date_format.strip(),
                    csv_amount_column=csv_amount_column.strip(),
                    csv_type_column=csv_type_column.strip(),
                    csv_reference_column=csv_reference_column.strip(),
                )
        except IntegrityError:
            raise DomainError(
                "Another bank account has this number.", field="account_number"
            ) from None
        audit_record(action="bank_account.create", obj=account, detail={"name": account.name})
    return account


def bank_account_update(*, account_id: Any, **fields: str) -> BankAccount:
    """Change a bank account's name, bank or CSV mapping (its number too, if still unique)."""
    with transaction.atomic():
        account = BankAccount.objects.select_for_update().get(pk=account_id)
        merged = {
            f: fields.get(f, getattr(account, f))
            for f in (
                "name",
                "bank_name",
                "account_number",
                "csv_date_column",
                "csv_date_format",
                "csv_amount_column",
                "csv_type_column",
                "csv_reference_column",
            )
        }
        _check_account_fields(
            name=merged["name"],
            account_number=merged["account_number"],
            csv_date_format=merged["csv_date_format"],
            exclude_id=account.pk,
        )
        for field, value in merged.items():
            setattr(account, field, str(value).strip())
        account.save()
        audit_record(action="bank_account.update", obj=account, detail={"fields": sorted(fields)})
    return account


# --- Statement import -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    statement: StatementImport
    duplicate: bool  # the same file was imported before: nothing was imported now


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _natural_keys(lines: list[BankLine], accounts: dict[str, BankAccount]) -> list[str]:
    """Per line: account, date, amount, kind, type, trace, text, bank reference, and how many
    times the same combination came before it in the file (two $50 checks on one day stay two)."""
    seen: Counter[tuple[str, ...]] = Counter()
    keys = []
    for line in lines:
        parts = (
            str(accounts[line.account_number].pk),
            line.deposit_date.isoformat(),
            str(line.amount),
            line.kind,
            line.type_code,
            line.trace_number,
            line.reference,
            line.bank_reference,
        )
        seen[parts] += 1
        keys.append(hashlib.sha256("|".join((*parts, str(seen[parts]))).encode()).hexdigest())
    return keys


def _bai2_accounts(text: str, lines: list[BankLine]) -> dict[str, BankAccount]:
    """The organization's bank account for each account number of the file; an unknown number
    refuses the file, naming its 03 record."""
    numbers = {line.account_number for line in lines}
    known = {a.account_number: a for a in BankAccount.objects.filter(account_number__in=numbers)}
    for number in sorted(numbers - set(known)):
        at = next(
            (
                n
                for n, raw in enumerate(text.splitlines(), 1)
                if raw.strip().startswith(f"03,{number},")
            ),
            None,
        )
        raise DomainError(
            StatementError(
                f"The account ending {number[-4:]} is not one of this organization's bank "
                "accounts; add it under Bank accounts first. Nothing was imported.",
                line=at,
            ).message,
            field="file",
        )
    return known


def statement_import(
    *,
    file_name: str,
    content: bytes | str,
    bank_account_id: Any,
    uploaded_by: Any,
    now: datetime,
) -> ImportOutcome:
    """Import a bank statement (BAI2, or CSV read through `bank_account_id`'s mapping) whole or
    not at all: a malformed file is refused naming its line; the same file again imports
    nothing; a bank line already imported from another file is skipped. The new deposits are
    matched to ERAs by trace and amount in the same transaction."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if not raw.strip():
        raise DomainError("The file is empty.", field="file")
    if len(raw) > MAX_FILE_BYTES:
        raise DomainError("The file is larger than 20 MB; split it.", field="file")
    text = _decode(raw)
    if "\x00" in text:
        raise DomainError("The file is not text (it holds NUL bytes).", field="file")
    sha = hashlib.sha256(raw).hexdigest()
    account = None
    if bank_account_id:
        account = BankAccount.objects.filter(pk=bank_account_id).first()
        if account is None:
            raise DomainError("No such bank account.", field="bank_account")
    fmt = StatementFormat.BAI2 if is_bai2(text) else StatementFormat.CSV
    try:
        if fmt == StatementFormat.BAI2:
            statement = parse_bai2(text)
        else:
            if account is None:
                raise DomainError(
                    "Choose the bank account: a CSV is read through its column mapping.",
                    field="bank_account",
                )
            statement = parse_csv(
                text,
                CsvMapping(
                    date_column=account.csv_date_column,
                    date_format=account.csv_date_format,
                    amount_column=account.csv_amount_column,
                    type_column=account.csv_type_column,
                    reference_column=account.csv_reference_column,
                ),
            )
    except StatementError as exc:
        raise DomainError(f"{exc.message} Nothing was imported.", field="file") from None
    with transaction.atomic():
        tenant_advisory_lock(f"statement-import:{sha}")
        first = StatementImport.objects.filter(sha256=sha).first()
        if first is not None:
            return ImportOutcome(first, duplicate=True)
        if fmt == StatementFormat.BAI2:
            accounts = _bai2_accounts(text, statement.lines)
        else:
            assert account is not None
            accounts = {"": account}
        keys = _natural_keys(statement.lines, accounts)
        existing = set(
            Deposit.objects.filter(
                bank_account__in=list(accounts.values()), natural_key__in=keys
            ).values_list("natural_key", flat=True)
        )
        imp = StatementImport.objects.create(
            bank_account=account if fmt == StatementFormat.CSV or len(accounts) == 1 else None,
            file_name=(file_name or "statement")[:200],
            format=fmt,
            sha256=sha,
            debits_ignored=statement.debits_ignored,
            uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
        )
        if imp.bank_account is None and len(accounts) == 1:
            imp.bank_account = next(iter(accounts.values()))
        new = [
            Deposit(
                organization_id=imp.organization_id,
                bank_account=accounts[line.account_number],
                statement_import=imp,
                deposit_date=line.deposit_date,
                amount=line.amount,
                kind=line.kind,
                type_code=line.type_code,
                trace_number=line.trace_number,
                payer_identifier=line.payer_identifier,
                reference=line.reference,
                bank_reference=line.bank_reference,
                natural_key=key,
            )
            for line, key in zip(statement.lines, keys, strict=True)
            if key not in existing
        ]
        Deposit.objects.bulk_create(new)
        imp.deposits_created = len(new)
        imp.deposits_skipped = len(statement.lines) - len(new)
        imp.auto_matched = auto_match(deposit_ids=[d.pk for d in new], payment_ids=(), now=now)
        imp.save()
        audit_record(
            action="statement.import",
            obj=imp,
            detail={
                "format": fmt,
                "deposits": imp.deposits_created,
                "skipped": imp.deposits_skipped,
                "matched": imp.auto_matched,
            },
        )
    return ImportOutcome(imp, duplicate=False)


# --- Matching ---------------------------------------------------------------------------------


def matchable_payments() -> QuerySet[Payment]:
    """ERAs that moved money to the organization: a positive credit, not a "no payment" BPR."""
    return Payment.objects.filter(amount__gt=0).exclude(method="NON").exclude(credit_debit="D")


def unmatched_deposits() -> QuerySet[Deposit]:
    live = MatchDeposit.objects.filter(deposit=OuterRef("pk"), active=True)
    return Deposit.objects.filter(~Exists(live))


def unmatched_payments() -> QuerySet[Payment]:
    live = MatchPayment.objects.filter(payment=OuterRef("pk"), active=True)
    return matchable_payments().filter(~Exists(live))


def _money(rows: Iterable[Any]) -> list[rules.Money]:
    return [rules.Money(r.pk, r.trace_number, r.payer_identifier, r.amount) for r in rows]


def _new_match(
    *,
    deposits: list[Deposit],
    payments: list[Payment],
    method: str,
    reason: str,
    actor: Any,
    now: datetime,
) -> Match:
    match = Match.objects.create(
        method=method,
        deposit_total=sum((d.amount for d in deposits), Decimal("0")),
        payment_total=sum((p.amount for p in payments), Decimal("0")),
        reason=reason,
        matched_by=actor if getattr(actor, "pk", None) else None,
        matched_at=now,
    )
    MatchDeposit.objects.bulk_create(
        [
            MatchDeposit(organization_id=match.organization_id, match=match, deposit=d)
            for d in deposits
        ]
    )
    MatchPayment.objects.bulk_create(
        [
            MatchPayment(organization_id=match.organization_id, match=match, payment=p)
            for p in payments
        ]
    )
    return match


def auto_match(*, deposit_ids: Collection[Any], payment_ids: Collection[Any], now: datetime) -> int:
    """Match each of these deposits (or ERAs) to the one unmatched ERA (or deposit) with the same
    trace and amount (reconciliation.rules.trace_pairs); anything else waits for a person. Safe
    to run twice: matched rows are no longer candidates. Returns how many matches it made."""
    if not deposit_ids and not payment_ids:
        return 0
    with transaction.atomic():
        seeds = set(
            Deposit.objects.filter(pk__in=list(deposit_ids)).values_list("trace_number", flat=True)
        ) | set(
            Payment.objects.filter(pk__in=list(payment_ids)).values_list("trace_number", flat=True)
        )
        traces = {rules.normal_trace(t) for t in seeds if rules.normal_trace(t)}
        if not traces:
            return 0
        deposits = list(
            unmatched_deposits()
            .annotate(trace_key=Upper("trace_number"))
            .filter(trace_key__in=traces)
            .select_for_update(of=("self",))
        )
        payments = list(
            unmatched_payments()
            .annotate(trace_key=Upper("trace_number"))
            .filter(trace_key__in=traces)
            .select_for_update(of=("self",))
        )
        by_id_d = {d.pk: d for d in deposits}
        by_id_p = {p.pk: p for p in payments}
        made = 0
        for deposit_id, payment_id in rules.trace_pairs(_money(deposits), _money(payments)):
            match = _new_match(
                deposits=[by_id_d[deposit_id]],
                payments=[by_id_p[payment_id]],
                method=MatchMethod.TRACE,
                reason="",
                actor=None,
                now=now,
            )
            audit_record(
                action="reconciliation.match",
                obj=match,
                detail={"method": "trace", "deposits": 1, "payments": 1},
            )
            made += 1
    return made


def match_create(
    *,
    deposit_ids: Collection[Any],
    payment_ids: Collection[Any],
    reason: str,
    actor: Any,
    now: datetime,
) -> Match:
    """Match deposits to ERAs by hand (one deposit to several ERAs, several deposits to one
    ERA, or several of each). Their totals must agree unless a reason is given; none of them may
    be in a live match already."""
    reason = (reason or "").strip()
    deposit_ids, payment_ids = list(dict.fromkeys(deposit_ids)), list(dict.fromkeys(payment_ids))
    problems = []
    if not deposit_ids:
        problems.append(DomainError("Choose at least one deposit.", field="deposits"))
    if not payment_ids:
        problems.append(DomainError("Choose at least one ERA.", field="payments"))
    if problems:
        raise DomainError.combine(problems)
    with transaction.atomic():
        deposits = list(
            Deposit.objects.filter(pk__in=deposit_ids).select_for_update().order_by("pk")
        )
        payments = list(
            Payment.objects.filter(pk__in=payment_ids).select_for_update().order_by("pk")
        )
        if len(deposits) != len(deposit_ids):
            problems.append(DomainError("No such deposit.", field="deposits"))
        if len(payments) != len(payment_ids):
            problems.append(DomainError("No such ERA.", field="payments"))
        for p in payments:
            if p.amount <= 0 or p.method == "NON" or p.credit_debit == "D":
                problems.append(
                    DomainError(
                        f"The ERA {p.trace_number} moved no money to you (${p.amount}); there is "
                        "no deposit to match it to.",
                        field="payments",
                    )
                )
        taken_d = MatchDeposit.objects.filter(deposit__in=deposits, active=True).select_related(
            "deposit"
        )
        for link in taken_d:
            problems.append(
                DomainError(
                    f"The deposit of {link.deposit.deposit_date} for ${link.deposit.amount} is "
                    "already matched; unmatch it first.",
                    field="deposits",
                )
            )
        taken_p = MatchPayment.objects.filter(payment__in=payments, active=True).select_related(
            "payment"
        )
        for plink in taken_p:
            problems.append(
                DomainError(
                    f"The ERA {plink.payment.trace_number} is already matched; unmatch it first.",
                    field="payments",
                )
            )
        if problems:
            raise DomainError.combine(problems)
        deposit_total = sum((d.amount for d in deposits), Decimal("0"))
        payment_total = sum((p.amount for p in payments), Decimal("0"))
        if deposit_total != payment_total and not reason:
            raise DomainError(
                f"The deposits total ${deposit_total} and the ERAs ${payment_total} (a difference "
                f"of ${deposit_total - payment_total}); give a reason to match them anyway.",
                field="reason",
            )
        try:
            with transaction.atomic():
                match = _new_match(
                    deposits=deposits,
                    payments=payments,
                    method=MatchMethod.MANUAL,
                    reason=reason,
                    actor=actor,
                    now=now,
                )
        except IntegrityError as exc:
            if not any(name in str(exc) for name in MATCH_CONSTRAINTS):
                raise
            raise DomainError(
                "One of these was matched by someone else a moment ago; reload and check.",
                field="deposits",
            ) from None
        audit_record(
            action="reconciliation.match",
            obj=match,
            detail={
                "method": "manual",
                "deposits": len(deposits),
                "payments": len(payments),
                "difference": str(match.difference),
            },
        )
    return match


def match_delete(*, match_id: Any, reason: str, actor: Any, now: datetime) -> Match:
    """Unmatch: the deposits and ERAs are free again; the match stays on record with who, when
    and why. A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why this match is undone.", field="reason")
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match_id)
        if not match.active:
            raise DomainError("This match was already undone.", field="reason")
        match.active = False
        match.unmatch_reason = reason
        match.unmatched_by = actor if getattr(actor, "pk", None) else None
        match.unmatched_at = now
        match.save()
        MatchDeposit.objects.filter(match=match).update(active=False)
        MatchPayment.objects.filter(match=match).update(active=False)
        audit_record(action="reconciliation.unmatch", obj=match, detail={"method": match.method})
    return match


# --- Settings ---------------------------------------------------------------------------------


def reconciliation_settings_update(
    *, era_without_deposit_days: int, suggestion_window_days: int
) -> ReconciliationSettings:
    """Set when an ERA without a deposit is queued (1 to 90 days) and how many days apart an
    ERA's and a deposit's dates may be for a suggestion (0 to 30)."""
    problems = []
    if not 1 <= era_without_deposit_days <= 90:
        problems.append(DomainError("From 1 to 90 days.", field="era_without_deposit_days"))
    if not 0 <= suggestion_window_days <= 30:
        problems.append(DomainError("From 0 to 30 days.", field="suggestion_window_days"))
    if problems:
        raise DomainError.combine(problems)
    with transaction.atomic():
        found, _ = ReconciliationSettings.objects.update_or_create(
            defaults={
                "era_without_deposit_days": era_without_deposit_days,
                "suggestion_window_days": suggestion_window_days,
            }
        )
        audit_record(action="reconciliation_settings.update", obj=found)
    return found


# --- Underpayments ----------------------------------------------------------------------------

CENT = Decimal("0.01")


@dataclass(frozen=True)
class UnderpaymentCheck:
    """What checking one posted 835 against the contracts found, line by line."""

    created: int = 0
    within_tolerance: int = 0
    without_contract: int = 0
    already_checked: int = 0


def underpayment_variance(
    *,
    contracted_allowed: Decimal,
    units: Decimal,
    patient_responsibility: Decimal,
    paid: Decimal,
    tolerance_amount: Decimal,
    tolerance_percent: Decimal,
) -> tuple[Decimal, Decimal, bool]:
    """(expected, variance, underpaid): expected = contracted allowed x units - the patient
    responsibility; variance = expected - paid; underpaid when the variance is more than the
    tolerance amount and more than the tolerance percent of the expected payment."""
    expected = (contracted_allowed * units - patient_responsibility).quantize(CENT)
    variance = (expected - paid).quantize(CENT)
    tolerance = max(tolerance_amount, (expected * tolerance_percent / 100).quantize(CENT))
    return expected, variance, variance > tolerance and variance > 0


def underpayments_check(*, import_id: Any, today: date) -> UnderpaymentCheck:
    """Compare each paid line of a posted 835 with the contract rate for its payer, code,
    modifiers and provider level; record an UnderpaymentItem for each line paid under the
    expected amount by more than the tolerance. A line without a contract row records nothing
    (and is counted). Lines already checked are skipped: running it twice adds nothing. The
    organization's own work (outbox subscriber): it sees every row, Part 2 included."""
    lines = list(
        RemittanceLine.objects.filter(
            remittance_claim__payment__remittance_import_id=import_id,
            remittance_claim__claim__isnull=False,
            claim_line__isnull=False,
            paid__gt=0,
        )
        .exclude(remittance_claim__status_code="22")  # reversals take money back, not pay
        .select_related(
            "remittance_claim__payment",
            "remittance_claim__claim",
            "claim_line__rendering_provider",
        )
        .order_by("pk")
    )
    if not lines:
        return UnderpaymentCheck()
    settings_row = ReconciliationSettings.objects.first() or ReconciliationSettings()
    done = set(
        UnderpaymentItem.objects.filter(remittance_line__in=lines).values_list(
            "remittance_line_id", flat=True
        )
    )
    patient_share: dict[Any, Decimal] = {}
    for line_id, amount in RemittanceAdjustment.objects.filter(
        remittance_line__in=lines, group_code="PR"
    ).values_list("remittance_line_id", "amount"):
        patient_share[line_id] = patient_share.get(line_id, Decimal("0")) + amount
    rates: dict[Any, list[Any]] = {}
    for rate in ContractRate.objects.filter(
        payer_id__in={rl.remittance_claim.claim.payer_id for rl in lines},
        service_code__in={rl.claim_line.service_code for rl in lines},
    ):
        rates.setdefault(rate.payer_id, []).append(rate)

    created = within = missing = already = 0
    new_items: list[UnderpaymentItem] = []
    for rl in lines:
        if rl.pk in done:
            already += 1
            continue
        claim, claim_line = rl.remittance_claim.claim, rl.claim_line
        rate = contract_rate_for(claim_line, rates.get(claim.payer_id, []))
        if rate is None:
            missing += 1
            continue
        units = rl.units if rl.units else Decimal(claim_line.units)
        pr = patient_share.get(rl.pk, Decimal("0"))
        expected, variance, underpaid = underpayment_variance(
            contracted_allowed=rate.allowed,
            units=units,
            patient_responsibility=pr,
            paid=rl.paid,
            tolerance_amount=settings_row.underpayment_tolerance_amount,
            tolerance_percent=settings_row.underpayment_tolerance_percent,
        )
        if not underpaid:
            within += 1
            continue
        new_items.append(
            UnderpaymentItem(
                remittance_line=rl,
                claim=claim,
                claim_line=claim_line,
                payer_id=claim.payer_id,
                contract_rate=rate,
                service_code=claim_line.service_code,
                date_of_service=claim_line.date_of_service,
                remittance_date=rl.remittance_claim.payment.payment_date or today,
                units=units,
                contracted_allowed=rate.allowed,
                allowed=rl.allowed,
                patient_responsibility=pr,
                expected=expected,
                paid=rl.paid,
                variance=variance,
            )
        )
    with transaction.atomic():
        for item in new_items:
            item.save(force_insert=True)
            audit_record(
                action="underpayment.create",
                obj=item,
                patient_id=item.claim.patient_id,
                detail={"variance": str(item.variance)},
            )
            created += 1
    return UnderpaymentCheck(
        created=created, within_tolerance=within, without_contract=missing, already_checked=already
    )


def underpayment_resolve(
    *,
    scopes: Collection[str],
    item_id: Any,
    outcome: str,
    reason: str,
    recovered_amount: Decimal | None,
    actor: Any,
    now: datetime,
) -> UnderpaymentItem:
    """Close an underpayment: recovered (with the amount the payer paid back, up to the
    variance), written off, or the contract rate was wrong. A reason is required. Another
    organization's item, or a Part 2 one without the grant: UnderpaymentItem.DoesNotExist."""
    reason = (reason or "").strip()
    problems = []
    closing = {c for c in UnderpaymentOutcome.values if c != UnderpaymentOutcome.OPEN}
    if outcome not in closing:
        problems.append(
            DomainError(f"Choose one of: {', '.join(sorted(closing))}.", field="outcome")
        )
    if not reason:
        problems.append(DomainError("Say why this underpayment is closed.", field="reason"))
    if outcome == UnderpaymentOutcome.RECOVERED and (
        recovered_amount is None or recovered_amount <= 0
    ):
        problems.append(DomainError("Enter the amount recovered.", field="recovered_amount"))
    if outcome != UnderpaymentOutcome.RECOVERED and recovered_amount:
        problems.append(
            DomainError("Only a recovered underpayment has an amount.", field="recovered_amount")
        )
    if problems:
        raise DomainError.combine(problems)
    with transaction.atomic():
        item = (
            part2.visible(UnderpaymentItem.objects.all(), scopes)
            .select_for_update()
            .get(pk=item_id)
        )
        if item.outcome != UnderpaymentOutcome.OPEN:
            raise DomainError(
                f"This underpayment was already closed ({item.get_outcome_display()}).",
                field="outcome",
            )
        if recovered_amount is not None and recovered_amount > item.variance:
            raise DomainError(
                f"More than the variance (${item.variance}).", field="recovered_amount"
            )
        item.outcome = outcome
        item.recovered_amount = (recovered_amount or Decimal("0")).quantize(CENT)
        item.resolution_reason = reason
        item.resolved_by = actor if getattr(actor, "pk", None) else None
        item.resolved_at = now
        item.save()
        audit_record(
            action="underpayment.resolve",
            obj=item,
            patient_id=item.claim.patient_id,
            detail={"outcome": outcome, "recovered_amount": str(item.recovered_amount)},
        )
    return item


def underpayment_tolerance_update(*, amount: Decimal, percent: Decimal) -> ReconciliationSettings:
    """Set the underpayment tolerance: a line paid under its expected payment by no more than
    `amount` dollars (0 to 1,000) or `percent` of the expected payment (0 to 50) is not queued."""
    problems = []
    if not Decimal("0") <= amount <= Decimal("1000"):
        problems.append(DomainError("From $0 to $1,000.", field="underpayment_tolerance_amount"))
    if not Decimal("0") <= percent <= Decimal("50"):
        problems.append(
            DomainError("From 0 to 50 percent.", field="underpayment_tolerance_percent")
        )
    if problems:
        raise DomainError.combine(problems)
    with transaction.atomic():
        found, _ = ReconciliationSettings.objects.update_or_create(
            defaults={
                "underpayment_tolerance_amount": amount.quantize(CENT),
                "underpayment_tolerance_percent": percent.quantize(CENT),
            }
        )
        audit_record(action="reconciliation_settings.update", obj=found)
    return found
