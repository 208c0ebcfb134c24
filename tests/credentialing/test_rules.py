"""The pure rules: NPI/EIN/taxonomy/PO box checks, expiry thresholds and every billability
reason, including the supervising-provider path."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from credentialing import rules
from credentialing.rules import (
    CredentialFacts,
    EnrollmentFacts,
    PayerRuleFacts,
    ProviderFacts,
    ProviderRecord,
)

DOS = date(2026, 6, 15)
LICENCE = CredentialFacts("state_licence", issued_on=date(2020, 1, 1), expires_on=date(2030, 1, 1))
APPROVED = EnrollmentFacts(
    "approved", submitted_on=date(2025, 1, 2), effective_date=date(2025, 3, 1)
)


def _provider(kind: str = "lcsw", **kwargs: Any) -> ProviderFacts:
    defaults: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": f"Pat {kind.upper()}",
        "provider_type": kind,
        "type_label": kind.upper(),
        "active_from": date(2024, 1, 1),
    }
    return ProviderFacts(**{**defaults, **kwargs})


def _record(
    kind: str = "lcsw",
    credentials: tuple[CredentialFacts, ...] = (LICENCE,),
    enrollments: tuple[EnrollmentFacts, ...] = (APPROVED,),
    **kwargs: Any,
) -> ProviderRecord:
    return ProviderRecord(_provider(kind, **kwargs), credentials, enrollments)


def decide(
    record: ProviderRecord,
    supervisor: ProviderRecord | None = None,
    payer_rules: tuple[PayerRuleFacts, ...] = (),
    code: str = "90837",
    dos: date = DOS,
    facility: uuid.UUID | None = None,
) -> rules.Billability:
    return rules.billability(
        record=record,
        supervisor=supervisor,
        payer_name="Acme Health",
        payer_rules=payer_rules,
        date_of_service=dos,
        service_code=code,
        service_facility_id=facility,
    )


# --- NPI, EIN, taxonomy, PO box ---------------------------------------------------------------


@pytest.mark.parametrize("npi", ["1245319599", "1679576722", "1234567893"])
def test_real_format_npis_pass_the_luhn_check(npi: str) -> None:
    assert rules.npi_error(npi) is None


def test_a_wrong_check_digit_is_refused_with_the_luhn_reason() -> None:
    message = rules.npi_error("1234567890")
    assert message is not None
    assert "check digit" in message and "80840" in message and "should be 3" in message


@pytest.mark.parametrize("npi", ["123456789", "12345678901", "12345abcde", "", "3234567893"])
def test_malformed_npis_are_refused(npi: str) -> None:
    assert rules.npi_error(npi) is not None


def test_every_generated_npi_passes_and_any_other_last_digit_fails() -> None:
    for first_nine in ("124531959", "167957672", "200000001", "199999999"):
        npi = rules.npi_with_check_digit(first_nine)
        assert rules.npi_error(npi) is None
        for digit in "0123456789":
            if digit != npi[-1]:
                assert rules.npi_error(first_nine + digit) is not None


@pytest.mark.parametrize("ein", ["12-3456789", "123456789", "37-1234567"])
def test_well_formed_eins_pass(ein: str) -> None:
    assert rules.ein_error(ein) is None


@pytest.mark.parametrize("ein", ["12-34", "1234567890", "AB-1234567", "07-1234567"])
def test_malformed_eins_are_refused(ein: str) -> None:
    assert rules.ein_error(ein) is not None


@pytest.mark.parametrize("code", ["2084P0800X", "103T00000X", "1041C0700X", "363LP0808X"])
def test_real_taxonomy_codes_pass(code: str) -> None:
    assert rules.taxonomy_error(code) is None


@pytest.mark.parametrize("code", ["2084P0800", "2084P0800Y", "A084P0800X", "2084p0800x", "208"])
def test_malformed_taxonomy_codes_are_refused(code: str) -> None:
    assert rules.taxonomy_error(code) is not None


@pytest.mark.parametrize(
    "line", ["PO Box 12", "P.O. Box 9", "post office box 3", "Box 44", "12 Main St, PO Box 7"]
)
def test_po_boxes_are_refused_as_billing_addresses(line: str) -> None:
    assert rules.po_box_error(line) is not None


@pytest.mark.parametrize("line", ["100 Boxwood Lane", "1 Post Road", "", "55 Poplar Street"])
def test_street_addresses_pass_the_po_box_check(line: str) -> None:
    assert rules.po_box_error(line) is None


# --- Expiry thresholds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(90, None), (61, None), (60, 60), (31, 60), (30, 30), (8, 30), (7, 7), (0, 7), (-1, 0)],
)
def test_expiry_falls_in_the_tightest_threshold(days_left: int, threshold: int | None) -> None:
    today = date(2026, 1, 1)
    assert (
        rules.expiry_threshold(date.fromordinal(today.toordinal() + days_left), today) == threshold
    )


# --- Billability: direct ----------------------------------------------------------------------


def test_an_enrolled_licensed_provider_can_bill() -> None:
    result = decide(_record())
    assert (result.billable, result.code, result.under_supervisor) == (True, "enrolled", None)


def test_without_any_enrollment_the_reason_is_not_enrolled() -> None:
    result = decide(_record(enrollments=()))
    assert (result.billable, result.code) == (False, "not_enrolled")
    assert result.reason == "Not enrolled with Acme Health."


def test_a_not_started_enrollment_counts_as_not_enrolled() -> None:
    assert decide(_record(enrollments=(EnrollmentFacts("not_started"),))).code == "not_enrolled"


def test_a_pending_application_says_since_when() -> None:
    result = decide(
        _record(enrollments=(EnrollmentFacts("submitted", submitted_on=date(2026, 2, 3)),))
    )
    assert (result.billable, result.code) == (False, "pending")
    assert "pending since 2026-02-03" in result.reason


def test_an_application_in_process_is_pending_too() -> None:
    result = decide(
        _record(enrollments=(EnrollmentFacts("in_process", in_process_on=date(2026, 3, 1)),))
    )
    assert result.code == "pending" and "2026-03-01" in result.reason


def test_an_approval_effective_later_says_from_when() -> None:
    result = decide(
        _record(enrollments=(EnrollmentFacts("approved", effective_date=date(2026, 7, 1)),))
    )
    assert (result.billable, result.code) == (False, "not_yet_effective")
    assert "effective only from 2026-07-01" in result.reason


def test_a_terminated_enrollment_says_when() -> None:
    ended = EnrollmentFacts(
        "terminated", effective_date=date(2025, 1, 1), termination_date=date(2026, 5, 31)
    )
    result = decide(_record(enrollments=(ended,)))
    assert (result.billable, result.code) == (False, "terminated")
    assert "terminated on 2026-05-31" in result.reason


def test_services_before_a_termination_date_are_still_billable() -> None:
    ended = EnrollmentFacts(
        "terminated", effective_date=date(2025, 1, 1), termination_date=date(2026, 5, 31)
    )
    assert decide(_record(enrollments=(ended,)), dos=date(2026, 5, 31)).billable


def test_an_approved_enrollment_past_its_termination_date_is_terminated() -> None:
    ended = EnrollmentFacts(
        "approved", effective_date=date(2025, 1, 1), termination_date=date(2026, 1, 1)
    )
    assert decide(_record(enrollments=(ended,))).code == "terminated"


def test_a_denied_application_says_when() -> None:
    result = decide(_record(enrollments=(EnrollmentFacts("denied", denied_on=date(2026, 4, 2)),)))
    assert (result.billable, result.code) == (False, "denied")
    assert "denied on 2026-04-02" in result.reason


def test_an_expired_licence_stops_billing_and_says_when() -> None:
    expired = CredentialFacts(
        "state_licence", issued_on=date(2020, 1, 1), expires_on=date(2026, 5, 31)
    )
    result = decide(_record(credentials=(expired,)))
    assert (result.billable, result.code) == (False, "licence_expired")
    assert result.reason == "Licence expired on 2026-05-31."


def test_a_renewed_licence_covers_the_date_even_with_an_expired_one_on_file() -> None:
    expired = CredentialFacts(
        "state_licence", issued_on=date(2020, 1, 1), expires_on=date(2026, 5, 31)
    )
    renewed = CredentialFacts(
        "state_licence", issued_on=date(2026, 6, 1), expires_on=date(2028, 5, 31)
    )
    assert decide(_record(credentials=(expired, renewed))).billable


def test_a_licensed_type_without_a_licence_cannot_bill() -> None:
    result = decide(_record(credentials=()))
    assert (result.billable, result.code) == (False, "no_licence")


def test_a_peer_specialist_needs_no_licence() -> None:
    assert decide(_record("peer", credentials=())).billable


def test_an_oig_exclusion_stops_billing() -> None:
    excluded = CredentialFacts("oig_check", result="excluded", checked_on=date(2026, 1, 2))
    result = decide(_record(credentials=(LICENCE, excluded)))
    assert (result.billable, result.code) == (False, "excluded")


def test_a_provider_outside_their_active_dates_cannot_bill() -> None:
    result = decide(_record(active_until=date(2026, 6, 1)))
    assert (result.billable, result.code) == (False, "inactive")


def test_a_payer_that_does_not_accept_the_type_for_the_code_says_so() -> None:
    rule = PayerRuleFacts("lcsw", service_code="90792", accepted=False)
    result = decide(_record(), payer_rules=(rule,), code="90792")
    assert (result.billable, result.code) == (False, "type_not_accepted")
    assert result.reason == "Acme Health does not accept LCSW for 90792."
    assert decide(_record(), payer_rules=(rule,), code="90837").billable


def test_a_rule_for_the_code_overrides_the_payers_general_rule() -> None:
    general = PayerRuleFacts("lpc", accepted=False)
    for_code = PayerRuleFacts("lpc", service_code="90837", accepted=True)
    assert decide(_record("lpc"), payer_rules=(general, for_code), code="90837").billable
    assert (
        decide(_record("lpc"), payer_rules=(general, for_code), code="90834").code
        == "type_not_accepted"
    )


def test_rules_for_other_types_do_not_apply() -> None:
    assert decide(_record(), payer_rules=(PayerRuleFacts("lmft", accepted=False),)).billable


def test_a_facility_specific_enrollment_covers_only_its_facility() -> None:
    site_a, site_b = uuid.uuid4(), uuid.uuid4()
    at_a = EnrollmentFacts("approved", service_facility_id=site_a, effective_date=date(2025, 1, 1))
    record = _record(enrollments=(at_a,))
    assert decide(record, facility=site_a).billable
    assert decide(record, facility=site_b).code == "not_enrolled"
    assert decide(record).billable


# --- Billability: the supervising provider ----------------------------------------------------


def _supervisor(**kwargs: Any) -> ProviderRecord:
    return _record("psychologist", **kwargs)


def test_a_pre_licensure_clinician_bills_under_an_enrolled_supervisor_where_allowed() -> None:
    supervisor = _supervisor()
    allowed = EnrollmentFacts("not_started", bill_under_supervisor=True)
    result = decide(_record("lmsw", enrollments=(allowed,)), supervisor=supervisor)
    assert (result.billable, result.code) == (True, "under_supervisor")
    assert result.under_supervisor == supervisor.provider.id


def test_a_payer_rule_requiring_supervision_allows_the_supervised_path() -> None:
    rule = PayerRuleFacts("lmsw", requires_supervision=True)
    result = decide(_record("lmsw", enrollments=()), supervisor=_supervisor(), payer_rules=(rule,))
    assert result.code == "under_supervisor"


def test_a_rule_requiring_supervision_applies_even_to_a_directly_enrolled_type() -> None:
    rule = PayerRuleFacts("lpc", requires_supervision=True)
    result = decide(_record("lpc"), supervisor=_supervisor(), payer_rules=(rule,))
    assert result.code == "under_supervisor"


def test_a_pre_licensure_clinician_cannot_bill_where_the_payer_does_not_allow_supervision() -> None:
    result = decide(_record("lmsw", enrollments=()), supervisor=_supervisor())
    assert (result.billable, result.code) == (False, "supervision_not_allowed")


def test_the_supervised_path_needs_a_supervisor_on_file() -> None:
    allowed = EnrollmentFacts("not_started", bill_under_supervisor=True)
    result = decide(_record("lmsw", enrollments=(allowed,)), supervisor=None)
    assert (result.billable, result.code) == (False, "no_supervisor")


def test_the_supervisor_must_be_billable_and_the_reason_says_why_not() -> None:
    allowed = EnrollmentFacts("not_started", bill_under_supervisor=True)
    supervisor = _supervisor(
        enrollments=(EnrollmentFacts("submitted", submitted_on=date(2026, 1, 9)),)
    )
    result = decide(_record("lmsw", enrollments=(allowed,)), supervisor=supervisor)
    assert (result.billable, result.code) == (False, "supervisor_not_billable")
    assert "pending since 2026-01-09" in result.reason


def test_a_directly_enrolled_clinician_falls_back_to_the_supervisor_when_allowed() -> None:
    pending = EnrollmentFacts(
        "submitted", submitted_on=date(2026, 1, 9), bill_under_supervisor=True
    )
    result = decide(_record("lpc", enrollments=(pending,)), supervisor=_supervisor())
    assert result.code == "under_supervisor"


def test_a_supervised_clinician_with_an_expired_licence_still_cannot_bill() -> None:
    expired = CredentialFacts("state_licence", expires_on=date(2026, 1, 1))
    allowed = EnrollmentFacts("not_started", bill_under_supervisor=True)
    result = decide(
        _record("lmsw", credentials=(expired,), enrollments=(allowed,)), supervisor=_supervisor()
    )
    assert result.code == "licence_expired"


# --- Enrollment consistency -------------------------------------------------------------------


def test_an_approved_status_needs_an_effective_date() -> None:
    assert rules.enrollment_status_ok(
        status="approved", effective_date=None, termination_date=None
    ) == (
        "effective_date",
        "An approved enrollment needs its effective date.",
    )
    assert (
        rules.enrollment_status_ok(status="approved", effective_date=DOS, termination_date=None)
        is None
    )


def test_termination_cannot_precede_the_effective_date() -> None:
    problem = rules.enrollment_status_ok(
        status="terminated", effective_date=date(2026, 2, 1), termination_date=date(2026, 1, 1)
    )
    assert problem is not None and problem[0] == "termination_date"


def test_a_later_clear_oig_check_supersedes_an_exclusion() -> None:
    excluded = CredentialFacts("oig_check", result="excluded", checked_on=date(2025, 1, 2))
    cleared = CredentialFacts("oig_check", result="clear", checked_on=date(2026, 1, 2))
    assert decide(_record(credentials=(LICENCE, excluded, cleared))).billable


def test_only_an_approved_enrollment_can_be_terminated() -> None:
    end = date(2026, 5, 1)
    problem = rules.enrollment_status_ok(
        status="terminated", effective_date=None, termination_date=end, from_status="submitted"
    )
    assert problem is not None and problem[0] == "status"
    assert (
        rules.enrollment_status_ok(
            status="terminated",
            effective_date=date(2025, 1, 1),
            termination_date=end,
            from_status="approved",
        )
        is None
    )


def test_a_terminated_enrollment_needs_its_termination_date() -> None:
    problem = rules.enrollment_status_ok(
        status="terminated", effective_date=date(2025, 1, 1), termination_date=None
    )
    assert problem is not None and problem[0] == "termination_date"
