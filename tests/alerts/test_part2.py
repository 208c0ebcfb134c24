"""42 CFR Part 2 in the alerts inbox: an alert about a Part 2 record is kept from a member
without the grant (inbox, API, the count in the navigation, acknowledge and snooze), and the
inbox says how many it leaves out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.models import Alert, Area
from alerts.services import AlertSpec, alerts_raise
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Role
from tests.clock import now
from tests.factories import MembershipFactory, UserFactory

INBOX = "/o/riverbend/alerts/"
API = "/api/v1/alerts/"
NO_GRANT = ["authorizations:read", "authorizations:write"]


def _spec(key: str, **kwargs: Any) -> AlertSpec:
    return AlertSpec(
        area=Area.AUTHORIZATIONS,
        kind="authorization.ending",
        dedupe_key=key,
        title=f"Authorization {key} ends soon",
        **kwargs,
    )


@pytest.fixture
def nora(org: Any) -> Any:
    """Nora bills at Riverbend without the Part 2 grant."""
    return MembershipFactory(
        organization=org,
        role=Role.BILLER,
        user=UserFactory(email="nora@riverbend.example"),
        part2_access=False,
    ).user


@pytest.fixture
def alerts(org: Any) -> dict[str, Alert]:
    with tenant_context(org):
        part2, plain = alerts_raise(specs=[_spec("SUD-1", part2=True), _spec("MH-1")])
    return {"part2": part2, "plain": plain}


def test_a_spec_is_not_part2_unless_its_scan_says_so() -> None:
    assert _spec("x").part2 is False


def test_the_inbox_hides_part2_alerts_and_says_how_many(
    nora: Any, biller: Any, alerts: Any, client_for: Any
) -> None:
    response = client_for(nora).get(INBOX)
    html = response.content.decode()
    assert [a.pk for a in response.context["page"]] == [alerts["plain"].pk]
    assert "SUD-1" not in html and "1 restricted record not shown" in html
    granted = client_for(biller).get(INBOX)
    assert {a.pk for a in granted.context["page"]} == {alerts["part2"].pk, alerts["plain"].pk}
    assert "restricted record" not in granted.content.decode()


def test_the_navigation_counts_only_the_alerts_the_member_may_see(
    nora: Any, biller: Any, alerts: Any, client_for: Any
) -> None:
    assert 'aria-label="1 open"' in client_for(nora).get("/o/riverbend/").content.decode()
    assert 'aria-label="2 open"' in client_for(biller).get("/o/riverbend/").content.decode()


def test_the_api_lists_and_finds_no_part2_alert_without_the_grant(
    org: Any, alerts: Any, api_client_for: Any
) -> None:
    api = api_client_for(org, NO_GRANT)
    assert [a["id"] for a in api.get(API).json()["results"]] == [str(alerts["plain"].pk)]
    assert api.get(f"{API}{alerts['part2'].pk}/").status_code == 404
    granted = api_client_for(org, [*NO_GRANT, "part2:read"])
    assert len(granted.get(API).json()["results"]) == 2


def test_acknowledging_or_snoozing_a_part2_alert_without_the_grant_is_404_and_changes_nothing(
    org: Any, nora: Any, alerts: Any, client_for: Any, api_client_for: Any
) -> None:
    pk = alerts["part2"].pk
    client = client_for(nora)
    assert client.post(f"{INBOX}{pk}/acknowledge/").status_code == 404
    assert client.post(f"{INBOX}{pk}/snooze/", {"for": "1d"}).status_code == 404
    api = api_client_for(org, NO_GRANT)
    assert api.post(f"{API}{pk}/acknowledge/").status_code == 404
    until = (now() + timedelta(days=1)).isoformat()
    snooze = api.post(f"{API}{pk}/snooze/", {"until": until}, format="json")
    assert snooze.status_code == 404
    with tenant_context(org):
        alert = Alert.objects.get(pk=pk)
    assert alert.acknowledged_at is None and alert.snoozed_until is None


def test_the_inbox_costs_one_more_query_without_the_grant_whatever_the_rows(
    org: Any, nora: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    with tenant_context(org):
        alerts_raise(specs=[_spec(f"k{i}", part2=i % 2 == 0) for i in range(120)])
    client = client_for(nora)
    client.get(INBOX)
    with django_assert_max_num_queries(15):  # the inbox's 14, plus the one COUNT of hidden rows
        response = client.get(INBOX)
    assert len(response.context["page"]) == 50 and response.context["part2_hidden"] == 60
