"""Demo remittance for `make run`: one 835 from the payer with the most accepted claims, posted
as in real use (remittance_import_create, then remittance_post): a claim paid in full (then
closed), one paid with a contractual adjustment and coinsurance, one paid in part with a line
denied, and two denied; one denial is appealed (the letter written and sent), the other waits
in the work queue with its appeal drafted. Then the day's scans raise their alerts
(authorizations about to expire, credentials, unbillable charges, follow-ups).

Skipped when the organization already has a remittance, so running it twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from authorizations.services import authorization_scan
from claims.models import Claim, ClaimLine, ClaimStatus
from claims.services import claim_transition, claims_unbillable_scan
from credentialing.services import credentialing_alerts_scan
from denials import services
from denials.letters import payer_appeals_address
from denials.models import Denial, RemittanceImport
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_today
from x12.writer import Envelope, SegmentWriter, TransactionSet

CENT = Decimal("0.01")
# (what happens to each claim, in order): paid in full; paid less a contractual adjustment and
# coinsurance; one line denied (CO-97, bundled); denied for medical necessity (CO-50, appealed);
# denied for no authorization (CO-197, waiting).
PLAN = ("full", "coinsurance", "line_denied", "denied_appealed", "denied")


def seed(organization: Organization) -> None:
    if RemittanceImport.objects.exists():
        return
    today = organization_today(organization)
    accepted = list(
        Claim.objects.filter(status=ClaimStatus.ACCEPTED)
        .select_related("payer", "patient", "coverage")
        .order_by("patient_control_number")
    )
    if accepted:
        payer_id = Counter(c.payer_id for c in accepted).most_common(1)[0][0]
        claims = [c for c in accepted if c.payer_id == payer_id][: len(PLAN)]
        content = remittance_835(organization, claims, paid_on=today - timedelta(days=1))
        imp = services.remittance_import_create(
            file_name=f"835_{claims[0].payer.payer_id}_demo.x12", content=content, source="ui"
        )
        services.remittance_post(import_id=imp.pk, today=today)
        _close_and_appeal(claims, today)
    authorization_scan(today=today)
    credentialing_alerts_scan(today=today)
    claims_unbillable_scan(today=today)
    services.follow_up_scan(today=today)


def _close_and_appeal(claims: list[Claim], today: Any) -> None:
    full = Claim.objects.get(pk=claims[0].pk)
    if full.status == ClaimStatus.PAID:
        claim_transition(claim=full, to_status=ClaimStatus.CLOSED, note="Paid in full; closed")
    for n, outcome in enumerate(PLAN[: len(claims)]):
        if not outcome.startswith("denied"):
            continue
        denial = (
            Denial.objects.filter(claim_id=claims[n].pk).select_related("payer", "claim").first()
        )
        if denial is None:
            continue
        appeal = services.appeal_create(denial=denial, level="level_1", today=today)
        if outcome == "denied_appealed":
            services.appeal_letter_save(appeal=appeal, body=_letter(denial, today))
            services.appeal_submit(appeal=appeal, submitted_on=today, method="portal", today=today)


def _letter(denial: Denial, today: Any) -> str:
    claim = denial.claim
    provider = claim.rendering_provider
    address = "\n".join(payer_appeals_address(denial.payer))
    return (
        f"{today:%B %-d, %Y}\n\n{denial.payer.name}\n{address}\n\n"
        f"Re: Level 1 appeal of claim {claim.patient_control_number}, payer claim "
        f"{claim.payer_claim_number or 'on file'}, member {claim.coverage.member_id}\n\n"
        "We ask you to reconsider the denial of these services for lack of medical necessity. "
        "The enclosed assessment documents the ASAM criteria met on admission and at each "
        "review, and the treatment plan the services followed.\n\n"
        f"Sincerely,\n\n{provider.first_name} {provider.last_name}\nNPI {provider.npi}\n"
    )


def _cas(segments: list[Any], group: str, reason: str, amount: Decimal) -> None:
    if amount:
        segments.append(["CAS", group, reason, amount])


def remittance_835(organization: Organization, claims: list[Claim], *, paid_on: Any) -> str:
    """The payer's 835 for `claims`, one outcome of PLAN each, line by line (REF*6R)."""
    lines: dict[Any, list[ClaimLine]] = {}
    for line in ClaimLine.objects.filter(claim__in=claims).order_by("line_number"):
        lines.setdefault(line.claim_id, []).append(line)
    payer = claims[0].payer
    body: list[Any] = []
    total = Decimal("0")
    for claim, outcome in zip(claims, PLAN, strict=False):
        svcs: list[Any] = []
        claim_paid = Decimal("0")
        patient = Decimal("0")
        for n, line in enumerate(lines[claim.pk]):
            charge = line.charge
            allowed = (charge * Decimal("0.80")).quantize(CENT)
            cas: list[tuple[str, str, Decimal]] = []
            if outcome == "full":
                paid = charge
            elif outcome == "coinsurance" or (outcome == "line_denied" and n > 0):
                coinsurance = (allowed * Decimal("0.20")).quantize(CENT)
                paid = allowed - coinsurance
                cas = [("CO", "45", charge - allowed), ("PR", "2", coinsurance)]
                patient += coinsurance
            elif outcome == "line_denied":
                paid, cas = Decimal("0"), [("CO", "97", charge)]
            elif outcome == "denied_appealed":
                paid, cas = Decimal("0"), [("CO", "50", charge)]
            else:
                paid, cas = Decimal("0"), [("CO", "197", charge)]
            claim_paid += paid
            svcs.append(["SVC", ("HC", line.service_code, *line.modifiers), charge, paid, None,
                         line.units])  # fmt: skip
            svcs.append(["DTM", "472", line.date_of_service.strftime("%Y%m%d")])
            for group, reason, amount in cas:
                _cas(svcs, group, reason, amount)
            svcs.append(["REF", "6R", line.line_control_number])
            if paid:
                svcs.append(["AMT", "B6", allowed if outcome != "full" else charge])
        status = "4" if outcome.startswith("denied") else "1"
        body.append(["CLP", claim.patient_control_number, status, claim.total_charge,
                     claim_paid, patient, "12", f"PYR{claim.patient_control_number}"])  # fmt: skip
        body.append(["NM1", "QC", "1", claim.patient.last_name.upper(),
                     claim.patient.first_name.upper(), None, None, None, "MI",
                     claim.coverage.member_id])  # fmt: skip
        body.extend(svcs)
        total += claim_paid
    day = paid_on.strftime("%Y%m%d")
    header: list[Any] = [
        ["BPR", "I" if total else "H", total, "C", "ACH" if total else "NON", "CCP", "01",
         "071000013", "DA", "123456", "1512345678", None, "01", "071000039", "DA", "98765", day],
        ["TRN", "1", f"EFT{day}", f"1{payer.payer_id}"],
        ["DTM", "405", day],
        ["N1", "PR", payer.name.upper()],
        ["N3", payer.address_line1.upper() or "PO BOX 1"],
        ["N4", payer.city.upper() or "SPRINGFIELD", payer.state or "IL", payer.postal_code or "62701"],
        ["REF", "2U", payer.payer_id],
        ["N1", "PE", organization.name.upper()[:60], "XX", organization.group_npi],
        ["LX", "1"],
    ]  # fmt: skip
    if not total:  # a non-payment BPR carries no bank details
        header[0] = ["BPR", "H", Decimal("0"), "C", "NON", None, None, None, None, None, None,
                     None, None, None, None, None, day]  # fmt: skip
    envelope = Envelope(
        sender_id=payer.payer_id,
        receiver_id=organization.group_npi or "PARITY",
        interchange_control_number=7001,
        group_control_number=7001,
        created=datetime.combine(paid_on, time(12), tzinfo=UTC),
        functional_id="HP",
        version="005010X221A1",
    )
    return envelope.render(
        [TransactionSet("835", header + body, "005010X221A1")], SegmentWriter(newline=True)
    )
