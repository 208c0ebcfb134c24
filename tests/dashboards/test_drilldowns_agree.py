"""Every dashboard figure equals the total of its drill-down list, for the same member: walked
link by link on a book with a Part 2 claim, for a manager without the Part 2 grant (the figures
and the lists leave the same record out and say so) and one with it (everything counted). An
invalid date range is an inline error; the PDF prints the bars in colour; members of several
organizations find the portfolio in the header."""

from __future__ import annotations

import re
import zlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup

from claims.models import Claim
from denials.models import LineBalance, RemittanceClaim
from rcm.tenancy.context import tenant_context
from rcm.tenancy.permissions import Role
from tests.dashboards.test_dashboard import URL, Book, make_book
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
NOTE = "restricted record"


@pytest.fixture
def book(org: Any) -> Book:
    """The dashboard book; its accepted-then-denied claim (c3) is a Part 2 claim."""
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


def _walk(client: Any) -> list[tuple[str, int, int, int]]:
    """(link, figure, drill-down total, Part 2 rows the list left out) for every figure that
    links to a list."""
    soup = BeautifulSoup(client.get(URL).content, "html.parser")
    links = soup.select("main a[data-count]")
    walked = []
    for link in links:
        page = client.get(link["href"])
        assert page.status_code == 200, link["href"]
        total = BeautifulSoup(page.content, "html.parser").select_one(".drill-total")
        assert total is not None, link["href"]
        assert page.context["page"].paginator.count == int(total.text)
        walked.append(
            (link["href"], int(link["data-count"]), int(total.text), page.context["part2_hidden"])
        )
    return walked


@pytest.mark.parametrize("grant", [False, True], ids=["without-grant", "with-grant"])
def test_every_figure_equals_its_drill_down_total(
    book: Book, manager: Any, granted_manager: Any, client_for: Any, grant: bool
) -> None:
    client = client_for(granted_manager if grant else manager)
    walked = _walk(client)
    kinds = {re.search(r"kind=(\w+)", href).group(1) for href, *_ in walked if "kind=" in href}
    assert {"clean", "denied"} <= kinds and any("unbilled" in h for h, *_ in walked)
    for href, figure, total, hidden in walked:
        assert figure == total, href
        if grant:
            assert hidden == 0, href
    dashboard = client.get(URL).content.decode()
    clean = next(w for w in walked if "kind=clean" in w[0])
    # c1 and c3 were accepted on first pass; without the grant the Part 2 c3 is left out, and
    # both the card and its list say so.
    assert clean[1] == (2 if grant else 1) and clean[2] > 0
    assert (NOTE in dashboard) is not grant
    assert (clean[3] == 1) is not grant


@pytest.fixture
def money_book(book: Book) -> Book:
    """The book with money in every A/R bucket a figure links to: c1 overpaid by $10 (its open
    balance is -$10, so it is not in A/R and does not lower the others'); the Part 2 c3 paid $20
    of its $150 (open $130); c4 submitted 100 days ago (open $150, over 90 days)."""
    c1, _c2, c3, c4 = book.claims
    with tenant_context(book.org):
        LineBalance.objects.filter(claim=c1).update(paid=Decimal("110.00"))
        RemittanceClaim.objects.filter(claim=c1).update(paid=Decimal("110.00"))
        LineBalance.objects.filter(claim=c3).update(paid=Decimal("20.00"))
        RemittanceClaim.objects.filter(claim=c3).update(paid=Decimal("20.00"))
        c4.refresh_from_db()
        Claim.objects.filter(pk=c4.pk).update(submitted_at=c4.submitted_at - timedelta(days=100))
    return book


def _walk_amounts(client: Any) -> dict[str, tuple[Decimal, Decimal, int]]:
    """{link: (money figure, its drill-down list's total, Part 2 rows the list left out)} for
    every money figure that links to a list."""
    soup = BeautifulSoup(client.get(URL).content, "html.parser")
    walked = {}
    for link in soup.select("main a[data-amount]"):
        page = client.get(link["href"])
        assert page.status_code == 200, link["href"]
        html = BeautifulSoup(page.content, "html.parser")
        total = html.select_one(".drill-amount")
        assert total is not None, link["href"]
        # The footer adds up the whole list: the amount column of every row.
        column = sum(
            (Decimal(cell.text.strip("$")) for cell in html.select("td.drill-row-amount")),
            Decimal("0.00"),
        )
        assert column == Decimal(total.text), link["href"]
        walked[link["href"]] = (
            Decimal(link["data-amount"]),
            Decimal(total.text),
            page.context["part2_hidden"],
        )
    return walked


