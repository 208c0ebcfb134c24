"""Underpayments: when an 835 posts (through the outbox, as in production), each paid line is
compared with its contract rate; a line paid under the expected payment by more than the
tolerance lands in the underpayment queue, one inside it does not, nothing doubles on a second
run, another organization's item is a 404, and Part 2 items stay with the grant holders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from claims import services as claims_services
from claims.models import Claim
from denials import services as denials_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from reconciliation import selectors, services
from reconciliation.models import UnderpaymentItem
from tests.claims.conftest import dos
from tests.clock import now, today, years_ago
from tests.denials.conftest import practice, reference_codes, submitted  # noqa: F401
from tests.denials.x835 import Clp, Svc, build_835
from tests.reconciliation.helpers import run_outbox

D = Decimal
pytestmark = pytest.mark.django_db


def contract(practice: Any, allowed: str = "100.00") -> Any:  # noqa: F811
    with tenant_context(practice.org):
        return claims_services.contract_rate_set(
            payer=practice.payer,
            service_code="90834",
            allowed=D(allowed),
            effective_from=years_ago(2),
        )


def remit(claim: Claim, *, paid: str, pr: str = "20", trace: str = "UP1") -> str:
    """An 835 paying the claim's one line `paid`, with `pr` patient responsibility (PR-3) and
    the rest of the $150 charge a contractual CO-45."""
    with tenant_context(claim.organization_id):
        lcn = claim.lines.get().line_control_number
    charge, paid_d, pr_d = D("150"), D(paid), D(pr)
    cas = [("CO", "45", charge - paid_d - pr_d), ("PR", "3", pr_d)]
    return build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                charge,
                paid_d,
                pr_d,
                lines=[Svc("90834", charge, paid_d, lcn=lcn, allowed=paid_d + pr_d, cas=cas)],
            )
        ],
        trace=trace,
    )


def post_via_outbox(org: Any, text: str, name: str = "remit.835") -> Any:
    with tenant_context(org):
        imp = denials_services.remittance_import_create(file_name=name, content=text)
    run_outbox(org)
    with tenant_context(org):
        imp.refresh_from_db()
    assert imp.status == "posted", imp.error
    return imp


def test_a_line_paid_20_percent_under_contract_lands_in_the_queue(practice, submitted):  # noqa: F811
    rate = contract(practice)
    claim = submitted()
    # Contract $100, patient owes $20: the payer should pay $80; it paid $64 (20% under).
    post_via_outbox(practice.org, remit(claim, paid="64.00"))
    with tenant_context(practice.org):
        item = UnderpaymentItem.objects.get()
        assert (item.expected, item.paid, item.variance) == (D("80.00"), D("64.00"), D("16.00"))
        assert item.contract_rate == rate and item.contracted_allowed == D("100.00")
        assert item.patient_responsibility == D("20.00") and item.claim == claim
        assert item.outcome == "open"
        rows = selectors.variance_by_payer_month(scopes=part2.ORGANIZATION)
        assert [(r.payer, r.items, r.variance) for r in rows] == [
            (practice.payer.name, 1, D("16.00"))
        ]


@pytest.mark.parametrize("paid", ["80.00", "79.00", "78.40"])
def test_a_line_paid_inside_the_tolerance_creates_nothing(practice, submitted, paid):  # noqa: F811
    contract(practice)
    # $1.00 or 2% of $80 ($1.60): $78.40 is the edge, still inside.
    post_via_outbox(practice.org, remit(submitted(), paid=paid))
    with tenant_context(practice.org):
        assert not UnderpaymentItem.objects.exists()


def test_just_past_the_tolerance_is_an_underpayment(practice, submitted):  # noqa: F811
    contract(practice)
    post_via_outbox(practice.org, remit(submitted(), paid="78.39"))
    with tenant_context(practice.org):
        assert UnderpaymentItem.objects.get().variance == D("1.61")


def test_a_line_without_a_contract_row_creates_nothing_and_is_counted(practice, submitted):  # noqa: F811
    imp = post_via_outbox(practice.org, remit(submitted(), paid="10.00"))
    with tenant_context(practice.org):
        assert not UnderpaymentItem.objects.exists()
        check = services.underpayments_check(import_id=imp.pk, today=today())
    assert (check.created, check.without_contract) == (0, 1)


def test_the_same_835_posted_twice_creates_no_duplicate(practice, submitted):  # noqa: F811
    contract(practice)
    text = remit(submitted(), paid="64.00")
    imp = post_via_outbox(practice.org, text)
    with tenant_context(practice.org):
        denials_services.remittance_import_create(file_name="again.835", content=text)
    run_outbox(practice.org)
    with tenant_context(practice.org):
        again = services.underpayments_check(import_id=imp.pk, today=today())
        assert (again.created, again.already_checked) == (0, 1)
        assert UnderpaymentItem.objects.count() == 1


def test_resolving_tracks_the_recovery_and_refuses_bad_input(practice, submitted):  # noqa: F811
    from rcm.errors import DomainError

    contract(practice)
    post_via_outbox(practice.org, remit(submitted(), paid="64.00"))
    with tenant_context(practice.org):
        item = UnderpaymentItem.objects.get()
        resolve = {
            "scopes": part2.ORGANIZATION,
            "item_id": item.pk,
            "actor": None,
            "now": now(),
        }
        with pytest.raises(DomainError) as refused:
            services.underpayment_resolve(
                **resolve, outcome="recovered", reason="", recovered_amount=None
            )
        assert {e.field for e in refused.value.errors} >= {"reason", "recovered_amount"}
        with pytest.raises(DomainError, match="More than the variance"):
            services.underpayment_resolve(
                **resolve, outcome="recovered", reason="paid", recovered_amount=D("16.01")
            )
        item.refresh_from_db()
        assert item.outcome == "open"
        services.underpayment_resolve(
            **resolve, outcome="recovered", reason="Payer reprocessed", recovered_amount=D("16")
        )
        item.refresh_from_db()
        assert (item.outcome, item.recovered_amount) == ("recovered", D("16.00"))
        with pytest.raises(DomainError, match="already closed"):
            services.underpayment_resolve(
                **resolve, outcome="written_off", reason="x", recovered_amount=None
            )
        (row,) = selectors.variance_by_payer_month(scopes=part2.ORGANIZATION)
        assert (row.recovered, row.open_variance) == (D("16.00"), D("0.00"))


def _two_items(practice, submitted) -> tuple[UnderpaymentItem, UnderpaymentItem]:  # noqa: F811
    from datetime import timedelta

    contract(practice)
    items = []
    for i, is_part2 in enumerate((False, True)):
        claim = submitted(start=dos() + timedelta(days=i))
        if is_part2:
            with tenant_context(practice.org):
                Claim.objects.filter(pk=claim.pk).update(is_part2=True)
        post_via_outbox(practice.org, remit(claim, paid="64.00", trace=f"UPT{i}"), f"r{i}.835")
        with tenant_context(practice.org):
            items.append(UnderpaymentItem.objects.get(claim=claim))
    return items[0], items[1]


def test_part2_items_only_reach_the_grant_holders(practice, submitted):  # noqa: F811
    ordinary, restricted = _two_items(practice, submitted)
    with tenant_context(practice.org):
        plain = {"denials:read"}
        assert list(selectors.underpayments_list(scopes=plain, search="", outcome="")) == [ordinary]
        assert selectors.underpayments_hidden(scopes=plain, search="", outcome="") == 1
        assert sum(r.items for r in selectors.variance_by_payer_month(scopes=plain)) == 1
        with pytest.raises(UnderpaymentItem.DoesNotExist):
            services.underpayment_resolve(
                scopes=plain,
                item_id=restricted.pk,
                outcome="written_off",
                reason="x",
                recovered_amount=None,
                actor=None,
                now=now(),
            )
        granted = selectors.underpayments_list(scopes=part2.ORGANIZATION, search="", outcome="")
        assert set(granted) == {ordinary, restricted}


def test_api_lists_resolves_and_keeps_tenants_and_part2_apart(
    practice,  # noqa: F811
    submitted,  # noqa: F811
    api_client_for,
    django_assert_max_num_queries,
):
    from tests.factories import OrganizationFactory

    ordinary, restricted = _two_items(practice, submitted)
    plain = api_client_for(practice.org, ["denials:read", "denials:write"])
    with django_assert_max_num_queries(12):
        listed = plain.get("/api/v1/underpayments/")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [str(ordinary.pk)]
    assert listed["X-Part2-Hidden"] == "1"
    assert listed.json()["results"][0]["variance"] == "16.00"
    assert listed.json()["results"][0]["contract"]["allowed"] == "100.00"
    assert plain.get(f"/api/v1/underpayments/{restricted.pk}/").status_code == 404
    gone = plain.post(
        f"/api/v1/underpayments/{restricted.pk}/resolve/",
        {"outcome": "written_off", "reason": "x"},
        format="json",
    )
    assert gone.status_code == 404

    bad = plain.post(
        f"/api/v1/underpayments/{ordinary.pk}/resolve/",
        {"outcome": "recovered", "reason": "paid"},
        format="json",
    )
    assert bad.status_code == 400 and "recovered_amount" in bad.content.decode()
    assert (
        plain.post(
            f"/api/v1/underpayments/{ordinary.pk}/resolve/", {"outcome": "maybe"}, format="json"
        ).status_code
        == 400
    )
    done = plain.post(
        f"/api/v1/underpayments/{ordinary.pk}/resolve/",
        {"outcome": "contract_wrong", "reason": "Rate sheet had the 2024 rate"},
        format="json",
    )
    assert done.status_code == 200 and done.json()["outcome"] == "contract_wrong"

    other = OrganizationFactory()
    stranger = api_client_for(other)
    assert stranger.get(f"/api/v1/underpayments/{ordinary.pk}/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/underpayments/{ordinary.pk}/resolve/",
            {"outcome": "written_off", "reason": "x"},
            format="json",
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/underpayments/").json()["results"] == []


# --- The page ---------------------------------------------------------------------------------


@pytest.fixture
def plain_biller(org: Any) -> Any:
    """Pat bills at Riverbend like Bill, without the Part 2 grant."""
    from rcm.tenancy.permissions import Role
    from tests.factories import MembershipFactory, UserFactory

    return MembershipFactory(
        organization=org,
        role=Role.BILLER,
        user=UserFactory(email="pat@riverbend.example"),
        part2_access=False,
    ).user


def test_the_queue_page_lists_searches_exports_and_sums_by_payer_and_month(
    practice,  # noqa: F811
    submitted,  # noqa: F811
    biller,
    plain_biller,
    client_for,
    django_assert_max_num_queries,
):
    ordinary, restricted = _two_items(practice, submitted)
    url = f"/o/{practice.org.slug}/reconciliation/underpayments/"
    client = client_for(biller)
    with django_assert_max_num_queries(25):
        page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert str(ordinary.pk) in text and str(restricted.pk) in text
    assert "$16.00" in text and "$32.00" in text  # a line's variance; the month's total
    assert "Appeal" in text
    empty = client.get(url, {"q": "99213"}).content.decode()
    assert "No underpayment matches." in empty and str(ordinary.pk) not in empty
    csv = client.get(url, {"export": "csv"})
    assert csv["Content-Type"] == "text/csv"
    body = csv.content.decode()
    assert body.splitlines()[0].startswith("Remittance date,Payer,Claim")
    assert len(body.strip().splitlines()) == 3 and "16.00" in body

    plain = client_for(plain_biller).get(url).content.decode()
    assert str(ordinary.pk) in plain and str(restricted.pk) not in plain
    assert 'data-part2-hidden="1"' in plain
    assert "$32.00" not in plain  # the variance table leaves the Part 2 line out too
    assert client_for(plain_biller).get(f"{url}{restricted.pk}/").status_code == 404


def test_resolving_on_the_page_shows_errors_inline_and_records_the_recovery(
    practice,  # noqa: F811
    submitted,  # noqa: F811
    biller,
    client_for,
):
    from tests.factories import OrganizationFactory

    contract(practice)
    post_via_outbox(practice.org, remit(submitted(), paid="64.00"))
    with tenant_context(practice.org):
        item = UnderpaymentItem.objects.get()
    url = f"/o/{practice.org.slug}/reconciliation/underpayments/{item.pk}/"
    client = client_for(biller)
    detail = client.get(url).content.decode()
    assert "allows $100.00 per unit for 90834" in detail
    refused = client.post(url, {"outcome": "recovered", "reason": "Reprocessed"})
    assert refused.status_code == 200 and "Enter the amount recovered." in refused.content.decode()
    with tenant_context(practice.org):
        item.refresh_from_db()
        assert item.outcome == "open"
    done = client.post(
        url, {"outcome": "recovered", "reason": "Reprocessed", "recovered_amount": "16.00"}
    )
    assert done.status_code == 302
    with tenant_context(practice.org):
        item.refresh_from_db()
        assert (item.outcome, item.recovered_amount) == ("recovered", D("16.00"))

    other = OrganizationFactory(slug="elsewhere")
    from rcm.tenancy.permissions import Role
    from tests.factories import MembershipFactory

    stranger = MembershipFactory(organization=other, role=Role.OWNER, part2_access=True).user
    assert (
        client_for(stranger)
        .get(f"/o/elsewhere/reconciliation/underpayments/{item.pk}/")
        .status_code
        == 404
    )


def test_the_tolerance_is_the_organizations_setting(practice, submitted):  # noqa: F811
    from rcm.errors import DomainError

    contract(practice)
    with tenant_context(practice.org):
        with pytest.raises(DomainError) as refused:
            services.underpayment_tolerance_update(amount=D("-1"), percent=D("60"))
        assert {e.field for e in refused.value.errors} == {
            "underpayment_tolerance_amount",
            "underpayment_tolerance_percent",
        }
        services.underpayment_tolerance_update(amount=D("0"), percent=D("0"))
    # $1.00 short is inside the default tolerance, outside a zero one.
    post_via_outbox(practice.org, remit(submitted(), paid="79.00"))
    with tenant_context(practice.org):
        assert UnderpaymentItem.objects.get().variance == D("1.00")


def test_the_owner_sets_the_tolerance_with_errors_inline(org, owner, biller, client_for):
    url = f"/o/{org.slug}/reconciliation/underpayments/tolerance/"
    bad = client_for(owner).post(
        url, {"underpayment_tolerance_amount": "5", "underpayment_tolerance_percent": "75"}
    )
    assert bad.status_code == 200 and "From 0 to 50 percent." in bad.content.decode()
    assert client_for(biller).post(
        url, {"underpayment_tolerance_amount": "5", "underpayment_tolerance_percent": "5"}
    ).status_code in (403, 404)
    ok = client_for(owner).post(
        url, {"underpayment_tolerance_amount": "5", "underpayment_tolerance_percent": "5"}
    )
    assert ok.status_code == 302
    with tenant_context(org):
        config = selectors.reconciliation_settings()
        assert (config.underpayment_tolerance_amount, config.underpayment_tolerance_percent) == (
            D("5.00"),
            D("5.00"),
        )
