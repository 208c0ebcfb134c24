"""42 CFR Part 2 on the dashboard: a manager without the Part 2 grant gets figures computed over
the claims she may see, each equal to the count of its drill-down list, and the page says how
many restricted records were left out; with the grant, everything is counted."""

from __future__ import annotations

from typing import Any

import pytest

from claims.models import Claim
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.dashboards.test_dashboard import URL, Book, make_book
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "1 restricted record not shown"


@pytest.fixture
def book(org: Any) -> Book:
    """The dashboard book, its denied claim (c3) a Part 2 claim."""
    book = make_book(org)
    with tenant_context(org):
        Claim.objects.filter(pk=book.claims[2].pk).update(is_part2=True)
    return book


@pytest.fixture
def granted_manager(org: Any) -> Any:
    """Gail manages the clinic too, with the Part 2 grant."""
    return MembershipFactory(
        organization=org,
        role=Role.MANAGER,
        user=UserFactory(email="gail@riverbend.example"),
        part2_access=True,
    ).user


def _count(response: Any) -> int:
    return response.context["page"].paginator.count


def test_figures_equal_their_drill_downs_and_say_what_they_left_out(
    book: Book, manager: Any, client_for: Any
) -> None:
    client = client_for(manager)
    page = client.get(URL)
    d = page.context["d"]
    assert d.denials == (0, 1)  # c1 adjudicated; the denied c3 is Part 2
    assert d.hidden["denials"] == 1 and d.hidden["denied"] == 1
    assert NOTE in page.content.decode()
    denied = client.get(f"{URL}claims/", {"kind": "denied"})
    assert _count(denied) == d.denials[0] and NOTE in denied.content.decode()
    adjudicated = client.get(f"{URL}claims/", {"kind": "adjudicated"})
    assert _count(adjudicated) == d.denials[1] and NOTE in adjudicated.content.decode()
    assert book.claims[2].patient_control_number not in adjudicated.content.decode()
    ar = client.get(f"{URL}claims/", {"kind": "ar"})
    assert d.hidden["ar"] == int(ar.context["part2_hidden"])


def test_the_grant_holder_sees_every_claim_and_no_note(
    book: Book, granted_manager: Any, client_for: Any
) -> None:
    client = client_for(granted_manager)
    page = client.get(URL)
    d = page.context["d"]
    assert d.denials == (1, 2) and d.part2_hidden == 0
    assert "restricted record" not in page.content.decode()
    denied = client.get(f"{URL}claims/", {"kind": "denied"})
    assert [c.pk for c in denied.context["page"]] == [book.claims[2].pk]
    assert "restricted record" not in denied.content.decode()


def test_the_api_and_the_portfolio_count_over_the_visible_claims(
    book: Book, manager: Any, granted_manager: Any, client_for: Any, api_client_for: Any
) -> None:
    plain = api_client_for(book.org, ["dashboards:read"])
    body = plain.get("/api/v1/kpis/").json()
    by_payer = body["breakdowns"]["initial_denial_rate_by_payer"]
    assert [(b["denied"], b["adjudicated"]) for b in by_payer] == [(0, 1)]
    assert body["part2_hidden"]["initial_denial_rate"] == 1
    granted = api_client_for(book.org, ["dashboards:read", "part2:read"]).get("/api/v1/kpis/")
    assert granted.json()["part2_hidden"]["initial_denial_rate"] == 0
    portfolio = client_for(manager).get("/portfolio/")
    assert "restricted record" in portfolio.content.decode()
    assert (
        "restricted record" not in client_for(granted_manager).get("/portfolio/").content.decode()
    )


def test_the_dashboard_costs_the_same_without_the_grant(
    book: Book, manager: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(manager)
    client.get(URL)
    with django_assert_max_num_queries(33):  # the grant holder's 32, and the A/R COUNT
        client.get(URL)
