"""Electronic claim submission: clearinghouses, control numbers, submission batches (one X12
interchange each), the acknowledgments received for them (999, 277CA) and the rejections queue.

These models were moved here from the claims app; their tables keep the claims_ names
(`Meta.db_table`), so moving them changed no table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from patients.models import ClaimForm, Coverage, EligibilityRequest, EpisodeOfCare
from rcm.tenancy.models import TenantModel


class Transport(models.TextChoices):
    FOLDER = "folder", "Outbound folder (download and upload by hand)"
    SFTP = "sftp", "SFTP to the clearinghouse"


class RealtimeTransport(models.TextChoices):
    NONE = "", "None (batch only)"
    CORE_MIME = "core_mime", "CAQH CORE connectivity, HTTP MIME multipart over HTTPS"


class Clearinghouse(TenantModel):
    """Where claim files go: the receiver ids, our submitter id there, the separators it wants
    and how files travel (a folder or SFTP)."""

    name = models.CharField(max_length=60)
    code = models.SlugField(max_length=30, help_text="Short name used in folder and file names")
    receiver_name = models.CharField(max_length=60, help_text="NM1*40 receiver name")
    receiver_id = models.CharField(max_length=15, help_text="ISA08 / GS03 / NM1*40 id")
    receiver_qualifier = models.CharField(max_length=2, default="ZZ")
    submitter_id = models.CharField(
        max_length=15, help_text="Our ETIN / submitter id there: ISA06 / GS02 / NM1*41 id"
    )
    submitter_qualifier = models.CharField(max_length=2, default="ZZ")
    contact_name = models.CharField(max_length=60, help_text="PER contact in loop 1000A")
    contact_phone = models.CharField(max_length=10, help_text="Ten digits")
    usage = models.CharField(
        max_length=1, choices=[("P", "Production"), ("T", "Test")], default="T"
    )
    element_separator = models.CharField(max_length=1, default="*")
    component_separator = models.CharField(max_length=1, default=":")
    repetition_separator = models.CharField(max_length=1, default="^")
    segment_terminator = models.CharField(max_length=1, default="~")
    line_break_after_segment = models.BooleanField(default=False)
    transport = models.CharField(max_length=8, choices=Transport.choices, default=Transport.FOLDER)
    sftp_host = models.CharField(max_length=255, blank=True)
    sftp_port = models.PositiveIntegerField(default=22)
    sftp_username = models.CharField(max_length=80, blank=True)
    sftp_password_env = models.CharField(
        max_length=80,
        blank=True,
        help_text="Name of the environment variable holding the SFTP password (never stored)",
    )
    sftp_host_key = models.TextField(
        blank=True, help_text="The server's public host key ('ssh-ed25519 AAAA...'), verified"
    )
    sftp_remote_dir = models.CharField(max_length=255, blank=True, default="inbound")
    # Real-time eligibility (270/271): the transport the clearinghouse supports for it.
    realtime_transport = models.CharField(
        max_length=10, choices=RealtimeTransport.choices, default="", blank=True
    )
    core_url = models.URLField("CORE endpoint (https)", blank=True)
    core_username = models.CharField("CORE user name", max_length=80, blank=True)
    # Fernet token of the password (rcm.crypto, the key from settings); never shown again.
    core_password_encrypted = models.TextField(blank=True, editable=False)
    # A client certificate (PEM) and its private key for TLS client authentication, both stored
    # encrypted like the password and never shown again; written to a private temporary folder
    # only for the length of a request.
    core_client_cert_encrypted = models.TextField(blank=True, editable=False)
    core_client_key_encrypted = models.TextField(blank=True, editable=False)
    realtime_timeout_seconds = models.PositiveSmallIntegerField(default=10)
    realtime_retries = models.PositiveSmallIntegerField(
        default=1, help_text="Further attempts after a timeout or a server error"
    )
    # Claim status (276/277): which transports the clearinghouse takes a 276 on.
    claim_status_batch = models.BooleanField(
        "Claim status in batch", default=True, help_text="Takes 276 files like the 837s"
    )
    claim_status_realtime = models.BooleanField(
        "Claim status in real time",
        default=False,
        help_text="Answers a 276 at once over its real-time (CAQH CORE) transport",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "claims_clearinghouse"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="clearinghouse_org_code_uniq"
            ),
            models.CheckConstraint(
                condition=Q(transport="folder") | ~Q(sftp_host=""),
                name="clearinghouse_sftp_needs_host",
                violation_error_message="An SFTP clearinghouse needs a host.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ControlNumberCounter(TenantModel):
    """The last ISA13 / GS06 / ST02 used for one submitter at one clearinghouse. Locked with
    SELECT ... FOR UPDATE while a batch takes its numbers, so they never repeat."""

    clearinghouse = models.ForeignKey(Clearinghouse, on_delete=models.CASCADE, related_name="+")
    submitter_id = models.CharField(max_length=15)
    last_interchange = models.PositiveIntegerField(default=0)
    last_group = models.PositiveIntegerField(default=0)
    last_transaction = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "claims_controlnumbercounter"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "clearinghouse", "submitter_id"],
                name="controlcounter_org_ch_submitter_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.submitter_id}: ISA {self.last_interchange}"


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    RELEASED = "released", "Released (file ready / sent)"
    FAILED = "failed", "Failed"
    ACKNOWLEDGED = "acknowledged", "Accepted by the clearinghouse (999)"
    PARTIAL = "partial", "Partly accepted (999)"
    REJECTED = "rejected", "Rejected (999)"


class SubmissionBatch(TenantModel):
    """One X12 interchange of 837 claims sent to one clearinghouse."""

    clearinghouse = models.ForeignKey(
        Clearinghouse, on_delete=models.PROTECT, related_name="batches"
    )
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    interchange_control_number = models.PositiveIntegerField(null=True, blank=True)
    group_control_number = models.PositiveIntegerField(null=True, blank=True)
    transaction_control_number = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=30, blank=True, help_text="BHT03")
    envelope_created = models.DateTimeField(
        null=True, blank=True, help_text="The ISA/GS date and time (kept to regenerate the file)"
    )
    usage = models.CharField(max_length=1, default="T")
    file_name = models.CharField(max_length=120, blank=True)
    content = models.TextField(blank=True, help_text="The released X12 file")
    sha256 = models.CharField(max_length=64, blank=True)
    claim_count = models.PositiveIntegerField(default=0)
    total_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Why the last build failed, one entry per problem: {"claim_id", "claim" (its patient control
    # number, empty for the organization or the file), "field", "message"}.
    failures = models.JSONField(default=list, blank=True)
    # Builds asked for: 1, then one more for each retry (each has its own outbox message).
    attempts = models.PositiveIntegerField(default=1)
    transport_detail = models.CharField(max_length=300, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # When the transport last delivered the file (shown in the organization's time zone).
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "claims_submissionbatch"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "clearinghouse", "interchange_control_number"],
                condition=Q(interchange_control_number__isnull=False),
                name="batch_org_ch_isa13_uniq",
            ),
            models.UniqueConstraint(
                fields=["organization", "clearinghouse", "group_control_number"],
                condition=Q(group_control_number__isnull=False),
                name="batch_org_ch_gs06_uniq",
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")),
                name="batch_progress_within_total",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "created_at"], name="batch_org_status_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Batch {self.interchange_control_number or '(unnumbered)'}"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class AckStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class BatchClaim(TenantModel):
    """A claim in a batch, in file order, with what the acknowledgments said about it."""

    batch = models.ForeignKey(SubmissionBatch, on_delete=models.CASCADE, related_name="items")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="batch_items")
    position = models.PositiveIntegerField()
    ack_status = models.CharField(
        max_length=8, choices=AckStatus.choices, default=AckStatus.PENDING
    )
    ack_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "claims_batchclaim"
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "batch", "claim"], name="batchclaim_org_batch_claim_uniq"
            )
        ]
        indexes = [models.Index(fields=["organization", "claim"], name="batchclaim_org_claim_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.position}"


class AckKind(models.TextChoices):
    ACK_999 = "999", "999 implementation acknowledgment"
    ACK_277CA = "277CA", "277CA claim acknowledgment"


ACK_SOURCES = [("upload", "Upload"), ("api", "API"), ("folder", "Inbound folder")]


class Acknowledgment(TenantModel):
    """An acknowledgment file applied to our batches. The same file twice is found by its hash
    and changes nothing."""

    kind = models.CharField(max_length=5, choices=AckKind.choices)
    batch = models.ForeignKey(
        SubmissionBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acknowledgments",
    )
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    content = models.TextField()
    source = models.CharField(max_length=8, choices=ACK_SOURCES)
    summary = models.CharField(max_length=300)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "claims_acknowledgment"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="ack_org_sha_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class ClaimRejection(TenantModel):
    """A claim the clearinghouse or payer refused at the front door, waiting to be fixed."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="rejections")
    batch = models.ForeignKey(SubmissionBatch, on_delete=models.CASCADE, related_name="rejections")
    acknowledgment = models.ForeignKey(
        Acknowledgment, on_delete=models.CASCADE, related_name="rejections"
    )
    source = models.CharField(max_length=5, choices=AckKind.choices)
    reason = models.CharField(max_length=500)
    codes = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "claims_claimrejection"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "acknowledgment", "claim"],
                name="rejection_org_ack_claim_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "resolved_at"], name="rejection_org_open_idx")
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.reason[:40]}"


