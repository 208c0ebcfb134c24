"""Exception rows of an 835 say what they are (unmatched claim id, unknown payer claim number,
unmatched service line and why) with the actions to match by hand or dismiss with a reason; the
list costs a fixed number of queries; another organization's exception is not found."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup

from denials.rules import exception_summary
from tests.claims.conftest import dos
from tests.denials.conftest import lost
from tests.denials.x835 import Svc

pytestmark = pytest.mark.django_db
LIST = "/o/riverbend/denials/exceptions/"


def test_the_summary_names_the_id_that_matched_nothing():
    assert exception_summary(
        kind="unmatched_claim", patient_control_number="TYPO-1", payer_claim_number="PCN9"
    ) == ("Unmatched claim id TYPO-1 (CLP01); unknown payer claim number PCN9 (CLP07)")
    assert "unknown line control number NOPE" in exception_summary(
        kind="unmatched_line",
        patient_control_number="C1",
        payer_claim_number="",
        service_code="90834",
        line_control_number="NOPE",
    )
    assert "no line control number" in exception_summary(
        kind="unmatched_line", patient_control_number="C1", payer_claim_number=""
    )


def test_each_row_says_what_it_is_and_offers_match_and_dismiss(
    practice, submitted, unmatched_claim, half_matched, biller, client_for
):
    exception = unmatched_claim(submitted(days=2))
    half_matched(
        Svc(
            "90834",
            Decimal("150"),
            Decimal("80"),
            lcn="NOPE",
            dos=lost(),
            cas=[("CO", "45", Decimal("70"))],
        ),
        start=dos() + timedelta(days=1),
        trace="TRACE2",
    )
    soup = BeautifulSoup(client_for(biller).get(LIST).content, "html.parser")
    rows = soup.select("#exceptions tbody tr")
    text = " ".join(r.get_text(" ") for r in rows)
    pcn = exception.remittance_claim.patient_control_number
    assert f"Unmatched claim id {pcn} (CLP01)" in text
    assert "Unmatched service line 90834" in text and "unknown line control number NOPE" in text
    assert "Claim not found" not in text
    actions = {a.text for a in soup.select("#exceptions tbody a")}
    assert {"Match to a claim", "Match to a line", "Dismiss with a reason"} <= actions
    target = soup.find("a", string="Dismiss with a reason")["href"]
    assert target.endswith("#resolve")
    page = client_for(biller).get(target.split("#")[0])
    assert BeautifulSoup(page.content, "html.parser").select_one("form#resolve textarea")


def test_a_reader_sees_no_actions(practice, submitted, unmatched_claim, auditor, client_for):
    unmatched_claim(submitted(days=2))
    soup = BeautifulSoup(client_for(auditor).get(LIST).content, "html.parser")
    assert soup.find("a", string="Dismiss with a reason") is None


def test_the_exception_list_costs_a_fixed_number_of_queries(
    practice, submitted, unmatched_claim, biller, client_for, django_assert_max_num_queries
):
    client = client_for(biller)
    unmatched_claim(submitted(days=2), trace="T1")
    client.get(LIST)
    with django_assert_max_num_queries(14) as one:
        client.get(LIST)
    for i in range(1, 4):
        unmatched_claim(submitted(days=2, start=dos() + timedelta(days=i)), trace=f"T{i + 1}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(LIST)
    assert len(BeautifulSoup(page.content, "html.parser").select("#exceptions tbody tr")) == 4


def test_another_organizations_exception_is_not_found(
    practice, submitted, unmatched_claim, outsider, other_org, client_for
):
    exception = unmatched_claim(submitted(days=2))
    client = client_for(outsider)
    url = f"/o/riverbend/denials/exceptions/{exception.pk}/"
    assert client.get(url).status_code in (403, 404)
    own = f"/o/{other_org.slug}/denials/exceptions/{exception.pk}/"
    assert client.get(own).status_code == 404
    assert client.post(own + "resolve/", {"note": "not ours"}).status_code == 404
