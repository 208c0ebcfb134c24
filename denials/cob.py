"""The 837P coordination-of-benefits loops for a secondary claim, from the primary's
adjudication recorded at posting (SecondaryClaim.primary_adjudication):

- 2320 other subscriber information: SBR (the primary's payer responsibility), claim-level CAS,
  AMT*D (what the primary paid), AMT*EAF (the patient's remaining liability), OI;
- 2330A other subscriber: NM1*IL; 2330B other payer: NM1*PR, REF*F8 (the primary's claim number);
- 2430 line adjudication per service line: SVD, CAS, DTP*573 (adjudication date).

They are segment specs for claims.x12.writer.SegmentWriter. Splicing them into the 837P that
claims/x12/professional.py writes is the claims app's step (its writer is not ours to edit).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from claims.x12.writer import SegmentSpec
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


def cob_loops(secondary: SecondaryClaim) -> tuple[list[SegmentSpec], dict[str, list[SegmentSpec]]]:
    """(2320 + 2330A/B segments, {line control number: 2430 segments})."""
    adj = secondary.primary_adjudication
    claim = secondary.primary_claim
    primary_coverage = claim.coverage
    primary_payer = claim.payer
    date = adj.get("adjudication_date", "").replace("-", "")
    claim_loop: list[SegmentSpec] = [
        ["SBR", "P", primary_coverage.relationship, primary_coverage.group_number or None, None,
         None, None, None, None, "CI"],
        *_cas(adj.get("claim_adjustments", [])),
        ["AMT", "D", Decimal(adj["paid"])],
        ["AMT", "EAF", Decimal(adj.get("patient_responsibility", "0"))],
        ["OI", None, None, "Y", None, None, "Y"],
        ["NM1", "IL", "1", primary_coverage.subscriber_last_name or claim.patient.last_name,
         primary_coverage.subscriber_first_name or claim.patient.first_name, None, None, None,
         "MI", primary_coverage.member_id],
        ["NM1", "PR", "2", primary_payer.name, None, None, None, None, "PI", primary_payer.payer_id],
    ]  # fmt: skip
    if adj.get("payer_claim_number"):
        claim_loop.append(["REF", "F8", adj["payer_claim_number"]])
    lines: dict[str, list[SegmentSpec]] = {}
    for line in adj.get("lines", []):
        lines[line["line_control_number"]] = [
            ["SVD", primary_payer.payer_id, Decimal(line["paid"]), ("HC", line["service_code"]),
             None, Decimal(line["units"])],
            *_cas(line.get("adjustments", [])),
            ["DTP", "573", "D8", date],
        ]  # fmt: skip
    return claim_loop, lines
