"""Every change to authorizations, reviews and the usage ledger, the coverage check and the scan.

Each write runs in one transaction, raises DomainError naming the field for anything a user can
fix, appends an AuthorizationEvent (the history shown on the authorization page) and writes the
audit trail (field names only)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Sum, Value, When
from django.utils import timezone

from alerts.models import Area, Severity
from alerts.services import AlertSpec, alerts_raise
from authorizations import rules
from authorizations.models import (
    APPROVED_STATUSES,
    DAY_UNIT_TYPES,
    LIVE_STATUSES,
    OPEN_STATUSES,
    Authorization,
    AuthorizationEvent,
    AuthorizationSettings,
    AuthorizationStatus,
    AuthorizationUsage,
    ConcurrentReview,
    ReviewOutcome,
    ReviewType,
    UnitType,
    UsageSource,
)
from authorizations.usage_sources import source_units
from patients.levels import LevelOfCare
from patients.models import Coverage, EpisodeOfCare, LevelOfCareStay, Payer
from rcm import part2
from rcm.audit.context import current_actor
from rcm.audit.services import audit_record
from rcm.errors import DomainError, ErrorCollector
from rcm.outbox.services import outbox_enqueue
from rcm.tenancy.context import require_organization_id

AREA = Area.AUTHORIZATIONS


# --- Settings ---------------------------------------------------------------------------------


def authorization_settings_get() -> AuthorizationSettings:
    """The organization's thresholds, created with the defaults (7/3/1 days, 20%) on first use."""
    found = AuthorizationSettings.objects.order_by().first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AuthorizationSettings.objects.create(expiry_alert_days=[7, 3, 1])
    except IntegrityError:
        return AuthorizationSettings.objects.get()


def authorization_settings_update(
    *, expiry_alert_days: list[int], low_units_percent: int, default_assignee: Any = None
) -> AuthorizationSettings:
    days = sorted({int(d) for d in expiry_alert_days}, reverse=True)
    if not days or any(d < 0 or d > 90 for d in days):
        raise DomainError(
            "Give one to five thresholds between 0 and 90 days, e.g. 7, 3, 1.",
            field="expiry_alert_days",
        )
    if len(days) > 5:
        raise DomainError("At most five thresholds.", field="expiry_alert_days")
    if not 1 <= low_units_percent <= 99:
        raise DomainError("Between 1 and 99 percent.", field="low_units_percent")
    with transaction.atomic():
        found = authorization_settings_get()
        found.expiry_alert_days = days
        found.low_units_percent = low_units_percent
        found.default_assignee = default_assignee
        found.save()
        audit_record(action="authorization_settings.update", obj=found)
    return found


# --- History ----------------------------------------------------------------------------------


def _display(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "pk"):
        return str(value.pk)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _event(
    auth: Authorization, action: str, changes: dict[str, Any] | None = None, note: str = ""
) -> AuthorizationEvent:
    actor = current_actor()
    return AuthorizationEvent.objects.create(
        authorization=auth,
        action=action,
        actor_id=actor.user_id,
        actor_label=actor.label or "system",
        changes=changes or {},
        note=note[:300],
    )


def _diff(before: dict[str, Any], after: Authorization) -> dict[str, list[Any]]:
    changes = {}
    for name, old in before.items():
        new = getattr(after, name)
        if old != new:
            changes[name] = [_display(old), _display(new)]
    return changes


def _snapshot(auth: Authorization) -> dict[str, Any]:
    return {name: getattr(auth, name) for name in AUTH_FIELDS | {"status"}}


def _audit(action: str, auth: Authorization, **detail: Any) -> None:
    audit_record(
        action=action,
        obj=auth,
        patient_id=auth.episode.patient_id,
        detail=detail or None,
    )


# --- Authorizations ---------------------------------------------------------------------------

# What a person edits on an authorization, in the order the form shows them.
AUTH_FORM_FIELDS = (
    "level",
    "service_codes",
    "unit_type",
    "units_requested",
    "units_approved",
    "start_date",
    "end_date",
    "auth_number",
    "requested_on",
    "decided_on",
    "payer_contact",
    "reference_notes",
    "approval_note",
    "overlap_reason",
)
# ...and what a caller may set: those, the coverage and the utilization reviewer.
AUTH_FIELDS = {"coverage", *AUTH_FORM_FIELDS, "assigned_to"}


def _normalize_codes(codes: Iterable[str] | str | None) -> list[str]:
    if isinstance(codes, str):
        codes = codes.replace(",", " ").split()
    return sorted({c.strip().upper() for c in codes or [] if c and c.strip()})


def _check_authorization(auth: Authorization) -> None:
    """Invariants of one authorization and its neighbours; raises before anything is saved."""
    if auth.level not in LevelOfCare.values:
        raise DomainError(f"Unknown level of care: {auth.level}", field="level")
    if auth.unit_type not in UnitType.values:
        raise DomainError(f"Unknown unit type: {auth.unit_type}", field="unit_type")
    if auth.start_date is None or auth.end_date is None:
        raise DomainError("Give the start and end dates.", field="start_date")
    if auth.end_date < auth.start_date:
        raise DomainError(
            f"The end date {auth.end_date} is before the start date {auth.start_date}.",
            field="end_date",
        )
    if not auth.units_requested or auth.units_requested <= 0:
        raise DomainError("Request at least one unit.", field="units_requested")
    if auth.coverage.patient_id != auth.episode.patient_id:
        raise DomainError("That coverage belongs to another patient.", field="coverage")
    auth.payer_id = auth.coverage.payer_id
    auth.service_codes = _normalize_codes(auth.service_codes)
    span = rules.days_in_range(auth.start_date, auth.end_date)
    label = UnitType(auth.unit_type).label.lower()
    if auth.unit_type in DAY_UNIT_TYPES:
        for name in ("units_requested", "units_approved"):
            units = getattr(auth, name)
            if units and units > span:
                raise DomainError(
                    f"{units} {label} do not fit in {auth.start_date} to {auth.end_date} "
                    f"({span} days): {label} are counted one per day. Use another unit type "
                    "(sessions or 15-minute units) or widen the dates.",
                    field=name,
                )
    # The decision's own checks are independent: refuse with all of them at once.
    errors = ErrorCollector()
    if auth.status in APPROVED_STATUSES:
        if not auth.units_approved:
            errors.add("Give the number of units the payer approved.", field="units_approved")
        if auth.decided_on is None:
            errors.add("Give the date the payer decided.", field="decided_on")
    if (
        auth.units_approved
        and auth.units_approved > auth.units_requested
        and not auth.approval_note.strip()
    ):
        errors.add(
            f"{auth.units_approved} units approved is more than the {auth.units_requested} "
            "requested; add a note saying why (e.g. the payer's letter).",
            field="approval_note",
        )
    if (
        auth.status == AuthorizationStatus.PARTIAL
        and (auth.units_approved or 0) >= auth.units_requested
    ):
        errors.add("A partial approval grants fewer units than requested.", field="units_approved")
    if auth.decided_on and auth.requested_on and auth.decided_on < auth.requested_on:
        errors.add("The decision date is before the request date.", field="decided_on")
    if auth.status in APPROVED_STATUSES and not auth.overlap_reason.strip():
        overlapping = (
            Authorization.objects.filter(
                episode_id=auth.episode_id,
                payer_id=auth.payer_id,
                level=auth.level,
                status__in=APPROVED_STATUSES,
                start_date__lte=auth.end_date,
                end_date__gte=auth.start_date,
            )
            .exclude(pk=auth.pk)
            .first()
        )
        if overlapping is not None:
            errors.add(
                f"This approval overlaps authorization {overlapping.auth_number or '(no number)'} "
                f"({overlapping.start_date} to {overlapping.end_date}) for the same level and "
                "payer. Give a reason to keep both, or change the dates.",
                field="overlap_reason",
            )
    errors.raise_any()


