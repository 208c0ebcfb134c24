"""Services of the patients app: every refusal names its field and changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from patients import services
from patients.models import Coverage, EpisodeOfCare, LevelOfCareStay, Patient
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.clock import days_ago, days_from_now, now, today
from tests.patients.factories import ConsentFactory, PatientFactory, PayerFactory


def day(n: int) -> date:
    """Day `n` of the story told here: day 0, the admission, is 100 days before the frozen
    today (so day 100 is today); no rule below depends on the calendar itself."""
    return days_ago(100 - n)


@pytest.fixture
def ctx(org: Any) -> Any:
    with tenant_context(org):
        yield org


@pytest.fixture
def payer(ctx: Any) -> Any:
    return services.payer_create(
        name="Blue Plan",
        payer_id="BP001",
        payer_type="commercial",
        auth_required_levels=["3.5", "2.1"],
    )


@pytest.fixture
def patient(ctx: Any) -> Patient:
    return services.patient_create(
        today=today(),
        mrn="R-100",
        first_name="Jane",
        last_name="Doe",
        date_of_birth=date(1980, 5, 1),
        sex="F",
    )


@pytest.fixture
def episode(patient: Patient, payer: Any) -> EpisodeOfCare:
    services.coverage_create(patient=patient, payer=payer, member_id="W1", effective_date=day(-59))
    return services.episode_open(
        scopes=part2.ORGANIZATION,
        today=clock.today(),
        patient=patient,
        program_type="substance_use",
        admission_date=day(0),
        level="3.5",
    )


def _refused(field: str, func: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        func(**kwargs)
    assert err.value.field == field, err.value.message
    return err.value


def test_payer_defaults_follow_its_type_and_stay_editable(ctx: Any) -> None:
    medicare = services.payer_create(name="Medicare", payer_id="MCR", payer_type="medicare")
    assert (medicare.timely_filing_days, medicare.appeal_window_days) == (365, 120)
    custom = services.payer_create(
        name="Medicaid", payer_id="MCD", payer_type="medicaid", timely_filing_days=180
    )
    assert custom.timely_filing_days == 180 and custom.requires_licensure_modifier


def test_a_payer_rule_naming_an_unknown_level_is_refused(ctx: Any) -> None:
    _refused(
        "auth_required_levels",
        services.payer_create,
        name="X",
        payer_id="X",
        payer_type="commercial",
        auth_required_levels=["9.9"],
    )


def test_a_malformed_zip_code_or_phone_number_is_refused(ctx: Any, patient: Patient) -> None:
    _refused("postal_code", services.payer_create, name="X", payer_id="X", postal_code="1234")
    _refused("phone", services.payer_create, name="X", payer_id="X", phone="555-0100")
    _refused(
        "postal_code",
        services.patient_update,
        patient=patient,
        data={"postal_code": "ABCDE"},
        today=today(),
    )


def test_a_date_of_birth_in_the_future_is_refused(ctx: Any) -> None:
    err = _refused(
        "date_of_birth",
        services.patient_create,
        today=today(),
        mrn="A",
        first_name="A",
        last_name="B",
        date_of_birth=days_from_now(1),
        sex="F",
    )
    assert err.message == "Date of birth is in the future."
    assert not Patient.objects.exists()


def test_a_duplicate_mrn_is_refused(patient: Patient) -> None:
    _refused(
        "mrn",
        services.patient_create,
        today=today(),
        mrn="R-100",
        first_name="X",
        last_name="Y",
        date_of_birth=date(1990, 1, 1),
        sex="M",
    )


def test_the_same_mrn_may_exist_in_another_organization(patient: Patient, other_org: Any) -> None:
    with tenant_context(other_org):
        services.patient_create(
            today=today(),
            mrn="R-100",
            first_name="X",
            last_name="Y",
            date_of_birth=date(1990, 1, 1),
            sex="M",
        )


def test_patient_changes_are_audited_by_field_name_without_values(patient: Patient) -> None:
    services.patient_update(
        patient=patient, data={"phone": "503-555-0100", "last_name": "Smith"}, today=today()
    )
    event = AuditEvent.objects.get(action="patient.update")
    assert event.patient_id == patient.pk and event.detail == {"fields": ["last_name", "phone"]}
    assert "Smith" not in str(event.detail)


def test_termination_before_effective_date_is_refused(patient: Patient, payer: Any) -> None:
    _refused(
        "termination_date",
        services.coverage_create,
        patient=patient,
        payer=payer,
        member_id="M",
        effective_date=day(61),
        termination_date=day(31),
    )
    assert not Coverage.objects.exists()


def test_two_primaries_on_the_same_date_are_refused(patient: Patient, payer: Any) -> None:
    other = services.payer_create(name="Other", payer_id="OT1", payer_type="commercial")
    services.coverage_create(
        patient=patient,
        payer=payer,
        member_id="M1",
        effective_date=day(-59),
        termination_date=day(121),
    )
    err = _refused(
        "priority",
        services.coverage_create,
        patient=patient,
        payer=other,
        member_id="M2",
        effective_date=day(92),
    )
    assert "cannot overlap" in err.message
    services.coverage_create(patient=patient, payer=other, member_id="M2", effective_date=day(122))
    services.coverage_create(
        patient=patient, payer=other, member_id="M3", effective_date=day(-59), priority=2
    )
    in_force = services.coverage_in_force(patient=patient, on_date=day(0))
    assert [c.member_id for c in in_force] == ["M1", "M3"]


def test_a_dependent_coverage_needs_the_subscriber(patient: Patient, payer: Any) -> None:
    _refused(
        "subscriber_first_name",
        services.coverage_create,
        patient=patient,
        payer=payer,
        member_id="M",
        effective_date=day(-59),
        relationship="19",
    )


def test_a_verification_records_benefits_in_the_same_transaction(
    patient: Patient, payer: Any, biller: Any
) -> None:
    coverage = services.coverage_create(
        patient=patient, payer=payer, member_id="M", effective_date=day(-59)
    )
    services.coverage_verify(
        coverage=coverage,
        verified_by=biller,
        method="portal",
        reference_number="R9",
        benefits={"copay": "25.00", "visit_limit": 30},
    )
    coverage.refresh_from_db()
    assert str(coverage.copay) == "25.00" and coverage.visit_limit == 30
    assert coverage.verifications.get().reference_number == "R9"


def test_opening_an_episode_at_a_level_needing_authorization_records_the_event(
    episode: EpisodeOfCare,
) -> None:
    message = OutboxMessage.objects.get(topic=services.AUTHORIZATION_NEEDED_TOPIC)
    assert message.payload["level"] == "3.5" and message.payload["transition"] == "admission"


def test_a_step_down_closes_the_current_stay_the_day_before(episode: EpisodeOfCare) -> None:
    stay = services.episode_transition_level(
        today=clock.today(),
        episode=episode,
        level="2.1",
        on_date=day(19),
        clinical_justification="Stable, meets IOP criteria",
    )
    stays = list(LevelOfCareStay.objects.filter(episode=episode).order_by("start_date"))
    assert [(s.level, s.start_date, s.end_date) for s in stays] == [
        ("3.5", day(0), day(18)),
        ("2.1", day(19), None),
    ]
    assert stay.transition == "step_down"
    assert OutboxMessage.objects.filter(topic=services.AUTHORIZATION_NEEDED_TOPIC).count() == 2
    assert AuditEvent.objects.get(action="episode.transition").detail == {
        "from": "3.5",
        "to": "2.1",
        "kind": "step_down",
    }


def test_a_step_up_is_named_as_such(episode: EpisodeOfCare) -> None:
    stay = services.episode_transition_level(
        today=clock.today(),
        episode=episode,
        level="3.7-WM",
        on_date=day(4),
        clinical_justification="Withdrawal symptoms",
    )
    assert stay.transition == "step_up"


def test_no_authorization_event_when_the_payer_does_not_require_one(episode: EpisodeOfCare) -> None:
    services.episode_transition_level(
        today=clock.today(),
        episode=episode,
        level="1",
        on_date=day(19),
        clinical_justification="Outpatient",
    )
    assert OutboxMessage.objects.filter(topic=services.AUTHORIZATION_NEEDED_TOPIC).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"end_current_on": 19}, "end_current_on", "overlap"),
        (
            {"end_current_on": 14},
            "end_current_on",
            "gap from {day 15} to {day 18}",
        ),
        ({"level": "3.5"}, "level", "already at"),
        ({"on_date": 0}, "on_date", "after the current stay began"),
        ({"clinical_justification": "  "}, "clinical_justification", "justification"),
        ({"level": "9"}, "level", "Unknown level"),
    ],
)
def test_bad_transitions_are_refused_and_change_nothing(
    episode: EpisodeOfCare, kwargs: dict[str, Any], field: str, words: str
) -> None:
    dated = {k: day(v) if k in ("on_date", "end_current_on") else v for k, v in kwargs.items()}
    args = {
        "episode": episode,
        "level": "2.1",
        "on_date": day(19),
        "clinical_justification": "ok",
        "today": clock.today(),
        **dated,
    }
    err = _refused(field, services.episode_transition_level, **args)
    assert words.replace("{day 15}", str(day(15))).replace("{day 18}", str(day(18))) in err.message
    assert LevelOfCareStay.objects.get(episode=episode).end_date is None


def test_an_overlap_or_a_gap_is_accepted_when_explicitly_allowed(episode: EpisodeOfCare) -> None:
    services.episode_transition_level(
        today=clock.today(),
        episode=episode,
        level="2.5",
        on_date=day(19),
        end_current_on=day(19),
        allow_overlap=True,
        clinical_justification="Same-day move",
    )
    services.episode_transition_level(
        today=clock.today(),
        episode=episode,
        level="2.1",
        on_date=day(40),
        end_current_on=day(31),
        allow_gap=True,
        clinical_justification="Leave",
    )
    assert LevelOfCareStay.objects.filter(episode=episode).count() == 3


def test_a_discharged_episode_cannot_change_level(episode: EpisodeOfCare) -> None:
    services.episode_discharge(episode=episode, discharge_date=day(9))
    _refused(
        "level",
        services.episode_transition_level,
        episode=episode,
        level="2.1",
        on_date=day(19),
        clinical_justification="x",
        today=clock.today(),
    )
    assert LevelOfCareStay.objects.get(episode=episode).end_date == day(9)


@pytest.mark.parametrize(
    ("code", "words"), [("F99.99", "not an ICD-10-CM code"), ("F10.2", "not a billable code")]
)
def test_an_invalid_diagnosis_is_named(episode: EpisodeOfCare, code: str, words: str) -> None:
    err = _refused("code", services.diagnosis_add, episode=episode, code=code)
    assert words in err.message


def test_the_first_diagnosis_is_primary_and_a_new_primary_replaces_it(
    episode: EpisodeOfCare,
) -> None:
    first = services.diagnosis_add(episode=episode, code="F10.20")
    second = services.diagnosis_add(episode=episode, code="F33.1")
    assert first.is_primary and not second.is_primary and second.rank == 2
    services.diagnosis_add(episode=episode, code="F41.1", is_primary=True)
    assert episode.diagnoses.get(is_primary=True).code == "F41.1"
    _refused("code", services.diagnosis_add, episode=episode, code="f1020")


def test_a_diagnosis_a_later_icd_year_adds_goes_on_the_chart(episode: EpisodeOfCare) -> None:
    diagnosis = services.diagnosis_add(episode=episode, code="F64.A")
    assert diagnosis.code == "F64.A"
    assert diagnosis.description == "Gender identity disorder, in remission"


def test_a_consent_that_expires_before_its_signature_is_refused(patient: Patient) -> None:
    _refused(
        "expires_on",
        services.consent_create,
        patient=patient,
        disclosing_party="R",
        recipient_class="all_health_plans",
        purpose="payment",
        information_scope="x",
        signed_on=day(-28),
        expires_on=day(-59),
    )


def test_a_consent_naming_a_payer_needs_the_payer(patient: Patient) -> None:
    _refused(
        "recipient_payer",
        services.consent_create,
        patient=patient,
        disclosing_party="R",
        recipient_class="named_payer",
        purpose="payment",
        information_scope="x",
        signed_on=day(-28),
        expires_on=day(306),
    )


def test_consent_covers_answers_with_the_reason_after_revocation(
    ctx: Any, patient: Patient, payer: Any
) -> None:
    consent = ConsentFactory(organization=ctx, patient=patient)
    assert services.consent_covers(
        patient=patient, payer=payer, purpose="payment", on_date=day(61), now=now()
    ).covered
    services.consent_revoke(consent=consent)
    services.consent_revoke(consent=consent)
    decision = services.consent_covers(
        patient=patient, payer=payer, purpose="payment", on_date=day(61), now=now()
    )
    assert not decision.covered and "revoked" in decision.reason
    assert AuditEvent.objects.filter(action="consent.revoke").count() == 1


def test_factories_build_inside_the_tenant(ctx: Any) -> None:
    assert PatientFactory(organization=ctx).organization_id == ctx.pk
    assert PayerFactory(organization=ctx).organization_id == ctx.pk


def test_services_that_depend_on_the_date_take_it_and_refuse_to_run_without_it(
    patient: Patient, payer: Any
) -> None:
    with pytest.raises(TypeError):
        services.patient_create(  # type: ignore[call-arg]
            mrn="Z-1", first_name="A", last_name="B", date_of_birth=date(1990, 1, 1), sex="F"
        )
    with pytest.raises(TypeError):
        services.patient_update(patient=patient, data={"phone": "1"})  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        services.consent_covers(  # type: ignore[call-arg]
            patient=patient, payer=payer, purpose="payment", on_date=today()
        )
    with pytest.raises(TypeError):
        services.episode_open(
            scopes=part2.ORGANIZATION,  # type: ignore[call-arg]
            patient=patient,
            program_type="mental_health",
            admission_date=today(),
            level="1",
        )
    # The date given is the one used, not the clock: born 5 days ago is "in the future" for a
    # caller whose today was 10 days ago.
    _refused(
        "date_of_birth",
        services.patient_create,
        today=days_ago(10),
        mrn="Z-2",
        first_name="A",
        last_name="B",
        date_of_birth=days_ago(5),
        sex="F",
    )


def test_the_authorization_needed_event_carries_the_day_the_edge_gave(org: Any) -> None:
    """The draft authorization is requested on the clinic's day, which the page or API passes
    in; the relay that delivers the event later runs in UTC and must not re-read the clock."""
    with tenant_context(org):
        payer = services.payer_create(
            name="Strict Plan",
            payer_id="SP9",
            payer_type="commercial",
            auth_required_levels=["3.5"],
        )
        patient = PatientFactory(organization=org)
        services.coverage_create(
            patient=patient, payer=payer, member_id="S1", priority=1, effective_date=days_ago(400)
        )
        services.episode_open(
            scopes=part2.ORGANIZATION,
            today=days_ago(1),
            patient=patient,
            program_type="mental_health",
            admission_date=days_ago(1),
            level="3.5",
        )
        message = OutboxMessage.objects.get(topic=services.AUTHORIZATION_NEEDED_TOPIC)
    assert message.payload["recorded_on"] == days_ago(1).isoformat()
