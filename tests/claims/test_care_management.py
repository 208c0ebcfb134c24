"""Monthly care management (issue 19): minutes from several staff add up across the calendar
month; the month-end roll-up proposes the charges they support once, says why when they support
none, and a biller confirms a month once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from claims import services
from claims.models import CareMonth, CareMonthStatus, ServiceEntry
from claims.rules import monthly_charges
from claims.tasks import care_month_rollup_all
from patients import services as patients_services
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.claims.conftest import Practice
from tests.clock import years_ago

# The month the roll-up closes is the one before the suite's day (tests/clock.py), whatever it is.
LAST_DAY = clock.today().replace(day=1) - timedelta(days=1)
LAST_MONTH = LAST_DAY.replace(day=1)
MONTH_NAME = f"{LAST_MONTH:%B %Y}"
MONTH_BEFORE = (LAST_MONTH - timedelta(days=1)).replace(day=1)


def codes(program: str, minutes: int, *, first_month: bool) -> list[tuple[str, int]]:
    found = monthly_charges(program, first_month=first_month, minutes=minutes)
    return [(x.code, x.units) for x in found.lines]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (35, []),
        (36, [("99492", 1)]),
        (37, [("99492", 1)]),
        (85, [("99492", 1)]),
        (86, [("99492", 1), ("99494", 1)]),
        (87, [("99492", 1), ("99494", 1)]),
        (115, [("99492", 1), ("99494", 1)]),
        (116, [("99492", 1), ("99494", 2)]),
        (117, [("99492", 1), ("99494", 2)]),
    ],
)
def test_cocm_first_month(minutes: int, expected: list[tuple[str, int]]) -> None:
    assert codes("cocm", minutes, first_month=True) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (30, []),
        (31, [("99493", 1)]),
        (32, [("99493", 1)]),
        (75, [("99493", 1)]),
        (76, [("99493", 1), ("99494", 1)]),
        (77, [("99493", 1), ("99494", 1)]),
        (105, [("99493", 1), ("99494", 1)]),
        (106, [("99493", 1), ("99494", 2)]),
    ],
)
def test_cocm_later_months(minutes: int, expected: list[tuple[str, int]]) -> None:
    assert codes("cocm", minutes, first_month=False) == expected


@pytest.mark.parametrize(
    ("program", "first", "minutes", "expected"),
    [
        ("bhi", True, 19, []),
        ("bhi", True, 20, [("99484", 1)]),
        ("bhi", False, 21, [("99484", 1)]),
        ("cocm_fqhc", True, 69, []),
        ("cocm_fqhc", True, 70, [("G0512", 1)]),
        ("cocm_fqhc", True, 71, [("G0512", 1)]),
        ("cocm_fqhc", False, 59, []),
        ("cocm_fqhc", False, 60, [("G0512", 1)]),
        ("cocm_fqhc", False, 200, [("G0512", 1)]),
        ("dmht", True, 19, []),
        ("dmht", True, 20, [("G0553", 1)]),
        ("dmht", False, 39, [("G0553", 1)]),
        ("dmht", False, 40, [("G0553", 1), ("G0554", 1)]),
        ("dmht", False, 60, [("G0553", 1), ("G0554", 2)]),
    ],
)
def test_bhi_and_fqhc_collaborative_care(
    program: str, first: bool, minutes: int, expected: list[tuple[str, int]]
) -> None:
    assert codes(program, minutes, first_month=first) == expected


def test_under_the_minimum_nothing_is_proposed_and_the_reason_says_why() -> None:
    found = monthly_charges("cocm", first_month=True, minutes=35)
    assert not found.billable
    assert found.reason == (
        "35 minutes in first month: 99492 needs at least 36; nothing is billed for the month."
    )


def another_patient(practice: Practice, mrn: str) -> tuple[Any, Any]:
    with tenant_context(practice.org):
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn=mrn,
            first_name="Pat",
            last_name=mrn,
            date_of_birth=date(1975, 1, 1),
            sex="M",
        )
        patients_services.coverage_create(
            patient=patient, payer=practice.payer, member_id=mrn, effective_date=years_ago(1)
        )
        episode = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=practice.episode.admission_date,
            level="1",
        )
        patients_services.diagnosis_add(episode=episode, code="F32.1")
    return patient, episode


def add(
    practice: Practice,
    patient: Any,
    episode: Any,
    day: date,
    staff: str,
    minutes: int,
    program: str = "cocm",
) -> None:
    with tenant_context(practice.org):
        services.care_minutes_add(
            patient=patient,
            episode=episode,
            program=program,
            staff_name=staff,
            performed_on=day,
            minutes=minutes,
            today=clock.today(),
            scopes=part2.ORGANIZATION,
        )


STAFF = ("Care manager Ruiz", "Psychiatric consultant Okafor", "Nurse Lind")


@pytest.mark.parametrize(
    ("split", "expected", "status"),
    [
        ((10, 15, 10), [], CareMonthStatus.NOTHING),  # 35: one under 99492
        ((10, 15, 11), [{"code": "99492", "units": 1}], CareMonthStatus.PROPOSED),  # 36
        ((30, 30, 25), [{"code": "99492", "units": 1}], CareMonthStatus.PROPOSED),  # 85
        (
            (30, 30, 26),
            [{"code": "99492", "units": 1}, {"code": "99494", "units": 1}],
            CareMonthStatus.PROPOSED,
        ),  # 86
        (
            (40, 40, 36),
            [{"code": "99492", "units": 1}, {"code": "99494", "units": 2}],
            CareMonthStatus.PROPOSED,
        ),  # 116
    ],
)
def test_a_collaborative_care_month_adds_three_staff_members_minutes(
    practice: Practice, split: tuple[int, int, int], expected: list[dict[str, Any]], status: str
) -> None:
    for day, staff, minutes in zip((3, 12, 27), STAFF, split, strict=True):
        add(
            practice,
            practice.patient,
            practice.episode,
            LAST_MONTH.replace(day=day),
            staff,
            minutes,
        )
    assert care_month_rollup_all() == 1
    with tenant_context(practice.org):
        month = CareMonth.objects.get()
    assert (month.month, month.total_minutes, month.staff_count) == (LAST_MONTH, sum(split), 3)
    assert month.first_month and month.status == status and month.proposed_lines == expected
    if status == CareMonthStatus.NOTHING:
        assert "99492 needs at least 36" in month.reason


def test_the_roll_up_run_twice_proposes_once(practice: Practice) -> None:
    add(practice, practice.patient, practice.episode, LAST_MONTH.replace(day=2), STAFF[0], 40)
    other, episode = another_patient(practice, "C-2")
    add(practice, other, episode, LAST_MONTH.replace(day=20), STAFF[1], 10, program="bhi")
    assert care_month_rollup_all() == 2
    assert care_month_rollup_all() == 0
    with tenant_context(practice.org):
        months = {m.program: m for m in CareMonth.objects.all()}
    assert len(months) == 2
    assert months["bhi"].status == CareMonthStatus.NOTHING
    assert months["bhi"].reason.startswith("10 minutes in first month: 99484 needs at least 20")


def test_a_later_month_bills_the_subsequent_code(practice: Practice) -> None:
    add(practice, practice.patient, practice.episode, MONTH_BEFORE.replace(day=15), STAFF[0], 50)
    add(practice, practice.patient, practice.episode, LAST_MONTH.replace(day=15), STAFF[0], 45)
    with tenant_context(practice.org):
        (month,) = services.care_month_rollup(month=LAST_MONTH, now=clock.now())
    assert not month.first_month and month.proposed_lines == [{"code": "99493", "units": 1}]


def test_a_confirmed_month_records_its_charges_once(practice: Practice) -> None:
    for day, staff, minutes in zip((3, 12, 27), STAFF, (30, 30, 26), strict=True):
        add(
            practice,
            practice.patient,
            practice.episode,
            LAST_MONTH.replace(day=day),
            staff,
            minutes,
        )
    with tenant_context(practice.org):
        services.charge_master_set(
            service_code="99492", charge=Decimal("160.00"), effective_from=years_ago(1)
        )
        services.charge_master_set(
            service_code="99494", charge=Decimal("70.00"), effective_from=years_ago(1)
        )
        (month,) = services.care_month_rollup(month=LAST_MONTH, now=clock.now())
        confirmed = services.care_month_confirm(
            care_month=month,
            rendering_provider=practice.provider,
            actor=None,
            now=clock.now(),
            today=clock.today(),
            scopes=part2.ORGANIZATION,
        )
        assert confirmed.status == CareMonthStatus.CONFIRMED
        charges = ServiceEntry.objects.filter(pk__in=confirmed.charges).order_by("service_code")
        assert [(c.service_code, c.units, c.date_of_service) for c in charges] == [
            ("99492", 1, LAST_DAY),
            ("99494", 1, LAST_DAY),
        ]
        with pytest.raises(DomainError, match=f"{MONTH_NAME} is already billed"):
            services.care_month_confirm(
                care_month=month,
                rendering_provider=practice.provider,
                actor=None,
                now=clock.now(),
                today=clock.today(),
                scopes=part2.ORGANIZATION,
            )
        assert ServiceEntry.objects.filter(service_code__in=["99492", "99494"]).count() == 2
    with pytest.raises(DomainError, match="already rolled up"):
        add(practice, practice.patient, practice.episode, LAST_MONTH.replace(day=28), STAFF[2], 5)


def test_a_month_with_nothing_to_bill_cannot_be_confirmed(practice: Practice) -> None:
    add(practice, practice.patient, practice.episode, LAST_MONTH.replace(day=3), STAFF[0], 20)
    with tenant_context(practice.org):
        (month,) = services.care_month_rollup(month=LAST_MONTH, now=clock.now())
        with pytest.raises(DomainError, match="Nothing to bill: 20 minutes"):
            services.care_month_confirm(
                care_month=month,
                rendering_provider=practice.provider,
                actor=None,
                now=clock.now(),
                today=clock.today(),
                scopes=part2.ORGANIZATION,
            )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"minutes": 0}, "minutes", "between 1 and 600"),
        ({"performed_on": clock.days_from_now(1)}, "performed_on", "future"),
        ({"performed_on": date(2020, 1, 1)}, "performed_on", "outside the episode"),
        ({"staff_name": " "}, "staff_name", "Name the staff member"),
        ({"program": "ccm"}, "program", "Unknown care program"),
    ],
)
def test_bad_minutes_are_refused_naming_the_field(
    practice: Practice, changes: dict[str, Any], field: str, message: str
) -> None:
    kwargs: dict[str, Any] = {
        "patient": practice.patient,
        "episode": practice.episode,
        "program": "cocm",
        "staff_name": "Ruiz",
        "performed_on": LAST_MONTH.replace(day=3),
        "minutes": 20,
        "today": clock.today(),
        "scopes": part2.ORGANIZATION,
    } | changes
    with tenant_context(practice.org), pytest.raises(DomainError, match=message) as err:
        services.care_minutes_add(**kwargs)
    assert err.value.field == field
