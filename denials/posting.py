"""835 posting: match every CLP/SVC to our claims and lines, record payments, adjustments,
balances, denials and exceptions, and move claim statuses. Set-based: a fixed number of queries
per file (bulk inserts, grouped updates), one transaction per file.

Called by denials.services (remittance_import_create / remittance_post); not a public surface.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from claims.models import Claim, ClaimEvent, ClaimLine, ClaimStatus
from claims.services import TRANSITIONS
from denials import models as m
from denials import rules
from patients.models import Coverage, Payer
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id
from x12.remit835 import ClaimPayment, Remittance, Remittance835File, ServiceLine

ZERO = Decimal("0.00")
BATCH = 2000
PROGRESS_EVERY = 500
PROGRESS_TIMEOUT = 0.5  # seconds

logger = logging.getLogger(__name__)


def progress_key(import_id: Any) -> str:
    return f"denials:remit-progress:{import_id}"


def _progress_redis() -> Any:
    """A client with short timeouts: a slow or absent Redis costs a posting at most a moment."""
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROGRESS_TIMEOUT, socket_connect_timeout=PROGRESS_TIMEOUT
    )


def progress_write(import_id: Any, done: int) -> None:
    """Write the live progress to Redis (the posting transaction is not visible until it
    commits)."""
    _progress_redis().set(progress_key(import_id), done, ex=3600)


def progress_set(import_id: Any, done: int) -> bool:
    """Best-effort: any error writing the progress (Redis down, a timeout) is logged and ignored,
    so it never fails or rolls back a posting. Answers whether it was written."""
    if not getattr(settings, "REDIS_URL", ""):
        return False
    try:
        progress_write(import_id, done)
    except Exception:
        logger.warning("remittance progress not written for import %s", import_id, exc_info=True)
        return False
    return True


def progress_get(remittance_import: m.RemittanceImport) -> int:
    """The live progress of a running import, else (or when Redis cannot answer) the row's own."""
    if getattr(settings, "REDIS_URL", "") and remittance_import.status == "running":
        try:
            value = _progress_redis().get(progress_key(remittance_import.pk))
        except Exception:
            logger.warning("remittance progress not read", exc_info=True)
            value = None
        if value is not None:
            return int(value)
    return remittance_import.processed_claims


def reference_codes() -> tuple[dict[str, rules.Reason], dict[str, str]]:
    reasons = {
        code: rules.Reason(kind, category)
        for code, kind, category in m.AdjustmentReason.objects.values_list(
            "code", "kind", "category"
        )
    }
    remarks = {
        code: cat for code, cat in m.RemarkCode.objects.values_list("code", "category") if cat
    }
    return reasons, remarks


@dataclass
class Summary:
    payments: int = 0
    duplicate_payments: int = 0
    claims: int = 0
    matched_claims: int = 0
    lines: int = 0
    paid: Decimal = ZERO
    adjusted: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    denied_lines: int = 0
    denied_amount: Decimal = ZERO
    unmatched: int = 0
    reversals: int = 0
    crossovers: int = 0
    secondary_claims: int = 0
    provider_adjustments: Decimal = ZERO
    status_changes: int = 0
    status_unchanged: list[str] = field(default_factory=list)
    rows_posted: int = 0
    insert_statements: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = str(value) if isinstance(value, Decimal) else value
        out["status_unchanged"] = self.status_unchanged[:50]
        return out


@dataclass
class _Rows:
    payments: list[m.Payment] = field(default_factory=list)
    claims: list[m.RemittanceClaim] = field(default_factory=list)
    lines: list[m.RemittanceLine] = field(default_factory=list)
    adjustments: list[m.RemittanceAdjustment] = field(default_factory=list)
    plbs: list[m.ProviderAdjustment] = field(default_factory=list)
    exceptions: list[m.RemittanceException] = field(default_factory=list)
    denials: list[m.Denial] = field(default_factory=list)
    secondaries: list[m.SecondaryClaim] = field(default_factory=list)
    work_items: list[m.WorkItem] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(v) for v in self.__dict__.values())


