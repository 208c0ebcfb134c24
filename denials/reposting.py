"""Posting a remittance claim or line recorded earlier, when a person resolves an exception by
matching it to one of our claims or claim lines.

The 835 is not read again: the CLP, its SVCs and their CAS are rebuilt from the rows the import
stored (RemittanceClaim, RemittanceLine, RemittanceAdjustment) and go through the same Poster
code as the import (line matching, balances, denials and their work items, the claim's next
status, the secondary claim), so a hand match posts exactly what automatic posting would have.

Called by denials.services.remittance_exception_match inside its transaction; not a public
surface.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from claims.models import Claim, ClaimLine
from denials import rules
from denials.models import (
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceException,
    RemittanceLine,
)
from denials.posting import Poster, Summary, fast_update, line_split
from x12.remit835 import Adjustment, ClaimPayment, Party, ServiceLine


def _adjustments(rows: list[RemittanceAdjustment]) -> list[Adjustment]:
    return [
        Adjustment(
            group_code=a.group_code,
            reason_code=a.reason_code,
            amount=a.amount,
            quantity=a.quantity,
            segment_position=0,
        )
        for a in rows
    ]


def stored_claim_payment(
    rc: RemittanceClaim,
) -> tuple[ClaimPayment, list[tuple[RemittanceLine, ServiceLine]]]:
    """The CLP as the parser would have given it, rebuilt from the stored rows (2 queries), with
    each stored line beside its SVC."""
    lines = list(
        RemittanceLine.objects.filter(remittance_claim=rc).order_by(
            "segment_position", "created_at", "pk"
        )
    )
    cas: dict[uuid.UUID | None, list[RemittanceAdjustment]] = defaultdict(list)
    for a in RemittanceAdjustment.objects.filter(remittance_claim=rc).order_by("created_at", "pk"):
        cas[a.remittance_line_id].append(a)
    pairs = [
        (
            rl,
            ServiceLine(
                procedure_qualifier="HC",
                procedure_code=rl.service_code,
                modifiers=[],
                charge=rl.charge,
                paid=rl.paid,
                revenue_code="",
                units=rl.units,
                original_procedure_qualifier="",
                original_procedure_code=rl.original_service_code,
                original_modifiers=[],
                original_units=None,
                service_date=rl.service_date,
                adjustments=_adjustments(cas[rl.pk]),
                line_item_control_number=rl.line_control_number,
                allowed_amount=rl.allowed,
                remark_codes=list(rl.remark_codes),
                segment_position=rl.segment_position,
            ),
        )
        for rl in lines
    ]
    clp = ClaimPayment(
        patient_control_number=rc.patient_control_number,
        status_code=rc.status_code,
        status_text="",
        charge=rc.charge,
        paid=rc.paid,
        patient_responsibility=rc.patient_responsibility,
        claim_filing_indicator="",
        payer_claim_control_number=rc.payer_claim_number,
        facility_code="",
        frequency_code="",
        drg_code="",
        crossover_carrier=Party("TT", rc.crossover_payer_name) if rc.crossover_payer_name else None,
        adjustments=_adjustments(cas[None]),
        remark_codes=list(rc.remark_codes),
        lines=[svc for _, svc in pairs],
        segment_position=rc.segment_position,
    )
    return clp, pairs


class StoredPoster(Poster):
    """Posts the stored remittance claim of one exception for the organization in context. The
    remittance rows already exist: posting links them (RemittanceLine.claim_line,
    RemittanceClaim.claim) instead of inserting them; balances, denials, work items, new
    exceptions and claim moves are written by the Poster's own `_write`."""

    def __init__(self, *, org_id: uuid.UUID, exception: RemittanceException, today: date) -> None:
        super().__init__(org_id=org_id, remittance_import=exception.remittance_import, today=today)
        self.exception = exception
        self.rc = exception.remittance_claim
        self.clp, self.pairs = stored_claim_payment(self.rc)
        self.by_svc = {id(svc): rl for rl, svc in self.pairs}
        self.relinked: list[RemittanceLine] = []
        self.remit_date = self.rc.payment.payment_date or today
        self.event_note = f"Remittance exception matched by hand ({self.imp.file_name})"[:300]

    # The import inserts a RemittanceLine per SVC; here the row exists and only gets its link.
    def _line(
        self, rc: RemittanceClaim, line: ClaimLine | None, svc: ServiceLine, *, matched: bool
    ) -> RemittanceLine:
        rl = self.by_svc[id(svc)]
        if line is not None:
            rl.claim_line_id = line.pk
            self.relinked.append(rl)
        return rl

    def _write(self) -> None:
        super()._write()
        fast_update(RemittanceLine, self.relinked, ["claim_line"], now=self.now)

    def match_claim(self, claim: Claim) -> Summary:
        """Post the whole CLP to `claim` as if its CLP01 had been the claim's control number;
        SVCs that match none of the claim's lines become line exceptions."""
        self._load_claims({claim.patient_control_number})
        ours = self.claims[claim.patient_control_number]
        RemittanceClaim.objects.filter(pk=self.rc.pk).update(claim=ours)
        self.rc.claim = ours
        self.summary.claims += 1
        self._post_claim(ours, self.rc, self.clp, self.remit_date)
        self._write()
        return self.summary

    def match_line(self, claim_line: ClaimLine) -> Summary:
        """Post the exception's SVC to `claim_line` (of the claim the CLP matched), then move the
        claim to the outcome of every SVC of the CLP now posted, as the import does."""
        claim = self.rc.claim
        assert claim is not None and self.exception.remittance_line_id is not None
        self._load_claims({claim.patient_control_number})
        ours = self.claims[claim.patient_control_number]
        line = next(x for x in self.lines_by_claim[ours.pk] if x.pk == claim_line.pk)
        rl, svc = next(p for p in self.pairs if p[0].pk == self.exception.remittance_line_id)
        rl.claim_line_id = line.pk
        self.relinked.append(rl)
        self._post_line(
            ours, line, self.rc, rl, svc, self.remit_date, reversal=self.clp.is_reversal
        )
        self.summary.matched_claims += 1
        if not self.clp.is_reversal:
            outcomes = [
                (posted.paid, line_split(posted, self.reasons).denied)
                for stored, posted in self.pairs
                if stored.claim_line_id is not None
            ]
            self.claim_targets[ours.pk] = rules.claim_outcome(
                outcomes, status_code=self.clp.status_code
            )
        self._write()
        return self.summary
