"""Authorizations, reviews and usage: the rules a biller meets when entering them, the history
of every change, and the draft created when a level transition needs an authorization."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.models import Alert
from authorizations.models import Authorization, AuthorizationEvent, AuthorizationUsage
from authorizations.services import (
    authorization_cancel,
    authorization_covering,
    authorization_decide,
    authorization_record_usage,
    authorization_update,
    review_complete,
    review_schedule,
)
from patients import services as patient_services
from patients.models import LevelOfCareStay
from rcm import part2
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.authorizations.factories import day, make_authorization
from tests.clock import days_ago, today
from tests.patients.factories import CoverageFactory, EpisodeFactory


def _unchanged(org: Any, auth: Authorization) -> None:
    with tenant_context(org):
        fresh = Authorization.objects.get(pk=auth.pk)
        assert (fresh.end_date, fresh.units_approved, fresh.status, fresh.units_used) == (
            auth.end_date,
            auth.units_approved,
            auth.status,
            auth.units_used,
        )


# --- Bad input: a clear message, nothing changed ----------------------------------------------


def test_it_refuses_an_end_date_before_the_start(org: Any) -> None:
    with pytest.raises(DomainError, match="before the start date") as error:
        make_authorization(org, end_date=day(-8))
    assert error.value.field == "end_date"
    with tenant_context(org):
        assert not Authorization.objects.exists()


def test_it_refuses_more_approved_than_requested_without_a_note(org: Any) -> None:
    with pytest.raises(DomainError, match="more than the 10 requested") as error:
        make_authorization(org, units_requested=10, units_approved=12)
    assert error.value.field == "approval_note"
    auth = make_authorization(
        org, units_requested=10, units_approved=12, approval_note=f"Payer letter of {day(0)}"
    )
    assert auth.units_approved == 12


def test_it_refuses_more_days_than_the_dates_hold(org: Any) -> None:
    with pytest.raises(DomainError, match=f"do not fit in {day(1)} to {day(14)}") as error:
        make_authorization(org, units_requested=20, units_approved=20)
    assert error.value.field == "units_requested"
    # The same count in sessions is fine: several a day are possible.
    assert make_authorization(org, unit_type="sessions", units_requested=20, units_approved=20)


def test_an_overlapping_approval_for_the_same_level_and_payer_needs_a_reason(org: Any) -> None:
    first = make_authorization(org)
    with tenant_context(org):
        episode, coverage = first.episode, first.coverage
    with pytest.raises(DomainError, match="overlaps authorization A-100") as error:
        make_authorization(
            org,
            episode=episode,
            coverage=coverage,
            start_date=day(10),
            end_date=day(20),
            auth_number="A-200",
            units_requested=7,
            units_approved=7,
        )
    assert error.value.field == "overlap_reason"
    with tenant_context(org):
        assert Authorization.objects.count() == 1
    second = make_authorization(
        org,
        episode=episode,
        coverage=coverage,
        start_date=day(10),
        end_date=day(20),
        auth_number="A-200",
        units_requested=7,
        units_approved=7,
        overlap_reason="Payer issued a second number for the same stay",
    )
    assert second.overlap_reason


def test_an_approval_needs_units_and_a_decision_date(org: Any) -> None:
    with pytest.raises(DomainError, match="units the payer approved"):
        make_authorization(org, units_approved=None)
    with pytest.raises(DomainError, match="date the payer decided"):
        make_authorization(org, decided_on=None)


def test_a_coverage_of_another_patient_is_refused(org: Any) -> None:
    with tenant_context(org):
        stranger = CoverageFactory(organization=org)
    with pytest.raises(DomainError, match="another patient"):
        make_authorization(org, coverage=stranger)


# --- Decisions, updates, history ---------------------------------------------------------------


def test_a_request_is_decided_and_every_change_is_in_the_history(org: Any, biller: Any) -> None:
    auth = make_authorization(
        org, status="requested", units_approved=None, decided_on=None, auth_number=""
    )
    with tenant_context(org):
        with pytest.raises(DomainError, match="authorization number"):
            authorization_decide(
                authorization=auth,
                status="approved",
                decided_on=day(1),
                units_approved=14,
            )
        auth = authorization_decide(
            authorization=auth,
            status="partial",
            decided_on=day(1),
            units_approved=10,
            auth_number="P-77",
        )
        assert (auth.status, auth.units_approved, auth.auth_number) == ("partial", 10, "P-77")
        authorization_update(authorization=auth, data={"payer_contact": "Dana, ext 4411"})
        events = list(AuthorizationEvent.objects.filter(authorization=auth).order_by("created_at"))
    assert [e.action for e in events] == ["created", "decided", "updated"]
    assert events[1].changes["status"] == ["requested", "partial"]
    assert events[1].changes["units_approved"] == [None, 10]
    assert events[2].changes == {"payer_contact": ["", "Dana, ext 4411"]}


def test_a_decided_authorization_cannot_be_decided_again(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org), pytest.raises(DomainError, match="already approved"):
        authorization_decide(authorization=auth, status="denied", decided_on=day(2))


def test_an_update_that_breaks_a_rule_changes_nothing(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org), pytest.raises(DomainError, match="before the start date"):
        authorization_update(authorization=auth, data={"end_date": day(-27)})
    _unchanged(org, auth)


def test_cancelling_needs_a_reason_and_no_usage(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        with pytest.raises(DomainError, match="why"):
            authorization_cancel(authorization=auth, reason=" ")
        authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level="3.5",
            date_of_service=day(2),
            units=1,
            unit_type="days",
            service_code="H0018",
        )
        with pytest.raises(DomainError, match="already used"):
            authorization_cancel(authorization=auth, reason="Patient left")


# --- Concurrent reviews -----------------------------------------------------------------------


def test_an_extension_moves_the_end_date_and_adds_units_in_the_same_transaction(org: Any) -> None:
    auth = make_authorization(org, next_review_on=day(12))
    with tenant_context(org):
        auth.refresh_from_db()
        assert auth.next_review_on == day(12)
        review = auth.reviews.get()
        review_complete(
            review=review,
            outcome="extended",
            completed_on=day(12),
            new_end_date=day(21),
            added_units=7,
            reviewer="Dr. Reyes",
            summary="Continued stay criteria met",
            next_review_on=day(19),
        )
        auth.refresh_from_db()
        review.refresh_from_db()
        assert (auth.end_date, auth.units_approved, auth.next_review_on) == (
            day(21),
            21,
            day(19),
        )
        assert review.outcome == "extended" and review.completed_on == day(12)
        event = AuthorizationEvent.objects.filter(action="review_completed").get()
        assert event.changes["end_date"] == [day(14).isoformat(), day(21).isoformat()]


def test_a_failed_extension_leaves_review_and_authorization_untouched(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        review = review_schedule(authorization=auth, review_type="concurrent", scheduled_on=day(12))
        with pytest.raises(DomainError, match=f"new end date after {day(14)}"):
            review_complete(
                review=review,
                outcome="extended",
                completed_on=day(12),
                new_end_date=day(10),
                added_units=3,
            )
        review.refresh_from_db()
        assert review.completed_on is None
    _unchanged(org, auth)


def test_a_review_cannot_extend_an_expired_authorization(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        review = review_schedule(authorization=auth, review_type="concurrent", scheduled_on=day(16))
        with pytest.raises(DomainError, match="expired; a review cannot extend it"):
            review_complete(
                review=review,
                outcome="extended",
                completed_on=day(16),
                new_end_date=day(30),
                added_units=7,
            )
    _unchanged(org, auth)


def test_a_review_cannot_extend_a_denied_authorization(org: Any) -> None:
    auth = make_authorization(org, status="denied", units_approved=None)
    with tenant_context(org):
        review = review_schedule(authorization=auth, review_type="appeal", scheduled_on=day(5))
        with pytest.raises(DomainError, match="denied; a review cannot extend it"):
            review_complete(
                review=review,
                outcome="extended",
                completed_on=day(5),
                new_end_date=day(30),
                added_units=7,
            )


def test_a_continued_stay_denial_ends_coverage_on_the_review_date(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        review = review_schedule(authorization=auth, review_type="concurrent", scheduled_on=day(8))
        review_complete(
            review=review,
            outcome="denied",
            completed_on=day(8),
            summary="Criteria not met",
        )
        auth.refresh_from_db()
    assert (auth.status, auth.end_date) == ("approved", day(8))


def test_a_step_down_recommendation_is_recorded_without_changing_the_dates(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        review = review_schedule(
            authorization=auth, review_type="peer_to_peer", scheduled_on=day(8)
        )
        review_complete(review=review, outcome="step_down", completed_on=day(8))
        review.refresh_from_db()
        assert review.outcome == "step_down"
    _unchanged(org, auth)


# --- Usage and coverage -----------------------------------------------------------------------


def test_usage_finds_the_covering_authorization_and_counts_once_per_source(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        args = {
            "episode": auth.episode,
            "payer": auth.payer,
            "level": "3.5",
            "unit_type": "days",
            "service_code": "H0018",
            "source": "claim",
        }
        first = authorization_record_usage(
            date_of_service=day(2), units=1, source_id="line-1", **args
        )
        again = authorization_record_usage(
            date_of_service=day(2), units=1, source_id="line-1", **args
        )
        assert first.pk == again.pk and first.authorization_id == auth.pk
        auth.refresh_from_db()
        assert auth.units_used == 1 == AuthorizationUsage.objects.count()


def test_usage_in_the_wrong_unit_type_is_refused(org: Any) -> None:
    auth = make_authorization(org)
    with (
        tenant_context(org),
        pytest.raises(DomainError, match="counts days, not 15-minute units") as error,
    ):
        authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level="3.5",
            date_of_service=day(2),
            units=4,
            unit_type="units_15min",
            authorization=auth,
        )
    assert error.value.field == "unit_type"
    _unchanged(org, auth)


def test_a_day_counts_one_unit_only(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        args = {
            "episode": auth.episode,
            "payer": auth.payer,
            "level": "3.5",
            "unit_type": "days",
            "date_of_service": day(2),
            "authorization": auth,
        }
        authorization_record_usage(units=1, **args)
        with pytest.raises(DomainError, match="one unit per day"):
            authorization_record_usage(units=1, **args)


def test_a_service_nothing_covers_is_still_recorded_as_a_lapse(org: Any) -> None:
    auth = make_authorization(org)
    with tenant_context(org):
        usage = authorization_record_usage(
            episode=auth.episode,
            payer=auth.payer,
            level="3.5",
            date_of_service=day(20),
            units=1,
            unit_type="days",
        )
        assert usage.authorization_id is None


def test_the_coverage_check_answers_from_the_database(org: Any) -> None:
    auth = make_authorization(org, units_requested=2, units_approved=2, unit_type="sessions")
    with tenant_context(org):

        def check(**kwargs: Any) -> str:
            args = {
                "episode": auth.episode,
                "payer": auth.payer,
                "level": "3.5",
                "service_code": "H0018",
                "date_of_service": day(3),
                "units": 1,
            }
            args.update(kwargs)
            return authorization_covering(**args).code

        assert check() == "covered"
        assert check(date_of_service=day(15)) == "expired"
        assert check(level="2.1") == "wrong_level"
        assert check(service_code="H0019") == "code_not_covered"
        assert check(units=3) == "exhausted"
        assert check(payer=CoverageFactory(organization=org).payer) == "none"


# --- The "authorization needed" event ----------------------------------------------------------


@pytest.fixture
def admitted(org: Any) -> Any:
    """A patient in residential 3.5 since 20 days ago whose primary payer authorizes 3.5 and
    2.5."""
    with tenant_context(org):
        payer = patient_services.payer_create(
            name="Blue Plan",
            payer_id="BP1",
            payer_type="commercial",
            auth_required_levels=["3.5", "2.5"],
        )
        coverage = CoverageFactory(organization=org, payer=payer, effective_date=days_ago(400))
        episode = patient_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=coverage.patient,
            program_type="mental_health",
            admission_date=days_ago(20),
            level="3.5",
        )
    return episode


def _deliver_all(org: Any) -> None:
    with tenant_context(org):
        for message in OutboxMessage.objects.filter(topic="patients.authorization_needed"):
            outbox_process(message_id=message.pk, now=clock.now())


def test_a_step_down_creates_a_requested_draft_and_an_alert(org: Any, admitted: Any) -> None:
    with tenant_context(org):
        stay = patient_services.episode_transition_level(
            today=clock.today(),
            episode=admitted,
            level="2.5",
            on_date=days_ago(6),
            clinical_justification="Stable",
        )
    _deliver_all(org)
    with tenant_context(org):
        draft = Authorization.objects.get(stay=stay)
        assert (draft.status, draft.level, draft.start_date, draft.unit_type) == (
            "requested",
            "2.5",
            days_ago(6),
            "per_diem",
        )
        assert (draft.end_date, draft.requested_on) == (days_ago(6) + timedelta(days=6), today())
        assert draft.payer.name == "Blue Plan"
        alert = Alert.objects.get(dedupe_key=f"auth-needed:{stay.pk}")
        assert alert.link_path == f"authorizations/{draft.pk}/"
        assert "step down to level 2.5" in alert.title.lower()
        # The admission asked too: one draft per stay.
        assert Authorization.objects.count() == 2


def test_the_draft_is_created_once_even_if_the_event_comes_twice(org: Any, admitted: Any) -> None:
    from authorizations.services import authorization_draft_for_stay

    with tenant_context(org):
        stay = LevelOfCareStay.objects.get(episode=admitted)
        coverage_id = admitted.patient.coverages.get().pk
        first = authorization_draft_for_stay(
            stay_id=stay.pk, coverage_id=coverage_id, today=days_ago(19)
        )
        second = authorization_draft_for_stay(
            stay_id=stay.pk, coverage_id=coverage_id, today=days_ago(18)
        )
        assert first is not None and second is not None and first.pk == second.pk
        assert second.requested_on == days_ago(19)  # the day the first event was recorded
        assert Authorization.objects.count() == 1
        assert Alert.objects.filter(kind="authorization.needed").count() == 1


def test_a_level_the_payer_does_not_authorize_creates_no_draft(org: Any, admitted: Any) -> None:
    with tenant_context(org):
        patient_services.episode_transition_level(
            today=clock.today(),
            episode=admitted,
            level="2.1",
            on_date=days_ago(6),
            clinical_justification="Stable",
        )
    _deliver_all(org)
    with tenant_context(org):
        assert list(Authorization.objects.values_list("level", flat=True)) == ["3.5"]


def test_rows_of_another_organization_stay_invisible(org: Any, other_org: Any) -> None:
    make_authorization(org)
    with tenant_context(other_org):
        EpisodeFactory(organization=other_org)
        assert not Authorization.objects.exists()


def test_the_services_take_the_day_from_their_caller(org: Any, admitted: Any) -> None:
    """No service reads the clock: called without its day, it fails at the call."""
    from authorizations.services import authorization_create, authorization_draft_for_stay

    with tenant_context(org):
        stay = LevelOfCareStay.objects.get(episode=admitted)
        coverage = admitted.patient.coverages.get()
        with pytest.raises(TypeError, match="today"):
            authorization_draft_for_stay(stay_id=stay.pk, coverage_id=coverage.pk)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="today"):
            authorization_create(  # type: ignore[call-arg]
                episode=admitted,
                coverage=coverage,
                level="3.5",
                unit_type="days",
                units_requested=5,
                start_date=days_ago(20),
                end_date=days_ago(16),
            )
        assert not Authorization.objects.exists()
        # A request with no request date was requested on the caller's day.
        auth = authorization_create(
            episode=admitted,
            coverage=coverage,
            level="3.5",
            unit_type="days",
            units_requested=5,
            start_date=days_ago(20),
            end_date=days_ago(16),
            today=days_ago(3),
        )
    assert auth.requested_on == days_ago(3)
