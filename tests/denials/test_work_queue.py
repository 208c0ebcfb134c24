"""The work queue: opening items from other apps, assignment, status moves, claiming with
SKIP LOCKED, the follow-up scan (idempotent), write-offs."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from alerts.models import Alert
from claims.models import ClaimEvent
from denials import services
from denials.models import Denial, LineBalance, WorkItem, WorkItemEvent, WriteOff
from denials.tasks import follow_up_scan_all
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import dos
from tests.clock import days_ago, today
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
# Work done with the Part 2 grant: these tests are about the queue, not 42 CFR Part 2.
GRANTED = frozenset({part2.GRANT})
pytestmark = pytest.mark.django_db


def _denied(practice, submitted, carc="197", amount="150", trace="T1", start=None):
    claim = submitted(start=start) if start else submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "4",
                    D("150"),
                    D("0"),
                    lines=[Svc("90834", D("150"), D("0"), lcn=lcn, cas=[("CO", carc, D(amount))])],
                )
            ],
            trace=trace,
        ),
    )
    with tenant_context(practice.org):
        return Denial.objects.get(claim=claim)


def _item(org, kind="rejection", amount="100", **kw):
    with tenant_context(org):
        return services.work_item_open(
            kind=kind,
            source_id=uuid.uuid4(),
            title="Rejected: bad NPI",
            amount=D(amount),
            today=today(),
            **kw,
        )


def test_another_app_can_open_a_rejection_item_once_per_source(org):
    source = uuid.uuid4()
    with tenant_context(org):
        a = services.work_item_open(
            kind="rejection", source_id=source, title="277CA A7", today=today()
        )
        b = services.work_item_open(
            kind="rejection", source_id=source, title="277CA A7", today=today()
        )
        assert a.pk == b.pk and WorkItem.objects.count() == 1
        with pytest.raises(DomainError):
            services.work_item_open(kind="nonsense", source_id=source, title="x", today=today())


def test_bulk_assign_records_history_and_refuses_strangers(org, biller, outsider):
    items = [_item(org), _item(org)]
    with tenant_context(org):
        assert (
            services.work_items_assign(
                item_ids=[i.pk for i in items], assignee=biller, scopes=GRANTED
            )
            == 2
        )
        assert set(WorkItem.objects.values_list("assignee", flat=True)) == {biller.pk}
        assert WorkItemEvent.objects.filter(note__startswith="Assigned").count() == 2
        with pytest.raises(DomainError):
            services.work_items_assign(item_ids=[items[0].pk], assignee=outsider, scopes=GRANTED)


def test_status_update_keeps_notes_and_closes_the_item(org, biller):
    item = _item(org)
    with tenant_context(org):
        item = services.work_item_update(
            item=item,
            actor=biller,
            status="waiting_on_payer",
            next_follow_up=today() + timedelta(days=10),
            note="Called payer",
            today=today(),
        )
        assert (
            item.status == "waiting_on_payer" and not item.is_due and "Called payer" in item.notes
        )
        item = services.work_item_update(
            item=item, actor=biller, status="resolved_paid", today=today()
        )
        assert not item.is_open and not item.is_due
        with pytest.raises(DomainError):
            services.work_item_update(
                item=item, next_follow_up=today() - timedelta(days=1), today=today()
            )
        with pytest.raises(TypeError):  # "in the past" needs the caller's day: no clock inside
            services.work_item_update(item=item, note="x")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            services.work_item_claim_next(user=biller, scopes=GRANTED)  # type: ignore[call-arg]


def test_the_queue_orders_by_priority_score(org):
    small = _item(org, amount="50")
    big = _item(org, amount="900")
    with tenant_context(org):
        assert list(WorkItem.objects.values_list("pk", flat=True)) == [big.pk, small.pk]


def test_claim_next_gives_the_top_item_and_then_the_next(org, biller, manager):
    low, high = _item(org, amount="50"), _item(org, amount="900")
    with tenant_context(org):
        first = services.work_item_claim_next(user=biller, today=today(), scopes=GRANTED)
        second = services.work_item_claim_next(user=manager, today=today(), scopes=GRANTED)
        assert (first.pk, second.pk) == (high.pk, low.pk)
        assert services.work_item_claim_next(user=biller, today=today(), scopes=GRANTED) is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_item(org, biller, manager):
    """A worker holding the top item's row lock (mid-claim) makes the other skip to the next."""
    low, high = _item(org, amount="50"), _item(org, amount="900")
    locked = threading.Event()
    release = threading.Event()

    def hold_top_row() -> None:
        try:
            with tenant_context(org):
                WorkItem.objects.select_for_update().filter(pk=high.pk).get()
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=hold_top_row)
    worker.start()
    assert locked.wait(10)
    try:
        with tenant_context(org):
            got = services.work_item_claim_next(user=manager, today=today(), scopes=GRANTED)
        assert got is not None and got.pk == low.pk
    finally:
        release.set()
        worker.join()
    assert connection.vendor == "postgresql"


