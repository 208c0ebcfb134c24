"""Monthly care management (psychiatric collaborative care, behavioral health integration):
staff minutes added up across a calendar month, the month-end roll-up that proposes the charges
the minutes support, and the biller's confirmation that records them. A month is proposed once
and billed once (CareMonth is unique per patient, program and month)."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min

from claims import rules
from claims.models import CareMinutes, CareMonth, CareMonthStatus
from claims.services.charges import service_entry_create
from credentialing.models import Provider
from patients.models import EpisodeOfCare, Patient
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.tenancy.context import require_organization_id

MAX_MINUTES_PER_ENTRY = 600


def month_of(day: date) -> date:
    return day.replace(day=1)


def previous_month(today: date) -> date:
    """The calendar month the roll-up closes on `today` (the organization's day): the last one."""
    return month_of(month_of(today) - timedelta(days=1))


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def care_minutes_add(
    *,
    patient: Patient,
    episode: EpisodeOfCare,
    program: str,
    staff_name: str,
    performed_on: date,
    minutes: int,
    activity: str = "",
    recorded_by: Any = None,
    today: date,
    scopes: Collection[str],
) -> CareMinutes:
    """Record one staff member's minutes for a patient's month. Refused for a future day, a day
    outside the episode, or a month already rolled up (its charges are proposed or billed)."""
    if part2.restricted(episode, scopes):
        raise DomainError("No such episode.", field="episode", code="not_found")
    if episode.patient_id != patient.pk:
        raise DomainError("The episode belongs to another patient.", field="episode")
    if program not in rules.CareProgram.__members__.values():
        raise DomainError(f"Unknown care program: {program}", field="program")
    if not staff_name.strip():
        raise DomainError("Name the staff member who spent the time.", field="staff_name")
    if not 1 <= minutes <= MAX_MINUTES_PER_ENTRY:
        raise DomainError(
            f"Minutes are between 1 and {MAX_MINUTES_PER_ENTRY} for one entry.", field="minutes"
        )
    if performed_on > today:
        raise DomainError("The day is in the future.", field="performed_on")
    if performed_on < episode.admission_date or (
        episode.discharge_date and performed_on > episode.discharge_date
    ):
        raise DomainError(
            f"{performed_on} is outside the episode ({episode.admission_date} to "
            f"{episode.discharge_date or 'now'}).",
            field="performed_on",
        )
    month = month_of(performed_on)
    if CareMonth.objects.filter(patient=patient, program=program, month=month).exists():
        raise DomainError(
            f"{month:%B %Y} is already rolled up for this patient; its minutes can no longer change.",
            field="performed_on",
        )
    entry = CareMinutes(
        patient=patient,
        episode=episode,
        program=program,
        month=month,
        performed_on=performed_on,
        staff_name=staff_name.strip(),
        minutes=minutes,
        activity=activity.strip(),
        recorded_by=recorded_by,
    )
    with transaction.atomic():
        entry.save()
        audit_record(
            action="care_minutes.create",
            obj=entry,
            patient_id=patient.pk,
            detail={"program": program, "minutes": minutes},
        )
    return entry


def care_month_rollup(*, month: date, now: datetime) -> list[CareMonth]:
    """Close a calendar month: for each patient and program with minutes in it and no roll-up
    yet, add the minutes of every staff entry and propose the charges they support (first-month
    or later-month code, add-on units), or record that nothing is billable and why. Running it
    again proposes nothing new. Set-based: a fixed number of queries."""
    month = month_of(month)
    totals: dict[tuple[Any, Any, str], dict[str, Any]] = defaultdict(
        lambda: {"minutes": 0, "staff": set()}
    )
    for entry in CareMinutes.objects.filter(month=month).order_by("performed_on"):
        key = (entry.patient_id, entry.episode_id, entry.program)
        totals[key]["minutes"] += entry.minutes
        totals[key]["staff"].add(entry.staff_name.casefold())
    if not totals:
        return []
    done = set(CareMonth.objects.filter(month=month).values_list("patient_id", "program"))
    started = {
        (p, prog): first
        for p, prog, first in CareMinutes.objects.filter(patient_id__in={k[0] for k in totals})
        .values("patient_id", "program")
        .annotate(first=Min("month"))
        .values_list("patient_id", "program", "first")
    }
    organization_id = require_organization_id()
    rows = []
    for (patient_id, episode_id, program), total in sorted(
        totals.items(), key=lambda item: (str(item[0][0]), item[0][2])
    ):
        if (patient_id, program) in done:
            continue
        done.add((patient_id, program))
        first_month = started.get((patient_id, program)) == month
        proposal = rules.monthly_charges(program, first_month=first_month, minutes=total["minutes"])
        rows.append(
            CareMonth(
                organization_id=organization_id,
                patient_id=patient_id,
                episode_id=episode_id,
                program=program,
                month=month,
                first_month=first_month,
                total_minutes=total["minutes"],
                staff_count=len(total["staff"]),
                status=CareMonthStatus.PROPOSED if proposal.billable else CareMonthStatus.NOTHING,
                proposed_lines=[{"code": x.code, "units": x.units} for x in proposal.lines],
                reason=proposal.reason[:300],
                created_at=now,
            )
        )
    with transaction.atomic():
        created = CareMonth.objects.bulk_create(rows)  # the unique key stops a racing twin
        for row in created:
            audit_record(
                action="care_month.rollup",
                obj=row,
                patient_id=row.patient_id,
                detail={"month": f"{month:%Y-%m}", "status": row.status},
            )
    return created


def care_month_confirm(
    *,
    care_month: CareMonth,
    rendering_provider: Provider,
    actor: Any,
    now: datetime,
    today: date,
    scopes: Collection[str],
) -> CareMonth:
    """The biller confirms a proposed month: its charges are recorded (dated the month's last day
    in the episode) and the month is closed. A month already billed, or with nothing to bill, is
    refused."""
    if part2.restricted(care_month, scopes):
        raise DomainError("No such care month.", code="not_found")
    with transaction.atomic():
        locked = CareMonth.objects.select_for_update().get(pk=care_month.pk)
        if locked.status == CareMonthStatus.CONFIRMED:
            raise DomainError(
                f"{locked.month:%B %Y} is already billed for this patient.", field="status"
            )
        if locked.status == CareMonthStatus.NOTHING:
            raise DomainError(f"Nothing to bill: {locked.reason}", field="status")
        episode = locked.episode
        day = month_end(locked.month)
        if episode.discharge_date and episode.discharge_date < day:
            day = episode.discharge_date
        if day > today:
            raise DomainError(
                f"{locked.month:%B %Y} is not over yet; confirm it after {day}.", field="status"
            )
        charges = []
        try:
            for line in locked.proposed_lines:
                entry = service_entry_create(
                    scopes=scopes,
                    patient=locked.patient,
                    episode=episode,
                    rendering_provider=rendering_provider,
                    date_of_service=day,
                    kind=rules.ServiceKind.UNTIMED,
                    service_code=line["code"],
                    units=line["units"],
                    documentation_signed=True,
                    signed_at=now,
                    documentation_ref=f"care month {locked.month:%Y-%m}",
                    services_delivered=f"{locked.get_program_display()}: {locked.reason}"[:500],
                    idempotency_key=f"care-month:{locked.pk}:{line['code']}",
                    created_by=actor,
                    today=today,
                )
                charges.append(str(entry.pk))
        except IntegrityError as exc:  # pragma: no cover - the row lock makes this a race only
            raise DomainError("This month was billed at the same time.") from exc
        locked.status = CareMonthStatus.CONFIRMED
        locked.confirmed_by = actor
        locked.confirmed_at = now
        locked.charges = charges
        locked.save(
            update_fields=["status", "confirmed_by", "confirmed_at", "charges", "updated_at"]
        )
        audit_record(
            action="care_month.confirm",
            obj=locked,
            patient_id=locked.patient_id,
            detail={"codes": [x["code"] for x in locked.proposed_lines]},
        )
    return locked
