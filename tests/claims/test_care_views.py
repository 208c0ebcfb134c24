"""The care-management page and API: record minutes, see the month's proposal, confirm it once;
another organization's month is a 404; lists keep a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from claims import services
from claims.models import CareMinutes, CareMonth, CareMonthStatus
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.claims.conftest import Practice
from tests.clock import years_ago

# The month the roll-up closes is the one before the suite's day (tests/clock.py), whatever it is.
LAST_DAY = clock.today().replace(day=1) - timedelta(days=1)
LAST_MONTH = LAST_DAY.replace(day=1)
MONTH_NAME = f"{LAST_MONTH:%B %Y}"


def minutes(practice: Practice, total: int, staff: str = "Ruiz", day: int = 4) -> None:
    with tenant_context(practice.org):
        services.care_minutes_add(
            patient=practice.patient,
            episode=practice.episode,
            program="cocm",
            staff_name=staff,
            performed_on=LAST_MONTH.replace(day=day),
            minutes=total,
            today=clock.today(),
            scopes=part2.ORGANIZATION,
        )


def rolled_up(practice: Practice) -> CareMonth:
    with tenant_context(practice.org):
        (month,) = services.care_month_rollup(month=LAST_MONTH, now=clock.now())
    return month


def test_the_page_records_minutes_and_shows_every_error_inline(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    client = client_for(biller)
    url = f"/o/{practice.org.slug}/claims/care/"
    response = client.post(
        url,
        {
            "episode": str(practice.episode.pk),
            "program": "cocm",
            "staff_name": "Care manager Ruiz",
            "performed_on": str(LAST_MONTH.replace(day=4)),
            "minutes": "40",
        },
    )
    assert response.status_code == 302
    with tenant_context(practice.org):
        assert CareMinutes.objects.get().minutes == 40
    bad = client.post(url, {"episode": str(practice.episode.pk), "program": "cocm", "minutes": "0"})
    errors = bad.context["form"].errors
    assert {"staff_name", "performed_on", "minutes"} <= set(errors)
    future = client.post(
        url,
        {
            "episode": str(practice.episode.pk),
            "program": "cocm",
            "staff_name": "Ruiz",
            "performed_on": str(clock.days_from_now(2)),
            "minutes": "10",
        },
    )
    assert future.context["form"].errors["performed_on"] == ["The day is in the future."]


def test_the_page_lists_proposals_with_the_reason_and_confirms_once(
    practice: Practice, biller: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    minutes(practice, 30, "Ruiz", 3)
    minutes(practice, 30, "Okafor", 10)
    minutes(practice, 26, "Lind", 20)
    month = rolled_up(practice)
    with tenant_context(practice.org):
        services.charge_master_set(
            service_code="99492", charge=Decimal("160"), effective_from=years_ago(1)
        )
        services.charge_master_set(
            service_code="99494", charge=Decimal("70"), effective_from=years_ago(1)
        )
    client = client_for(biller)
    url = f"/o/{practice.org.slug}/claims/care/"
    client.get(url)
    with django_assert_max_num_queries(25):
        page = client.get(url)
    body = page.content.decode()
    assert MONTH_NAME in body and "99492" in body and "99494" in body
    confirm = f"/o/{practice.org.slug}/claims/care/{month.pk}/confirm/"
    client.post(confirm, {"rendering_provider": str(practice.provider.pk)})
    with tenant_context(practice.org):
        month.refresh_from_db()
        assert month.status == CareMonthStatus.CONFIRMED and len(month.charges) == 2
    again = client.post(confirm, {"rendering_provider": str(practice.provider.pk)}, follow=True)
    assert f"{MONTH_NAME} is already billed" in again.content.decode()
    with tenant_context(practice.org):
        assert len(CareMonth.objects.get(pk=month.pk).charges) == 2


def test_a_month_with_too_few_minutes_shows_why(
    practice: Practice, biller: Any, client_for: Any
) -> None:
    minutes(practice, 35)
    rolled_up(practice)
    body = client_for(biller).get(f"/o/{practice.org.slug}/claims/care/").content.decode()
    assert "35 minutes in first month: 99492 needs at least 36" in body


def test_another_organizations_month_is_a_404(
    practice: Practice, other_org: Any, outsider: Any, client_for: Any, api_client_for: Any
) -> None:
    minutes(practice, 40)
    month = rolled_up(practice)
    foreign = client_for(outsider).post(
        f"/o/{other_org.slug}/claims/care/{month.pk}/confirm/",
        {"rendering_provider": str(practice.provider.pk)},
    )
    assert foreign.status_code == 404
    api = api_client_for(other_org)
    assert api.get(f"/api/v1/care-months/{month.pk}/").status_code == 404
    assert api.get("/api/v1/care-months/").json()["results"] == []
    with tenant_context(practice.org):
        assert CareMonth.objects.get(pk=month.pk).status == CareMonthStatus.PROPOSED


def test_the_api_records_minutes_and_confirms_a_month(
    practice: Practice, api_client_for: Any
) -> None:
    client = api_client_for(practice.org, ["claims:read", "claims:write"])
    made = client.post(
        "/api/v1/care-minutes/",
        {
            "episode": str(practice.episode.pk),
            "program": "cocm",
            "staff_name": "Ruiz",
            "performed_on": str(LAST_MONTH.replace(day=5)),
            "minutes": 45,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    bad = client.post(
        "/api/v1/care-minutes/",
        {
            "episode": str(practice.episode.pk),
            "program": "cocm",
            "staff_name": "R",
            "performed_on": str(LAST_MONTH.replace(day=5)),
            "minutes": 0,
        },
        format="json",
    )
    assert bad.status_code == 400
    month = rolled_up(practice)
    listed = client.get("/api/v1/care-months/?status=proposed")
    assert [m["id"] for m in listed.json()["results"]] == [str(month.pk)]
    confirmed = client.post(
        f"/api/v1/care-months/{month.pk}/confirm/",
        {"rendering_provider": str(practice.provider.pk)},
        format="json",
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    twice = client.post(
        f"/api/v1/care-months/{month.pk}/confirm/",
        {"rendering_provider": str(practice.provider.pk)},
        format="json",
    )
    assert twice.status_code == 400
