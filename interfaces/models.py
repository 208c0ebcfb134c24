"""HL7 v2 inbound: every accepted message (its raw text and the ACK it got, both encrypted at rest:
they carry PHI) and the exceptions queue of charges held for an unknown patient or provider."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rcm.tenancy.models import TenantModel


class Channel(models.TextChoices):
    HTTPS = "https", "HTTPS (API)"
    MLLP = "mllp", "MLLP listener"
    RETRY = "retry", "Retried from the exceptions queue"


class MessageStatus(models.TextChoices):
    PROCESSED = "processed", "Processed"
    HELD = "held", "Held in the exceptions queue"


class Hl7Message(TenantModel):
    """A message answered AA (processed, or held for review). Messages answered AE or AR leave no
    row: nothing they carried was recorded, and the sender may send them again once fixed."""

    # MSH-10: a sender's message control id, unique per organization (a resend gets the original
    # ACK back and changes nothing).
    control_id = models.CharField(max_length=199)
    message_type = models.CharField(max_length=20)  # "DFT^P03", "ADT^A04"
    sending_application = models.CharField(max_length=227, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    # Fernet (rcm.crypto, CREDENTIALS_KEY): the message and the ACK carry PHI.
    raw_encrypted = models.TextField()
    ack_encrypted = models.TextField()
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Charges recorded from the message's FT1 segments (ServiceEntry ids).
    charge_ids = models.JSONField(default=list, blank=True)
    # 42 CFR Part 2: the message concerns a substance use episode or diagnosis (F10-F19), set
    # when it is received; rcm.part2 hides it from members without the grant.
    part2 = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "control_id"], name="hl7message_control_id_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id}"


class HeldReason(models.TextChoices):
    UNKNOWN_PATIENT = "unknown_patient", "Unknown patient"
    UNKNOWN_PROVIDER = "unknown_provider", "Unknown rendering provider"


class HeldStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Charged on retry"
    DISMISSED = "dismissed", "Dismissed"


class HeldMessage(TenantModel):
    """A DFT^P03 whose patient (PID-3) or rendering provider (FT1-20) Parity does not know: kept
    with its message, never dropped, until a biller retries it or dismisses it with a reason."""

    message = models.OneToOneField(Hl7Message, on_delete=models.CASCADE, related_name="held")
    reason = models.CharField(max_length=20, choices=HeldReason.choices)
    # Which identifier was not found, e.g. "PID-3 MRN 4411" or "FT1-20 NPI 1234567893".
    detail = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=HeldStatus.choices, default=HeldStatus.OPEN)
    last_retry_error = models.CharField(max_length=500, blank=True)
    dismiss_reason = models.CharField(max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    part2 = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "status", "-created_at"], name="heldmsg_status_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.detail}"