# --- Claim status (276/277) --------------------------------------------------------------------


class ClaimStatusSetting(TenantModel):
    """When a payer's claims are asked about: `after_days` after acceptance with no payment or
    denial, then at most once per claim every `interval_days`. Without a row: 30 and 14."""

    payer = models.ForeignKey("patients.Payer", on_delete=models.CASCADE, related_name="+")
    after_days = models.PositiveSmallIntegerField(default=30)
    interval_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer"], name="claimstatussetting_org_payer_uniq"
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1), name="claimstatussetting_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Claim status after {self.after_days} days"


class ClaimStatusTransport(models.TextChoices):
    BATCH = "batch", "Batch (file through the clearinghouse connection)"
    REALTIME = "realtime", "Real time (CAQH CORE)"


class ClaimStatusState(models.TextChoices):
    QUEUED = "queued", "Queued to send"
    SENT = "sent", "Sent, waiting for the 277"
    ANSWERED = "answered", "Answered"
    NO_ANSWER = "no_answer", "No answer"
    ERROR = "error", "Error"


class ClaimStatusRequest(TenantModel):
    """One 276 to one payer for chosen claims (one ClaimStatusInquiry each), sent in real time or
    as a batch file, and what became of it."""

    clearinghouse = models.ForeignKey(Clearinghouse, on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    transport = models.CharField(max_length=8, choices=ClaimStatusTransport.choices)
    status = models.CharField(
        max_length=10, choices=ClaimStatusState.choices, default=ClaimStatusState.QUEUED
    )
    reference = models.CharField(max_length=30, help_text="BHT03 of the 276")
    source = models.CharField(max_length=8, default="ui")  # ui, api, scan
    file_name = models.CharField(max_length=120, blank=True)
    raw_request = models.TextField(blank=True)
    raw_response = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="Why the answer was refused or never came")
    requested_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    transport_detail = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "reference"], name="claimstatusrequest_org_ref_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "requested_at"], name="claimstatusreq_org_idx"
            )
        ]

    def __str__(self) -> str:
        return f"276 {self.reference} ({self.get_status_display()})"