def _refresh_next_review(auth: Authorization) -> None:
    first = (
        ConcurrentReview.objects.filter(authorization=auth, completed_on__isnull=True)
        .order_by("scheduled_on")
        .values_list("scheduled_on", flat=True)
        .first()
    )
    if auth.next_review_on != first:
        auth.next_review_on = first
        auth.save(update_fields=["next_review_on", "updated_at"])


def authorization_create(
    *,
    episode: EpisodeOfCare,
    coverage: Coverage,
    level: str,
    unit_type: str,
    units_requested: int,
    start_date: date,
    end_date: date,
    status: str = AuthorizationStatus.REQUESTED,
    next_review_on: date | None = None,
    stay: LevelOfCareStay | None = None,
    today: date,
    **data: Any,
) -> Authorization:
    """Record a request (or an authorization already decided by the payer). Without a request
    date it is `today`, the organization's day the caller read from the clock."""
    unknown = set(data) - AUTH_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"{name} cannot be set here.", field=name)
    if status not in {*OPEN_STATUSES, *APPROVED_STATUSES, AuthorizationStatus.DENIED}:
        raise DomainError(f"A new authorization cannot start as {status}.", field="status")
    auth = Authorization(
        episode=episode,
        coverage=coverage,
        level=level,
        unit_type=unit_type,
        units_requested=units_requested,
        start_date=start_date,
        end_date=end_date,
        status=status,
        stay=stay,
        requested_on=data.pop("requested_on", None) or today,
        **{k: ("" if v is None and k in _TEXT_FIELDS else v) for k, v in data.items()},
    )
    with transaction.atomic():
        _check_authorization(auth)
        auth.save()
        event = _event(
            auth, "created", {k: [None, _display(v)] for k, v in _snapshot(auth).items() if v}
        )
        if next_review_on:
            review_schedule(
                authorization=auth, review_type=ReviewType.CONCURRENT, scheduled_on=next_review_on
            )
        _audit("authorization.create", auth, status=auth.status, level=auth.level)
        _coverage_changed(auth, event, was_approved=False)
    return auth


_TEXT_FIELDS = {
    "auth_number",
    "payer_contact",
    "reference_notes",
    "approval_note",
    "overlap_reason",
}


def _locked(auth: Authorization) -> Authorization:
    return (
        Authorization.objects.select_for_update(of=("self",))
        .select_related("episode", "coverage")
        .get(pk=auth.pk)
    )


def authorization_update(*, authorization: Authorization, data: dict[str, Any]) -> Authorization:
    """Change the fields of an authorization that is not cancelled."""
    unknown = set(data) - AUTH_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"{name} cannot be changed here.", field=name)
    with transaction.atomic():
        auth = _locked(authorization)
        if auth.status == AuthorizationStatus.CANCELLED:
            raise DomainError("A cancelled authorization cannot be changed.", field="status")
        before = _snapshot(auth)
        for key, value in data.items():
            setattr(auth, key, "" if value is None and key in _TEXT_FIELDS else value)
        _check_authorization(auth)
        changes = _diff(before, auth)
        if changes:
            auth.save()
            event = _event(auth, "updated", changes)
            _audit("authorization.update", auth, fields=sorted(changes))
            if COVERAGE_FIELDS & set(changes):
                _coverage_changed(auth, event, was_approved=before["status"] in APPROVED_STATUSES)
    return auth


def authorization_decide(
    *,
    authorization: Authorization,
    status: str,
    decided_on: date,
    units_approved: int | None = None,
    auth_number: str = "",
    approval_note: str = "",
    overlap_reason: str = "",
    end_date: date | None = None,
) -> Authorization:
    """Record the payer's answer to a request: approved, partially approved, denied or pending."""
    allowed = {*APPROVED_STATUSES, AuthorizationStatus.DENIED, AuthorizationStatus.PENDING}
    if status not in allowed:
        raise DomainError(f"{status} is not a payer decision.", field="status")
    with transaction.atomic():
        auth = _locked(authorization)
        if auth.status not in OPEN_STATUSES:
            raise DomainError(
                f"The authorization is already {auth.get_status_display().lower()}; change it "
                "through a concurrent review.",
                field="status",
            )
        before = _snapshot(auth)
        auth.status = status
        if status != AuthorizationStatus.PENDING:
            auth.decided_on = decided_on
        if units_approved is not None:
            auth.units_approved = units_approved
        if status == AuthorizationStatus.DENIED:
            auth.units_approved = 0
        if auth_number:
            auth.auth_number = auth_number.strip()
        if approval_note:
            auth.approval_note = approval_note
        if overlap_reason:
            auth.overlap_reason = overlap_reason
        if end_date:
            auth.end_date = end_date
        errors = ErrorCollector()
        if auth.status in APPROVED_STATUSES and not auth.auth_number:
            errors.add("Give the payer's authorization number.", field="auth_number")
        with errors.check():
            _check_authorization(auth)
        errors.raise_any()
        auth.save()
        event = _event(auth, "decided", _diff(before, auth))
        _audit("authorization.decide", auth, status=status)
        _coverage_changed(auth, event, was_approved=before["status"] in APPROVED_STATUSES)
    return auth


