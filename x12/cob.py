"""Coordination of benefits in the 837 (837P and 837I alike): what an earlier payer did with the
claim, so the next payer can pay its share.

- 2320 other subscriber information: SBR (the other payer's responsibility, the patient's
  relationship to its subscriber, group, filing indicator), claim-level CAS, AMT*D (what the other
  payer paid), AMT*EAF (what the patient still owes after it), OI;
- 2330A other subscriber (NM1*IL) and 2330B other payer (NM1*PR, REF*F8 its claim number);
- 2430 line adjudication, at the end of each service line: SVD, CAS, DTP*573.

The TR3 balancing rule, checked before anything is written (`cob_problems`): for each other payer,
the claim's total charge equals its claim-level adjustments plus, line by line, what it paid and
adjusted; a line it adjudicated balances on its own (paid + adjustments = line charge) when there
are no claim-level adjustments. Pure: no database, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .writer import SegmentSpec

ZERO = Decimal("0")
CAS_PER_SEGMENT = 6


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: group (CO, PR, OA, PI, CR), CARC, amount."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class LineAdjudication:
    """2430: what another payer did with one service line."""

    payer_id: str  # SVD01, the 2330B payer's identifier
    paid: Decimal
    procedure_code: str
    units: Decimal
    adjudication_date: date
    modifiers: Sequence[str] = ()
    revenue_code: str = ""  # 837I only (SVD04)
    adjustments: Sequence[Adjustment] = ()

    @property
    def adjusted(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(frozen=True)
class OtherPayer:
    """2320/2330A/2330B: another payer responsible before (or after) this one."""

    payer_name: str
    payer_id: str
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    paid: Decimal
    adjudication_date: date
    responsibility: str = "P"  # SBR01 of the other payer: P, S, T
    relationship: str = "18"  # SBR02: the patient to the other subscriber (18 self, 19 child...)
    group_number: str = ""
    filing_indicator: str = "CI"
    patient_responsibility: Decimal = ZERO  # AMT*EAF
    payer_claim_number: str = ""  # REF*F8 in 2330B
    claim_adjustments: Sequence[Adjustment] = ()
    lines: dict[str, LineAdjudication] = field(default_factory=dict)  # by line control number


def cas_segments(adjustments: Sequence[Adjustment]) -> list[SegmentSpec]:
    """CAS segments, one group code each, at most six reason/amount/quantity triplets a segment."""
    by_group: dict[str, list[Adjustment]] = defaultdict(list)
    for adj in adjustments:
        by_group[adj.group].append(adj)
    out: list[SegmentSpec] = []
    for group, items in by_group.items():
        for start in range(0, len(items), CAS_PER_SEGMENT):
            values: list[Any] = []
            for adj in items[start : start + CAS_PER_SEGMENT]:
                values += [adj.reason, adj.amount, adj.quantity]
            while values and values[-1] is None:
                values.pop()
            out.append(("CAS", group, *values))
    return out


def other_payer_segments(payers: Sequence[OtherPayer]) -> list[SegmentSpec]:
    """2320 + 2330A + 2330B for each other payer, in the order given (at most ten)."""
    out: list[SegmentSpec] = []
    for op in payers:
        out.append(
            ("SBR", op.responsibility, op.relationship, op.group_number or None, None, None,
             None, None, None, op.filing_indicator)
        )  # fmt: skip
        out += cas_segments(op.claim_adjustments)
        out.append(("AMT", "D", op.paid))
        if op.patient_responsibility:
            out.append(("AMT", "EAF", op.patient_responsibility))
        out.append(("OI", None, None, "Y", None, None, "Y"))
        out.append(
            ("NM1", "IL", "1", op.subscriber_last_name, op.subscriber_first_name or None, None,
             None, None, "MI", op.member_id)
        )  # fmt: skip
        out.append(("NM1", "PR", "2", op.payer_name, None, None, None, None, "PI", op.payer_id))
        if not op.lines:  # no 2430: the adjudication date goes on the payer (2330B DTP*573)
            out.append(("DTP", "573", "D8", op.adjudication_date.strftime("%Y%m%d")))
        if op.payer_claim_number:
            out.append(("REF", "F8", op.payer_claim_number))
    return out


def line_adjudication_segments(
    payers: Sequence[OtherPayer], line_control_number: str, *, institutional: bool
) -> list[SegmentSpec]:
    """2430 for one service line: one loop per other payer that adjudicated it."""
    out: list[SegmentSpec] = []
    for op in payers:
        adj = op.lines.get(line_control_number)
        if adj is None:
            continue
        procedure = ("HC", adj.procedure_code, *adj.modifiers) if adj.procedure_code else None
        if institutional:
            out.append(("SVD", adj.payer_id, adj.paid, procedure, adj.revenue_code, adj.units))
        else:
            out.append(("SVD", adj.payer_id, adj.paid, procedure, None, adj.units))
        out += cas_segments(adj.adjustments)
        out.append(("DTP", "573", "D8", adj.adjudication_date.strftime("%Y%m%d")))
    return out


def cob_problems(
    *,
    pcn: str,
    responsibility: str,
    total_charge: Decimal,
    line_charges: Sequence[tuple[str, Decimal]],
    payers: Sequence[OtherPayer],
) -> list[tuple[str, str]]:
    """(field, message) for what a payer would reject in the COB loops of claim `pcn`.

    `line_charges` is (line control number, charge) in line order."""
    prefix = f"claim {pcn}"
    problems: list[tuple[str, str]] = []
    if responsibility in ("S", "T") and not payers:
        problems.append(
            (
                f"{prefix}.other_payers",
                f"Claim {pcn} is billed to a {'secondary' if responsibility == 'S' else 'tertiary'}"
                " payer but carries no primary adjudication (2320): build it from the primary's "
                "remittance.",
            )
        )
    if len(payers) > 10:
        problems.append((f"{prefix}.other_payers", f"Claim {pcn} has more than ten other payers."))
    for op in payers:
        where = f"{prefix}.other_payers[{op.payer_id}]"
        if not op.member_id.strip():
            problems.append(
                (f"{where}.member_id", f"Claim {pcn}: the member id at {op.payer_name} is missing.")
            )
        if not op.lines:
            continue
        number = {lcn: n for n, (lcn, _) in enumerate(line_charges, start=1)}
        for lcn in op.lines:
            if lcn not in number:
                problems.append(
                    (
                        f"{where}.lines",
                        f"Claim {pcn}: {op.payer_name}'s adjudication names line {lcn}, which is "
                        "not on the claim.",
                    )
                )
        missing = [n for lcn, n in number.items() if lcn not in op.lines]
        if missing:
            problems.append(
                (
                    f"{where}.lines",
                    f"Claim {pcn}: {op.payer_name} adjudicated some lines but not line(s) "
                    f"{', '.join(map(str, missing))}; every line needs its 2430.",
                )
            )
            continue
        claim_level = sum((a.amount for a in op.claim_adjustments), ZERO)
        accounted = claim_level + sum((a.paid + a.adjusted for a in op.lines.values()), ZERO)
        if accounted != total_charge:
            problems.append(
                (
                    f"{where}.balance",
                    f"Claim {pcn}: {op.payer_name}'s payments and adjustments ({accounted}) do not "
                    f"add up to the claim's charge ({total_charge}).",
                )
            )
        if claim_level:
            continue
        for lcn, charge in line_charges:
            adj = op.lines[lcn]
            if adj.paid + adj.adjusted != charge:
                problems.append(
                    (
                        f"{prefix}.lines[{number[lcn]}].adjudication",
                        f"Claim {pcn} line {number[lcn]}: {op.payer_name} paid {adj.paid} and "
                        f"adjusted {adj.adjusted}, which is not the line charge {charge}.",
                    )
                )
    return problems
