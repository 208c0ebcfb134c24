"""The money on one claim and its timeline: the one read both the claim page and the claim API
use, so they always agree.

Money comes from the posted 835 remittance rows (SVC lines and their CAS adjustments) of the
claim and of its secondary claims (matched to this claim's lines by the charge they bill, the
ServiceEntry), plus the line balances posting keeps (what moved to the secondary payer).

Per line, the figures add up: billed = paid + adjustments + patient balance + insurance balance,
where
- paid: what each payer paid (primary, then secondary...), reversals subtracting;
- adjustments: every CAS amount not in group PR, by group and reason, with the CARC text
  (denials are CO/PI/OA adjustments of a denial reason; CARC 23 on a secondary's remittance
  restates the primary's share and is left out, as the primary's own figures already count it);
- patient responsibility: the PR amounts of the last payer that adjudicated the line (what the
  primary put on the patient and moved to the secondary coverage is the secondary's to settle);
- insurance balance: what no payer has adjudicated yet (a line without remittance, or the share
  moved to a secondary that has not answered);
- patient balance: the patient's responsibility (Parity records no patient payments).
When a payer's own figures do not balance (SVC charge != paid + CAS), `unbalanced` says by how
much, so the page can show it rather than hide it.

A fixed number of queries whatever the claim's history: one per kind of record.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from claims.models import Claim, ClaimEvent, ClaimLine
from denials import models as m
from patients.models import Note
from rcm import part2
from submissions.models import BatchClaim, ClaimRejection, ClaimStatusInquiry

ZERO = Decimal("0.00")
PRIOR_PAYER_CARC = "23"
GROUP_WORDING = {
    "CO": "Contractual obligation",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer initiated",
    "CR": "Correction or reversal",
}


@dataclass
class Adjustment:
    group: str
    reason: str
    text: str
    amount: Decimal
    is_denial: bool = False

    @property
    def group_text(self) -> str:
        return GROUP_WORDING.get(self.group, self.group)


@dataclass
class Payer:
    """One payer in the claim's chain: the claim it was billed on and its position."""

    position: int  # 1 primary, 2 secondary, ...
    name: str
    claim_id: Any
    patient_control_number: str

    @property
    def label(self) -> str:
        return {1: "primary", 2: "secondary", 3: "tertiary"}.get(self.position, "other")


@dataclass
class Money:
    billed: Decimal = ZERO
    allowed: Decimal | None = None
    paid_by: dict[int, Decimal] = field(default_factory=dict)  # payer position -> paid
    adjustments: list[Adjustment] = field(default_factory=list)
    patient_responsibility: Decimal = ZERO
    insurance_balance: Decimal = ZERO
    written_off: Decimal = ZERO
    unbalanced: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return sum(self.paid_by.values(), ZERO)

    @property
    def adjusted(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)

    @property
    def denied(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.is_denial), ZERO)

    @property
    def patient_balance(self) -> Decimal:
        return self.patient_responsibility

    @property
    def balance(self) -> Decimal:
        return self.insurance_balance + self.patient_balance

    def add(self, adjustment: Adjustment) -> None:
        for a in self.adjustments:
            if (a.group, a.reason) == (adjustment.group, adjustment.reason):
                a.amount += adjustment.amount
                return
        self.adjustments.append(
            Adjustment(
                adjustment.group,
                adjustment.reason,
                adjustment.text,
                adjustment.amount,
                adjustment.is_denial,
            )
        )


@dataclass
class LineMoney(Money):
    line: ClaimLine | None = None


@dataclass
class ClaimAccount:
    claim: Claim
    payers: list[Payer]
    lines: list[LineMoney]
    total: Money
    payments: list[m.Payment]
    denials: list[m.Denial]
    appeals: list[m.Appeal]
    secondary_claims: list[Claim]
    adjustment_groups: dict[str, Decimal]


def _reasons(codes: Iterable[str]) -> dict[str, m.AdjustmentReason]:
    return {r.code: r for r in m.AdjustmentReason.objects.filter(code__in=set(codes))}


