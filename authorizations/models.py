"""Prior authorizations, concurrent reviews, the usage ledger and the history of every change.

A payer approves a number of units (days, sessions, 15-minute units or per-diem days) of one
level of care for a date range; concurrent reviews extend it, step it down or end it. Services
record usage in the ledger; the daily scan (services.authorization_scan) raises alerts in the
shared alerts app before money is lost.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from patients.levels import LevelOfCare
from rcm.tenancy.models import TenantModel


class UnitType(models.TextChoices):
    DAYS = "days", "Days"
    SESSIONS = "sessions", "Sessions"
    UNITS_15 = "units_15min", "15-minute units"
    PER_DIEM = "per_diem", "Per diem"


# Day-based unit types: at most one unit per calendar day.
DAY_UNIT_TYPES = frozenset({UnitType.DAYS, UnitType.PER_DIEM})


class AuthorizationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    PENDING = "pending", "Pending payer decision"
    APPROVED = "approved", "Approved"
    PARTIAL = "partial", "Partially approved"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


APPROVED_STATUSES = frozenset({AuthorizationStatus.APPROVED, AuthorizationStatus.PARTIAL})
OPEN_STATUSES = frozenset({AuthorizationStatus.REQUESTED, AuthorizationStatus.PENDING})
# Statuses that still count as "someone is getting this authorized" for the unauthorized scan.
LIVE_STATUSES = frozenset({*OPEN_STATUSES, *APPROVED_STATUSES, AuthorizationStatus.EXPIRED})


class Authorization(TenantModel):
    """A payer's prior authorization of a level of care for an episode."""

    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="authorizations"
    )
    coverage = models.ForeignKey(
        "patients.Coverage", on_delete=models.PROTECT, related_name="authorizations"
    )
    # The coverage's payer, kept on the row so scans and the coverage check filter on one table.
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    # The level-of-care stay whose transition asked for this authorization (drafts only).
    stay = models.ForeignKey(
        "patients.LevelOfCareStay",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authorizations",
    )
    level = models.CharField("level of care", max_length=8, choices=LevelOfCare.choices)
    service_codes = models.JSONField(
        default=list, blank=True, help_text="HCPCS/CPT codes covered; empty means any code"
    )
    unit_type = models.CharField(max_length=12, choices=UnitType.choices)
    units_requested = models.PositiveIntegerField()
    units_approved = models.PositiveIntegerField(null=True, blank=True)
    # Kept equal to the sum of the usage ledger by authorization_record_usage.
    units_used = models.PositiveIntegerField(default=0, editable=False)
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=AuthorizationStatus.choices, default=AuthorizationStatus.REQUESTED
    )
    auth_number = models.CharField("payer authorization number", max_length=50, blank=True)
    requested_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    payer_contact = models.CharField(max_length=120, blank=True)
    reference_notes = models.TextField(blank=True)
    approval_note = models.CharField(
        max_length=300, blank=True, help_text="Why more units were approved than requested"
    )
    overlap_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why this approval overlaps another for the same level and payer",
    )
    next_review_on = models.DateField("next concurrent review", null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Utilization reviewer who receives this authorization's alerts",
    )

    class Meta:
        ordering = ["end_date", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="authorization_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(units_requested__gt=0), name="authorization_units_requested_positive"
            ),
            models.UniqueConstraint(
                fields=["organization", "stay"],
                condition=Q(stay__isnull=False),
                name="authorization_one_draft_per_stay",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "end_date"], name="auth_org_status_end_idx"
            ),
            models.Index(
                fields=["organization", "episode", "level"], name="auth_org_episode_level_idx"
            ),
            models.Index(
                fields=["organization", "payer", "level"], name="auth_org_payer_level_idx"
            ),
        ]

    def __str__(self) -> str:
        number = self.auth_number or "no number yet"
        return f"{self.level} {self.start_date} to {self.end_date} ({number})"

    @property
    def units_remaining(self) -> int:
        return max((self.units_approved or 0) - self.units_used, 0)

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATUSES


class ReviewType(models.TextChoices):
    INITIAL = "initial", "Initial"
    CONCURRENT = "concurrent", "Concurrent"
    PEER_TO_PEER = "peer_to_peer", "Peer-to-peer"
    APPEAL = "appeal", "Appeal"


class ReviewOutcome(models.TextChoices):
    EXTENDED = "extended", "Extended"
    STEP_DOWN = "step_down", "Step-down recommended"
    DENIED = "denied", "Denied"


class ConcurrentReview(TenantModel):
    """A scheduled conversation with the payer's reviewer to keep (or change) the level."""

    authorization = models.ForeignKey(
        Authorization, on_delete=models.CASCADE, related_name="reviews"
    )
    review_type = models.CharField(max_length=12, choices=ReviewType.choices)
    scheduled_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices, blank=True)
    new_end_date = models.DateField(null=True, blank=True)
    added_units = models.PositiveIntegerField(null=True, blank=True)
    reviewer = models.CharField(max_length=120, blank=True, help_text="The payer's reviewer")
    summary = models.TextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["scheduled_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | ~Q(outcome=""),
                name="review_completed_has_outcome",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "completed_on", "scheduled_on"],
                name="review_org_open_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_review_type_display()} review on {self.scheduled_on}"


class UsageSource(models.TextChoices):
    MANUAL = "manual", "Recorded by hand"
    CLAIM = "claim", "Claim service line"


class AuthorizationUsage(TenantModel):
    """One service that consumed units. `authorization` is empty when nothing covered it (a lapse
    the scan reports); `source_id` makes a re-sent service from the claims app count once."""

    authorization = models.ForeignKey(
        Authorization, null=True, blank=True, on_delete=models.PROTECT, related_name="usage"
    )
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="+"
    )
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=8, choices=LevelOfCare.choices)
    service_code = models.CharField(max_length=10, blank=True)
    date_of_service = models.DateField()
    units = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=UsageSource.choices)
    source_id = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date_of_service"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="usage_units_positive"),
            models.UniqueConstraint(
                fields=["organization", "source", "source_id"],
                condition=~Q(source_id=""),
                name="usage_org_source_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "authorization", "date_of_service"],
                name="usage_org_auth_date_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.units} on {self.date_of_service}"


class AuthorizationEvent(TenantModel):
    """Append-only history of an authorization: who changed what, when (ids and values of
    authorization fields only, never clinical detail)."""

    authorization = models.ForeignKey(
        Authorization, on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(max_length=40)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "authorization", "created_at"],
                name="authevent_org_auth_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"


class AuthorizationSettings(TenantModel):
    """Per-organization alert thresholds; one row, created on first use."""

    expiry_alert_days = models.JSONField(
        default=list, help_text="Alert when an authorization ends within these many days"
    )
    low_units_percent = models.PositiveSmallIntegerField(default=20)
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Receives alerts of authorizations with no reviewer assigned",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="authsettings_one_per_org")
        ]
        verbose_name_plural = "authorization settings"

    def __str__(self) -> str:
        return "Authorization settings"

    @property
    def thresholds(self) -> list[int]:
        return sorted({int(d) for d in self.expiry_alert_days or [7, 3, 1]}, reverse=True)