def fast_insert(
    model: type[models.Model], objs: list[Any], *, now: datetime, chunk: int = 20_000
) -> int:
    """INSERT ... SELECT FROM unnest(arrays): one statement per chunk with one array parameter
    per column. Several times faster than bulk_create for tens of thousands of rows (no
    per-value Django preparation), and, unlike COPY FROM, it works under row-level security.
    The objects must be complete: keys, organization and defaults already set. Returns the
    number of statements sent (they bypass Django's query log). A row without `updated_at`
    gets `now` (the poster's one write time)."""
    if not objs:
        return 0
    org_id = require_organization_id()
    if any(o.organization_id != org_id for o in objs):
        # Row-level security would refuse it too; say it before anything is sent.
        raise PermissionError("Refusing to insert rows of another organization.")
    fields = list(model._meta.concrete_fields)
    if connection.vendor != "postgresql":  # the embedded SQLite of `make run`: plain ORM inserts
        rows = [_instance(model, fields, o, now) for o in objs]
        model._default_manager.bulk_create(rows, batch_size=chunk)  # type: ignore[attr-defined]
        return -(-len(objs) // chunk)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)  # type: ignore[arg-type]
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(objs), chunk):
            part = objs[start : start + chunk]
            # A column holding one value in every row (the organization, the write time, a
            # default) is sent once, not as an array of copies: dumping arrays value by value is
            # most of the cost of a large insert.
            selected: list[str] = []
            constants: list[Any] = []
            arrays: list[tuple[list[Any], str | None]] = []
            for f in fields:
                values = [getattr(o, f.attname) for o in part]
                if f.attname == "updated_at":
                    values = [v or now for v in values]
                elif isinstance(f, models.DecimalField):
                    # A model default (0) beside computed Decimals: one array needs one type.
                    values = [Decimal(v) if isinstance(v, int) else v for v in values]
                db_type = f.db_type(connection)
                first = values[0]
                if values.count(first) == len(values) and (
                    first is None or len({v.__class__ for v in values}) == 1
                ):
                    if first is None:
                        selected.append(f"NULL::{db_type}")
                    else:
                        selected.append(f"%b::{db_type}")
                        is_json = isinstance(f, models.JSONField)
                        constants.append(Jsonb(first) if is_json else first)
                    continue
                if isinstance(f, models.JSONField):
                    values = [None if v is None else Jsonb(v) for v in values]
                selected.append(f"v.c{len(arrays)}")
                arrays.append((values, db_type))
            # %b: binary parameters on a server-side-binding cursor. Django's client-side cursor
            # would inline every array as an escaped literal (a regex search per string).
            # Identifiers come from the model's metadata; every value is a bound parameter.
            unnest = ", ".join(f"%b::{db_type}[]" for _, db_type in arrays)
            aliases = ", ".join(f"c{i}" for i in range(len(arrays)))
            source = f" FROM unnest({unnest}) AS v({aliases})" if arrays else ""
            if not arrays:  # every row the same: still one row per object
                source = f" FROM generate_series(1, {len(part)})"
            sql = f"INSERT INTO {table} ({names}) SELECT {', '.join(selected)}{source}"
            cursor.execute(sql, [*constants, *(values for values, _ in arrays)])
    return -(-len(objs) // chunk)


def _instance(model: type[models.Model], fields: Any, obj: Any, now: Any) -> models.Model:
    values = {f.attname: getattr(obj, f.attname) for f in fields}
    if "updated_at" in values:
        values["updated_at"] = now
    return model(**values)


def fast_update(
    model: type[models.Model], objs: list[Any], field_names: list[str], *, now: datetime
) -> None:
    """UPDATE ... FROM unnest(arrays) for many rows of the organization in context; their
    `updated_at` becomes `now` (the poster's write time, not the database server's clock)."""
    if not objs:
        return
    meta = model._meta
    fields = [meta.get_field(n) for n in field_names]
    if connection.vendor != "postgresql":  # the embedded SQLite of `make run`
        org_id = require_organization_id()
        if any(o.organization_id != org_id for o in objs):
            raise PermissionError("Refusing to update rows of another organization.")
        rows = [_instance(model, meta.concrete_fields, o, now) for o in objs]
        model._default_manager.bulk_update(rows, [*field_names, "updated_at"])  # type: ignore[attr-defined]
        return
    table = connection.ops.quote_name(meta.db_table)
    sets = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.c{i}"  # type: ignore[arg-type,union-attr]
        for i, f in enumerate(fields)
    )
    casts = ", ".join(["%s::uuid[]"] + [f"%s::{f.db_type(connection)}[]" for f in fields])
    aliases = ", ".join(["id"] + [f"c{i}" for i in range(len(fields))])
    # Identifiers come from the model's metadata; every value is a bound parameter.
    head = f"UPDATE {table} AS t SET {sets}, updated_at = %s::timestamptz "  # noqa: S608
    tail = f"FROM unnest({casts}) AS v({aliases}) WHERE t.id = v.id AND t.organization_id = %s"
    sql = head + tail
    params: list[Any] = [now, [o.pk for o in objs]]
    params += [[getattr(o, f.attname) for o in objs] for f in fields]  # type: ignore[union-attr]
    params.append(require_organization_id())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# uuid4's bits: version 4 (bits 76-79) and the RFC 4122 variant (bits 62-63).
