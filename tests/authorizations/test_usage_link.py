"""Services recorded before their authorization existed (or was approved, or covered their date)
count against it once it does: the payer's number often arrives days after admission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authorizations import services
from authorizations.models import Authorization, AuthorizationEvent, AuthorizationUsage
from authorizations.selectors import authorization_forecast
from authorizations.services import UsageLinkResult
from claims import services as claims_services
from claims.models import Claim, ClaimStatus
from patients import services as patients_services
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.authorizations.factories import make_authorization
from tests.clock import days_ago, days_from_now, years_ago
from tests.credentialing.factories import CredentialFactory, EnrollmentFactory, ProviderFactory
from tests.factories import HOME_ADDRESS, set_billing_identity

CHICAGO = ZoneInfo("America/Chicago")
ADMITTED_DAYS_AGO = 60  # day(61), the default authorization's last day, is today


def day(n: int) -> date:
    """The n-th day of care: day(1) is the admission, 60 days ago; day(61) is today."""
    return days_ago(ADMITTED_DAYS_AGO) + timedelta(days=n - 1)


@dataclass
class Clinic:
    """One patient in care since day(1) whose payer, Blue Plan, authorizes levels 1 and 2.1;
    Lena, an LCSW enrolled with Blue Plan, sees her."""

    org: Any
    payer: Any
    coverage: Any
    patient: Any
    episode: Any
    provider: Any

    def session(self, on: date, minutes: int = 60, **kwargs: Any) -> Any:
        """A psychotherapy session (60 minutes: 90837)."""
        start = datetime(on.year, on.month, on.day, 9, tzinfo=CHICAGO)
        with tenant_context(self.org):
            return claims_services.service_entry_create(
                scopes=part2.ORGANIZATION,
                patient=self.patient,
                episode=self.episode,
                rendering_provider=self.provider,
                date_of_service=on,
                kind=kwargs.pop("kind", "psychotherapy"),
                start_at=start,
                end_at=start + timedelta(minutes=minutes),
                documentation_signed=True,
                today=clock.today(),
                **kwargs,
            )

    def authorize(self, **overrides: Any) -> Any:
        """Approved for 20 sessions of 90837 at level 1 from day(1) to day(61) (today), unless
        overridden."""
        data: dict[str, Any] = {
            "level": "1",
            "unit_type": "sessions",
            "units_requested": 20,
            "units_approved": 20,
            "start_date": day(1),
            "end_date": day(61),
            "service_codes": ["90837"],
            "auth_number": "BP-77",
            "requested_on": day(1),
            "decided_on": day(1),
        }
        data.update(overrides)
        return make_authorization(self.org, episode=self.episode, coverage=self.coverage, **data)

    def usage(self) -> list[tuple[date, str | None, int]]:
        """The ledger: (date, authorization number or None, units), by date."""
        with tenant_context(self.org):
            return [
                (
                    u.date_of_service,
                    u.authorization.auth_number if u.authorization else None,
                    u.units,
                )
                for u in AuthorizationUsage.objects.select_related("authorization").order_by(
                    "date_of_service", "created_at"
                )
            ]


def make_clinic(org: Any, *, level: str = "1") -> Clinic:
    """Coverage, prices, licence and enrollment in force from long before the admission to long
    after today, so only the authorization decides what a test sees."""
    long_before = day(1) - timedelta(days=365)
    set_billing_identity(org)
    with tenant_context(org):
        payer = patients_services.payer_create(
            name="Blue Plan",
            payer_id="BP001",
            payer_type="commercial",
            auth_required_levels=["1", "2.1"],
        )
        patient = patients_services.patient_create(
            today=clock.today(),
            mrn="C-1",
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1980, 5, 1),
            sex="F",
            **HOME_ADDRESS,
        )
        coverage = patients_services.coverage_create(
            patient=patient, payer=payer, member_id="W1", effective_date=long_before
        )
        episode = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=patient,
            program_type="mental_health",
            admission_date=day(1),
            level=level,
        )
        patients_services.diagnosis_add(episode=episode, code="F33.1")
        provider = ProviderFactory(
            organization=org,
            first_name="Lena",
            last_name="Park",
            provider_type="lcsw",
            active_from=years_ago(3),
        )
        CredentialFactory(
            organization=org,
            provider=provider,
            issued_on=years_ago(3),
            expires_on=days_from_now(2 * 365),
        )
        EnrollmentFactory(
            organization=org,
            provider=provider,
            payer=payer,
            submitted_on=long_before - timedelta(days=90),
            approved_on=long_before,
            effective_date=long_before,
        )
        for code, price in (("90834", "150.00"), ("90837", "190.00"), ("H0015", "240.00")):
            claims_services.charge_master_set(
                service_code=code, charge=Decimal(price), effective_from=long_before
            )
    return Clinic(org, payer, coverage, patient, episode, provider)


@pytest.fixture
def clinic(org: Any) -> Clinic:
    return make_clinic(org)


def first_weeks() -> list[date]:
    """Three weekly sessions in the first weeks of care."""
    return [day(2), day(9), day(16)]


def test_services_recorded_first_count_once_the_authorization_is_added(clinic: Clinic) -> None:
    for on in first_weeks():
        clinic.session(on)
    assert clinic.usage() == [(on, None, 1) for on in first_weeks()]

    auth = clinic.authorize()

    assert auth.units_used == 3
    assert clinic.usage() == [(on, "BP-77", 1) for on in first_weeks()]
    with tenant_context(clinic.org):
        assert Authorization.objects.get(pk=auth.pk).units_used == 3
        # The burn-down sees the units and their pace: 2 in the 14 days up to day 20.
        as_of = day(20)
        forecast = authorization_forecast(authorization=auth, today=as_of)
        assert (forecast.units_used, forecast.units_remaining, forecast.daily_pace) == (
            3,
            17,
            Decimal("0.14"),
        )
        assert forecast.exhaustion_date == as_of + timedelta(days=17 * 14 // 2)
        event = AuthorizationEvent.objects.get(authorization=auth, action="usage_linked")
        assert event.changes == {"units_used": [0, 3]}
        audit = AuditEvent.objects.get(action="authorization.usage_link")
        # Counts only: no dates, codes or other PHI in the audit detail.
        assert audit.detail == {
            "linked": 3,
            "units": 3,
            "same_day_removed": 0,
            "authorizations": 1,
        }
        assert audit.patient_id == clinic.patient.pk


def test_linking_again_changes_nothing(clinic: Clinic) -> None:
    for on in first_weeks():
        clinic.session(on)
    auth = clinic.authorize()
    with tenant_context(clinic.org):
        events = AuthorizationEvent.objects.count()
        audits = AuditEvent.objects.count()
        assert services.authorization_link_usage(authorization=auth) == UsageLinkResult()
        assert Authorization.objects.get(pk=auth.pk).units_used == 3
        assert (AuthorizationEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)
    assert clinic.usage() == [(on, "BP-77", 1) for on in first_weeks()]


def test_a_request_approved_after_the_services_counts_them(clinic: Clinic) -> None:
    auth = clinic.authorize(status="requested", units_approved=None, decided_on=None)
    for on in first_weeks():
        clinic.session(on)
    assert auth.units_used == 0 and clinic.usage() == [(on, None, 1) for on in first_weeks()]
    with tenant_context(clinic.org):
        auth = services.authorization_decide(
            authorization=auth,
            status="approved",
            decided_on=day(17),
            units_approved=20,
            auth_number="BP-77",
        )
    assert auth.units_used == 3 and clinic.usage() == [(d, "BP-77", 1) for d in first_weeks()]


def test_wider_dates_count_the_services_they_now_cover(clinic: Clinic) -> None:
    auth = clinic.authorize(start_date=day(10))
    for on in first_weeks():
        clinic.session(on)
    assert clinic.usage() == [
        (first_weeks()[0], None, 1),
        (first_weeks()[1], None, 1),
        (first_weeks()[2], "BP-77", 1),
    ]
    with tenant_context(clinic.org):
        auth = services.authorization_update(authorization=auth, data={"start_date": day(1)})
    assert auth.units_used == 3 and clinic.usage() == [(d, "BP-77", 1) for d in first_weeks()]


def test_an_extension_counts_the_services_after_the_old_end_date(clinic: Clinic) -> None:
    auth = clinic.authorize(end_date=day(10), units_requested=5, units_approved=5)
    with tenant_context(clinic.org):
        review = services.review_schedule(
            authorization=auth, review_type="concurrent", scheduled_on=day(10)
        )
    for on in first_weeks():
        clinic.session(on)
    assert clinic.usage()[-1] == (day(16), None, 1)
    with tenant_context(clinic.org):
        services.review_complete(
            review=review,
            outcome="extended",
            completed_on=day(10),
            new_end_date=day(30),
            added_units=5,
        )
        assert Authorization.objects.get(pk=auth.pk).units_used == 3
    assert clinic.usage() == [(d, "BP-77", 1) for d in first_weeks()]


def test_services_outside_the_dates_or_codes_and_voided_charges_are_not_counted(
    clinic: Clinic,
) -> None:
    clinic.session(day(2))  # before the start
    inside = clinic.session(day(9))
    clinic.session(day(10), minutes=45)  # 90834: not a code the payer approved
    voided = clinic.session(day(11))
    clinic.session(day(30))  # after the end
    with tenant_context(clinic.org):
        claims_services.service_entry_void(entry=voided, reason="Entered on the wrong patient")

    auth = clinic.authorize(start_date=day(5), end_date=day(20))

    assert auth.units_used == 1
    with tenant_context(clinic.org):
        linked = AuthorizationUsage.objects.get(authorization=auth)
        assert linked.source_id == str(inside.pk)
        # The voided charge left the ledger when it was voided; three lapses remain.
        assert AuthorizationUsage.objects.filter(authorization__isnull=True).count() == 3
        assert not AuthorizationUsage.objects.filter(source_id=str(voided.pk)).exists()


def test_services_at_another_level_are_not_counted(clinic: Clinic) -> None:
    clinic.session(day(2))
    with tenant_context(clinic.org):
        patients_services.episode_transition_level(
            today=clock.today(),
            episode=clinic.episode,
            level="2.1",
            on_date=day(8),
            clinical_justification="Needs more structure",
        )
    clinic.session(day(9))  # at level 2.1

    auth = clinic.authorize()

    assert auth.units_used == 1
    assert clinic.usage() == [(day(2), "BP-77", 1), (day(9), None, 1)]


def test_services_billed_to_another_payer_are_not_counted(clinic: Clinic) -> None:
    clinic.session(day(2))
    with tenant_context(clinic.org):
        patients_services.coverage_update(
            coverage=clinic.coverage, data={"termination_date": day(5)}
        )
        green = patients_services.payer_create(
            name="Green Health",
            payer_id="GH001",
            payer_type="commercial",
            auth_required_levels=["1"],
        )
        patients_services.coverage_create(
            patient=clinic.patient, payer=green, member_id="G1", effective_date=day(6)
        )
    clinic.session(day(9))  # Green Health's service

    auth = clinic.authorize()  # Blue Plan's authorization

    assert auth.units_used == 1
    with tenant_context(clinic.org):
        left = AuthorizationUsage.objects.get(authorization__isnull=True)
        assert (left.payer_id, left.date_of_service) == (green.pk, day(9))


def test_services_of_another_organization_are_not_counted(clinic: Clinic, other_org: Any) -> None:
    """Harborview has the same kind of patient, payer and services; Riverbend's authorization
    must not touch them."""
    harborview = make_clinic(other_org)
    for on in first_weeks():
        harborview.session(on)
        clinic.session(on)

    auth = clinic.authorize()

    assert auth.units_used == 3
    assert harborview.usage() == [(on, None, 1) for on in first_weeks()]


def test_a_service_counted_against_another_authorization_is_not_moved(clinic: Clinic) -> None:
    first = clinic.authorize(end_date=day(30), auth_number="BP-1")
    for on in first_weeks():
        clinic.session(on)
    assert clinic.usage() == [(on, "BP-1", 1) for on in first_weeks()]

    second = clinic.authorize(
        start_date=day(5), auth_number="BP-2", overlap_reason="Payer sent a second letter"
    )

    assert second.units_used == 0
    assert clinic.usage() == [(on, "BP-1", 1) for on in first_weeks()]
    with tenant_context(clinic.org):
        assert Authorization.objects.get(pk=first.pk).units_used == 3


def test_usage_beyond_the_approved_units_is_counted_and_the_alert_fires(clinic: Clinic) -> None:
    for on in first_weeks():
        clinic.session(on)

    auth = clinic.authorize(units_requested=2, units_approved=2)

    assert auth.units_used == 3
    with tenant_context(clinic.org):
        specs = services.authorization_scan_specs(today=day(20))
    assert f"auth-units-low:{auth.pk}:20" in {s.dedupe_key for s in specs}


def test_a_day_based_authorization_counts_each_day_once(org: Any) -> None:
    """Intensive outpatient (2.1) per diem: a therapy session on a program day is part of the
    day, as it would have been had the authorization been on file."""
    clinic = make_clinic(org, level="2.1")
    program_day, next_day = day(2), day(3)
    with tenant_context(org):
        for on in (program_day, next_day):
            claims_services.service_entry_create(
                scopes=part2.ORGANIZATION,
                patient=clinic.patient,
                episode=clinic.episode,
                rendering_provider=clinic.provider,
                date_of_service=on,
                kind="untimed",
                service_code="H0015",
                documentation_signed=True,
                today=clock.today(),
            )
    clinic.session(program_day)
    assert len(clinic.usage()) == 3

    auth = clinic.authorize(level="2.1", unit_type="per_diem", service_codes=[])

    assert auth.units_used == 2
    assert clinic.usage() == [(program_day, "BP-77", 1), (next_day, "BP-77", 1)]
    with tenant_context(org):
        detail = AuditEvent.objects.get(action="authorization.usage_link").detail
    assert (detail["linked"], detail["same_day_removed"]) == (2, 1)


def test_a_15_minute_authorization_counts_the_units_of_each_charge(clinic: Clinic) -> None:
    with tenant_context(clinic.org):
        claims_services.service_entry_create(
            scopes=part2.ORGANIZATION,
            patient=clinic.patient,
            episode=clinic.episode,
            rendering_provider=clinic.provider,
            date_of_service=day(2),
            kind="untimed",
            service_code="H2019",
            units=4,
            documentation_signed=True,
            today=clock.today(),
        )
    assert clinic.usage() == [(day(2), None, 1)]  # nothing covered it: one service

    auth = clinic.authorize(
        unit_type="units_15min", units_requested=40, units_approved=40, service_codes=["H2019"]
    )

    assert auth.units_used == 4 and clinic.usage() == [(day(2), "BP-77", 4)]


def test_the_queries_do_not_grow_with_the_number_of_services(org: Any, other_org: Any) -> None:
    one, fifty = make_clinic(org), make_clinic(other_org)
    one.session(day(1))
    for n in range(50):
        fifty.session(day(1) + timedelta(days=n))

    def create(clinic: Clinic) -> tuple[Any, int]:
        with tenant_context(clinic.org), CaptureQueriesContext(connection) as queries:
            auth = clinic.authorize(units_requested=60, units_approved=60)
        return auth, len(queries)

    one_auth, one_queries = create(one)
    fifty_auth, fifty_queries = create(fifty)

    assert (one_auth.units_used, fifty_auth.units_used) == (1, 50)
    assert fifty_queries == one_queries


# --- Claims not yet submitted --------------------------------------------------------------------


def _deliver(org: Any) -> int:
    with tenant_context(org):
        messages = list(OutboxMessage.objects.filter(topic=services.COVERAGE_CHANGED_TOPIC))
        for message in messages:
            outbox_process(message_id=message.pk, now=clock.now())
    return len(messages)


def test_a_draft_claim_takes_the_authorization_without_re_entry(clinic: Clinic) -> None:
    """The claim is built four days before today, when no authorization was on file; the
    approval arrives today and the claim is scrubbed again (today, well inside the payer's
    filing limit)."""
    clinic.session(day(56))
    with tenant_context(clinic.org):
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=day(57))
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.DRAFT
        assert [f.rule for f in claim.findings.all()] == ["authorization_none"]

    auth = clinic.authorize()

    assert _deliver(clinic.org) == 1
    with tenant_context(clinic.org):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY and claim.prior_authorization_number == "BP-77"
        assert claim.lines.get().authorization_id == auth.pk
        assert not claim.findings.filter(rule__startswith="authorization").exists()


def test_a_request_not_yet_approved_sends_no_claim_for_scrubbing(clinic: Clinic) -> None:
    auth = clinic.authorize(status="requested", units_approved=None, decided_on=None)
    with tenant_context(clinic.org):
        services.authorization_update(authorization=auth, data={"end_date": day(91)})
    assert _deliver(clinic.org) == 0


def test_a_voided_charge_gives_its_units_back_to_the_authorization(clinic: Clinic) -> None:
    auth = clinic.authorize()
    entries = [clinic.session(on) for on in first_weeks()]
    with tenant_context(clinic.org):
        auth.refresh_from_db()
        assert auth.units_used == 3
        claims_services.service_entry_void(entry=entries[0], reason="Entered twice")
        claims_services.service_entry_void(entry=entries[0], reason="Entered twice")  # no harm
        auth.refresh_from_db()
        assert auth.units_used == 2
        # The clock is frozen: events written in one test share created_at, so find it by action.
        (event,) = AuthorizationEvent.objects.filter(authorization=auth, action="usage_released")
        assert event.changes == {"units_used": [3, 2]}
        assert AuditEvent.objects.filter(action="authorization.usage_release").count() == 1
    assert clinic.usage() == [(on, "BP-77", 1) for on in first_weeks()[1:]]


def test_a_voided_charge_nothing_covered_leaves_no_lapse_behind(clinic: Clinic) -> None:
    entry = clinic.session(first_weeks()[0])
    assert clinic.usage() == [(first_weeks()[0], None, 1)]
    with tenant_context(clinic.org):
        claims_services.service_entry_void(entry=entry, reason="Wrong patient")
    assert clinic.usage() == []
    # The authorization added later finds nothing to count.
    assert clinic.authorize().units_used == 0
