"""Demo submissions for `make run`: a clearinghouse reached by SFTP (in demo mode the upload
lands in a local folder, settings.X12_SFTP_DEMO_DIR), the ready claims sent in 837 batches built
and validated as in real use (a few left ready, and the paper payer's left for the CMS-1500
print), and the clearinghouse's answers applied: a 999 and a 277CA accepting the professional
claims but one, which is rejected; the institutional batch is left waiting (submitted).

Skipped when the organization already has a clearinghouse, so running it twice changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from claims.models import Claim, ClaimStatus
from patients.models import ClaimForm
from rcm import part2
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_now
from submissions import services
from submissions.models import BatchStatus, Clearinghouse, SubmissionBatch
from submissions.selectors import ready_claims
from x12.writer import Envelope, SegmentWriter, TransactionSet

# A well-formed public key, shown on the clearinghouse page; demo mode never connects.
DEMO_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvBZ8Hm0b3bXcRq9d2Yqv8kTnQ2c0Gm8eXy3pL1s9Qe"
LEFT_READY = 3  # ready claims kept out of the batch, for a newcomer to send


def seed(organization: Organization) -> None:
    if Clearinghouse.objects.exists():
        return
    clearinghouse = services.clearinghouse_save(
        name="Availity (demo)",
        code="availity",
        receiver_name="AVAILITY",
        receiver_id="030240928",
        submitter_id=f"PAR{organization.slug[:6].upper()}",
        contact_name="Billing Office",
        contact_phone="2175550100",
        transport="sftp",
        sftp_host="sftp.availity.example",
        sftp_username=organization.slug,
        sftp_password_env="PARITY_DEMO_SFTP_PASSWORD",  # noqa: S106  (a variable's name)
        sftp_host_key=DEMO_HOST_KEY,
        sftp_remote_dir="inbound",
    )
    ready = list(
        ready_claims(scopes=part2.ORGANIZATION)
        .order_by("patient_control_number")
        .values_list("pk", flat=True)
    )
    chosen = ready[: max(len(ready) - LEFT_READY, 0)]
    if not chosen:
        return
    batches = services.batches_create(
        clearinghouse=clearinghouse, claim_ids=chosen, scopes=part2.ORGANIZATION
    )
    for batch in batches:  # built now, as the outbox's worker would (its message then does nothing)
        services.batch_build(organization_id=organization.pk, batch_id=batch.pk)
    now = (
        organization_now(organization).astimezone(UTC).replace(tzinfo=None, second=0, microsecond=0)
    )
    professional = SubmissionBatch.objects.filter(
        claim_form=ClaimForm.PROFESSIONAL, status=BatchStatus.RELEASED
    ).first()
    if professional is None:
        return
    pcns = list(
        Claim.objects.filter(batch_items__batch=professional, status=ClaimStatus.SUBMITTED)
        .order_by("batch_items__position")
        .values_list("patient_control_number", "total_charge")
    )
    services.acknowledgment_import(
        content=ack_999(professional, now), file_name="999_demo.x12", source="folder"
    )
    # The second claim is rejected at the payer's front door (a subscriber id it cannot match).
    verdicts: dict[str, tuple[str, ...]] = {
        pcn: ("A7", "562", "85") if n == 1 else ("A1", "20") for n, (pcn, _) in enumerate(pcns)
    }
    services.acknowledgment_import(
        content=ack_277ca(professional, now, verdicts, dict(pcns)),
        file_name="277CA_demo.x12",
        source="folder",
    )


def _envelope(
    batch: SubmissionBatch, now: datetime, number: int, kind: str, version: str
) -> Envelope:
    ch = batch.clearinghouse
    return Envelope(ch.receiver_id, ch.submitter_id, number, number, now,
                    functional_id=kind, version=version)  # fmt: skip


def ack_999(batch: SubmissionBatch, now: datetime) -> str:
    """The clearinghouse's 999 accepting the batch's transaction set."""
    body: list[Any] = [
        ("AK1", "HC", batch.group_control_number, "005010X222A1"),
        ("AK2", "837", f"{batch.transaction_control_number:04d}", "005010X222A1"),
        ("IK5", "A"),
        ("AK9", "A", 1, 1, 1),
    ]
    ts = TransactionSet("999", body, "005010X231A1")
    return _envelope(batch, now, 9001, "FA", "005010X231A1").render([ts], SegmentWriter())


def ack_277ca(
    batch: SubmissionBatch,
    now: datetime,
    verdicts: dict[str, tuple[str, ...]],
    charges: dict[str, Any],
) -> str:
    """The payer's 277CA: each claim accepted (A1:20) or rejected (A7:...) with the payer's claim
    number (REF*1K) for the accepted ones."""
    day = now.strftime("%Y%m%d")
    org = Organization.objects.get(pk=batch.organization_id)
    body: list[Any] = [
        ("BHT", "0085", "08", "DEMO277", day, "0800", "TH"),
        ("HL", 1, None, "20", 1),
        ("NM1", "PR", "2", batch.clearinghouse.receiver_name, None, None, None, None, "46",
         batch.clearinghouse.receiver_id),
        ("TRN", "1", "DEMO277"),
        ("DTP", "050", "D8", day),
        ("DTP", "009", "D8", day),
        ("HL", 2, 1, "21", 1),
        ("NM1", "41", "2", org.name.upper()[:60], None, None, None, None, "46",
         batch.clearinghouse.submitter_id),
        ("TRN", "2", batch.reference),
        ("STC", ("A1", "19"), day, "WQ", batch.total_charge),
        ("HL", 3, 2, "19", 1),
        ("NM1", "85", "2", org.name.upper()[:60], None, None, None, None, "XX", org.group_npi),
        ("TRN", "1", "PROV1"),
    ]  # fmt: skip
    claims = {
        c.patient_control_number: c
        for c in Claim.objects.select_related("patient", "coverage").filter(
            patient_control_number__in=list(verdicts)
        )
    }
    hl = 3
    for pcn, verdict in verdicts.items():
        hl += 1
        claim = claims[pcn]
        body += [
            ("HL", hl, 3, "PT"),
            ("NM1", "QC", "1", claim.patient.last_name.upper(), claim.patient.first_name.upper(),
             None, None, None, "MI", claim.coverage.member_id),
            ("TRN", "2", pcn),
            ("STC", verdict, day, "WQ", charges[pcn]),
        ]  # fmt: skip
        if verdict[0] == "A1":
            body.append(("REF", "1K", f"PYR{pcn}"))
        body.append(("DTP", "472", "D8", claim.statement_from.strftime("%Y%m%d")))
    ts = TransactionSet("277", body, "005010X214")
    return _envelope(batch, now, 9002, "HN", "005010X214").render([ts], SegmentWriter())