_UUID4_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
_new_uuid = object.__new__
_set_slot = object.__setattr__
_ids: list[uuid.UUID] = []


def new_id() -> uuid.UUID:
    """A random (version 4) UUID, as uuid.uuid4() makes, from 16 KiB of os.urandom at a time
    and without UUID.__init__'s checks: a large 835 takes 165,000 of them."""
    if not _ids:
        data = os.urandom(16 * 1024)
        for start in range(0, len(data), 16):
            value = int.from_bytes(data[start : start + 16]) & _UUID4_KEEP | _UUID4_SET
            key = _new_uuid(uuid.UUID)
            _set_slot(key, "int", value)
            _set_slot(key, "is_safe", uuid.SafeUUID.unknown)
            _ids.append(key)
    return _ids.pop()


_ROW_DEFAULTS: dict[type[models.Model], tuple[dict[str, Any], list[tuple[str, Any]]]] = {}


def light_row(model: type[models.Model], now: Any, **values: Any) -> Any:
    """A plain object with every column of `model` (defaults filled, a fresh UUID key), for
    fast_insert: building ~200,000 Django model instances costs seconds that posting a large
    835 should not spend. Pass foreign keys by attname (`claim_id=`)."""
    spec = _ROW_DEFAULTS.get(model)
    if spec is None:
        constant: dict[str, Any] = {}
        made: list[tuple[str, Any]] = []  # callable defaults (a fresh list, dict...) per row
        for f in model._meta.concrete_fields:
            if f.attname in {"id", "created_at", "updated_at"}:
                continue
            if f.has_default() and callable(f.default):
                constant[f.attname] = None  # keeps the column order
                made.append((f.attname, f.default))
            elif f.has_default():
                constant[f.attname] = f.default
            else:
                constant[f.attname] = None if f.null else f.get_default()
        spec = _ROW_DEFAULTS[model] = (constant, made)
    constant, made = spec
    row = SimpleNamespace(**constant)
    data = row.__dict__
    for name, default in made:
        data[name] = default()
    key = data["id"] = new_id()
    data["created_at"] = data["updated_at"] = now
    data.update(values)
    row.pk = key
    return row