def authorization_cancel(*, authorization: Authorization, reason: str) -> Authorization:
    """Withdraw a request or an authorization that will not be used."""
    if not reason.strip():
        raise DomainError("Say why the authorization is cancelled.", field="reason")
    with transaction.atomic():
        auth = _locked(authorization)
        if auth.status in {AuthorizationStatus.CANCELLED, AuthorizationStatus.DENIED}:
            raise DomainError(
                f"The authorization is already {auth.get_status_display().lower()}.",
                field="status",
            )
        if auth.units_used:
            raise DomainError(
                f"{auth.units_used} units were already used under this authorization; it cannot "
                "be cancelled.",
                field="status",
            )
        before = _snapshot(auth)
        auth.status = AuthorizationStatus.CANCELLED
        auth.save(update_fields=["status", "updated_at"])
        ConcurrentReview.objects.filter(authorization=auth, completed_on__isnull=True).delete()
        _refresh_next_review(auth)
        _event(auth, "cancelled", _diff(before, auth), note=reason)
        _audit("authorization.cancel", auth)
    return auth


# --- Concurrent reviews -----------------------------------------------------------------------


def review_schedule(
    *,
    authorization: Authorization,
    review_type: str,
    scheduled_on: date,
    reviewer: str = "",
) -> ConcurrentReview:
    """Put a review with the payer on the calendar; the authorization's next review follows."""
    if review_type not in ReviewType.values:
        raise DomainError(f"Unknown review type: {review_type}", field="review_type")
    with transaction.atomic():
        auth = _locked(authorization)
        if auth.status in {AuthorizationStatus.CANCELLED}:
            raise DomainError("The authorization is cancelled.", field="scheduled_on")
        if scheduled_on < auth.requested_on:
            raise DomainError(
                f"The review date is before the request ({auth.requested_on}).",
                field="scheduled_on",
            )
        review = ConcurrentReview.objects.create(
            authorization=auth,
            review_type=review_type,
            scheduled_on=scheduled_on,
            reviewer=reviewer,
        )
        _refresh_next_review(auth)
        _event(
            auth,
            "review_scheduled",
            {"review": [None, f"{review.get_review_type_display()} on {scheduled_on}"]},
        )
        _audit("review.schedule", auth, review_id=str(review.pk))
    return review


def review_complete(
    *,
    review: ConcurrentReview,
    outcome: str,
    completed_on: date,
    new_end_date: date | None = None,
    added_units: int | None = None,
    reviewer: str = "",
    summary: str = "",
    next_review_on: date | None = None,
    completed_by: Any = None,
) -> ConcurrentReview:
    """Record the payer's review outcome and, in the same transaction, its effect on the
    authorization: an extension moves the end date and adds units; a denial ends coverage."""
    if outcome not in ReviewOutcome.values:
        raise DomainError(f"Unknown outcome: {outcome}", field="outcome")
    with transaction.atomic():
        review = ConcurrentReview.objects.select_for_update().get(pk=review.pk)
        auth = _locked(review.authorization)
        if review.completed_on is not None:
            raise DomainError("This review is already completed.", field="outcome")
        if completed_on < review.authorization.requested_on:
            raise DomainError("The review cannot end before the request.", field="completed_on")
        before = _snapshot(auth)
        if outcome == ReviewOutcome.EXTENDED:
            _extend(auth, new_end_date=new_end_date, added_units=added_units, on=completed_on)
        elif outcome == ReviewOutcome.DENIED:
            if review.review_type == ReviewType.INITIAL or not auth.is_approved:
                auth.status = AuthorizationStatus.DENIED
                auth.units_approved = 0
                auth.decided_on = completed_on
            elif completed_on < auth.end_date:
                # Continued stay denied: days already approved up to the review stay covered.
                auth.end_date = max(completed_on, auth.start_date)
        auth.save()
        review.outcome = outcome
        review.completed_on = completed_on
        review.new_end_date = new_end_date if outcome == ReviewOutcome.EXTENDED else None
        review.added_units = added_units if outcome == ReviewOutcome.EXTENDED else None
        review.reviewer = reviewer or review.reviewer
        review.summary = summary
        review.completed_by = completed_by
        review.save()
        changes = _diff(before, auth)
        coverage_changed = bool((COVERAGE_FIELDS | {"status"}) & set(changes))
        changes["review"] = [review.get_review_type_display(), review.get_outcome_display()]
        event = _event(auth, "review_completed", changes, note=summary[:300])
        if coverage_changed:
            _coverage_changed(auth, event, was_approved=before["status"] in APPROVED_STATUSES)
        if next_review_on:
            if next_review_on <= completed_on:
                raise DomainError(
                    "The next review must come after this one.", field="next_review_on"
                )
            ConcurrentReview.objects.create(
                authorization=auth, review_type=ReviewType.CONCURRENT, scheduled_on=next_review_on
            )
        _refresh_next_review(auth)
        _audit("review.complete", auth, review_id=str(review.pk), outcome=outcome)
    return review


def _extend(
    auth: Authorization, *, new_end_date: date | None, added_units: int | None, on: date
) -> None:
    if auth.status in {
        AuthorizationStatus.DENIED,
        AuthorizationStatus.CANCELLED,
        AuthorizationStatus.EXPIRED,
    } or (auth.is_approved and auth.end_date < on):
        state = "expired" if auth.is_approved else auth.get_status_display().lower()
        raise DomainError(
            f"The authorization is {state}; a review cannot extend it. Request a new "
            "authorization instead.",
            field="outcome",
        )
    if not auth.is_approved:
        raise DomainError(
            "The authorization is not approved yet; record the payer's decision first.",
            field="outcome",
        )
    if new_end_date is None or new_end_date <= auth.end_date:
        raise DomainError(
            f"An extension needs a new end date after {auth.end_date}.", field="new_end_date"
        )
    if not added_units or added_units <= 0:
        raise DomainError("An extension adds at least one unit.", field="added_units")
    auth.end_date = new_end_date
    # The review granted what it was asked for: the request and the approval grow together.
    auth.units_approved = (auth.units_approved or 0) + added_units
    auth.units_requested += added_units
    _check_authorization(auth)


