from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from claims import services as claims_services
from claims.models import Claim, ClaimEvent, ClaimStatus
from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus, ControlNumberCounter, SubmissionBatch
from submissions.services import (
    batch_build,
    batch_regenerate,
    batches_create,
    clearinghouse_save,
    pyx12_validate,
)
from tests import clock
from tests.claims.conftest import dos
from tests.submissions.conftest import bill_ready
from x12.reader import read


def build(practice, **kwargs) -> SubmissionBatch:
    with tenant_context(practice.org):
        batch = batches_create(
            scopes=part2.ORGANIZATION, clearinghouse=practice.clearinghouse, **kwargs
        )[0]
    return batch_build(organization_id=practice.org.pk, batch_id=batch.pk)


def test_a_batch_of_ready_claims_is_written_validated_released_and_dropped_in_the_folder(billing):
    claims = bill_ready(billing, 45, 30)
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    assert batch.interchange_control_number == 1 and batch.progress_done == batch.progress_total
    assert pyx12_validate(batch.content) == []
    parsed = read(batch.content)
    assert parsed.problems == []
    text = batch.content
    assert "GS*HC*RB12345*CLHSE01*" in text and "*005010X222A1~" in text
    assert "NM1*85*2*RIVERBEND RECOVERY CENTER*****XX*1234567893~" in text
    assert "REF*EI*931234567~" in text and "N4*PORTLAND*OR*972041234~" in text
    with tenant_context(billing.org):
        for claim in claims:
            claim.refresh_from_db()
            assert claim.status == ClaimStatus.SUBMITTED and claim.submitted_at
            assert f"CLM*{claim.patient_control_number}*" in text
            for line in claim.lines.all():
                assert f"REF*6R*{line.line_control_number}~" in text
        assert ClaimEvent.objects.filter(to_status=ClaimStatus.SUBMITTED).count() == len(claims)
    dropped = Path(batch.transport_detail.split("Delivered to ")[1].split(" at ")[0])
    assert dropped.read_bytes() == text.encode()
    assert batch.sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_building_again_changes_nothing_and_regenerating_gives_the_same_bytes(billing):
    bill_ready(billing)
    batch = build(billing)
    again = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert again.content == batch.content and again.interchange_control_number == 1
    with tenant_context(billing.org):
        assert batch_regenerate(batch=SubmissionBatch.objects.get(pk=batch.pk)) == batch.content


def test_control_numbers_increase_per_clearinghouse_and_are_never_reused(billing):
    bill_ready(billing)
    first = build(billing)
    # The second session is a week later: 90834 and 90832 the same day would be an NCCI PTP pair.
    billing.session(30, day=dos() + timedelta(days=7))
    with tenant_context(billing.org):
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=clock.today())
    second = build(billing)
    assert (first.interchange_control_number, second.interchange_control_number) == (1, 2)
    assert (first.group_control_number, second.group_control_number) == (1, 2)
    assert "ST*837*0002*005010X222A1~" in second.content
    with tenant_context(billing.org):
        assert ControlNumberCounter.objects.get().last_interchange == 2


def test_a_missing_billing_npi_fails_the_batch_with_the_field_named_and_sends_nothing(billing):
    claims = bill_ready(billing)
    billing.org.group_npi = ""
    billing.org.save()
    batch = build(billing)
    assert batch.status == BatchStatus.FAILED
    assert "Billing NPI is missing: set it in Organization settings." in batch.error
    assert batch.content == ""
    with tenant_context(billing.org):
        assert Claim.objects.get(pk=claims[0].pk).status == ClaimStatus.READY


def test_a_bad_npi_check_digit_is_refused_by_the_writer(billing):
    bill_ready(billing)
    billing.org.group_npi = "1234567890"
    billing.org.save()
    batch = build(billing)
    assert batch.status == BatchStatus.FAILED
    assert "fails the NPI check digit" in batch.error