class Poster:
    """Posts one parsed, balanced 835 file for the organization in context."""

    def __init__(
        self, *, org_id: uuid.UUID, remittance_import: m.RemittanceImport, today: date
    ) -> None:
        self.org_id = org_id
        self.imp = remittance_import
        self.today = today
        self.reasons, self.remarks = reference_codes()
        self.rows = _Rows()
        self.summary = Summary()
        self.balances: dict[uuid.UUID, m.LineBalance] = {}
        self.new_balances: list[m.LineBalance] = []
        self.claim_targets: dict[uuid.UUID, str] = {}
        self.payer_claim_numbers: dict[uuid.UUID, str] = {}
        self.done = 0
        self.progress_ok = True
        self.now = timezone.now()  # when the rows are written (a stamp; decisions use `today`)
        self.event_note = f"835 import {remittance_import.file_name}"[:300]

    # --- loading -----------------------------------------------------------------------------

    def _load(self, parsed: Remittance835File) -> None:
        self._load_claims({c.patient_control_number for c in parsed.claims})
        traces = [(r.payer_identifier, r.trace_number) for r in parsed.remittances]
        self.existing_traces = set(
            m.Payment.objects.filter(trace_number__in=[t for _, t in traces]).values_list(
                "payer_identifier", "trace_number"
            )
        )
        payer_ids = set()
        for r in parsed.remittances:
            payer_ids.add(r.payer_identifier)
            if r.payer:
                payer_ids.update({r.payer.identifier, r.payer.references.get("2U", "")})
        self.payers_by_id = {
            p.payer_id: p for p in Payer.objects.filter(payer_id__in=payer_ids - {""})
        }

    def _load_claims(self, pcns: set[str]) -> None:
        """Our claims with these patient control numbers, their lines and balances, and the
        patients' secondary coverages (also what matching an exception by hand needs)."""
        self.claims = {
            c.patient_control_number: c
            for c in Claim.objects.filter(patient_control_number__in=pcns)
            .select_related("payer")
            .only(
                "id",
                "organization_id",
                "patient_id",
                "coverage_id",
                "status",
                "statement_from",
                "patient_control_number",
                "payer_claim_number",
                "payer__id",
                "payer__name",
                "payer__appeal_window_days",
            )
        }
        claim_ids = [c.pk for c in self.claims.values()]
        self.lines_by_claim: dict[uuid.UUID, list[ClaimLine]] = defaultdict(list)
        # Plain rows, not model instances: a 10,000-claim file has 30,000 lines to look up.
        for row in (
            ClaimLine.objects.filter(claim_id__in=claim_ids)
            .order_by("line_number")
            .values(
                "id",
                "claim_id",
                "line_control_number",
                "service_code",
                "date_of_service",
                "charge",
                "line_number",
                "service_entry_id",
                "modifiers",
                "revenue_code",
            )
        ):
            self.lines_by_claim[row["claim_id"]].append(SimpleNamespace(pk=row["id"], **row))  # type: ignore[arg-type]
        self.balances = {
            b.claim_line_id: b for b in m.LineBalance.objects.filter(claim_id__in=claim_ids)
        }
        patient_ids = {c.patient_id for c in self.claims.values()}
        self.secondary_coverage: dict[uuid.UUID, list[Coverage]] = defaultdict(list)
        for cov in Coverage.objects.filter(patient_id__in=patient_ids, priority__gte=2).order_by(
            "priority"
        ):
            self.secondary_coverage[cov.patient_id].append(cov)

    # --- posting -----------------------------------------------------------------------------

    def post(self, parsed: Remittance835File) -> Summary:
        self._load(parsed)
        for remit in parsed.remittances:
            self._payment(remit)
        self._write()
        return self.summary

    def _payment(self, remit: Remittance) -> None:
        if (remit.payer_identifier, remit.trace_number) in self.existing_traces:
            # The same payment trace seen before (another file, or a resend): post nothing.
            self.summary.duplicate_payments += 1
            self.done += len(remit.claims)
            return
        self.existing_traces.add((remit.payer_identifier, remit.trace_number))
        payer = next(
            (
                self.payers_by_id[k]
                for k in (
                    (remit.payer.references.get("2U", "") if remit.payer else ""),
                    remit.payer_identifier,
                    remit.payer.identifier if remit.payer else "",
                )
                if k and k in self.payers_by_id
            ),
            None,
        )
        if payer is None:
            matched = next(
                (
                    self.claims[c.patient_control_number]
                    for c in remit.claims
                    if c.patient_control_number in self.claims
                ),
                None,
            )
            payer = matched.payer if matched else None
        payment = m.Payment(
            organization_id=self.org_id,
            remittance_import=self.imp,
            payer=payer,
            payer_name=remit.payer.name if remit.payer else "",
            payer_identifier=remit.payer_identifier,
            trace_number=remit.trace_number or remit.control_number,
            amount=remit.payment_amount,
            credit_debit=remit.credit_debit,
            method=remit.payment_method,
            handling_code=remit.handling_code,
            payment_date=remit.payment_date,
            provider_adjustment_total=remit.provider_adjustment_total,
        )
        self.rows.payments.append(payment)
        self.summary.payments += 1
        remit_date = remit.payment_date or remit.production_date or self.today
        for clp in remit.claims:
            self._claim(payment, clp, remit_date)
            self.done += 1
            if self.done % PROGRESS_EVERY == 0 and self.progress_ok:
                # Best-effort; after one failure this posting stops trying (no repeated timeouts
                # while it holds its locks).
                self.progress_ok = progress_set(self.imp.pk, self.done)
        for plb in remit.provider_adjustments:
            for item in plb.items:
                self.rows.plbs.append(
                    m.ProviderAdjustment(
                        organization_id=self.org_id,
                        payment=payment,
                        provider_identifier=plb.provider_identifier,
                        reason_code=item.reason_code,
                        reference=item.reference,
                        amount=item.amount,
                    )
                )
                self.summary.provider_adjustments += item.amount

    def _claim(self, payment: m.Payment, clp: ClaimPayment, remit_date: date) -> None:
        claim = self.claims.get(clp.patient_control_number)
        self.summary.claims += 1
        rc = m.RemittanceClaim(
            organization_id=self.org_id,
            payment=payment,
            claim=claim,
            patient_control_number=clp.patient_control_number,
            status_code=clp.status_code,
            charge=clp.charge,
            paid=clp.paid,
            patient_responsibility=clp.patient_responsibility,
            payer_claim_number=clp.payer_claim_control_number,
            crossover_payer_name=clp.crossover_carrier.name if clp.crossover_carrier else "",
            remark_codes=clp.remark_codes,
            segment_position=clp.segment_position,
        )
        self.rows.claims.append(rc)
        self.summary.paid += clp.paid
        if clp.is_reversal:
            self.summary.reversals += 1
        if rc.crossover_payer_name:
            self.summary.crossovers += 1
        for cas in clp.adjustments:
            self._adjustment(rc, None, cas)
        if claim is None:
            self._exception(
                rc,
                None,
                m.ExceptionKind.UNMATCHED_CLAIM,
                f"Claim {clp.patient_control_number} (CLP at segment {clp.segment_position}) is "
                f"not one of ours: paid {clp.paid}.",
                clp.paid,
            )
            for svc in clp.lines:
                self._line(rc, None, svc, matched=False)
            return
        self._post_claim(claim, rc, clp, remit_date)

    def _post_claim(
        self, claim: Claim, rc: m.RemittanceClaim, clp: ClaimPayment, remit_date: date
    ) -> None:
        """Post a CLP matched to one of our claims: its SVCs to the claim's lines (REF*6R, then
        the fallback), balances, denials, the claim's next status and the secondary claim."""
        self.summary.matched_claims += 1
        if clp.payer_claim_control_number and not claim.payer_claim_number:
            self.payer_claim_numbers[claim.pk] = clp.payer_claim_control_number
        available = list(self.lines_by_claim[claim.pk])
        by_lcn = {line.line_control_number: line for line in available}
        outcomes: list[tuple[Decimal, Decimal]] = []
        matched_lines: list[tuple[ClaimLine, m.RemittanceLine, rules.LineSplit, ServiceLine]] = []
        claim_split = rules.split_adjustments(
            [rules.Cas(a.group_code, a.reason_code, a.amount) for a in clp.adjustments],
            self.reasons,
        )
        for svc in clp.lines:
            line = (
                by_lcn.get(svc.line_item_control_number) if svc.line_item_control_number else None
            )
            if line is None:
                line = _fallback_match(available, svc)
            if line is not None and line in available:
                available.remove(line)
            rl = self._line(rc, line, svc, matched=line is not None)
            if line is None:
                self._exception(
                    rc,
                    rl,
                    m.ExceptionKind.UNMATCHED_LINE,
                    f"Line {svc.procedure_code} ${svc.charge} (SVC at segment "
                    f"{svc.segment_position}) of claim {clp.patient_control_number} matches none "
                    "of the claim's lines.",
                    svc.paid,
                )
                continue
            split = self._post_line(claim, line, rc, rl, svc, remit_date, reversal=clp.is_reversal)
            outcomes.append((svc.paid, split.denied))
            matched_lines.append((line, rl, split, svc))
        if (
            claim_split.denied
            or claim_split.contractual
            or claim_split.patient_responsibility
            or claim_split.prior_payer
        ):
            # Claim-level CAS (no SVC to hang it on): it lands on the claim's first line.
            first = self.lines_by_claim[claim.pk][0] if self.lines_by_claim[claim.pk] else None
            if first is not None:
                self._balance(claim, first, ZERO if clp.lines else clp.paid, None, claim_split)
                if not clp.lines:
                    outcomes.append((clp.paid, claim_split.denied))
                if claim_split.denied > 0 and not clp.is_reversal:
                    self._denial(
                        claim, first, rc, None, claim_split, None, remit_date, clp.paid <= 0
                    )
        if clp.is_reversal or (clp.lines and not matched_lines):
            # Nothing was posted to the claim (every SVC went to the exceptions queue): its
            # status moves when a person matches the lines, not before.
            return
        self.claim_targets[claim.pk] = rules.claim_outcome(outcomes, status_code=clp.status_code)
        self._secondary(claim, rc, clp, matched_lines, remit_date)

    def _post_line(
        self,
        claim: Claim,
        line: ClaimLine,
        rc: m.RemittanceClaim,
        rl: m.RemittanceLine,
        svc: ServiceLine,
        remit_date: date,
        *,
        reversal: bool,
    ) -> rules.LineSplit:
        """Post one SVC to the claim line it matched: the line's balance, and a denial (with its
        work item) when money was denied, except on a reversal."""
        split = line_split(svc, self.reasons)
        self._balance(claim, line, svc.paid, svc.allowed_amount, split)
        if split.denied > 0 and not reversal:
            self._denial(claim, line, rc, rl, split, svc, remit_date, svc.paid <= 0)
        return split

    def _line(
        self, rc: m.RemittanceClaim, line: ClaimLine | None, svc: ServiceLine, *, matched: bool
    ) -> m.RemittanceLine:
        rl = light_row(
            m.RemittanceLine,
            self.now,
            organization_id=self.org_id,
            remittance_claim_id=rc.pk,
            claim_line_id=line.pk if line else None,
            service_code=svc.procedure_code,
            original_service_code=svc.original_procedure_code[:10],
            line_control_number=svc.line_item_control_number,
            service_date=svc.service_date or svc.service_date_from,
            charge=svc.charge,
            paid=svc.paid,
            allowed=svc.allowed_amount,
            units=svc.units,
            remark_codes=svc.remark_codes,
            segment_position=svc.segment_position,
        )
        self.rows.lines.append(rl)
        self.summary.lines += 1
        for cas in svc.adjustments:
            self._adjustment(rc, rl, cas)
        return rl

    def _adjustment(self, rc: m.RemittanceClaim, rl: m.RemittanceLine | None, cas: Any) -> None:
        self.rows.adjustments.append(
            light_row(
                m.RemittanceAdjustment,
                self.now,
                organization_id=self.org_id,
                remittance_claim_id=rc.pk,
                remittance_line_id=rl.pk if rl else None,
                group_code=cas.group_code,
                reason_code=cas.reason_code,
                amount=cas.amount,
                quantity=cas.quantity,
            )
        )
        if cas.group_code == "PR":
            self.summary.patient_responsibility += cas.amount
        else:
            self.summary.adjusted += cas.amount

    def _exception(
        self,
        rc: m.RemittanceClaim,
        rl: m.RemittanceLine | None,
        kind: str,
        message: str,
        amount: Decimal,
    ) -> None:
        exc = m.RemittanceException(
            organization_id=self.org_id,
            remittance_import=self.imp,
            remittance_claim=rc,
            remittance_line_id=rl.pk if rl else None,
            kind=kind,
            message=message[:300],
            amount=amount,
        )
        self.rows.exceptions.append(exc)
        self.summary.unmatched += 1
        self.rows.work_items.append(
            m.WorkItem(
                organization_id=self.org_id,
                kind=m.WorkKind.UNMATCHED_REMITTANCE,
                source_id=exc.pk,
                payer=rc.payment.payer,
                title=message[:200],
                amount=abs(amount),
                priority_score=rules.priority_score(
                    amount=abs(amount), category="other", deadline=None, today=self.today
                ),
                status_changed_on=self.today,
                opened_on=self.today,
                next_follow_up=self.today,
                is_due=True,
            )
        )

    def _balance(
        self,
        claim: Claim,
        line: ClaimLine,
        paid: Decimal,
        allowed: Decimal | None,
        split: rules.LineSplit,
    ) -> None:
        balance = self.balances.get(line.pk)
        if balance is None:
            balance = light_row(
                m.LineBalance,
                self.now,
                organization_id=self.org_id,
                claim_id=claim.pk,
                claim_line_id=line.pk,
                charge=line.charge,
            )
            self.balances[line.pk] = balance
            self.new_balances.append(balance)
        fresh = balance.allowed is None and not any(
            (balance.paid, balance.contractual, balance.denied, balance.patient_responsibility,
             balance.other_adjusted)
        )  # fmt: skip
        if fresh:
            # A secondary claim's line opens with our estimate of what the primary settled; the
            # payer's own account (CAS 23, or whatever it reports) replaces it.
            balance.prior_payer = split.prior_payer
        else:
            balance.prior_payer += split.prior_payer
        balance.paid += paid
        if allowed is not None:
            balance.allowed = allowed
        balance.contractual += split.contractual
        balance.denied += split.denied
        balance.patient_responsibility += split.patient_responsibility
        balance.other_adjusted += split.other_adjusted

    def _denial(
        self,
        claim: Claim,
        line: ClaimLine,
        rc: m.RemittanceClaim,
        rl: m.RemittanceLine | None,
        split: rules.LineSplit,
        svc: ServiceLine | None,
        remit_date: date,
        fully: bool,
    ) -> None:
        rarcs = list(svc.remark_codes if svc else []) + list(rc.remark_codes)
        category = rules.denial_category(split.denial_reason, rarcs, self.reasons, self.remarks)
        deadline = rules.appeal_deadline(remit_date, claim.payer.appeal_window_days)
        denial = m.Denial(
            organization_id=self.org_id,
            claim=claim,
            claim_line_id=line.pk,
            remittance_claim=rc,
            remittance_line_id=rl.pk if rl else None,
            payer=claim.payer,
            group_code=split.denial_group,
            carc=split.denial_reason,
            rarcs=rarcs,
            category=category,
            amount=split.denied,
            fully_denied=fully,
            remittance_date=remit_date,
            appeal_deadline=deadline,
            recoverable=rules.is_recoverable(category),
        )
        self.rows.denials.append(denial)
        self.summary.denied_lines += 1
        self.summary.denied_amount += split.denied
        self.rows.work_items.append(
            m.WorkItem(
                organization_id=self.org_id,
                kind=m.WorkKind.DENIAL,
                source_id=denial.pk,
                claim=claim,
                payer=claim.payer,
                title=(
                    f"{split.denial_group}-{split.denial_reason} {category.replace('_', ' ')}: "
                    f"{line.service_code} on {line.date_of_service}"
                ),
                category=category,
                amount=split.denied,
                deadline=deadline,
                priority_score=rules.priority_score(
                    amount=split.denied, category=category, deadline=deadline, today=self.today
                ),
                status_changed_on=self.today,
                opened_on=self.today,
                next_follow_up=self.today,
                is_due=True,
            )
        )

    def _secondary(
        self,
        claim: Claim,
        rc: m.RemittanceClaim,
        clp: ClaimPayment,
        matched: list[tuple[ClaimLine, m.RemittanceLine, rules.LineSplit, ServiceLine]],
        remit_date: date,
    ) -> None:
        """After the primary pays, the patient's share moves to the secondary coverage (when the
        patient has one in force), carrying the primary's adjudication for the COB loops."""
        secondaries = self.secondary_coverage.get(claim.patient_id, [])
        if any(c.pk == claim.coverage_id for c in secondaries):
            return  # this claim already is the secondary (or tertiary) claim
        remaining = sum((split.patient_responsibility for _, _, split, _ in matched), ZERO)
        if remaining <= 0 or clp.status_code not in {"1", "19"}:
            return
        coverage = next(
            (c for c in secondaries if c.is_active_on(claim.statement_from)),
            None,
        )
        if coverage is None:
            return
        for line, _, split, _svc in matched:
            self.balances[line.pk].transferred += split.patient_responsibility
        self.rows.secondaries.append(
            m.SecondaryClaim(
                organization_id=self.org_id,
                primary_claim=claim,
                remittance_claim=rc,
                coverage=coverage,
                payer_id=coverage.payer_id,
                amount=remaining,
                primary_paid=clp.paid,
                primary_adjudication=_adjudication(clp, matched, remit_date),
                status=m.SecondaryStatus.CROSSED_OVER
                if rc.crossover_payer_name
                else m.SecondaryStatus.TO_BILL,
            )
        )
        self.summary.secondary_claims += 1

    # --- writing -----------------------------------------------------------------------------

    def _write(self) -> None:
        r = self.rows
        for model, objs in (
            (m.Payment, r.payments),
            (m.RemittanceClaim, r.claims),
            (m.RemittanceLine, r.lines),
            (m.RemittanceAdjustment, r.adjustments),
            (m.ProviderAdjustment, r.plbs),
            (m.RemittanceException, r.exceptions),
            (m.Denial, r.denials),
            (m.SecondaryClaim, r.secondaries),
            (m.WorkItem, r.work_items),
            (m.LineBalance, self.new_balances),
        ):
            self.summary.insert_statements += fast_insert(model, objs, now=self.now)
        new_ids = {b.pk for b in self.new_balances}
        existing = [b for b in self.balances.values() if b.pk not in new_ids]
        if existing:
            fast_update(
                m.LineBalance,
                existing,
                [
                    "paid",
                    "allowed",
                    "contractual",
                    "denied",
                    "patient_responsibility",
                    "other_adjusted",
                    "transferred",
                    "prior_payer",
                ],
                now=self.now,
            )
        self._move_claims()
        self.summary.rows_posted = r.count() + len(self.new_balances)
        if r.denials:
            # A domain event for the apps above (webhooks): the new denials' ids.
            outbox_enqueue(
                topic="denials.created",
                payload={"denial_ids": [str(d.pk) for d in r.denials]},
                idempotency_key=f"denials.created:{self.imp.pk}",
            )

    def _move_claims(self) -> None:
        """Claim statuses follow the lifecycle of claims.services.TRANSITIONS (a submitted claim
        passes through accepted first). Grouped by (from, to): one UPDATE per pair plus one bulk
        insert of ClaimEvent rows, not a round trip per claim."""
        by_pk = {c.pk: c for c in self.claims.values()}
        groups: dict[tuple[str, ...], list[uuid.UUID]] = defaultdict(list)
        for pk, target in self.claim_targets.items():
            current = by_pk[pk].status
            if current == target:
                continue
            path: tuple[str, ...]
            if current == ClaimStatus.SUBMITTED and target in TRANSITIONS[ClaimStatus.ACCEPTED]:
                path = (current, ClaimStatus.ACCEPTED, target)
            elif target in TRANSITIONS[current]:
                path = (current, target)
            else:
                self.summary.status_unchanged.append(
                    f"{by_pk[pk].patient_control_number}: {current} cannot become {target}"
                )
                continue
            groups[path].append(pk)
        events = []
        changes = []
        for path, ids in groups.items():
            Claim.objects.filter(pk__in=ids, status=path[0]).update(status=path[-1])
            for pk in ids:
                for step, (before, after) in enumerate(itertools.pairwise(path)):
                    events.append(
                        light_row(
                            ClaimEvent,
                            # A microsecond apart: the history (ordered by time) shows
                            # submitted -> accepted before accepted -> paid.
                            self.now + timedelta(microseconds=step),
                            organization_id=self.org_id,
                            claim_id=pk,
                            from_status=before,
                            to_status=after,
                            note=self.event_note,
                        )
                    )
            self.summary.status_changes += len(ids)
            changes += [{"claim_id": str(pk), "from": path[0], "to": path[-1]} for pk in ids]
        self.summary.insert_statements += fast_insert(ClaimEvent, events, now=self.now)
        if changes:
            # A domain event for the apps above (webhooks), as claim_transition records one.
            outbox_enqueue(
                topic="claims.status_changed",
                payload={"changes": changes},
                idempotency_key=f"claims.status_changed:remittance:{self.imp.pk}",
            )
        if self.payer_claim_numbers:
            claims = [by_pk[pk] for pk in self.payer_claim_numbers]
            for claim in claims:
                claim.payer_claim_number = self.payer_claim_numbers[claim.pk]
            fast_update(Claim, claims, ["payer_claim_number"], now=self.now)