# --- Usage ledger and the coverage check ------------------------------------------------------


def authorization_covering(
    *,
    episode: EpisodeOfCare | uuid.UUID,
    payer: Payer | uuid.UUID,
    level: str,
    service_code: str,
    date_of_service: date,
    units: int = 1,
) -> rules.CoverageDecision:
    """The authorization covering this service, or the precise reason none does (one query)."""
    episode_id = getattr(episode, "pk", episode)
    payer_id = getattr(payer, "pk", payer)
    candidates = Authorization.objects.filter(episode_id=episode_id, payer_id=payer_id).order_by(
        "start_date"
    )
    return rules.coverage_decision(
        candidates,
        level=level,
        service_code=service_code,
        date_of_service=date_of_service,
        units=units,
    )


def authorization_record_usage(
    *,
    episode: EpisodeOfCare,
    payer: Payer,
    level: str,
    date_of_service: date,
    units: int,
    unit_type: str,
    service_code: str = "",
    source: str = UsageSource.MANUAL,
    source_id: str = "",
    authorization: Authorization | None = None,
    recorded_by: Any = None,
) -> AuthorizationUsage:
    """Record units used by a service. Without an explicit authorization the covering one is
    found; a service nothing covers is still recorded (with no authorization) so the scan reports
    the lapse. The same `source_id` twice records once (the claims app may re-send)."""
    if units <= 0:
        raise DomainError("Units must be at least 1.", field="units")
    if source not in UsageSource.values:
        raise DomainError(f"Unknown source: {source}", field="source")
    with transaction.atomic():
        if source_id:
            existing = AuthorizationUsage.objects.filter(source=source, source_id=source_id).first()
            if existing is not None:
                return existing
        if authorization is None:
            decision = authorization_covering(
                episode=episode,
                payer=payer,
                level=level,
                service_code=service_code,
                date_of_service=date_of_service,
                units=units,
            )
            if decision.code in rules.USAGE_COUNTS_ON:
                authorization = decision.authorization  # type: ignore[assignment]
        auth = _locked(authorization) if authorization is not None else None
        if auth is not None:
            if auth.episode_id != episode.pk or auth.level != level:
                raise DomainError(
                    "That authorization is for another episode or level of care.",
                    field="authorization",
                )
            if unit_type != auth.unit_type:
                raise DomainError(
                    f"The authorization counts {auth.get_unit_type_display().lower()}, not "
                    f"{UnitType(unit_type).label.lower() if unit_type in UnitType.values else unit_type}; "
                    "record the service in the authorization's unit.",
                    field="unit_type",
                )
            if auth.unit_type in DAY_UNIT_TYPES:
                same_day = (
                    AuthorizationUsage.objects.filter(
                        authorization=auth, date_of_service=date_of_service
                    ).aggregate(total=Sum("units"))["total"]
                    or 0
                )
                if same_day + units > 1:
                    raise DomainError(
                        f"{auth.get_unit_type_display()} count one unit per day; "
                        f"{date_of_service} already has {same_day}.",
                        field="units",
                    )
        usage = AuthorizationUsage(
            authorization=auth,
            episode=episode,
            payer=payer,
            level=level,
            service_code=service_code.strip().upper(),
            date_of_service=date_of_service,
            units=units,
            source=source,
            source_id=source_id or "",
            recorded_by=recorded_by,
        )
        usage.save()
        if auth is not None:
            Authorization.objects.filter(pk=auth.pk).update(units_used=F("units_used") + units)
            auth.refresh_from_db(fields=["units_used"])
            _event(
                auth,
                "usage_recorded",
                {"units_used": [auth.units_used - units, auth.units_used]},
                note=f"{units} on {date_of_service}"
                + (" (after the end date)" if date_of_service > auth.end_date else ""),
            )
        audit_record(
            action="authorization.usage",
            obj=usage,
            patient_id=episode.patient_id,
            detail={"authorization_id": str(auth.pk) if auth else None, "units": units},
        )
    return usage


# --- Usage recorded before its authorization ----------------------------------------------------

# Consumed by the claims app: claims not yet submitted are scrubbed again (claims/handlers.py).
COVERAGE_CHANGED_TOPIC = "authorizations.coverage_changed"
# A change to one of these can change which services the authorization covers.
COVERAGE_FIELDS = frozenset(
    {"coverage", "level", "service_codes", "unit_type", "units_approved", "start_date", "end_date"}
)


@dataclass(frozen=True)
class UsageLinkResult:
    linked: int = 0  # ledger rows now counted against an authorization
    units: int = 0  # the units they count
    same_day_removed: int = 0  # second services of a day a day-based authorization counts once
    authorizations: int = 0  # authorizations whose used count grew


def authorization_link_usage(*, authorization: Authorization) -> UsageLinkResult:
    """Count against an approved authorization the services recorded before it covered them.
    The services that create, update, decide and review an authorization already do this; running
    it again changes nothing."""
    with transaction.atomic():
        auth = _locked(authorization)
        result = _link_usage(auth)
    authorization.units_used = auth.units_used
    return result


def _coverage_changed(
    auth: Authorization, event: AuthorizationEvent, *, was_approved: bool
) -> None:
    """After a change that can alter what an authorization covers (same transaction): count the
    services recorded before it, and have the claims app scrub again the episode's claims not yet
    submitted to the payer, so their lines take the authorization and its number without
    re-entry. One message per change: the key is the change's history event."""
    _link_usage(auth)
    if auth.status in APPROVED_STATUSES or was_approved:
        outbox_enqueue(
            topic=COVERAGE_CHANGED_TOPIC,
            payload={
                "authorization_id": str(auth.pk),
                "episode_id": str(auth.episode_id),
                "payer_id": str(auth.payer_id),
            },
            idempotency_key=f"authorization-coverage:{event.pk}",
        )