class ClaimStatusInquiry(TenantModel):
    """One claim asked about in a 276 (its trace number, TRN02, unique in the organization) and
    the payer's answer from the 277: category and status codes with their text, the payer's claim
    number, dates and amounts, and what Parity did about it."""

    request = models.ForeignKey(
        ClaimStatusRequest, on_delete=models.CASCADE, related_name="inquiries"
    )
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, related_name="status_inquiries"
    )
    trace_number = models.CharField(max_length=50)
    answered_at = models.DateTimeField(null=True, blank=True)
    category_code = models.CharField(max_length=3, blank=True)
    status_code = models.CharField(max_length=5, blank=True)
    entity_code = models.CharField(max_length=3, blank=True)
    action = models.CharField(max_length=24, blank=True)
    status_text = models.CharField(max_length=500, blank=True)
    codes = models.JSONField(default=list, blank=True, help_text="Every STC composite")
    payer_claim_control_number = models.CharField(max_length=50, blank=True)
    adjudication_date = models.DateField(null=True, blank=True)
    paid_date = models.DateField(null=True, blank=True)
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    payment_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    check_number = models.CharField(max_length=50, blank=True)
    message = models.CharField(max_length=300, blank=True)
    # A late answer to an older request: kept, but it neither shows as the claim's status nor
    # acts on the claim once a newer request was answered.
    superseded = models.BooleanField(default=False)
    outcome = models.CharField(max_length=200, blank=True, help_text="What Parity did about it")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "trace_number"],
                name="claimstatusinquiry_org_trace_uniq",
                violation_error_message="This trace number (TRN02) is already used.",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "claim"], name="claimstatusinq_org_claim_idx")
        ]

    def __str__(self) -> str:
        return f"{self.trace_number}: {self.category_code or 'unanswered'}"