def test_a_claim_total_that_is_not_the_sum_of_its_lines_never_reaches_a_file(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(total_charge=claim.total_charge + 1)
    batch = build(billing)
    assert batch.status == BatchStatus.FAILED and "is not the sum of its lines" in batch.error


def test_a_claim_without_a_member_id_or_a_valid_diagnosis_is_refused(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(diagnosis_codes=["F33"])
        billing.coverage.member_id = " "
        billing.coverage.save()
    batch = build(billing)
    assert batch.status == BatchStatus.FAILED
    assert "the subscriber member ID is missing" in batch.error
    assert "'F33' is a category, not a billable code" in batch.error


def test_only_ready_claims_in_no_open_batch_can_be_batched(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)
        with pytest.raises(DomainError, match="no ready claim"):
            batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)
        with pytest.raises(DomainError, match=f"No longer ready .*{claim.patient_control_number}"):
            batches_create(
                scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse, claim_ids=[claim.pk]
            )


def test_separators_are_configurable_per_clearinghouse(billing):
    bill_ready(billing)
    with tenant_context(billing.org):
        clearinghouse_save(clearinghouse=billing.clearinghouse, element_separator="|",
                           component_separator=">", segment_terminator="\\",
                           line_break_after_segment=True)  # fmt: skip
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    assert batch.content.startswith("ISA|00|") and "\nGS|HC|RB12345|" in batch.content
    assert "SV1|HC>90834|150|UN|1|||1\\" in batch.content
    assert read(batch.content).problems == []


def test_a_clearinghouse_with_clashing_separators_is_refused(billing):
    with tenant_context(billing.org), pytest.raises(DomainError, match="different"):
        clearinghouse_save(clearinghouse=billing.clearinghouse, component_separator="*")


def test_a_part2_claim_is_released_with_its_disclosure_logged_under_the_covering_consent(billing):
    from claims import services as claims_services
    from patients import services as patients_services
    from rcm.audit.models import AuditEvent
    from tests.claims.conftest import admitted, at, dos
    from tests.clock import days_from_now, today

    with tenant_context(billing.org):
        sud = patients_services.episode_open(scopes=part2.ORGANIZATION, today=clock.today(), patient=billing.patient, program_type="substance_use",
                                             admission_date=admitted(), level="1")  # fmt: skip
        patients_services.diagnosis_add(episode=sud, code="F10.20")
        consent = patients_services.consent_create(
            patient=billing.patient, disclosing_party="R", recipient_class="named_payer",
            recipient_payer=billing.payer, purpose="payment", information_scope="claims",
            signed_on=admitted(), expires_on=days_from_now(365),
        )  # fmt: skip
        claims_services.service_entry_create(scopes=part2.ORGANIZATION,
            patient=billing.patient, episode=sud, rendering_provider=billing.provider,
            date_of_service=dos(), kind="psychotherapy", start_at=at(dos(), 9),
            end_at=at(dos(), 9, 45), documentation_signed=True, today=today(),
        )  # fmt: skip
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        claim = Claim.objects.get(episode=sud)
        assert claim.is_part2 and claim.status == ClaimStatus.READY
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    with tenant_context(billing.org):
        event = AuditEvent.objects.get(action="part2.disclosure")
        assert event.patient_id == billing.patient.pk
        assert event.detail["consent_id"] == str(consent.pk)
        assert event.detail["what"] == f"837 batch {batch.pk}"


def test_a_part2_claim_whose_consent_was_revoked_never_reaches_a_file(billing):
    from claims import services as claims_services
    from patients import services as patients_services
    from tests.claims.conftest import admitted, at, dos
    from tests.clock import days_from_now, today

    with tenant_context(billing.org):
        sud = patients_services.episode_open(scopes=part2.ORGANIZATION, today=clock.today(), patient=billing.patient, program_type="substance_use",
                                             admission_date=admitted(), level="1")  # fmt: skip
        patients_services.diagnosis_add(episode=sud, code="F10.20")
        consent = patients_services.consent_create(
            patient=billing.patient, disclosing_party="R", recipient_class="named_payer",
            recipient_payer=billing.payer, purpose="payment", information_scope="claims",
            signed_on=admitted(), expires_on=days_from_now(365),
        )  # fmt: skip
        claims_services.service_entry_create(scopes=part2.ORGANIZATION,
            patient=billing.patient, episode=sud, rendering_provider=billing.provider,
            date_of_service=dos(), kind="psychotherapy", start_at=at(dos(), 9),
            end_at=at(dos(), 9, 45), documentation_signed=True, today=today(),
        )  # fmt: skip
        claims_services.claims_build(scopes=part2.ORGANIZATION, today=dos())
        patients_services.consent_revoke(consent=consent)
    batch = build(billing)
    assert batch.status == BatchStatus.FAILED
    assert "Part 2" in batch.error and "no consent covers" in batch.error


def test_a_rejected_claim_sent_again_leaves_the_rejections_queue(billing):
    from claims import services as claims_services
    from submissions.models import ClaimRejection
    from submissions.services import acknowledgment_import
    from tests.clock import today
    from tests.submissions.acks import ack_277ca

    (claim,) = bill_ready(billing)
    first = build(billing)
    with tenant_context(billing.org):
        acknowledgment_import(content=ack_277ca(first, {claim.patient_control_number: "A7:562:85"}))
        claim.refresh_from_db()
        claims_services.claim_transition(claim=claim, to_status=ClaimStatus.DRAFT)
        claims_services.claims_scrub(claim_ids=[claim.pk], today=today())
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY
        assert ClaimRejection.objects.get().resolved_at is None
    second = build(billing)
    assert second.status == BatchStatus.RELEASED and second.interchange_control_number == 2
    with tenant_context(billing.org):
        assert ClaimRejection.objects.get().resolved_at is not None


def test_a_residential_claim_goes_out_as_a_valid_837i(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        Claim.objects.filter(pk=claim.pk).update(claim_form="837I", level="3.5")
        claim.lines.update(revenue_code="1001", service_code="H0019")
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    assert batch.claim_form == "837I" and "*005010X223A2~" in batch.content
    assert pyx12_validate(batch.content) == []
    text = batch.content
    admission = f"DTP*435*D8*{billing.episode.admission_date:%Y%m%d}~"
    assert f"CLM*{claim.patient_control_number}*150***86:A:1**A*Y*Y~" in text
    assert "CL1*3*1*30~" in text and "HI*ABJ:F331~" in text and admission in text
    assert "SV2*1001*HC:H0019*150*DA*1~" in text and "NM1*71*1*PARK*LENA****XX*" in text


def test_a_medicare_php_day_carries_condition_code_41(billing):
    (claim,) = bill_ready(billing)
    with tenant_context(billing.org):
        billing.payer.payer_type = "medicare"
        billing.payer.save()
        Claim.objects.filter(pk=claim.pk).update(claim_form="837I", level="2.5")
        claim.lines.update(revenue_code="0912", service_code="G0410")
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    assert "HI*BG:41~" in batch.content and "***13:A:1**A*Y*Y~" in batch.content
    assert "SBR*P*18*******MB~" in batch.content and pyx12_validate(batch.content) == []


def test_pay_to_supervising_provider_facility_and_line_authorizations_come_from_the_database(
    billing,
):
    from authorizations.models import Authorization
    from tests.claims.conftest import admitted
    from tests.clock import days_from_now
    from tests.credentialing.factories import FacilityFactory, ProviderFactory

    (claim,) = bill_ready(billing, 45, 30)
    org = billing.org
    org.pay_to_address_line1, org.pay_to_city, org.pay_to_state = "PO Box 44", "Portland", "OR"
    org.pay_to_postal_code = "97208"
    org.save()
    with tenant_context(org):
        supervisor = ProviderFactory(organization=org, first_name="Jo", last_name="Hale")
        facility = FacilityFactory(organization=org, name="Day Program")
        Claim.objects.filter(pk=claim.pk).update(
            supervising_provider=supervisor, service_facility=facility,
            prior_authorization_number="PA1",
        )  # fmt: skip
        auth = Authorization.objects.create(
            episode=billing.episode, coverage=billing.coverage, payer=billing.payer, level="1",
            unit_type="sessions", units_requested=10, requested_on=admitted(),
            start_date=admitted(), end_date=days_from_now(30),
            auth_number="PA2",
        )  # fmt: skip
        second = claim.lines.get(line_number=2)
        second.authorization = auth
        second.save()
    batch = build(billing)
    assert batch.status == BatchStatus.RELEASED, batch.error
    text = batch.content
    assert "NM1*87*2~N3*PO BOX 44~N4*PORTLAND*OR*97208~" in text
    assert "NM1*DQ*1*HALE*JO****XX*" in text and "NM1*77*2*DAY PROGRAM*****XX*" in text
    assert text.count("REF*G1*PA1~") == 1 and text.count("REF*G1*PA2~") == 1
    assert text.index("REF*G1*PA2~") > text.index(f"REF*6R*{claim.patient_control_number}-1~")
    assert pyx12_validate(text) == []