def _link_usage(auth: Authorization) -> UsageLinkResult:
    """Link the ledger rows recorded with no authorization in the approval's episode, payer, level
    and dates (the payer's number often arrives days after admission, or the approval after the
    services). Each row is matched again, in the order the rows were recorded, with the rule that
    matched it then (rules.usage_authorization over the episode's authorizations with that payer),
    so it counts exactly as it would have had the authorization been on file: possibly against an
    overlapping approval, beyond the approved units too (the alerts then report the over-use).
    Rows counted against an authorization are never moved, and rows of voided charges stay out.
    A fixed number of queries however many rows; a second run finds nothing and writes nothing."""
    if auth.status not in APPROVED_STATUSES:
        return UsageLinkResult()
    rows = list(
        # Locked, so two changes linking at once cannot both count a row: the second waits, then
        # no longer finds it without an authorization.
        AuthorizationUsage.objects.select_for_update(of=("self",))
        .filter(
            authorization__isnull=True,
            episode_id=auth.episode_id,
            payer_id=auth.payer_id,
            level=auth.level,
            date_of_service__gte=auth.start_date,
            date_of_service__lte=auth.end_date,
        )
        .order_by("created_at", "pk")
    )
    if not rows:
        return UsageLinkResult()
    charge_units = _live_charge_units(rows)
    candidates = list(
        Authorization.objects.filter(episode_id=auth.episode_id, payer_id=auth.payer_id).order_by(
            "start_date"
        )
    )
    by_pk = {a.pk: a for a in candidates}
    days_counted = _days_counted(candidates, start=auth.start_date, end=auth.end_date)
    added: dict[uuid.UUID, int] = defaultdict(int)
    rows_added: dict[uuid.UUID, int] = defaultdict(int)
    linked: list[AuthorizationUsage] = []
    same_day: list[uuid.UUID] = []
    now = timezone.now()
    for row in rows:
        from_claim = row.source == UsageSource.CLAIM
        if from_claim and row.source_id not in charge_units:
            continue  # The charge was voided: it uses nothing.
        found = _usage_authorization(by_pk, row, charge_units.get(row.source_id))
        if found is None:
            continue
        chosen, units = found
        if chosen.unit_type in DAY_UNIT_TYPES:
            if units > 1 or (chosen.pk, row.date_of_service) in days_counted:
                # A day counts once: the claims app records nothing for a second service on a day
                # already counted (claims.services._record_usage), so that row goes. A row
                # recorded by hand that does not fit stays unlinked for a person to correct.
                if from_claim:
                    same_day.append(row.pk)
                continue
            days_counted.add((chosen.pk, row.date_of_service))
        row.authorization_id = chosen.pk
        row.units = units
        row.updated_at = now
        linked.append(row)
        added[chosen.pk] += units
        rows_added[chosen.pk] += 1
        # The rule sees the units used so far, as it did when the services came one by one.
        chosen.units_used += units
    if not linked and not same_day:
        return UsageLinkResult()
    if linked:
        AuthorizationUsage.objects.bulk_update(linked, ["authorization", "units", "updated_at"])
    if same_day:
        AuthorizationUsage.objects.filter(pk__in=same_day).delete()
    if added:
        increments = [When(pk=pk, then=Value(units)) for pk, units in added.items()]
        Authorization.objects.filter(pk__in=list(added)).update(
            units_used=F("units_used")
            + Case(*increments, default=Value(0), output_field=PositiveIntegerField()),
            updated_at=now,
        )
        used = dict(
            Authorization.objects.filter(pk__in=list(added)).values_list("pk", "units_used")
        )
        actor = current_actor()
        AuthorizationEvent.objects.bulk_create(
            [
                AuthorizationEvent(
                    organization_id=auth.organization_id,
                    authorization_id=pk,
                    action="usage_linked",
                    actor_id=actor.user_id,
                    actor_label=actor.label or "system",
                    changes={"units_used": [used[pk] - units, used[pk]]},
                    note="Services recorded before the authorization covered them: "
                    f"{rows_added[pk]}",
                )
                for pk, units in added.items()
            ]
        )
        if auth.pk in used:
            auth.units_used = used[auth.pk]
    result = UsageLinkResult(
        linked=len(linked),
        units=sum(added.values()),
        same_day_removed=len(same_day),
        authorizations=len(added),
    )
    _audit(
        "authorization.usage_link",
        auth,
        linked=result.linked,
        units=result.units,
        same_day_removed=result.same_day_removed,
        authorizations=result.authorizations,
    )
    return result


def authorization_release_usage(*, source_ids: Sequence[str]) -> int:
    """A voided charge uses nothing: its usage rows go and the authorizations they counted
    against give the units back (history and audit say so). Returns the units released; a
    second call releases nothing."""
    with transaction.atomic():
        rows = list(
            AuthorizationUsage.objects.select_for_update()
            .filter(source=UsageSource.CLAIM, source_id__in=[str(i) for i in source_ids])
            .order_by("pk")
        )
        if not rows:
            return 0
        released: dict[uuid.UUID, int] = defaultdict(int)
        for row in rows:
            if row.authorization_id:
                released[row.authorization_id] += row.units
        AuthorizationUsage.objects.filter(pk__in=[r.pk for r in rows]).delete()
        for auth in Authorization.objects.select_for_update().filter(pk__in=list(released)):
            before = auth.units_used
            auth.units_used = max(before - released[auth.pk], 0)
            auth.save(update_fields=["units_used", "updated_at"])
            _event(
                auth,
                "usage_released",
                {"units_used": [before, auth.units_used]},
                note="A charge was voided: its units are no longer used.",
            )
            _audit("authorization.usage_release", auth, units=released[auth.pk])
    return sum(released.values())


def _live_charge_units(rows: list[AuthorizationUsage]) -> dict[str, int]:
    """Units of the charges behind the rows the claims app recorded, voided charges left out (one
    query). The ledger keeps one unit for a service nothing covered; a 15-minute authorization
    counts the charge's units."""
    ids = []
    for row in rows:
        if row.source == UsageSource.CLAIM:
            try:
                ids.append(uuid.UUID(row.source_id))
            except ValueError:
                continue
    if not ids:
        return {}
    return source_units(UsageSource.CLAIM, ids)  # registered by the claims app


def _days_counted(
    candidates: list[Authorization], *, start: date, end: date
) -> set[tuple[uuid.UUID, date]]:
    """(authorization, day) pairs a day-based approval already counts between the dates."""
    day_based = [
        a.pk for a in candidates if a.unit_type in DAY_UNIT_TYPES and a.status in APPROVED_STATUSES
    ]
    if not day_based:
        return set()
    return set(
        AuthorizationUsage.objects.filter(
            authorization_id__in=day_based, date_of_service__gte=start, date_of_service__lte=end
        )
        .order_by()
        .values_list("authorization_id", "date_of_service")
        .distinct()
    )