def claim_account(*, claim: Claim, scopes: Collection[str]) -> ClaimAccount:
    """The money on `claim` (already fetched through a visible queryset), per line and in total,
    with the payments, denials, appeals and secondary claims it links to."""
    lines = list(
        ClaimLine.objects.filter(claim=claim).select_related("balance").order_by("line_number")
    )
    secondaries = list(
        part2.visible(Claim.objects.filter(primary_claim=claim), scopes)
        .select_related("payer")
        .prefetch_related("lines")
        .order_by("created_at")
    )
    payers = [Payer(1, claim.payer.name, claim.pk, claim.patient_control_number)]
    payers += [
        Payer(i, s.payer.name, s.pk, s.patient_control_number)
        for i, s in enumerate(secondaries, start=2)
    ]
    position_of = {p.claim_id: p.position for p in payers}
    # Every claim line of the chain, mapped to this claim's line billing the same charge.
    ours_by_entry = {line.service_entry_id: line for line in lines}
    line_of: dict[Any, ClaimLine] = {line.pk: line for line in lines}
    for s in secondaries:
        for sl in s.lines.all():
            if sl.service_entry_id in ours_by_entry:
                line_of[sl.pk] = ours_by_entry[sl.service_entry_id]
    claim_ids = list(position_of)
    remit_lines = list(
        m.RemittanceLine.objects.filter(claim_line_id__in=list(line_of))
        .select_related("remittance_claim")
        .order_by("created_at", "segment_position")
    )
    adjustments = list(
        m.RemittanceAdjustment.objects.filter(remittance_claim__claim_id__in=claim_ids)
        .select_related("remittance_claim")
        .order_by("created_at")
    )
    reasons = _reasons(a.reason_code for a in adjustments)

    money = {line.pk: LineMoney(billed=line.charge, line=line) for line in lines}
    adjudicated_by: dict[Any, set[int]] = defaultdict(set)
    pr_by: dict[tuple[Any, int], Decimal] = defaultdict(lambda: ZERO)
    remit_line_owner: dict[Any, tuple[ClaimLine, int]] = {}
    for rl in remit_lines:
        ours = line_of[rl.claim_line_id]
        position = position_of.get(rl.remittance_claim.claim_id, 1)
        remit_line_owner[rl.pk] = (ours, position)
        lm = money[ours.pk]
        lm.paid_by[position] = lm.paid_by.get(position, ZERO) + rl.paid
        adjudicated_by[ours.pk].add(position)
        if position == 1 and rl.allowed is not None and not rl.remittance_claim.is_reversal:
            lm.allowed = rl.allowed
        lm.unbalanced += rl.charge if position == 1 else ZERO
        lm.unbalanced -= rl.paid if position == 1 else ZERO
    first_line = lines[0] if lines else None
    for adj in adjustments:
        if adj.remittance_line_id is not None:
            if adj.remittance_line_id not in remit_line_owner:
                continue  # a line posted to the exceptions queue, not to this claim
            ours, position = remit_line_owner[adj.remittance_line_id]
        else:
            # Claim-level CAS lands on the claim's first line, as posting puts it there.
            if first_line is None:
                continue
            ours = first_line
            position = position_of.get(adj.remittance_claim.claim_id, 1)
        lm = money[ours.pk]
        if position == 1:
            lm.unbalanced -= adj.amount
        if adj.group_code == "PR":
            pr_by[(ours.pk, position)] += adj.amount
            continue
        if adj.reason_code == PRIOR_PAYER_CARC and position > 1:
            continue
        reason = reasons.get(adj.reason_code)
        lm.add(
            Adjustment(
                adj.group_code,
                adj.reason_code,
                reason.description if reason else "Unknown reason code",
                adj.amount,
                is_denial=reason is None or reason.kind == m.ReasonKind.DENIAL,
            )
        )

    for line in lines:
        lm = money[line.pk]
        positions = adjudicated_by[line.pk]
        balance = getattr(line, "balance", None)
        transferred = balance.transferred if balance is not None else ZERO
        lm.written_off = balance.written_off if balance is not None else ZERO
        last = max(positions) if positions else 0
        lm.patient_responsibility = pr_by[(line.pk, last)] if last else ZERO
        if last == 1 and transferred:
            # The primary's patient share moved to a secondary that has not answered yet.
            lm.patient_responsibility -= transferred
        if not positions:
            lm.insurance_balance = line.charge
        elif last == 1:
            lm.insurance_balance = transferred
        if 1 not in positions:
            lm.unbalanced = ZERO

    total = Money(billed=sum((lm.billed for lm in money.values()), ZERO))
    allowed = [lm.allowed for lm in money.values() if lm.allowed is not None]
    total.allowed = sum(allowed, ZERO) if allowed else None
    groups: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for lm in money.values():
        for position, paid in lm.paid_by.items():
            total.paid_by[position] = total.paid_by.get(position, ZERO) + paid
        for a in lm.adjustments:
            total.add(a)
            groups[a.group] += a.amount
        total.patient_responsibility += lm.patient_responsibility
        total.insurance_balance += lm.insurance_balance
        total.written_off += lm.written_off
        total.unbalanced += lm.unbalanced
    if total.patient_responsibility:
        groups["PR"] = total.patient_responsibility

    remittance_claims = list(
        m.RemittanceClaim.objects.filter(claim_id__in=claim_ids)
        .select_related("payment")
        .order_by("payment__payment_date", "created_at")
    )
    payments = list({rc.payment_id: rc.payment for rc in remittance_claims}.values())
    denials = list(
        part2.visible(m.Denial.objects.filter(claim_id__in=claim_ids), scopes)
        .select_related("claim_line")
        .order_by("created_at")
    )
    appeals = list(
        part2.visible(m.Appeal.objects.filter(denial__claim_id__in=claim_ids), scopes).order_by(
            "created_at"
        )
    )
    return ClaimAccount(
        claim=claim,
        payers=payers,
        lines=list(money.values()),
        total=total,
        payments=payments,
        denials=denials,
        appeals=appeals,
        secondary_claims=secondaries,
        adjustment_groups=dict(groups),
    )


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # created, status, scrubbed, batched, accepted, rejected, paid, denied, ...
    text: str
    actor: str = ""
    link: tuple[str, Any] | None = None  # (URL name, pk) of the record it came from
    note: Note | None = None


