"""The 837P coordination-of-benefits loops for a secondary claim, from the primary's
adjudication recorded at posting (SecondaryClaim.primary_adjudication):

- 2320 other subscriber information: SBR (the primary's payer responsibility), claim-level CAS,
  AMT*D (what the primary paid), AMT*EAF (the patient's remaining liability), OI;
- 2330A other subscriber: NM1*IL; 2330B other payer: NM1*PR, REF*F8 (the primary's claim number);
- 2430 line adjudication per service line: SVD, CAS, DTP*573 (adjudication date).

They are segment specs for claims.x12.writer.SegmentWriter; `splice_cob` puts them into a
one-claim 837P built by claims.x12.professional.build_837p (validated with pyx12 in the tests).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from claims.x12.writer import SegmentSpec, TransactionSet
from denials.models import SecondaryClaim


def _cas(adjustments: list[dict[str, str]]) -> list[SegmentSpec]:
    """CAS segments, one per group code, up to six reason/amount triplets each."""
    by_group: dict[str, list[Any]] = defaultdict(list)
    for adj in adjustments:
        by_group[adj["group"]].append((adj["reason"], Decimal(adj["amount"])))
    specs: list[SegmentSpec] = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            values: list[Any] = []
            for reason, amount in items[start : start + 6]:
                values += [reason, amount, None]
            specs.append(["CAS", group, *values])
    return specs


def cob_loops_from(
    adjudication: dict[str, Any],
    *,
    relationship: str,
    group_number: str,
    subscriber_last_name: str,
    subscriber_first_name: str,
    member_id: str,
    payer_name: str,
    payer_id: str,
) -> tuple[list[SegmentSpec], dict[str, list[SegmentSpec]]]:
    """(2320 + 2330A/B segments, {line control number: 2430 segments}) from plain data."""
    adj = adjudication
    date = adj.get("adjudication_date", "").replace("-", "")
    claim_loop: list[SegmentSpec] = [
        ["SBR", "P", relationship, group_number or None, None, None, None, None, None, "CI"],
        *_cas(adj.get("claim_adjustments", [])),
        ["AMT", "D", Decimal(adj["paid"])],
        ["AMT", "EAF", Decimal(adj.get("patient_responsibility", "0"))],
        ["OI", None, None, "Y", None, None, "Y"],
        ["NM1", "IL", "1", subscriber_last_name, subscriber_first_name, None, None, None, "MI",
         member_id],
        ["NM1", "PR", "2", payer_name, None, None, None, None, "PI", payer_id],
    ]  # fmt: skip
    if adj.get("payer_claim_number"):
        claim_loop.append(["REF", "F8", adj["payer_claim_number"]])
    lines: dict[str, list[SegmentSpec]] = {}
    for line in adj.get("lines", []):
        lines[line["line_control_number"]] = [
            ["SVD", payer_id, Decimal(line["paid"]), ("HC", line["service_code"]), None,
             Decimal(line["units"])],
            *_cas(line.get("adjustments", [])),
            ["DTP", "573", "D8", date],
        ]  # fmt: skip
    return claim_loop, lines


def cob_loops(secondary: SecondaryClaim) -> tuple[list[SegmentSpec], dict[str, list[SegmentSpec]]]:
    """The COB loops of a secondary claim, from the primary claim, coverage and payer."""
    claim = secondary.primary_claim
    coverage = claim.coverage
    return cob_loops_from(
        secondary.primary_adjudication,
        relationship=coverage.relationship,
        group_number=coverage.group_number,
        subscriber_last_name=coverage.subscriber_last_name or claim.patient.last_name,
        subscriber_first_name=coverage.subscriber_first_name or claim.patient.first_name,
        member_id=coverage.member_id,
        payer_name=claim.payer.name,
        payer_id=claim.payer.payer_id,
    )


def splice_cob(
    transaction_set: TransactionSet,
    claim_loop: list[SegmentSpec],
    lines: dict[str, list[SegmentSpec]],
) -> TransactionSet:
    """An 837P for ONE claim (claims.x12.professional.build_837p) with the COB loops put where
    the TR3 wants them: 2320/2330 after the claim's 2310 provider loops, before the first 2400
    (LX); each 2430 at the end of its 2400 line, matched by the line's REF*6R."""
    segments = list(transaction_set.segments)
    first_lx = next(i for i, seg in enumerate(segments) if seg[0] == "LX")
    head, body = segments[:first_lx], segments[first_lx:]
    blocks: list[list[SegmentSpec]] = []
    for seg in body:
        if seg[0] == "LX":
            blocks.append([])
        blocks[-1].append(seg)
    out = head + list(claim_loop)
    for block in blocks:
        control = next((str(s[2]) for s in block if s[0] == "REF" and s[1] == "6R"), "")
        out += block + list(lines.get(control, []))
    return TransactionSet(
        transaction_set.transaction_set_id, out, transaction_set.implementation_reference
    )