def _usage_authorization(
    by_pk: dict[uuid.UUID, Authorization], row: AuthorizationUsage, charge_units: int | None
) -> tuple[Authorization, int] | None:
    """The authorization a row counts against, and its units there, found among the episode's
    authorizations with the payer (in start order) as when the service was recorded: a charge
    counts its units against a 15-minute authorization and one unit (a day, a session) otherwise
    (claims.services._record_usage); a row recorded by hand keeps its units."""

    def match(units: int) -> Authorization | None:
        found = rules.usage_authorization(
            by_pk.values(),  # type: ignore[arg-type]
            level=row.level,
            service_code=row.service_code,
            date_of_service=row.date_of_service,
            units=units,
        )
        return by_pk[found.pk] if found is not None else None  # type: ignore[index]

    if charge_units is None:
        chosen = match(row.units)
        return (chosen, row.units) if chosen is not None else None
    first = match(0)  # as the claims app asks first, to learn the unit type
    if first is None:
        return None
    chosen = match(charge_units if first.unit_type == UnitType.UNITS_15 else 1)
    if chosen is None:
        return None
    return chosen, charge_units if chosen.unit_type == UnitType.UNITS_15 else 1


# --- The "authorization needed" event from level transitions ----------------------------------


def authorization_draft_for_stay(
    *, stay_id: uuid.UUID | str, coverage_id: uuid.UUID | str, today: date
) -> Authorization | None:
    """A requested draft for the stay's level (requested `today`), and an alert, so no transition
    goes unauthorized silently. Idempotent: a stay gets one draft (unique constraint), the alert one row."""
    with transaction.atomic():
        stay = LevelOfCareStay.objects.select_related("episode").get(pk=stay_id)
        coverage = Coverage.objects.get(pk=coverage_id)
        draft = Authorization.objects.filter(stay=stay).first()
        if draft is None:
            unit_type = rules.default_unit_type(stay.level)
            end = stay.start_date + timedelta(days=rules.DRAFT_DAYS - 1)
            settings = authorization_settings_get()
            auth = Authorization(
                episode=stay.episode,
                coverage=coverage,
                level=stay.level,
                unit_type=unit_type,
                units_requested=rules.DRAFT_DAYS,
                start_date=stay.start_date,
                end_date=end,
                requested_on=today,
                stay=stay,
                assigned_to_id=settings.default_assignee_id,
                reference_notes=f"Draft created for the {stay.get_transition_display().lower()} "
                f"to {stay.level} on {stay.start_date}. Complete and send it to the payer.",
            )
            _check_authorization(auth)
            try:
                with transaction.atomic():
                    auth.save()
            except IntegrityError:
                return Authorization.objects.get(stay=stay)
            draft = auth
            _event(draft, "created", {"status": [None, draft.status]}, note="Draft from transition")
            _audit("authorization.draft", draft, level=draft.level, transition=stay.transition)
        alerts_raise(
            specs=[
                AlertSpec(
                    area=AREA,
                    kind="authorization.needed",
                    dedupe_key=f"auth-needed:{stay.pk}",
                    title=f"Authorization needed: {stay.get_transition_display().lower()} to "
                    f"level {stay.level} on {stay.start_date}",
                    message="A requested draft was created; complete it and send it to the payer.",
                    severity=Severity.CRITICAL,
                    subject_type="authorizations.authorization",
                    subject_id=draft.pk,
                    patient_id=stay.episode.patient_id,
                    link_path=f"authorizations/{draft.pk}/",
                    due_on=stay.start_date,
                    assignee_id=draft.assigned_to_id,
                    part2=part2.is_part2(stay),
                )
            ]
        )
    return draft


# --- The scan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    expired: int
    alerts_created: int


def _link(pk: Any) -> str:
    return f"authorizations/{pk}/"


def authorization_expire_ended(*, today: date) -> int:
    """Approved authorizations whose end date has passed become expired (three queries)."""
    ended = list(
        Authorization.objects.filter(status__in=APPROVED_STATUSES, end_date__lt=today).values_list(
            "pk", "status"
        )
    )
    if not ended:
        return 0
    Authorization.objects.filter(pk__in=[pk for pk, _ in ended]).update(
        status=AuthorizationStatus.EXPIRED, updated_at=timezone.now()
    )
    actor = current_actor()
    org_id = require_organization_id()
    AuthorizationEvent.objects.bulk_create(
        [
            AuthorizationEvent(
                organization_id=org_id,
                authorization_id=pk,
                action="expired",
                actor_id=actor.user_id,
                actor_label=actor.label or "system",
                changes={"status": [status, AuthorizationStatus.EXPIRED]},
                note="End date passed",
            )
            for pk, status in ended
        ],
        batch_size=1000,
    )
    # A domain event for the apps above (webhooks): the ids of the authorizations that expired.
    outbox_enqueue(
        topic="authorizations.expired",
        payload={"authorization_ids": [str(pk) for pk, _ in ended], "on": today.isoformat()},
        idempotency_key=f"authorizations.expired:{today}:{min(str(pk) for pk, _ in ended)}",
    )
    return len(ended)


def _window_usage(today: date) -> dict[Any, int]:
    """Units used in the forecast window per authorization (one query on the usage index)."""
    start = today - timedelta(days=rules.FORECAST_WINDOW_DAYS - 1)
    rows = (
        AuthorizationUsage.objects.filter(
            authorization__isnull=False, date_of_service__gte=start, date_of_service__lte=today
        )
        .values("authorization_id")
        .annotate(total=Sum("units"))
        .order_by()
    )
    return {row["authorization_id"]: row["total"] for row in rows}


def _same_org(*relations: str) -> dict[str, Any]:
    """organization_id = <current> on each joined table too: the explicit tenant filter keeps
    every table of a join on its organization index (and routes to one shard under Citus)."""
    org_id = require_organization_id()
    return {f"{rel}__organization_id": org_id for rel in relations}


def _auth_common(a: dict[str, Any], fallback: uuid.UUID | None) -> dict[str, Any]:
    return {
        "area": AREA,
        "subject_type": "authorizations.authorization",
        "subject_id": a["pk"],
        "patient_id": a["episode__patient_id"],
        "link_path": _link(a["pk"]),
        "assignee_id": a["assigned_to_id"] or fallback,
        "part2": a["part2"],
    }