def line_split(svc: ServiceLine, reasons: dict[str, rules.Reason]) -> rules.LineSplit:
    """The posting buckets of one SVC's CAS adjustments."""
    return rules.split_adjustments(
        [rules.Cas(a.group_code, a.reason_code, a.amount) for a in svc.adjustments], reasons
    )


def _fallback_match(available: list[ClaimLine], svc: ServiceLine) -> ClaimLine | None:
    """No REF*6R (or an unknown one): the same code, date of service and charge."""
    day = svc.service_date or svc.service_date_from
    code = svc.original_procedure_code or svc.procedure_code
    for line in available:
        if line.service_code == code and line.date_of_service == day and line.charge == svc.charge:
            return line
    return None


def _adjudication(
    clp: ClaimPayment,
    matched: list[tuple[ClaimLine, m.RemittanceLine, rules.LineSplit, ServiceLine]],
    remit_date: date,
) -> dict[str, Any]:
    """What the secondary 837 needs from the primary (2320 claim-level, 2430 per line)."""
    return {
        "payer_claim_number": clp.payer_claim_control_number,
        "adjudication_date": remit_date.isoformat(),
        "paid": str(clp.paid),
        "patient_responsibility": str(clp.patient_responsibility),
        "claim_adjustments": [
            {"group": a.group_code, "reason": a.reason_code, "amount": str(a.amount)}
            for a in clp.adjustments
        ],
        "lines": [
            {
                "line_control_number": line.line_control_number,
                "service_entry_id": str(line.service_entry_id),
                "modifiers": list(line.modifiers),
                "revenue_code": line.revenue_code,
                "service_code": rl.service_code,
                "paid": str(rl.paid),
                "units": str(rl.units or 1),
                "date_of_service": line.date_of_service.isoformat(),
                "adjustments": [
                    {"group": a.group_code, "reason": a.reason_code, "amount": str(a.amount)}
                    for a in svc.adjustments
                ],
            }
            for line, rl, _, svc in matched
        ],
    }
