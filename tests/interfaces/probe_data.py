from __future__ import annotations

from interfaces.models import Channel, HeldMessage, HeldReason, Hl7Message, MessageStatus
from rcm import crypto
from rcm.tenancy.models import Organization

RAW = "MSH|^~\\&|EHR|CLINIC|PARITY|ORG|20261201090000||DFT^P03|PROBE1|P|2.5.1\rPID|1||NOBODY"


def build(org: Organization) -> None:
    message = Hl7Message.objects.create(
        control_id=f"PROBE-{org.slug}",
        message_type="DFT^P03",
        channel=Channel.HTTPS,
        status=MessageStatus.HELD,
        raw_encrypted=crypto.encrypt(RAW),
        ack_encrypted=crypto.encrypt("MSH|^~\\&|PARITY\rMSA|AA|PROBE1"),
    )
    HeldMessage.objects.create(
        message=message, reason=HeldReason.UNKNOWN_PATIENT, detail="PID-3 NOBODY"
    )