_AUTH_COLUMNS = (
    "pk",
    "level",
    "end_date",
    "units_approved",
    "units_used",
    "auth_number",
    "assigned_to_id",
    "episode__patient_id",
)


def authorization_expiry_specs(
    *, today: date, settings: AuthorizationSettings | None = None
) -> list[AlertSpec]:
    """Approved authorizations ending within the organization's widest threshold (one query on
    the (organization, status, end_date) index), each reported at the tightest threshold it is
    inside: with 7/3/1, an authorization ending in 2 days raises its 3-day alert."""
    settings = settings or authorization_settings_get()
    thresholds = settings.thresholds
    ending = Authorization.objects.filter(
        **_same_org("episode"),
        status__in=APPROVED_STATUSES,
        end_date__gte=today,
        end_date__lte=today + timedelta(days=max(thresholds)),
    ).values(*_AUTH_COLUMNS, part2=part2.flag(Authorization))
    specs = []
    for a in ending:
        days = rules.expiry_threshold(end_date=a["end_date"], today=today, thresholds=thresholds)
        if days is None:
            continue
        left = (a["end_date"] - today).days
        when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
        name = a["auth_number"] or f"level {a['level']}"
        specs.append(
            AlertSpec(
                kind="authorization.ending",
                dedupe_key=f"auth-ending:{a['pk']}:{days}",
                title=f"Authorization {name} ends {when} ({a['end_date']})",
                message="Schedule the concurrent review or request an extension.",
                severity=Severity.CRITICAL if left <= 1 else Severity.WARNING,
                due_on=a["end_date"],
                **_auth_common(a, settings.default_assignee_id),
            )
        )
    return specs


def _utilization_specs(*, today: date, settings: AuthorizationSettings) -> list[AlertSpec]:
    """Approved authorizations still running with few units left, or a pace that exhausts them
    before the end date (one query, usage in the window summed per authorization)."""
    fallback = settings.default_assignee_id
    active = Authorization.objects.filter(
        **_same_org("episode"), status__in=APPROVED_STATUSES, end_date__gte=today
    ).values(*_AUTH_COLUMNS, part2=part2.flag(Authorization))
    window = _window_usage(today)
    specs = []
    for a in active:
        name = a["auth_number"] or f"level {a['level']}"
        if rules.units_low(
            units_approved=a["units_approved"],
            units_used=a["units_used"],
            percent=settings.low_units_percent,
        ):
            remaining = max((a["units_approved"] or 0) - a["units_used"], 0)
            specs.append(
                AlertSpec(
                    kind="authorization.units_low",
                    dedupe_key=f"auth-units-low:{a['pk']}:{settings.low_units_percent}",
                    title=f"Authorization {name}: {remaining} of {a['units_approved']} units left",
                    message=f"Below {settings.low_units_percent}% of the approved units.",
                    due_on=a["end_date"],
                    **_auth_common(a, fallback),
                )
            )
        forecast = rules.burn_down(
            units_approved=a["units_approved"] or 0,
            units_used=a["units_used"],
            used_in_window=window.get(a["pk"], 0),
            today=today,
            end_date=a["end_date"],
        )
        if forecast.runs_out_before_end and forecast.exhaustion_date is not None:
            specs.append(
                AlertSpec(
                    kind="authorization.forecast_exhaustion",
                    dedupe_key=f"auth-forecast:{a['pk']}:{a['end_date']}:{a['units_approved']}",
                    title=f"Authorization {name} runs out around {forecast.exhaustion_date}, "
                    f"before it ends on {a['end_date']}",
                    message=f"At {forecast.daily_pace} units a day over the last "
                    f"{rules.FORECAST_WINDOW_DAYS} days.",
                    due_on=forecast.exhaustion_date,
                    **_auth_common(a, fallback),
                )
            )
    return specs


def authorization_scan_specs(*, today: date) -> list[AlertSpec]:
    """Every alert condition of the organization in context, found with a fixed number of queries
    whatever the number of authorizations (domain.md section 7)."""
    settings = authorization_settings_get()
    fallback = settings.default_assignee_id
    specs = authorization_expiry_specs(today=today, settings=settings)
    specs.extend(_utilization_specs(today=today, settings=settings))

    # Concurrent reviews due tomorrow or overdue.
    reviews = ConcurrentReview.objects.filter(
        **_same_org("authorization", "authorization__episode"),
        completed_on__isnull=True,
        scheduled_on__lte=today + timedelta(days=1),
        authorization__status__in=LIVE_STATUSES,
    ).values(
        "pk",
        "scheduled_on",
        "review_type",
        "authorization_id",
        "authorization__assigned_to_id",
        "authorization__auth_number",
        "authorization__level",
        "authorization__episode__patient_id",
        part2=part2.flag(ConcurrentReview),
    )
    for r in reviews:
        overdue = r["scheduled_on"] < today
        name = r["authorization__auth_number"] or f"level {r['authorization__level']}"
        label = ReviewType(r["review_type"]).label.lower()
        specs.append(
            AlertSpec(
                area=AREA,
                kind="authorization.review_overdue" if overdue else "authorization.review_due",
                dedupe_key=f"review-{'overdue' if overdue else 'due'}:{r['pk']}:{r['scheduled_on']}",
                title=(
                    f"Overdue {label} review for authorization {name} (was due {r['scheduled_on']})"
                    if overdue
                    else f"{label.capitalize()} review for authorization {name} on {r['scheduled_on']}"
                ),
                severity=Severity.CRITICAL if overdue else Severity.WARNING,
                subject_type="authorizations.concurrentreview",
                subject_id=r["authorization_id"],
                patient_id=r["authorization__episode__patient_id"],
                link_path=_link(r["authorization_id"]),
                due_on=r["scheduled_on"],
                assignee_id=r["authorization__assigned_to_id"] or fallback,
                part2=r["part2"],
            )
        )

    # Lapses: services after the authorization ended, or with no covering authorization.
    unauthorized = (
        AuthorizationUsage.objects.filter(**_same_org("episode"), authorization__isnull=True)
        .values("episode_id", "episode__patient_id", "level", part2=part2.flag(AuthorizationUsage))
        .order_by()
        .distinct()
    )
    after_end = (
        AuthorizationUsage.objects.filter(
            Q(date_of_service__gt=F("authorization__end_date"))
            | Q(
                authorization__status__in=[
                    AuthorizationStatus.DENIED,
                    AuthorizationStatus.CANCELLED,
                ]
            ),
            **_same_org("authorization", "episode"),
        )
        .values(
            "authorization_id",
            "authorization__end_date",
            "authorization__auth_number",
            "authorization__assigned_to_id",
            "episode_id",
            "episode__patient_id",
            "level",
            part2=part2.flag(AuthorizationUsage),
        )
        .order_by()
        .distinct()
    )
    lapses = [
        {
            **u,
            "authorization_id": None,
            "authorization__assigned_to_id": None,
            "authorization__end_date": None,
            "authorization__auth_number": "",
        }
        for u in unauthorized
    ] + list(after_end)
    for u in lapses:
        if u["authorization_id"]:
            name = u["authorization__auth_number"] or f"level {u['level']}"
            key = f"auth-lapse:{u['authorization_id']}"
            title = f"Services recorded after authorization {name} ended on {u['authorization__end_date']}"
            link = _link(u["authorization_id"])
        else:
            key = f"auth-lapse-none:{u['episode_id']}:{u['level']}"
            title = f"Services at level {u['level']} recorded with no authorization"
            link = f"authorizations/new/?episode={u['episode_id']}"
        specs.append(
            AlertSpec(
                area=AREA,
                kind="authorization.lapse",
                dedupe_key=key,
                title=title,
                message="These services will be denied (CARC 197/198) unless the payer "
                "authorizes them retroactively.",
                severity=Severity.CRITICAL,
                subject_type="authorizations.authorization" if u["authorization_id"] else "",
                subject_id=u["authorization_id"],
                patient_id=u["episode__patient_id"],
                link_path=link,
                assignee_id=u["authorization__assigned_to_id"] or fallback,
                part2=u["part2"],
            )
        )

    # Current levels of care the primary payer authorizes, with no authorization at all.
    specs.extend(_unauthorized_stays(fallback))
    return specs


