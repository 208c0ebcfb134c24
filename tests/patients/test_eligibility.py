"""A 271 becomes a benefit verification (issue 21, item 2): matched by trace number, differences
from the last verification recorded, inactive coverage alerted, bad answers refused whole."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alerts.models import Alert
from patients import services
from patients.models import BenefitVerification, Coverage, EligibilityRequest, Patient
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.clock import days_ago, now, today

SAMPLES = Path(__file__).parent.parent / "x12" / "samples" / "271-handwritten"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.fixture
def ctx(org: Any) -> Any:
    with tenant_context(org):
        yield org


@pytest.fixture
def coverage(ctx: Any) -> Coverage:
    payer = services.payer_create(
        name="ABC Health Plan", payer_id="842610001", payer_type="commercial"
    )
    patient = services.patient_create(
        today=today(),
        mrn="R-100",
        first_name="Ana",
        last_name="Rivera",
        date_of_birth=date(1985, 3, 14),
        sex="F",
    )
    return services.coverage_create(
        patient=patient,
        payer=payer,
        member_id="W123456789",
        effective_date=days_ago(400),
        deductible=Decimal("250.00"),
        auth_required=False,
    )


def ask(coverage: Coverage, trace: str, hours_ago: int = 1) -> EligibilityRequest:
    return services.eligibility_request_create(
        coverage=coverage,
        trace_number=trace,
        raw_request="ISA*...270",
        now=now() - timedelta(hours=hours_ago),
    )


def test_a_271_fills_the_verification_and_records_what_changed(coverage: Coverage) -> None:
    request = ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271")
    [answered] = services.eligibility_response_apply(raw=raw, now=now())
    assert answered.status == "answered" and answered.raw_response == raw
    coverage.refresh_from_db()
    assert coverage.copay == Decimal("25.00")
    assert coverage.deductible == Decimal("500.00")
    assert coverage.deductible_met == Decimal("379.50")  # 500 less 120.50 remaining
    verification = BenefitVerification.objects.get(pk=answered.verification_id)
    assert verification.method == "271" and verification.is_active_coverage
    assert verification.reference_number == "EQ-2026-000417"
    deductible = next(c for c in verification.changes if c["field"] == "deductible")
    assert deductible["before"] == "250.00" and deductible["after"] == "500.00"
    assert deductible["highlight"] is True
    assert request.pk == answered.pk
    assert not Alert.objects.exists()


def test_authorization_now_required_is_highlighted(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271").replace(
        "EB*B*IND*MH^A6*PR**27*25*****Y", "EB*B*IND*MH^A6*PR**27*25****Y*Y"
    )
    [answered] = services.eligibility_response_apply(raw=raw, now=now())
    coverage.refresh_from_db()
    assert coverage.auth_required is True
    change = next(c for c in answered.verification.changes if c["field"] == "auth_required")
    assert change == {
        "field": "auth_required",
        "label": "Authorization required",
        "before": "False",
        "after": "True",
        "highlight": True,
    }


def test_inactive_coverage_ends_the_coverage_and_raises_an_alert(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000418")
    # The sample's plan dates, moved to the suite's day: coverage ended 37 days ago.
    ended_on = days_ago(37)
    raw = (
        sample("dependent_inactive.271")
        .replace("W555000111", "W123456789")
        .replace("DTP*356*D8*20240101", f"DTP*356*D8*{days_ago(400):%Y%m%d}")
        .replace("DTP*357*D8*20261031", f"DTP*357*D8*{ended_on:%Y%m%d}")
    )
    [answered] = services.eligibility_response_apply(raw=raw, now=now())
    coverage.refresh_from_db()
    assert coverage.termination_date == ended_on
    assert answered.verification.is_active_coverage is False
    ended = next(c for c in answered.verification.changes if c["field"] == "termination_date")
    assert ended["after"] == ended_on.isoformat() and ended["highlight"]
    alert = Alert.objects.get(kind="coverage.inactive")
    assert alert.patient_id == coverage.patient_id and "inactive" in alert.title
    assert "AGED OUT" in answered.verification.notes


def test_an_aaa_rejection_marks_the_request_and_changes_nothing(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000419")
    [answered] = services.eligibility_response_apply(
        raw=sample("subscriber_not_found.271"), now=now()
    )
    assert answered.status == "rejected" and "(72)" in answered.error
    assert answered.verification is None
    coverage.refresh_from_db()
    assert coverage.deductible == Decimal("250.00") and not coverage.verifications.exists()


def test_a_payer_rejection_without_trn_is_matched_by_bht03(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000420")
    [answered] = services.eligibility_response_apply(raw=sample("payer_unavailable.271"), now=now())
    assert answered.status == "rejected" and "(42)" in answered.error


def test_an_unknown_trace_number_is_refused_naming_trn(coverage: Coverage) -> None:
    ask(coverage, "EQ-OTHER")
    with pytest.raises(DomainError) as exc:
        services.eligibility_response_apply(
            raw=sample("subscriber_behavioral_benefits.271"), now=now()
        )
    assert exc.value.field == "TRN" and "EQ-2026-000417" in exc.value.message
    assert "TRN" in exc.value.message
    coverage.refresh_from_db()
    assert coverage.copay is None and not coverage.verifications.exists()
    assert EligibilityRequest.objects.get().status == "sent"


def test_another_organizations_trace_number_is_refused(coverage: Coverage, other_org: Any) -> None:
    with tenant_context(other_org):
        payer = services.payer_create(name="ABC", payer_id="842610001", payer_type="commercial")
        theirs = services.patient_create(
            today=today(), mrn="H-1", first_name="Ana", last_name="Rivera",
            date_of_birth=date(1985, 3, 14), sex="F",
        )  # fmt: skip
        their_coverage = services.coverage_create(
            patient=theirs, payer=payer, member_id="W123456789", effective_date=days_ago(30)
        )
        ask(their_coverage, "EQ-2026-000417")
    with pytest.raises(DomainError, match="matches no eligibility request"):
        services.eligibility_response_apply(
            raw=sample("subscriber_behavioral_benefits.271"), now=now()
        )
    with tenant_context(other_org):
        assert EligibilityRequest.objects.get().status == "sent"
        their_coverage.refresh_from_db()
        assert their_coverage.copay is None


def test_a_late_answer_does_not_overwrite_a_newer_verification(
    coverage: Coverage, biller: Any
) -> None:
    ask(coverage, "EQ-2026-000417", hours_ago=3)
    services.coverage_verify(
        coverage=coverage,
        verified_by=biller,
        method="phone",
        verified_at=now() - timedelta(hours=1),
        benefits={"copay": Decimal("40.00")},
    )
    [answered] = services.eligibility_response_apply(
        raw=sample("subscriber_behavioral_benefits.271"), now=now()
    )
    assert answered.status == "answered" and "newer verification" in answered.error
    assert answered.verification is None
    coverage.refresh_from_db()
    assert coverage.copay == Decimal("40.00") and coverage.verifications.count() == 1


def test_an_answer_is_applied_once(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271")
    services.eligibility_response_apply(raw=raw, now=now())
    with pytest.raises(DomainError, match="already answered"):
        services.eligibility_response_apply(raw=raw, now=now())
    assert coverage.verifications.count() == 1


def test_a_malformed_271_is_refused_naming_the_segment(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271").replace(
        "EB*C*IND*30***23*500", "EB*C*IND*30***23*5X0"
    )
    with pytest.raises(DomainError) as exc:
        services.eligibility_response_apply(raw=raw, now=now())
    assert exc.value.field == "raw_response" and "EB" in exc.value.message
    assert not coverage.verifications.exists()


def test_trace_numbers_are_unique_per_organization(coverage: Coverage) -> None:
    ask(coverage, "EQ-1")
    with pytest.raises(DomainError, match="already used"):
        ask(coverage, "EQ-1")


def test_no_answer_is_recorded_on_the_request(coverage: Coverage) -> None:
    request = ask(coverage, "EQ-1")
    failed = services.eligibility_request_fail(
        request=request, status="no_answer", error="The clearinghouse did not answer in 10 s."
    )
    assert failed.status == "no_answer" and "did not answer" in failed.error
    assert not coverage.verifications.exists()


def test_another_patient_record_is_not_visible(coverage: Coverage, other_org: Any) -> None:
    ask(coverage, "EQ-1")
    with tenant_context(other_org):
        assert not EligibilityRequest.objects.exists()
    assert isinstance(coverage.patient, Patient)


def test_a_271_naming_another_subscriber_is_refused_kept_on_the_request(
    coverage: Coverage,
) -> None:
    request = ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271").replace("W123456789", "W999999999")
    with pytest.raises(DomainError) as exc:
        services.eligibility_response_apply(raw=raw, now=now())
    assert exc.value.field == "NM1" and "segment 13" in exc.value.message
    assert "W999999999" in exc.value.message
    request.refresh_from_db()
    assert request.status == "error" and "W999999999" in request.error
    assert request.raw_response == raw
    coverage.refresh_from_db()
    assert coverage.deductible == Decimal("250.00") and coverage.copay is None
    assert not coverage.verifications.exists()


def test_inactive_twice_raises_one_alert(coverage: Coverage) -> None:
    ended_on = days_ago(37)

    def inactive(trace: str) -> str:
        return (
            sample("dependent_inactive.271")
            .replace("EQ-2026-000418", trace)
            .replace("W555000111", "W123456789")
            .replace("DTP*356*D8*20240101", f"DTP*356*D8*{days_ago(400):%Y%m%d}")
            .replace("DTP*357*D8*20261031", f"DTP*357*D8*{ended_on:%Y%m%d}")
        )

    ask(coverage, "EQ-A", hours_ago=3)
    services.eligibility_response_apply(raw=inactive("EQ-A"), now=now() - timedelta(hours=2))
    ask(coverage, "EQ-B", hours_ago=1)
    [second] = services.eligibility_response_apply(raw=inactive("EQ-B"), now=now())
    assert Alert.objects.filter(kind="coverage.inactive").count() == 1
    assert str(ended_on) in Alert.objects.get().message
    # The second answer compares with the first: the coverage was already ended.
    assert second.verification.changes == []


def test_active_coverage_with_an_eligibility_end_date_ends_then(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000417")
    ends = days_ago(-60)
    # The plan's end (347, a plan year that renews) is not the coverage's; eligibility's is.
    raw = sample("subscriber_behavioral_benefits.271").replace(
        "DTP*347*D8*20261231", f"DTP*357*D8*{ends:%Y%m%d}"
    )
    [answered] = services.eligibility_response_apply(raw=raw, now=now())
    coverage.refresh_from_db()
    assert coverage.termination_date == ends and answered.verification.is_active_coverage
    alert = Alert.objects.get(kind="coverage.inactive")
    assert "has an end date" in alert.title and str(ends) in alert.message


def test_the_next_answer_is_compared_with_the_last_verification(coverage: Coverage) -> None:
    ask(coverage, "EQ-1", hours_ago=2)
    raw = sample("subscriber_behavioral_benefits.271")
    services.eligibility_response_apply(
        raw=raw.replace("EQ-2026-000417", "EQ-1"), now=now() - timedelta(hours=1)
    )
    ask(coverage, "EQ-2", hours_ago=1)
    [again] = services.eligibility_response_apply(
        raw=raw.replace("EQ-2026-000417", "EQ-2").replace(
            "EB*B*IND*MH^A6*PR**27*25*****Y", "EB*B*IND*MH^A6*PR**27*25****Y*Y"
        ),
        now=now(),
    )
    assert [(c["field"], c["highlight"]) for c in again.verification.changes] == [
        ("auth_required", True)
    ]


def test_the_raw_texts_are_encrypted_at_rest(coverage: Coverage) -> None:
    ask(coverage, "EQ-2026-000417")
    raw = sample("subscriber_behavioral_benefits.271")
    [answered] = services.eligibility_response_apply(raw=raw, now=now())
    stored = EligibilityRequest.objects.values(
        "raw_request_encrypted", "raw_response_encrypted"
    ).get(pk=answered.pk)
    assert "RIVERA" not in stored["raw_response_encrypted"]
    assert "270" not in stored["raw_request_encrypted"]
    fresh = EligibilityRequest.objects.get(pk=answered.pk)
    assert fresh.raw_response == raw and fresh.raw_request == "ISA*...270"


def test_the_purge_deletes_raw_texts_past_the_retention_once(coverage: Coverage) -> None:
    old = ask(coverage, "EQ-OLD", hours_ago=24 * 31)
    recent = ask(coverage, "EQ-NEW", hours_ago=24 * 29)
    assert services.eligibility_raw_purge(now=now(), retention_days=30) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.raw_request == "" and old.raw_purged_at == now()
    assert recent.raw_request == "ISA*...270" and recent.raw_purged_at is None
    assert services.eligibility_raw_purge(now=now(), retention_days=30) == 0  # idempotent
    with pytest.raises(DomainError):
        services.eligibility_raw_purge(now=now(), retention_days=0)


def test_the_daily_scan_purges_after_the_organizations_retention(
    coverage: Coverage, org: Any
) -> None:
    from rcm.operations.scans import scan_for

    org.eligibility_raw_retention_days = 10
    org.save()
    old = ask(coverage, "EQ-OLD", hours_ago=24 * 11)
    recent = ask(coverage, "EQ-NEW", hours_ago=24 * 9)
    scan = scan_for("patients.eligibility_raw_purge")
    assert scan is not None
    assert scan.run(today()) == {"requests_purged": 1}
    assert scan.run(today()) == {"requests_purged": 0}  # twice: no harm
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.raw_request == "" and old.raw_purged_at is not None
    assert recent.raw_request == "ISA*...270"
