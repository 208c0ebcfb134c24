"""Charge capture, claim building, scrubbing against real data, and the lifecycle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from authorizations.models import AuthorizationUsage
from claims import services
from claims.models import Claim, ClaimEvent, ClaimStatus, EntryStatus, ServiceEntry
from patients import services as patients_services
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests import clock
from tests.authorizations.factories import make_authorization
from tests.claims.conftest import Practice, admitted, at, dos
from tests.clock import days_from_now, today


def test_a_45_minute_session_is_recorded_as_90834_with_its_charge(practice: Practice) -> None:
    entry = practice.session(45)
    assert (entry.service_code, entry.units, entry.minutes, entry.charge) == (
        "90834",
        1,
        45,
        Decimal("150.00"),
    )
    assert entry.place_of_service == "11" and entry.diagnosis_ids == [str(practice.diagnosis.pk)]


def test_a_billed_code_that_disagrees_with_the_time_is_refused(practice: Practice) -> None:
    with pytest.raises(DomainError) as err:
        practice.session(45, service_code="90837")
    assert (
        err.value.field == "service_code"
        and err.value.message == "45 documented minutes support 90834, not 90837."
    )
    with tenant_context(practice.org):
        assert not ServiceEntry.objects.exists()


def test_under_16_minutes_is_not_a_charge(practice: Practice) -> None:
    with pytest.raises(DomainError, match="under the 16-minute minimum"):
        practice.session(15)


def test_a_long_crisis_session_records_its_90840_add_on(practice: Practice) -> None:
    entry = practice.session(110, kind="crisis")
    with tenant_context(practice.org):
        assert [(e.service_code, e.units) for e in ServiceEntry.objects.order_by("created_at")] == [
            ("90839", 1),
            ("90840", 2),
        ]
        assert entry.addons.get().service_code == "90840"


def test_telehealth_takes_the_payers_place_of_service_and_modifier(practice: Practice) -> None:
    entry = practice.session(45, telehealth="audio_video")
    assert (entry.place_of_service, entry.modifiers) == ("10", ["95"])


def test_a_payer_wanting_licensure_modifiers_gets_HO_for_an_lcsw(practice: Practice) -> None:
    with tenant_context(practice.org):
        patients_services.payer_update(
            payer=practice.payer, data={"requires_licensure_modifier": True}
        )
    assert practice.session(45).modifiers == ["HO"]


def test_the_same_idempotency_key_records_once(practice: Practice) -> None:
    first = practice.session(45, idempotency_key="ehr-123")
    second = practice.session(45, idempotency_key="ehr-123")
    assert first.pk == second.pk
    with tenant_context(practice.org):
        assert ServiceEntry.objects.count() == 1


def test_a_service_needing_authorization_writes_the_usage_ledger(practice: Practice) -> None:
    entry = practice.session(60)
    with tenant_context(practice.org):
        usage = AuthorizationUsage.objects.get(source_id=str(entry.pk))
    assert usage.authorization is None and usage.service_code == "90837"


def test_building_groups_charges_and_totals_lines(practice: Practice) -> None:
    practice.session(45, day=dos())
    practice.session(30, day=dos() + timedelta(days=7))
    with tenant_context(practice.org):
        report = services.claims_build(scopes=part2.ORGANIZATION, today=dos() + timedelta(days=10))
        claim = Claim.objects.get()
        assert len(report.claims) == 1 and claim.total_charge == Decimal("245.00")
        assert [
            (line.line_number, line.service_code, line.diagnosis_pointers)
            for line in claim.lines.order_by("line_number")
        ] == [(1, "90834", [1]), (2, "90832", [1])]
        assert claim.diagnosis_codes == ["F33.1"] and claim.claim_form == "837P"
        assert claim.status == ClaimStatus.READY, list(
            claim.findings.values_list("message", flat=True)
        )
        assert set(ServiceEntry.objects.values_list("status", flat=True)) == {EntryStatus.BILLED}
        assert claim.lines.first().line_control_number == f"{claim.patient_control_number}-1"
        assert (
            services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims == []
        )  # building again finds nothing new


def test_a_charge_without_coverage_on_its_date_is_skipped_with_the_reason(
    practice: Practice,
) -> None:
    with tenant_context(practice.org):
        patients_services.coverage_update(
            coverage=practice.coverage, data={"termination_date": dos() - timedelta(days=1)}
        )
    entry = practice.session(45)
    with tenant_context(practice.org):
        report = services.claims_build(scopes=part2.ORGANIZATION, today=dos())
    ended = dos() - timedelta(days=1)
    assert report.skipped == {
        str(entry.pk): f"Coverage with Blue Plan (member W1) ended on {ended}: no claim for "
        f"{dos()}. Verify eligibility and add the coverage in force on that date."
    }


def test_a_missing_authorization_keeps_the_claim_in_draft_until_one_is_approved(
    practice: Practice,
) -> None:
    practice.session(60)
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.DRAFT
        assert [f.rule for f in claim.findings.all()] == ["authorization_none"]
    make_authorization(
        practice.org,
        episode=practice.episode,
        coverage=practice.coverage,
        level="1",
        unit_type="sessions",
        units_requested=10,
        units_approved=10,
        start_date=dos() - timedelta(days=5),
        end_date=dos() + timedelta(days=60),
        service_codes=["90837"],
        auth_number="BP-77",
        requested_on=dos() - timedelta(days=7),
        decided_on=dos() - timedelta(days=6),
    )
    with tenant_context(practice.org):
        services.claims_scrub(claim_ids=[claim.pk], today=dos())
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY and claim.prior_authorization_number == "BP-77"
        assert claim.lines.get().authorization.auth_number == "BP-77"


def test_an_unenrolled_provider_blocks_the_claim_with_the_reason(practice: Practice) -> None:
    from credentialing.models import PayerEnrollment

    with tenant_context(practice.org):
        PayerEnrollment.objects.all().delete()
    practice.session(45)
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        finding = Claim.objects.get().findings.get()
    assert finding.rule.startswith("provider_") and "Blue Plan" in finding.message


def test_a_part2_claim_is_held_until_a_consent_covers_the_payer(practice: Practice) -> None:
    with tenant_context(practice.org):
        sud = patients_services.episode_open(
            scopes=part2.ORGANIZATION,
            today=clock.today(),
            patient=practice.patient,
            program_type="substance_use",
            admission_date=admitted(),
            level="1",
        )
        patients_services.diagnosis_add(episode=sud, code="F10.20")
    with tenant_context(practice.org):
        services.service_entry_create(
            scopes=part2.ORGANIZATION,
            patient=practice.patient,
            episode=sud,
            rendering_provider=practice.provider,
            date_of_service=dos(),
            kind="psychotherapy",
            start_at=at(dos(), 9),
            end_at=at(dos(), 9, 45),
            documentation_signed=True,
            today=today(),
        )
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        claim = Claim.objects.get(episode=sud)
        assert claim.is_part2 and [f.rule for f in claim.findings.all()] == ["part2_consent"]
        patients_services.consent_create(
            patient=practice.patient,
            disclosing_party="R",
            recipient_class="named_payer",
            recipient_payer=practice.payer,
            purpose="payment",
            information_scope="claims",
            signed_on=admitted(),
            expires_on=days_from_now(365),
        )
        services.claims_scrub(claim_ids=[claim.pk], today=dos())
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY


def test_the_same_service_on_two_claims_is_a_duplicate(practice: Practice) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        (first,) = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims
    practice.session(45)
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        second = Claim.objects.exclude(pk=first.pk).get()
        assert [f.rule for f in second.findings.all()] == ["duplicate_claim_line"]


@pytest.mark.parametrize(
    ("path", "legal"),
    [
        (["submitted", "accepted", "paid", "closed"], True),
        (["submitted", "rejected", "void"], True),
        (["submitted", "accepted", "denied", "appealed", "paid"], True),
        (["paid"], False),
        (["submitted", "closed"], False),
        (["void", "submitted"], False),
    ],
)
def test_lifecycle_transitions(practice: Practice, path: list[str], legal: bool) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
        if legal:
            for status in path:
                claim = services.claim_transition(claim=claim, to_status=status)
            # Each move is recorded from the status it left (the clock is frozen: events made
            # in one test share their time, so the chain of from/to gives the order).
            events = ClaimEvent.objects.filter(claim=claim).values_list("from_status", "to_status")
            steps = list(zip(["ready", *path[:-1]], path, strict=True))
            assert sorted(events) == sorted([("", "draft"), ("draft", "ready"), *steps])
        else:
            with pytest.raises(DomainError) as err:
                for status in path:
                    claim = services.claim_transition(claim=claim, to_status=status)
            assert err.value.field == "status" and "cannot become" in err.value.message


def test_ready_is_reached_only_by_scrubbing(practice: Practice) -> None:
    practice.session(45, documentation_signed=False)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.DRAFT
        with pytest.raises(DomainError):
            services.claim_transition(claim=claim, to_status="ready")
        with pytest.raises(DomainError):
            services.claim_transition(claim=claim, to_status="submitted")


def test_voiding_an_unsent_claim_frees_its_charges(practice: Practice) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
        services.claim_transition(claim=claim, to_status="void", note="wrong patient")
        assert ServiceEntry.objects.get().status == EntryStatus.OPEN


def test_a_replacement_claim_cites_the_original_and_gets_new_line_numbers(
    practice: Practice,
) -> None:
    practice.session(45)
    with tenant_context(practice.org):
        claim = services.claims_build(scopes=part2.ORGANIZATION, today=dos()).claims[0]
        for status in ("submitted", "accepted", "denied"):
            claim = services.claim_transition(claim=claim, to_status=status)
        with pytest.raises(DomainError, match="never accepted claim"):
            services.claim_correct(claim=claim, today=dos())
        Claim.objects.filter(pk=claim.pk).update(payer_claim_number="PAYER-9")
        claim.refresh_from_db()
        replacement = services.claim_correct(claim=claim, today=dos())
        assert (
            replacement.frequency,
            replacement.original_claim_id,
            replacement.original_claim.payer_claim_number,
        ) == ("7", claim.pk, "PAYER-9")
        assert replacement.patient_control_number != claim.patient_control_number
        assert replacement.lines.get().line_control_number.startswith(
            replacement.patient_control_number
        )
        services.claims_scrub(claim_ids=[replacement.pk], today=dos())
        replacement.refresh_from_db()
        assert replacement.status == ClaimStatus.READY  # not a duplicate of the claim it replaces


def test_a_step_down_within_the_month_starts_a_new_837i_claim(practice: Practice) -> None:
    from patients.models import Payer

    with tenant_context(practice.org):
        Payer.objects.filter(pk=practice.payer.pk).update(
            claim_form_by_level={"1": "837I", "2.1": "837I"}
        )
        patients_services.episode_transition_level(
            today=clock.today(),
            episode=practice.episode,
            level="2.1",
            on_date=dos() + timedelta(days=7),
            clinical_justification="Needs more structure",
            allow_overlap=True,
        )
    practice.session(45, day=dos())
    practice.session(45, day=dos() + timedelta(days=8))
    with tenant_context(practice.org):
        claims = services.claims_build(
            scopes=part2.ORGANIZATION, today=dos() + timedelta(days=20)
        ).claims
        assert sorted((c.claim_form, c.level) for c in claims) == [("837I", "1"), ("837I", "2.1")]


def test_building_scrubbing_and_listing_are_told_the_day_they_run_on(practice: Practice) -> None:
    """No clock inside: without `today` the call itself is refused."""
    from claims import selectors

    with tenant_context(practice.org):
        with pytest.raises(TypeError):
            services.claims_build(
                scopes=part2.ORGANIZATION,
            )  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            services.claims_scrub(claim_ids=[])  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            selectors.claim_list(filters=selectors.ClaimFilters(), scopes=())  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            services.service_entry_create(
                scopes=part2.ORGANIZATION,  # type: ignore[call-arg]
                patient=practice.patient,
                episode=practice.episode,
                rendering_provider=practice.provider,
                date_of_service=dos(),
                kind="untimed",
                service_code="90834",
            )
        assert not ServiceEntry.objects.exists()