def _unauthorized_stays(fallback: uuid.UUID | None) -> list[AlertSpec]:
    """Two queries: current stays with their primary coverage on the stay's first day, and the
    live authorizations of those episodes."""
    stays = list(
        # One filter() call, so every coverage condition applies to the same coverage row.
        LevelOfCareStay.objects.filter(
            Q(episode__patient__coverages__termination_date__isnull=True)
            | Q(episode__patient__coverages__termination_date__gte=F("start_date")),
            **_same_org(
                "episode",
                "episode__patient",
                "episode__patient__coverages",
                "episode__patient__coverages__payer",
            ),
            end_date__isnull=True,
            episode__status="active",
            episode__patient__coverages__priority=1,
            episode__patient__coverages__effective_date__lte=F("start_date"),
        ).values(
            "pk",
            "episode_id",
            "level",
            "start_date",
            "transition",
            "episode__patient_id",
            "episode__patient__coverages__payer_id",
            "episode__patient__coverages__payer__auth_required_levels",
            part2=part2.flag(LevelOfCareStay),
        )
    )
    needing = [
        s
        for s in stays
        if s["level"] in (s["episode__patient__coverages__payer__auth_required_levels"] or [])
    ]
    if not needing:
        return []
    # Live authorizations of episodes with a current stay (one current stay per episode), by
    # episode, level and payer, so each stay is matched in constant time.
    live: dict[tuple[Any, str, Any], list[tuple[date, date]]] = defaultdict(list)
    for episode_id, level, payer_id, start, end in Authorization.objects.filter(
        **_same_org("episode", "episode__stays"),
        episode__stays__end_date__isnull=True,
        status__in=LIVE_STATUSES,
    ).values_list("episode_id", "level", "payer_id", "start_date", "end_date"):
        live[(episode_id, level, payer_id)].append((start, end))
    specs = []
    for s in needing:
        key = (s["episode_id"], s["level"], s["episode__patient__coverages__payer_id"])
        if any(start <= s["start_date"] <= end for start, end in live.get(key, [])):
            continue
        specs.append(
            AlertSpec(
                area=AREA,
                kind="authorization.unauthorized_level",
                dedupe_key=f"auth-unauthorized-stay:{s['pk']}",
                title=f"No authorization for level {s['level']} since {s['start_date']}",
                message="The primary payer requires authorization for this level of care.",
                severity=Severity.CRITICAL,
                subject_type="patients.levelofcarestay",
                subject_id=s["pk"],
                patient_id=s["episode__patient_id"],
                link_path=f"authorizations/new/?episode={s['episode_id']}",
                due_on=s["start_date"],
                assignee_id=fallback,
                part2=s["part2"],
            )
        )
    return specs


SCAN_TOPIC = "authorizations.scan"
SCAN_STARTED = "The scan will start shortly; new alerts appear in the inbox."


def authorization_scan_request(*, now: datetime) -> None:
    """ "Run now": the scan for the organization in context, as an outbox message handled
    shortly by a worker (`authorizations.handlers`), so the request never waits for, nor fails
    with, the broker. Requests within the same minute of `now` are one scan (the scan is
    idempotent)."""
    outbox_enqueue(
        topic=SCAN_TOPIC,
        payload={},
        idempotency_key=f"authorization-scan:{now.astimezone(UTC):%Y%m%d%H%M}",
    )


def authorization_scan(*, today: date) -> ScanResult:
    """The daily scan for the organization in context: expire what ended, raise every alert
    that is not raised yet. Running it twice creates nothing new."""
    with transaction.atomic():
        expired = authorization_expire_ended(today=today)
        created = alerts_raise(specs=authorization_scan_specs(today=today))
        if ending := [a for a in created if a.kind == "authorization.ending"]:
            # A domain event for the apps above (webhooks): each expiry alert raised for the first
            # time (one per authorization and threshold: the alerts' dedupe keys).
            outbox_enqueue(
                topic="authorizations.expiring",
                payload={"alert_ids": [str(a.pk) for a in ending]},
                idempotency_key=f"authorizations.expiring:{ending[0].pk}",
            )
        audit_record(
            action="authorization.scan",
            detail={"expired": expired, "alerts_created": len(created)},
        )
    return ScanResult(expired=expired, alerts_created=len(created))