class ClaimStatusResponse(TenantModel):
    """A 277 file applied; the same file again is found by its hash and changes nothing."""

    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200, blank=True)
    content = models.TextField()
    source = models.CharField(max_length=8)  # realtime, folder, upload, api
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sha256"], name="claimstatusresponse_org_sha_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"277 {self.file_name or self.sha256[:8]}"


__all__ = [
    "AckKind",
    "AckStatus",
    "Acknowledgment",
    "BatchClaim",
    "BatchStatus",
    "ClaimRejection",
    "ClaimStatusInquiry",
    "ClaimStatusRequest",
    "ClaimStatusResponse",
    "ClaimStatusSetting",
    "ClaimStatusState",
    "ClaimStatusTransport",
    "Clearinghouse",
    "ControlNumberCounter",
    "SubmissionBatch",
    "Transport",
]


class EligibilityBatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class EligibilityBatch(TenantModel):
    """ "Check eligibility for all active episodes": one real-time check (270/271) per primary
    coverage in force of the organization's active episodes, run through the outbox; the counts
    are its progress. One at a time per organization (a second start returns the running one)."""

    clearinghouse = models.ForeignKey(Clearinghouse, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10,
        choices=EligibilityBatchStatus.choices,
        default=EligibilityBatchStatus.QUEUED,
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(
        default=0, help_text="Rejected by the payer, no answer or an error"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status__in=["queued", "running"]),
                name="eligibility_batch_one_running_per_org",
                violation_error_message="An eligibility batch is already running.",
            ),
            models.CheckConstraint(
                condition=Q(checked__lte=F("total")),
                name="eligibility_batch_checked_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Eligibility batch {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.checked * 100 / self.total)


class EligibilityBatchItem(TenantModel):
    """One coverage of a batch and the result of its check (the request holds the 270/271)."""

    batch = models.ForeignKey(EligibilityBatch, on_delete=models.CASCADE, related_name="items")
    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="+")
    # The active episode the coverage was chosen for: 42 CFR Part 2 follows it (rcm/part2.py).
    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        EligibilityRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "pending" until checked, then the request's status (answered, rejected, no_answer, error).
    status = models.CharField(max_length=10, default="pending")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "batch", "coverage"],
                name="eligibility_batch_item_coverage_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.coverage} ({self.status})"
