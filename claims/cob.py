"""A secondary (or tertiary) claim's record of the primary's adjudication, and its 837 form.

When the primary's 835 posts, what it did with the claim is kept on the secondary claim as a
snapshot (Claim.other_payer_adjudication): the primary payer and subscriber as they were billed,
the claim number, paid amount, the patient's remaining share, claim-level adjustments and, per
service (keyed by the charge, ServiceEntry id, so the snapshot survives corrected claims that
renumber lines), what was paid and adjusted. The 837 writer turns it into the 2320/2330/2430
loops (x12.cob). Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from x12.cob import Adjustment, LineAdjudication, OtherPayer


def _adjustments(rows: Iterable[Mapping[str, str]]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(r["group"], r["reason"], Decimal(r["amount"])) for r in rows)


def other_payer(snapshot: Mapping[str, Any], lines: Iterable[tuple[str, Any]]) -> OtherPayer | None:
    """The 837's other payer from a snapshot; `lines` is (line control number, service entry id)
    for the claim being written, so each 2430 lands on the line of the same service."""
    if not snapshot:
        return None
    day = date.fromisoformat(snapshot["adjudication_date"])
    by_entry = {str(row["service_entry_id"]): row for row in snapshot.get("lines", [])}
    adjudicated: dict[str, LineAdjudication] = {}
    for lcn, entry_id in lines:
        row = by_entry.get(str(entry_id))
        if row is None:
            continue
        adjudicated[lcn] = LineAdjudication(
            payer_id=snapshot["payer_id"],
            paid=Decimal(row["paid"]),
            procedure_code=row["service_code"],
            units=Decimal(row["units"]),
            adjudication_date=day,
            modifiers=tuple(row.get("modifiers", ())),
            revenue_code=row.get("revenue_code", ""),
            adjustments=_adjustments(row.get("adjustments", [])),
        )
    return OtherPayer(
        payer_name=snapshot["payer_name"].upper(),
        payer_id=snapshot["payer_id"],
        subscriber_last_name=snapshot["subscriber_last_name"].upper(),
        subscriber_first_name=snapshot["subscriber_first_name"].upper(),
        member_id=snapshot["member_id"],
        paid=Decimal(snapshot["paid"]),
        adjudication_date=day,
        responsibility=snapshot.get("responsibility", "P"),
        relationship=snapshot.get("relationship", "18"),
        group_number=snapshot.get("group_number", ""),
        filing_indicator=snapshot.get("filing_indicator", "CI"),
        patient_responsibility=Decimal(snapshot.get("patient_responsibility", "0")),
        payer_claim_number=snapshot.get("payer_claim_number", ""),
        claim_adjustments=_adjustments(snapshot.get("claim_adjustments", [])),
        lines=adjudicated,
    )


def prior_payer_settled(snapshot: Mapping[str, Any]) -> dict[str, Decimal]:
    """Per service entry id: what the primary settled (paid plus every adjustment but the
    patient's share), i.e. the part of the line's charge that is not the secondary's to pay."""
    out: dict[str, Decimal] = {}
    for row in snapshot.get("lines", []):
        settled = Decimal(row["paid"]) + sum(
            (Decimal(a["amount"]) for a in row.get("adjustments", []) if a["group"] != "PR"),
            Decimal("0"),
        )
        out[str(row["service_entry_id"])] = settled
    return out