def claim_timeline(
    *, claim: Claim, scopes: Collection[str], tz: zoneinfo.ZoneInfo
) -> list[TimelineEvent]:
    """Every event of `claim` in time order, times in `tz` (the organization's zone): its
    lifecycle history, scrubbing, batches and acknowledgments, remittances, denials, appeals,
    corrected and secondary claims, work-queue history and notes. One query per source."""
    events: list[TimelineEvent] = []

    def add(at: datetime, kind: str, text: str, **kwargs: Any) -> None:
        events.append(TimelineEvent(at.astimezone(tz), kind, text, **kwargs))

    def who(user: Any) -> str:
        return user.email if user is not None else ""

    created = f"Created ({claim.get_frequency_display().lower()})"
    if claim.original_claim_id:
        created += " correcting an earlier claim"
        add(claim.created_at, "created", created, link=("claims:detail", claim.original_claim_id))
    else:
        add(claim.created_at, "created", created)
    for e in _chained(ClaimEvent.objects.filter(claim=claim).select_related("actor")):
        text = f"{e.from_status or 'new'} → {e.to_status}"
        add(e.created_at, "status", text + (f" — {e.note}" if e.note else ""), actor=who(e.actor))
    if claim.scrubbed_at:
        add(claim.scrubbed_at, "scrubbed", "Scrubbed (latest run)")
    for item in BatchClaim.objects.filter(claim=claim).select_related("batch"):
        batch = item.batch
        add(
            item.created_at,
            "batched",
            f"Put in batch {batch.interchange_control_number or '(unnumbered)'} "
            f"({batch.get_status_display().lower()})",
            link=("batches:detail", batch.pk),
        )
        if item.ack_status != "pending":
            add(
                item.updated_at,
                item.ack_status,
                f"{item.get_ack_status_display()} at the front door"
                + (f": {item.ack_reason}" if item.ack_reason else ""),
            )
    for r in ClaimRejection.objects.filter(claim=claim):
        add(r.created_at, "rejected", f"Rejected by the {r.source}: {r.reason}")
    inquiries = ClaimStatusInquiry.objects.filter(claim=claim).select_related("request")
    for q in part2.visible(inquiries, scopes):
        add(
            q.request.requested_at,
            "status_check",
            f"Claim status asked (276 {q.request.reference})",
        )
        if q.answered_at:
            text = f"Claim status answer (277): {q.status_text}"
            if q.payer_claim_control_number:
                text += f"; payer claim number {q.payer_claim_control_number}"
            if q.payment_amount is not None:
                text += f"; paid ${q.payment_amount}"
            if q.outcome:
                text += f" — {q.outcome}"
            add(q.answered_at, "answer", text)
    for rc in m.RemittanceClaim.objects.filter(claim=claim).select_related("payment"):
        pay = rc.payment
        add(
            rc.created_at,
            "reversed" if rc.is_reversal else "paid",
            f"Remittance {pay.trace_number} ({pay.payment_date or 'no date'}): "
            f"{rc.status_wording or rc.status_code}, paid ${rc.paid}",
            link=("denials:payment", pay.pk),
        )
    for d in part2.visible(m.Denial.objects.filter(claim=claim), scopes):
        add(
            d.created_at,
            "denied",
            f"Denied {d.group_code}-{d.carc} ${d.amount}",
            link=("denials:denial", d.pk),
        )
    for a in part2.visible(m.Appeal.objects.filter(denial__claim=claim), scopes):
        text = f"{a.get_level_display()} appeal opened (deadline {a.deadline})"
        if a.submitted_on:
            text += f", sent {a.submitted_on}"
        if a.outcome:
            text += f", {a.get_outcome_display().lower()}"
        add(a.created_at, "appealed", text, link=("denials:denial", a.denial_id))
    for c in part2.visible(Claim.objects.filter(original_claim=claim), scopes):
        add(
            c.created_at,
            "corrected",
            f"{c.get_frequency_display()} claim {c.patient_control_number} created",
            link=("claims:detail", c.pk),
        )
    for c in part2.visible(Claim.objects.filter(primary_claim=claim), scopes).select_related(
        "payer"
    ):
        add(
            c.created_at,
            "secondary",
            f"Secondary claim {c.patient_control_number} to {c.payer.name} built",
            link=("claims:detail", c.pk),
        )
    for w in (
        part2.visible(m.WorkItemEvent.objects.filter(work_item__claim=claim), scopes)
        .exclude(from_status="", to_status="", note="")
        .select_related("actor")
    ):
        text = "Work item"
        if w.to_status and w.to_status != w.from_status:
            text += f" {w.from_status or 'new'} → {w.to_status}"
        if w.note:
            text += f": {w.note}"
        add(w.created_at, "work", text, actor=who(w.actor))
    for n in notes_for_claim(claim=claim, scopes=scopes):
        add(n.created_at, "note", n.body, actor=who(n.author), note=n)
    # Stable: records written in the same instant keep the order above (created first).
    events.sort(key=lambda e: e.at)
    return events


def _chained(events: Iterable[ClaimEvent]) -> list[ClaimEvent]:
    """Status moves in time order; moves written in the same instant (posting moves a claim
    submitted -> accepted -> paid at once) follow each other by status (from = previous to)."""
    ordered: list[ClaimEvent] = []
    pending = sorted(events, key=lambda e: e.created_at)
    while pending:
        first = pending[0]
        same = [e for e in pending if e.created_at == first.created_at]
        last = ordered[-1].to_status if ordered else ""
        follows = next((e for e in same if e.from_status == last), first)
        ordered.append(follows)
        pending.remove(follows)
    return ordered


def notes_for_claim(*, claim: Claim, scopes: Collection[str]) -> list[Note]:
    """Notes on the claim and on its denials, newest last."""
    denial_ids = m.Denial.objects.filter(claim=claim).values("pk")
    return list(
        part2.visible(Note.objects.all(), scopes)
        .filter(
            Q(subject_type="claim", subject_id=claim.pk)
            | Q(subject_type="denial", subject_id__in=denial_ids)
        )
        .select_related("author", "corrects")
        .order_by("created_at")
    )
