"""Deposits from bank files, and their matches to ERAs: by trace and amount on either side's
arrival, suggestions, by hand (many to many, with a reason when the totals differ), undone with
a reason; the queues; nothing ever changes a posted payment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from reconciliation import rules, selectors, services
from reconciliation.models import Deposit, Match, MatchDeposit, StatementImport
from tests.clock import days_ago, now
from tests.reconciliation.helpers import bank_account, era, post_835, run_outbox, three_ach_credits

pytestmark = pytest.mark.django_db
D = Decimal


def _import(text: str, name: str = "statement.bai", account: Any = None) -> Any:
    return services.statement_import(
        file_name=name,
        content=text.encode(),
        bank_account_id=account.pk if account else None,
        uploaded_by=None,
        now=now(),
    )


def _deposit(trace: str) -> Deposit:
    return Deposit.objects.get(trace_number=trace)


def _matched_payment_ids(deposit: Deposit) -> set[Any]:
    links = MatchDeposit.objects.filter(deposit=deposit, active=True).select_related("match")
    return {p.payment_id for link in links for p in link.match.payment_links.all()}


def test_a_bai2_file_with_three_ach_credits_matches_two_eras_by_trace_and_leaves_one_without_era(
    org: Any,
) -> None:
    first = post_835(org, trace="TRC1001", paid="150.00", control=11)
    second = post_835(org, trace="TRC1002", paid="275.50", control=12)
    with tenant_context(org):
        bank_account()
        outcome = _import(three_ach_credits(days_ago(1)))

        imp = outcome.statement
        assert not outcome.duplicate
        assert (imp.deposits_created, imp.auto_matched, imp.debits_ignored) == (3, 2, 1)
        assert _matched_payment_ids(_deposit("TRC1001")) == {first.pk}
        assert _matched_payment_ids(_deposit("TRC1002")) == {second.pk}
        waiting = selectors.deposits_without_era(search="", window=3)
        assert [(d.trace_number, d.amount) for d in waiting] == [("TRC9999", D("99.99"))]
        assert _deposit("TRC9999").payer_identifier == "1066033492"
        assert not selectors.eras_without_deposit(today=days_ago(-30), days=5, search="").exists()


def test_an_835_posted_after_its_deposit_is_matched_by_the_outbox_subscriber(org: Any) -> None:
    with tenant_context(org):
        bank_account()
        assert _import(three_ach_credits(days_ago(1))).statement.auto_matched == 0

    payment = post_835(org, trace="TRC1002", paid="275.50", control=21)

    with tenant_context(org):
        assert _matched_payment_ids(_deposit("TRC1002")) == {payment.pk}
        match = Match.objects.get()
        assert (match.method, match.deposit_total, match.payment_total) == (
            "trace",
            D("275.50"),
            D("275.50"),
        )
    run_outbox(org)  # the message again changes nothing
    with tenant_context(org):
        assert Match.objects.count() == 1


def test_a_trace_that_agrees_with_another_amount_is_left_for_a_person_as_a_mismatch(
    org: Any,
) -> None:
    with tenant_context(org):
        payment = era("TRC1001", "149.00", days_ago(2))
        bank_account()
        assert _import(three_ach_credits(days_ago(1))).statement.auto_matched == 0

        (row,) = selectors.amount_mismatches(search="")
        assert (row.trace_number, row.amount, row.era_amount) == (
            "TRC1001",
            D("150.00"),
            D("149.00"),
        )
        suggestions = selectors.suggestions_for_deposit(_deposit("TRC1001"), window=3)
        assert [(s.payment.pk, s.why) for s in suggestions] == [
            (payment.pk, "Same trace, another amount")
        ]


def test_the_same_file_twice_imports_nothing(org: Any) -> None:
    with tenant_context(org):
        bank_account()
        text = three_ach_credits(days_ago(1))
        first = _import(text)
        again = _import(text, name="renamed.bai")

        assert again.duplicate and again.statement.pk == first.statement.pk
        assert Deposit.objects.count() == 3
        assert StatementImport.objects.count() == 1


def test_an_overlapping_statement_skips_the_deposits_already_imported(org: Any) -> None:
    with tenant_context(org):
        bank_account()
        _import(three_ach_credits(days_ago(1)))
        # Another file (another file id, so other bytes) repeating the same day's lines.
        other = three_ach_credits(days_ago(1)).replace("0600,1,80", "0600,2,80", 1)
        outcome = _import(other, name="resent.bai")

        assert (outcome.statement.deposits_created, outcome.statement.deposits_skipped) == (0, 3)
        assert Deposit.objects.count() == 3


@pytest.mark.parametrize(
    ("change", "line", "says"),
    [
        (("16,165,27550,Z", "16,165,27x50,Z"), 5, "not a whole number of cents"),
        (("49,153749,6/", "49,153740,6/"), 8, "account control total"),
        (("49,153749,6/", "49,153749,7/"), 8, "number of records"),
        (("16,165,9999,Z", "17,165,9999,Z"), 6, "is not a BAI2 record"),
        (("99,153749,1,10/\n", ""), 9, "truncated"),
        (("RIVERBEND,PARITYBANK,1,", "RIVERBEND,PARITYBANK,1,ZZ"), 2, "not valid BAI2"),
    ],
)
def test_a_malformed_bai2_is_refused_whole_naming_its_line(
    org: Any, change: tuple[str, str], line: int, says: str
) -> None:
    with tenant_context(org):
        bank_account()
        text = three_ach_credits(days_ago(1)).replace(*change)
        with pytest.raises(DomainError) as refused:
            _import(text)

        assert refused.value.field == "file"
        assert f"Line {line}:" in refused.value.message and says in refused.value.message
        assert "Nothing was imported" in refused.value.message
        assert not Deposit.objects.exists() and not StatementImport.objects.exists()


def test_a_bai2_account_the_organization_does_not_have_refuses_the_file(org: Any) -> None:
    with tenant_context(org):
        bank_account(account_number="999")
        with pytest.raises(DomainError, match=r"Line 3: The account ending 6789"):
            _import(three_ach_credits(days_ago(1)))
        assert not Deposit.objects.exists()


CSV = """Posted,Credit,Txn Type,Memo
{d1},"1,250.00",ACH CREDIT,HCCLAIMPMT TRN*1*EFT5001*1512345678\\
{d2},-40.00,ACH DEBIT,MONTHLY FEE
{d2},80.00,CHECK DEPOSIT,DEPOSIT 7731
"""


def _mapped_account() -> Any:
    return bank_account(
        name="Payroll",
        account_number="555-0001",
        csv_date_column="Posted",
        csv_date_format="%Y-%m-%d",
        csv_amount_column="Credit",
        csv_type_column="Txn Type",
        csv_reference_column="Memo",
    )


def test_a_csv_reads_through_the_bank_accounts_saved_mapping(org: Any) -> None:
    with tenant_context(org):
        payment = era("EFT5001", "1250.00", days_ago(3))
        account = _mapped_account()
        text = CSV.format(d1=days_ago(2).isoformat(), d2=days_ago(1).isoformat())
        imp = _import(text, name="bank.csv", account=account).statement

        assert (imp.format, imp.deposits_created, imp.debits_ignored, imp.auto_matched) == (
            "csv",
            2,
            1,
            1,
        )
        ach, check = Deposit.objects.order_by("deposit_date")
        assert (ach.deposit_date, ach.amount, ach.kind, ach.trace_number) == (
            days_ago(2),
            D("1250.00"),
            "ach",
            "EFT5001",
        )
        assert (check.kind, check.trace_number, check.reference) == ("check", "", "DEPOSIT 7731")
        assert _matched_payment_ids(ach) == {payment.pk}


def test_a_csv_with_a_bad_date_names_its_line_and_imports_nothing(org: Any) -> None:
    with tenant_context(org):
        account = _mapped_account()
        text = CSV.format(d1=days_ago(2).isoformat(), d2="12/31/2030")
        with pytest.raises(DomainError, match=r"Line 3: The date “12/31/2030” does not read as"):
            _import(text, name="bank.csv", account=account)
        assert not Deposit.objects.exists()


def test_a_csv_without_the_mapped_column_names_it(org: Any) -> None:
    with tenant_context(org):
        account = _mapped_account()
        with pytest.raises(DomainError, match=r"No “Posted” column"):
            _import("Date,Amount\n2030-01-01,5.00\n", name="bank.csv", account=account)
        with pytest.raises(DomainError) as refused:
            _import("Posted,Credit\n2030-01-01,5.00\n", name="bank.csv", account=None)
        assert refused.value.field == "bank_account"


def test_a_biller_matches_by_hand_one_deposit_to_two_eras_and_two_deposits_to_one(
    org: Any, biller: Any
) -> None:
    with tenant_context(org):
        bank_account()
        _import(three_ach_credits(days_ago(1)))
        split_a = era("SPLIT-A", "100.00", days_ago(2))
        split_b = era("SPLIT-B", "175.50", days_ago(2))
        one = services.match_create(
            deposit_ids=[_deposit("TRC1002").pk],
            payment_ids=[split_a.pk, split_b.pk],
            reason="",
            actor=biller,
            now=now(),
        )
        assert (one.method, one.difference, one.matched_by) == ("manual", D("0"), biller)

        paid_twice = era("BIG-1", "249.99", days_ago(2))
        two = services.match_create(
            deposit_ids=[_deposit("TRC1001").pk, _deposit("TRC9999").pk],
            payment_ids=[paid_twice.pk],
            reason="Payer split one EFT in two",
            actor=biller,
            now=now(),
        )
        assert two.deposit_total == D("249.99") and two.reason == "Payer split one EFT in two"
        assert not selectors.deposits_without_era(search="", window=3).exists()


def test_totals_that_differ_need_a_reason_and_never_change_the_payment(
    org: Any, biller: Any
) -> None:
    with tenant_context(org):
        bank_account()
        _import(three_ach_credits(days_ago(1)))
        payment = era("OTHER", "160.00", days_ago(2))
        deposit = _deposit("TRC1001")
        with pytest.raises(DomainError) as refused:
            services.match_create(
                deposit_ids=[deposit.pk],
                payment_ids=[payment.pk],
                reason=" ",
                actor=biller,
                now=now(),
            )
        assert refused.value.field == "reason" and "$-10.00" in refused.value.message
        assert not Match.objects.exists()

        match = services.match_create(
            deposit_ids=[deposit.pk],
            payment_ids=[payment.pk],
            reason="Bank fee taken from the EFT",
            actor=biller,
            now=now(),
        )
        payment.refresh_from_db()
        assert payment.amount == D("160.00") and match.difference == D("-10.00")
        (row,) = selectors.amount_mismatches(search="")
        assert (row.pk, row.match_reason) == (deposit.pk, "Bank fee taken from the EFT")


def test_a_deposit_matched_twice_is_refused(org: Any, biller: Any) -> None:
    with tenant_context(org):
        bank_account()
        _import(three_ach_credits(days_ago(1)))
        a, b = era("X1", "99.99", days_ago(1)), era("X2", "99.99", days_ago(1))
        deposit = _deposit("TRC9999")
        first = services.match_create(
            deposit_ids=[deposit.pk], payment_ids=[a.pk], reason="", actor=biller, now=now()
        )
        with pytest.raises(DomainError, match="already matched") as refused:
            services.match_create(
                deposit_ids=[deposit.pk], payment_ids=[b.pk], reason="", actor=biller, now=now()
            )
        assert refused.value.field == "deposits"
        with pytest.raises(DomainError, match="ERA X1 is already matched"):
            services.match_create(
                deposit_ids=[_deposit("TRC1001").pk],
                payment_ids=[a.pk],
                reason="x",
                actor=biller,
                now=now(),
            )
        # The database refuses it too, whatever path a write takes.
        with pytest.raises(IntegrityError), transaction.atomic():
            MatchDeposit.objects.create(match=first, deposit=deposit)


def test_unmatching_needs_a_reason_and_frees_the_deposit_and_the_era(org: Any, biller: Any) -> None:
    with tenant_context(org):
        bank_account()
        payment = era("TRC1001", "150.00", days_ago(9))
        _import(three_ach_credits(days_ago(1)))
        match = Match.objects.get()
        with pytest.raises(DomainError) as refused:
            services.match_delete(match_id=match.pk, reason="  ", actor=biller, now=now())
        assert refused.value.field == "reason"

        services.match_delete(match_id=match.pk, reason="Wrong payer", actor=biller, now=now())
        match.refresh_from_db()
        assert (match.active, match.unmatch_reason, match.unmatched_by) == (
            False,
            "Wrong payer",
            biller,
        )
        assert _deposit("TRC1001") in selectors.deposits_without_era(search="", window=3)
        assert payment in selectors.eras_without_deposit(today=days_ago(0), days=5, search="")
        with pytest.raises(DomainError, match="already undone"):
            services.match_delete(match_id=match.pk, reason="again", actor=biller, now=now())
        # Free again: a new match of the same pair is allowed.
        services.match_create(
            deposit_ids=[_deposit("TRC1001").pk],
            payment_ids=[payment.pk],
            reason="",
            actor=biller,
            now=now(),
        )


def test_an_era_waits_the_organizations_days_before_it_is_queued(org: Any) -> None:
    with tenant_context(org):
        today = days_ago(0)
        recent, old = (
            era("R1", "10.00", today - timedelta(days=4)),
            era("O1", "20.00", today - timedelta(days=6)),
        )
        era("ZERO", "0.00", today - timedelta(days=30))  # an 835 that paid nothing
        era("NON", "5.00", today - timedelta(days=30), method="NON")
        days = selectors.reconciliation_settings().era_without_deposit_days
        assert days == 5
        assert list(selectors.eras_without_deposit(today=today, days=days, search="")) == [old]

        services.reconciliation_settings_update(
            era_without_deposit_days=3, suggestion_window_days=3
        )
        days = selectors.reconciliation_settings().era_without_deposit_days
        assert list(selectors.eras_without_deposit(today=today, days=days, search="")) == [
            old,
            recent,
        ]
        assert list(selectors.eras_without_deposit(today=today, days=days, search="r1")) == [recent]
        with pytest.raises(DomainError):
            services.reconciliation_settings_update(
                era_without_deposit_days=0, suggestion_window_days=3
            )


def test_a_deposit_without_a_trace_is_offered_eras_of_its_amount_within_the_window(
    org: Any,
) -> None:
    with tenant_context(org):
        account = _mapped_account()
        text = CSV.format(d1=days_ago(2).isoformat(), d2=days_ago(10).isoformat())
        _import(text, name="bank.csv", account=account)
        check = Deposit.objects.get(kind="check")
        near = era("CHK1044", "80.00", days_ago(8), method="CHK")
        era("FAR", "80.00", days_ago(20), method="CHK")

        found = selectors.suggestions_for_deposit(check, window=3)
        assert [(s.payment.pk, s.why) for s in found] == [(near.pk, "Same amount, 2 days apart")]
        (row,) = selectors.deposits_without_era(search="80", window=3)
        assert row.pk == check.pk and row.has_suggestion


def test_another_organizations_deposits_and_eras_cannot_be_matched(
    org: Any, other_org: Any, biller: Any
) -> None:
    with tenant_context(other_org):
        bank_account()
        _import(three_ach_credits(days_ago(1)))
        theirs = Deposit.objects.get(trace_number="TRC9999")
        their_era = era("THEIRS", "99.99", days_ago(1))
    with tenant_context(org):
        mine = era("MINE", "99.99", days_ago(1))
        assert not Deposit.objects.exists()
        with pytest.raises(DomainError, match="No such deposit"):
            services.match_create(
                deposit_ids=[theirs.pk], payment_ids=[mine.pk], reason="", actor=biller, now=now()
            )
        with pytest.raises(DomainError, match="No such ERA"):
            services.match_create(
                deposit_ids=[theirs.pk],
                payment_ids=[their_era.pk],
                reason="",
                actor=biller,
                now=now(),
            )
        # Their identical trace never matches our ERA either.
        assert services.auto_match(deposit_ids=[], payment_ids=[mine.pk], now=now()) == 0


def test_trace_pairs_leave_ambiguity_and_disagreeing_payers_to_a_person() -> None:
    m = rules.Money
    deposits = [
        m(1, "T1", "", D("5")),
        m(2, "t 2", "1A", D("6")),
        m(3, "T3", "", D("7")),
        m(4, "T3", "", D("7")),
    ]
    payments = [m("a", "T1", "1X", D("5")), m("b", "T2", "1B", D("6")), m("c", "T3", "", D("7"))]
    assert rules.trace_pairs(deposits, payments) == [(1, "a")]
