"""Resolving remittance exceptions by matching them: an unmatched SVC posted to the claim line a
person chooses, an unmatched CLP posted to the claim a person chooses (its SVCs matched as the
import does), and "not ours" with a note. What a hand match posts is what automatic posting
would have posted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from claims.models import Claim, ClaimEvent
from denials import services
from denials.models import (
    Denial,
    LineBalance,
    RemittanceClaim,
    RemittanceException,
    RemittanceLine,
    WorkItem,
)
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import dos
from tests.clock import today
from tests.denials.conftest import lost
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835, paid_on

D = Decimal
pytestmark = pytest.mark.django_db


def lines_of(org, claim):
    with tenant_context(org):
        return list(claim.lines.order_by("line_number"))


def only_exception(org, kind="unmatched_line"):
    with tenant_context(org):
        return RemittanceException.objects.get(kind=kind, resolved=False)


def match(org, exception, **kwargs):
    with tenant_context(org):
        return services.remittance_exception_match(exception=exception, today=today(), **kwargs)


def test_matching_a_line_posts_its_money_and_resolves_the_exception_and_work_item(
    practice, half_matched
):
    claim = half_matched(
        Svc(
            "90834",
            D("150"),
            D("80"),
            lcn="NOPE",
            dos=lost(),
            allowed=D("100"),
            cas=[("CO", "45", D("50")), ("PR", "3", D("20"))],
        ),
        paid_first=D("100"),
    )
    _, second = lines_of(practice.org, claim)
    exception = only_exception(practice.org)
    match(practice.org, exception, claim_line=second)
    with tenant_context(practice.org):
        balance = LineBalance.objects.get(claim_line=second)
        assert (balance.paid, balance.allowed, balance.contractual) == (D("80"), D("100"), D("50"))
        assert balance.patient_responsibility == D("20") and balance.denied == D("0")
        total = balance.paid + balance.contractual + balance.patient_responsibility
        assert total + balance.denied + balance.other_adjusted == second.charge
        assert balance.open_balance == D("20.00")
        assert RemittanceLine.objects.get(pk=exception.remittance_line_id).claim_line == second
        exception.refresh_from_db()
        assert exception.resolved and exception.is_matched
        assert "line 2" in exception.resolution_note and exception.resolved_at is not None
        item = WorkItem.objects.get(kind="unmatched_remittance", source_id=exception.pk)
        assert item.status == "resolved_paid" and not item.is_due
        assert item.events.filter(to_status="resolved_paid").exists()
        assert not Denial.objects.exists()
        event = AuditEvent.objects.get(action="remittance_exception.match")
        assert event.patient_id == claim.patient_id and event.detail["fields"] == ["claim_line"]


def test_a_hand_match_posts_what_automatic_posting_would_have(practice, half_matched):
    svc = {
        "code": "90834",
        "charge": D("150"),
        "paid": D("70"),
        "allowed": D("120"),
        "cas": [("CO", "45", D("30")), ("PR", "1", D("40")), ("CO", "197", D("10"))],
        "rarcs": ["N54"],
    }
    claim = half_matched(Svc(lcn="NOPE", dos=lost(), **svc))
    _, second = lines_of(practice.org, claim)
    match(practice.org, only_exception(practice.org), claim_line=second)
    other = half_matched(
        lambda line: Svc(lcn=line.line_control_number, **svc),
        start=dos() + timedelta(days=1),
        trace="TRACE2",
    )
    _, automatic = lines_of(practice.org, other)
    fields = ("paid", "allowed", "contractual", "denied", "patient_responsibility")
    with tenant_context(practice.org):
        by_hand = LineBalance.objects.filter(claim_line=second).values(*fields).get()
        by_import = LineBalance.objects.filter(claim_line=automatic).values(*fields).get()
        assert by_hand == by_import
        hand, auto = Denial.objects.get(claim=claim), Denial.objects.get(claim=other)
        for name in ("carc", "group_code", "rarcs", "category", "amount", "fully_denied"):
            assert getattr(hand, name) == getattr(auto, name), name
        assert hand.appeal_deadline == auto.appeal_deadline


def test_matching_a_denied_line_opens_the_denial_and_its_work_item(practice, half_matched):
    claim = half_matched(
        Svc("90834", D("150"), D("0"), lcn="NOPE", dos=lost(), cas=[("CO", "197", D("150"))])
    )
    _, second = lines_of(practice.org, claim)
    exception = only_exception(practice.org)
    match(practice.org, exception, claim_line=second)
    with tenant_context(practice.org):
        denial = Denial.objects.get()
        assert (denial.claim_line, denial.carc, denial.category) == (second, "197", "authorization")
        assert denial.amount == D("150") and denial.fully_denied
        assert denial.remittance_line_id == exception.remittance_line_id
        assert denial.appeal_deadline == paid_on() + timedelta(
            days=practice.payer.appeal_window_days
        )
        item = WorkItem.objects.get(kind="denial")
        assert item.source_id == denial.pk and item.claim_id == claim.pk and item.is_due
        assert item.amount == D("150") and item.priority_score > 0
        assert LineBalance.objects.get(claim_line=second).denied == D("150")
        # The claim was paid on line 1 at import; paid cannot become partially paid.
        claim.refresh_from_db()
        assert claim.status == "paid"
        exception.refresh_from_db()
        assert "Status left alone" in exception.resolution_note


def test_the_missing_lines_payment_moves_a_partially_paid_claim_to_paid(practice, submitted):
    claim = submitted(days=2)
    first, second = lines_of(practice.org, claim)
    pay_first = Svc("90834", D("150"), D("150"), lcn=first.line_control_number)
    deny_second = Svc(
        "90834", D("150"), D("0"), lcn=second.line_control_number, cas=[("CO", "197", D("150"))]
    )
    post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("300"),
                    D("150"),
                    lines=[pay_first, deny_second],
                )
            ],
            trace="FIRST",
        ),
    )
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "partially_paid"
    # The payer reprocessed line 2 and paid it, without our REF*6R and with another date.
    repaid = Svc("90834", D("150"), D("150"), lcn="", dos=lost())
    post(
        practice.org,
        build_835(
            [Clp(claim.patient_control_number, "1", D("150"), D("150"), lines=[repaid])],
            trace="SECOND",
            control=2,
        ),
    )
    exception = only_exception(practice.org)
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "partially_paid"  # nothing of the second CLP was posted yet
    match(practice.org, exception, claim_line=second)
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "paid"
        # The events of one test share the frozen clock's time: find the move by its statuses.
        event = ClaimEvent.objects.get(claim=claim, to_status="paid")
        assert event.from_status == "partially_paid" and "matched by hand" in event.note
        assert LineBalance.objects.get(claim_line=second).paid == D("150")


def test_a_claim_whose_only_line_was_unmatched_moves_when_the_line_is_matched(practice, submitted):
    claim = submitted()
    (line,) = lines_of(practice.org, claim)
    post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("100"),
                    lines=[Svc("90834", D("150"), D("100"), lcn="X", cas=[("CO", "45", D("50"))])],
                )
            ]
        ),
    )
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "submitted"
    match(practice.org, only_exception(practice.org), claim_line=line)
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "paid"
        moves = list(ClaimEvent.objects.filter(claim=claim).values_list("from_status", "to_status"))
        assert ("submitted", "accepted") in moves and ("accepted", "paid") in moves


def test_matching_twice_is_refused_and_changes_nothing(practice, half_matched):
    claim = half_matched(
        Svc("90834", D("150"), D("0"), lcn="NOPE", dos=lost(), cas=[("CO", "197", D("150"))])
    )
    _, second = lines_of(practice.org, claim)
    exception = only_exception(practice.org)
    match(practice.org, exception, claim_line=second)
    with tenant_context(practice.org):
        before = list(LineBalance.objects.order_by("pk").values())
        denials = Denial.objects.count()
    with pytest.raises(DomainError) as refused:
        match(practice.org, exception, claim_line=second, confirm=True)
    assert refused.value.field == "claim_line" and "already resolved" in refused.value.message
    with tenant_context(practice.org):
        assert list(LineBalance.objects.order_by("pk").values()) == before
        assert Denial.objects.count() == denials


def test_a_line_of_another_claim_is_refused(practice, half_matched, submitted):
    half_matched(
        Svc("90834", D("150"), D("80"), lcn="NOPE", dos=lost(), cas=[("CO", "45", D("70"))])
    )
    stranger = submitted(start=dos() + timedelta(days=1))
    (foreign_line,) = lines_of(practice.org, stranger)
    with pytest.raises(DomainError) as refused:
        match(practice.org, only_exception(practice.org), claim_line=foreign_line)
    assert refused.value.field == "claim_line" and "another claim" in refused.value.message
    with tenant_context(practice.org):
        assert not LineBalance.objects.filter(claim_line=foreign_line).exists()
        assert not RemittanceException.objects.filter(resolved=True).exists()


def test_a_line_of_a_void_claim_is_refused(practice, half_matched):
    claim = half_matched(
        Svc("90834", D("150"), D("80"), lcn="NOPE", dos=lost(), cas=[("CO", "45", D("70"))])
    )
    _, second = lines_of(practice.org, claim)
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(status="void")
    with pytest.raises(DomainError) as refused:
        match(practice.org, only_exception(practice.org), claim_line=second)
    assert refused.value.field == "claim_line" and "void" in refused.value.message
    with tenant_context(practice.org):
        assert not LineBalance.objects.filter(claim_line=second).exists()


def test_a_line_already_paid_by_the_same_remittance_claim_needs_a_confirmation(
    practice, half_matched
):
    claim = half_matched(
        Svc("90834", D("150"), D("30"), lcn="NOPE", dos=lost(), cas=[("CO", "45", D("120"))])
    )
    first, _ = lines_of(practice.org, claim)
    exception = only_exception(practice.org)
    with pytest.raises(DomainError) as refused:
        match(practice.org, exception, claim_line=first)
    assert refused.value.field == "confirm" and "Line 1 already carries" in refused.value.message
    with tenant_context(practice.org):
        assert LineBalance.objects.get(claim_line=first).paid == D("100")
    match(practice.org, exception, claim_line=first, confirm=True)
    with tenant_context(practice.org):
        assert LineBalance.objects.get(claim_line=first).paid == D("130")


def test_a_line_exception_needs_a_claim_line_not_a_claim(practice, half_matched):
    claim = half_matched(
        Svc("90834", D("150"), D("80"), lcn="NOPE", dos=lost(), cas=[("CO", "45", D("70"))])
    )
    with pytest.raises(DomainError) as refused:
        match(practice.org, only_exception(practice.org), claim=claim)
    assert refused.value.field == "claim_line"


def test_an_unmatched_claim_matched_to_our_claim_posts_its_lines_as_the_import_does(
    practice, submitted, unmatched_claim
):
    claim = submitted(days=2)
    first, second = lines_of(practice.org, claim)
    exception = unmatched_claim(claim)
    with tenant_context(practice.org):
        assert not LineBalance.objects.exists()
        claim.refresh_from_db()
        assert claim.status == "submitted"
    match(practice.org, exception, claim=claim)
    with tenant_context(practice.org):
        a, b = (LineBalance.objects.get(claim_line=x) for x in (first, second))
        assert (a.paid, a.contractual, a.open_balance) == (D("100"), D("50"), D("0"))
        assert (b.paid, b.contractual, b.patient_responsibility) == (D("90"), D("50"), D("10"))
        assert b.open_balance == D("10")
        assert RemittanceClaim.objects.get(pk=exception.remittance_claim_id).claim == claim
        # SVCs keep their file order (segment position): line 1's SVC came first.
        linked = list(RemittanceLine.objects.values_list("claim_line_id", flat=True))
        assert linked == [first.pk, second.pk]
        claim.refresh_from_db()
        assert claim.status == "paid" and claim.payer_claim_number == "PCN-PAYER-1"
        exception.refresh_from_db()
        assert exception.resolved and exception.is_matched
        assert exception.resolution_note.startswith(
            f"Matched to claim {claim.patient_control_number}: 2 line(s) posted."
        )
        item = WorkItem.objects.get(source_id=exception.pk)
        assert item.status == "resolved_paid"


def test_lines_of_a_matched_claim_that_still_match_nothing_become_line_exceptions(
    practice, submitted, unmatched_claim
):
    claim = submitted(days=2)
    exception = unmatched_claim(
        claim,
        extra=[Svc("90837", D("190"), D("120"), dos=lost(), cas=[("CO", "45", D("70"))])],
    )
    match(practice.org, exception, claim=claim)
    with tenant_context(practice.org):
        (new,) = RemittanceException.objects.filter(kind="unmatched_line")
        assert not new.resolved and new.remittance_line.service_code == "90837"
        assert WorkItem.objects.filter(
            kind="unmatched_remittance", source_id=new.pk, status="new"
        ).exists()
        exception.refresh_from_db()
        assert "1 line(s) matched none of its lines" in exception.resolution_note


def test_an_unmatched_claim_line_billed_under_another_code_matches_by_its_svc06_code(
    practice, submitted
):
    claim = submitted()
    (line,) = lines_of(practice.org, claim)
    downcoded = Svc(
        "90832",
        D("150"),
        D("95"),
        dos=line.date_of_service,
        original_code="90834",
        cas=[("CO", "45", D("55"))],
    )
    post(
        practice.org,
        build_835([Clp("TYPO-1", "1", D("150"), D("95"), lines=[downcoded])]),
    )
    match(practice.org, only_exception(practice.org, "unmatched_claim"), claim=claim)
    with tenant_context(practice.org):
        stored = RemittanceLine.objects.get()
        assert (stored.service_code, stored.original_service_code) == ("90832", "90834")
        assert stored.claim_line == line
        assert LineBalance.objects.get(claim_line=line).paid == D("95")


def test_a_void_claim_cannot_take_an_unmatched_claim(practice, submitted, unmatched_claim):
    claim = submitted(days=2)
    exception = unmatched_claim(claim)
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(status="void")
    with pytest.raises(DomainError) as refused:
        match(practice.org, exception, claim=claim)
    assert refused.value.field == "claim" and "void" in refused.value.message
    with tenant_context(practice.org):
        assert RemittanceClaim.objects.get().claim_id is None
        assert not LineBalance.objects.exists()


def test_another_organizations_claim_is_never_matched(practice, submitted, other_org):
    claim = submitted(days=2)
    post(
        other_org,
        build_835(
            [
                Clp(
                    "SOMEONE-ELSES",
                    "1",
                    D("150"),
                    D("150"),
                    lines=[Svc("90834", D("150"), D("150"))],
                )
            ]
        ),
    )
    with tenant_context(other_org):
        exception = RemittanceException.objects.get()
    with pytest.raises(DomainError) as refused:
        match(other_org, exception, claim=claim)
    assert refused.value.field == "claim"
    with tenant_context(other_org):
        exception.refresh_from_db()
        assert not exception.resolved
    assert not LineBalance.all_tenants.exists()
    assert Claim.all_tenants.get(pk=claim.pk).status == "submitted"


def test_not_ours_needs_a_note_and_records_it(practice, submitted, biller, unmatched_claim):
    claim = submitted(days=2)
    exception = unmatched_claim(claim)
    with tenant_context(practice.org), pytest.raises(DomainError) as refused:
        services.remittance_exception_resolve(exception=exception, note="  ", today=today())
    assert refused.value.field == "note"
    with tenant_context(practice.org):
        services.remittance_exception_resolve(
            exception=exception,
            note="Another provider's patient: refund requested.",
            today=today(),
            actor=biller,
        )
        exception.refresh_from_db()
        assert exception.resolved and not exception.is_matched
        assert exception.resolution_note == "Another provider's patient: refund requested."
        assert exception.resolved_by == biller
        assert WorkItem.objects.get(source_id=exception.pk).status == "resolved_paid"
        assert not LineBalance.objects.exists()
        with pytest.raises(DomainError):
            services.remittance_exception_match(exception=exception, claim=claim, today=today())


def test_a_matched_claim_moves_the_patient_share_to_the_secondary_coverage(
    practice, submitted, unmatched_claim
):
    from denials.models import SecondaryClaim
    from tests.denials.conftest import add_medicaid

    medicaid = add_medicaid(practice)
    claim = submitted(days=2)
    _, second = lines_of(practice.org, claim)
    exception = unmatched_claim(claim)
    match(practice.org, exception, claim=claim)
    with tenant_context(practice.org):
        secondary = SecondaryClaim.objects.get()
        assert secondary.primary_claim == claim and secondary.payer == medicaid
        assert (
            secondary.amount == D("10")
            and secondary.remittance_claim_id == exception.remittance_claim_id
        )
        # Its claim is built at once, as after an import.
        assert secondary.status == "billed" and secondary.claim.primary_claim == claim
        assert LineBalance.objects.get(claim_line=second).transferred == D("10")