def test_the_follow_up_scan_makes_due_items_due_once(org):
    item = _item(org)
    with tenant_context(org):
        services.work_item_update(
            item=item,
            status="in_progress",
            next_follow_up=today() + timedelta(days=2),
            today=today(),
        )
        assert services.follow_up_scan(today=today()).became_due == 0
        assert services.follow_up_scan(today=today() + timedelta(days=2)).became_due == 1
        assert services.follow_up_scan(today=today() + timedelta(days=2)).became_due == 0


def test_appeal_deadlines_escalate_to_the_manager_at_14_7_and_3_days(practice, submitted, manager):
    denial = _denied(practice, submitted)
    with tenant_context(practice.org):
        deadline = denial.appeal_deadline
        assert services.follow_up_scan(today=deadline - timedelta(days=20)).escalations == 0
        assert services.follow_up_scan(today=deadline - timedelta(days=14)).escalations == 1
        assert services.follow_up_scan(today=deadline - timedelta(days=13)).escalations == 0
        assert services.follow_up_scan(today=deadline - timedelta(days=7)).escalations == 1
        assert services.follow_up_scan(today=deadline - timedelta(days=3)).escalations == 1
        assert services.follow_up_scan(today=deadline - timedelta(days=2)).escalations == 0
        alerts = Alert.objects.filter(kind="appeal_deadline")
        assert alerts.count() == 3 and {a.assignee_id for a in alerts} == {manager.pk}
        # 42 CFR Part 2: an alert about a Part 2 claim's denial is flagged, so the inbox of a
        # member without the grant leaves it out.
        assert {a.part2 for a in alerts} == {denial.claim.is_part2}


def test_waiting_on_the_payer_past_its_response_time_opens_one_follow_up(practice, submitted):
    denial = _denied(practice, submitted)
    with tenant_context(practice.org):
        item = WorkItem.objects.get(kind="denial", source_id=denial.pk)
        services.work_item_update(item=item, status="waiting_on_payer", today=today())
        later = today() + timedelta(days=practice.payer.response_days)
        assert services.follow_up_scan(today=later).payer_follow_ups == 0
        assert services.follow_up_scan(today=later + timedelta(days=1)).payer_follow_ups == 1
        assert services.follow_up_scan(today=later + timedelta(days=2)).payer_follow_ups == 0
        assert WorkItem.objects.filter(kind="payer_follow_up", source_id=item.pk).count() == 1


def test_accepted_claims_silent_for_30_days_get_one_status_follow_up(practice, submitted):
    from django.utils import timezone

    from claims.services import claim_transition

    claim = submitted()
    with tenant_context(practice.org):
        claim_transition(claim=claim, to_status="accepted")
        ClaimEvent.objects.filter(claim=claim, to_status="accepted").update(
            created_at=timezone.now() - timedelta(days=31)
        )
    assert follow_up_scan_all()["status_follow_ups"] == 1
    second = follow_up_scan_all()
    assert second["status_follow_ups"] == 0 and second["became_due"] == 0
    with tenant_context(practice.org):
        assert WorkItem.objects.filter(kind="status_follow_up", claim=claim).count() == 1


def test_the_status_follow_up_counts_whole_days_in_the_organizations_time_zone(practice, submitted):
    from claims.services import claim_transition

    zone = ZoneInfo(practice.org.time_zone)
    due, not_yet = submitted(), submitted(start=dos() + timedelta(days=1))
    with tenant_context(practice.org):
        for claim, day, hour in ((due, days_ago(30), 23), (not_yet, days_ago(29), 0)):
            claim_transition(claim=claim, to_status="accepted")
            # Late on the 30th day back in the clinic's zone is already the next day in UTC;
            # just after midnight 29 days back is not 30 days yet, whatever the hour in UTC.
            ClaimEvent.objects.filter(claim=claim, to_status="accepted").update(
                created_at=datetime.combine(day, time(hour, 30), tzinfo=zone)
            )
        assert services.follow_up_scan(today=today()).status_follow_ups == 1
        assert WorkItem.objects.get(kind="status_follow_up").claim_id == due.pk