@pytest.mark.parametrize("grant", [False, True], ids=["without-grant", "with-grant"])
def test_every_money_figure_equals_its_drill_down_sum(
    money_book: Book, manager: Any, granted_manager: Any, client_for: Any, grant: bool
) -> None:
    client = client_for(granted_manager if grant else manager)
    walked = _walk_amounts(client)
    for href, (figure, total, hidden) in walked.items():
        assert figure == total, href
        if grant:
            assert hidden == 0, href

    def figure(kind: str, **params: str) -> Decimal:
        (match,) = (
            amounts[0]
            for href, amounts in walked.items()
            if f"kind={kind}" in href
            and all(f"{k}={v}" in href for k, v in params.items())
            and (params or ("bucket=" not in href and "payer=" not in href))
        )
        return match

    # A/R: c4 $150, and c3's $130 with the grant; never c1's -$10.
    assert figure("ar") == Decimal("280.00" if grant else "150.00")
    assert figure("ar", bucket="91%2B") == Decimal("150.00")
    assert figure("ar", bucket="91-120") == Decimal("150.00")
    assert figure("ar", bucket="0-30") == Decimal("130.00" if grant else "0.00")
    assert figure("ar", payer=str(money_book.payer.pk)) == figure("ar")
    # Collected in the period: c1 $110, and c3's $20 with the grant.
    assert figure("collected") == Decimal("130.00" if grant else "110.00")
    collected = client.get(f"{URL}claims/", {"kind": "collected"})
    assert (NOTE in collected.content.decode()) is not grant
    assert (money_book.claims[2].patient_control_number in collected.content.decode()) is grant


def test_the_clean_claim_card_lists_the_first_pass_claims(
    book: Book, granted_manager: Any, client_for: Any
) -> None:
    page = client_for(granted_manager).get(f"{URL}claims/", {"kind": "clean"})
    numbers = {c.patient_control_number for c in page.context["page"]}
    c1, _rejected, c3, _ = book.claims
    assert numbers == {c1.patient_control_number, c3.patient_control_number}
    answered = client_for(granted_manager).get(f"{URL}claims/", {"kind": "answered"})
    assert answered.context["page"].paginator.count == 3  # and the rejected c2


def test_an_invalid_date_range_is_an_inline_error_not_a_replaced_period(
    book: Book, manager: Any, client_for: Any
) -> None:
    client = client_for(manager)
    bad = {"date_from": "2026-12-01", "date_to": "2026-11-01"}
    page = client.get(URL, bad)
    assert page.status_code == 400 and page.context["d"] is None
    field = BeautifulSoup(page.content, "html.parser").select_one("#id_date_to_error")
    assert field is not None and "before the start date" in field.text
    assert "Clean claim rate" not in page.content.decode()
    drill = client.get(f"{URL}claims/", {"kind": "denied", **bad})
    assert drill.status_code == 400 and b"before the start date" in drill.content
    garbage = client.get(URL, {"date_from": "not a date"})
    assert garbage.status_code == 400 and b"id_date_from_error" in garbage.content


def _fill_colours(pdf: bytes) -> set[bytes]:
    colours: set[bytes] = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text = zlib.decompress(stream)
        except zlib.error:
            continue
        colours |= set(
            re.findall(rb"([\d.]+ [\d.]+ [\d.]+) rg\n(?:[^\n]*\n){0,6}?[^\n]* re\nf", text)
        )
    return colours


def test_the_pdf_prints_the_chart_bars_in_colour(book: Book, manager: Any, client_for: Any) -> None:
    pdf = client_for(manager).get(URL, {"format": "pdf"}).content
    assert pdf.startswith(b"%PDF")
    # #1f5f8b, the brand blue, as WeasyPrint writes a fill colour.
    assert b"0.121569 0.372549 0.545098" in b" ".join(_fill_colours(pdf))


def test_members_of_several_organizations_find_the_portfolio_in_the_header(
    org: Any, manager: Any, client_for: Any
) -> None:
    header = BeautifulSoup(client_for(manager).get(URL).content, "html.parser").header
    assert header.select_one("#portfolio-link") is None
    MembershipFactory(organization=OrganizationFactory(), role=Role.BILLER, user=manager)
    header = BeautifulSoup(client_for(manager).get(URL).content, "html.parser").header
    link = header.select_one("#portfolio-link")
    assert link is not None and link["href"] == "/portfolio/"