def test_write_offs_above_the_threshold_wait_for_approval(practice, submitted, biller, manager):
    _denied(practice, submitted)
    with tenant_context(practice.org):
        balance = LineBalance.objects.get()
        assert balance.open_balance == D("150")
        small = services.write_off_request(
            balance=balance, amount=D("20"), reason="Courtesy", actor=biller
        )
        assert small.status == "approved"
        big = services.write_off_request(
            balance=balance, amount=D("120"), reason="Timely filing lost", actor=biller
        )
        assert big.status == "pending"
        balance.refresh_from_db()
        assert balance.written_off == D("20")
        with pytest.raises(DomainError):
            services.write_off_decide(write_off=big, approve=True, actor=biller)
        services.write_off_decide(write_off=big, approve=True, actor=manager)
        balance.refresh_from_db()
        assert balance.written_off == D("140") and balance.open_balance == D("10")
        with pytest.raises(DomainError):
            services.write_off_request(balance=balance, amount=D("11"), reason="x", actor=biller)
        with pytest.raises(DomainError):
            services.write_off_request(balance=balance, amount=D("1"), reason=" ", actor=biller)


def test_small_balances_are_written_off_only_by_rule_and_only_once(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = claim.lines.get().line_control_number
    post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("146"),
                    lines=[Svc("90834", D("150"), D("146"), lcn=lcn, cas=[("CO", "197", D("4"))])],
                )
            ]
        ),
    )
    with tenant_context(practice.org):
        assert services.small_balances_write_off() == 1
        assert services.small_balances_write_off() == 0
        assert WriteOff.objects.get().status == "auto"
        assert LineBalance.objects.get().open_balance == D("0")


def test_the_follow_up_scan_costs_a_fixed_number_of_queries(
    practice, submitted, manager, django_assert_max_num_queries
):
    denials = [
        _denied(practice, submitted, trace=f"T{i}", start=dos() + timedelta(days=i))
        for i in range(3)
    ]
    with tenant_context(practice.org):
        for d in denials:
            item = WorkItem.objects.get(source_id=d.pk)
            services.work_item_update(item=item, status="waiting_on_payer", today=today())
        day = denials[0].appeal_deadline - timedelta(days=3)
        # 24 with one item or three (one reads the clinic's time zone; one per bulk insert reads
        # back which rows it really inserted): the count does not grow with the items.
        with django_assert_max_num_queries(24):
            result = services.follow_up_scan(today=day)
        assert result.escalations == 3 and result.payer_follow_ups == 3


def test_taking_an_item_waiting_on_the_payer_records_where_it_came_from(org, biller):
    item = _item(org)
    with tenant_context(org):
        WorkItem.objects.filter(pk=item.pk).update(status="waiting_on_payer")
        taken = services.work_item_claim_next(user=biller, today=today(), scopes=GRANTED)
        assert taken.pk == item.pk and taken.status == "waiting_on_payer"
        event = WorkItemEvent.objects.filter(work_item=item).latest("created_at")
        assert (event.from_status, event.to_status) == ("waiting_on_payer", "waiting_on_payer")


def test_an_approval_larger_than_the_open_balance_is_refused(practice, submitted, biller, manager):
    _denied(practice, submitted)
    with tenant_context(practice.org):
        balance = LineBalance.objects.get()
        first = services.write_off_request(
            balance=balance, amount=D("120"), reason="Timely filing lost", actor=biller
        )
        second = services.write_off_request(
            balance=balance, amount=D("120"), reason="Asked twice", actor=biller
        )
        assert (first.status, second.status) == ("pending", "pending")
        services.write_off_decide(write_off=first, approve=True, actor=manager)
        with pytest.raises(DomainError, match=r"Only \$30\.00 is still open"):
            services.write_off_decide(write_off=second, approve=True, actor=manager)
        with pytest.raises(DomainError, match="already decided"):
            services.write_off_decide(write_off=first, approve=True, actor=manager)
        balance.refresh_from_db()
        assert balance.written_off == D("120") and balance.open_balance == D("30")
        second.refresh_from_db()
        assert second.status == "pending"
