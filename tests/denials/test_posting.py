"""Posting an 835: matching, the posting math, every CAS group, denials, reversals, PLB,
crossover, exceptions, duplicates and bad files."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings

from claims.models import Claim, ClaimEvent
from denials import services
from denials.models import (
    Denial,
    LineBalance,
    Payment,
    ProviderAdjustment,
    RemittanceAdjustment,
    RemittanceException,
    RemittanceLine,
    SecondaryClaim,
    WorkItem,
)
from rcm.tenancy.context import tenant_context
from tests.clock import today
from tests.denials.conftest import add_medicaid, lost
from tests.denials.x835 import Clp, Svc, build_835, paid_on

D = Decimal
pytestmark = pytest.mark.django_db


def post(org, text, name="remit.835"):
    with tenant_context(org):
        imp = services.remittance_import_create(file_name=name, content=text)
        if imp.status == "pending":
            imp = services.remittance_post(import_id=imp.pk, today=today())
        return imp


def line_of(claim):
    return claim.lines.get()


def test_a_paid_line_posts_paid_plus_adjustments_equal_to_the_charge(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        line = line_of(claim)
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("80"),
                D("20"),
                lines=[
                    Svc(
                        "90834",
                        D("150"),
                        D("80"),
                        lcn=line.line_control_number,
                        allowed=D("100"),
                        cas=[("CO", "45", D("50")), ("PR", "3", D("20"))],
                    ),
                ],
            ),
        ]
    )
    imp = post(practice.org, text)
    assert imp.status == "posted", imp.error
    with tenant_context(practice.org):
        balance = LineBalance.objects.get(claim_line=line)
        assert balance.paid + balance.contractual + balance.patient_responsibility == line.charge
        assert (balance.paid, balance.allowed, balance.contractual) == (D("80"), D("100"), D("50"))
        assert balance.open_balance == D("20.00")
        claim.refresh_from_db()
        assert claim.status == "paid"
        assert claim.payer_claim_number == "PCN-PAYER-1"
        moves = dict(ClaimEvent.objects.filter(claim=claim).values_list("to_status", "created_at"))
        # Both moves are posted at once, yet the history orders them: accepted, then paid.
        assert moves["accepted"] < moves["paid"]
        assert ClaimEvent.objects.get(claim=claim, to_status="paid").from_status == "accepted"
        payment = Payment.objects.get()
        assert (payment.trace_number, payment.amount, payment.method) == ("TRACE1", D("80"), "ACH")
        assert payment.payer == practice.payer and payment.payment_date == paid_on()
    assert imp.summary["paid"] == "80.00" and imp.summary["denied_lines"] == 0


def test_every_cas_group_lands_in_its_bucket(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        line = line_of(claim)
    cas = [
        ("CO", "45", D("10")),
        ("PR", "1", D("20")),
        ("PR", "2", D("5")),
        ("OA", "23", D("5")),
        ("PI", "197", D("30")),
        ("CR", "94", D("0")),
    ]
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("80"),
                D("25"),
                lines=[
                    Svc("90834", D("150"), D("80"), lcn=line.line_control_number, cas=cas),
                ],
            ),
        ]
    )
    assert post(practice.org, text).status == "posted"
    with tenant_context(practice.org):
        b = LineBalance.objects.get(claim_line=line)
        assert (b.contractual, b.patient_responsibility, b.denied, b.other_adjusted) == (
            D("10"),
            D("25"),
            D("30"),
            D("0"),
        )
        assert b.prior_payer == D("5")  # OA-23: a prior payer's adjudication, not ours to adjust
        groups = set(RemittanceAdjustment.objects.values_list("group_code", flat=True))
        assert groups == {"CO", "PR", "OA", "PI", "CR"}
        denial = Denial.objects.get()
        assert (denial.group_code, denial.carc, denial.category) == ("PI", "197", "authorization")
        assert not denial.fully_denied
        claim.refresh_from_db()
        assert claim.status == "partially_paid"


def test_a_full_denial_records_category_deadline_recoverability_and_a_work_item(
    practice, submitted
):
    claim = submitted()
    with tenant_context(practice.org):
        line = line_of(claim)
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "4",
                D("150"),
                D("0"),
                lines=[
                    Svc(
                        "90834",
                        D("150"),
                        D("0"),
                        lcn=line.line_control_number,
                        cas=[("CO", "16", D("150"))],
                        rarcs=["M62"],
                    ),
                ],
            ),
        ]
    )
    imp = post(practice.org, text)
    with tenant_context(practice.org):
        denial = Denial.objects.get()
        # CARC 16 says only "information missing"; the RARC M62 routes it to authorization.
        assert denial.category == "authorization" and denial.rarcs == ["M62"]
        assert denial.amount == D("150") and denial.fully_denied and denial.recoverable
        assert denial.appeal_deadline == paid_on() + timedelta(
            days=practice.payer.appeal_window_days
        )
        item = WorkItem.objects.get(kind="denial")
        assert item.source_id == denial.pk and item.amount == D("150") and item.is_due
        assert item.priority_score > 0
        claim.refresh_from_db()
        assert claim.status == "denied"
    assert imp.summary["denied_lines"] == 1


def test_a_line_without_ref_6r_matches_by_code_date_and_charge(practice, submitted):
    claim = submitted(days=2)
    with tenant_context(practice.org):
        first, second = claim.lines.order_by("line_number")
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("300"),
                D("200"),
                lines=[
                    Svc(
                        "90834",
                        D("150"),
                        D("100"),
                        dos=second.date_of_service,
                        cas=[("CO", "45", D("50"))],
                    ),
                    Svc(
                        "90834",
                        D("150"),
                        D("100"),
                        lcn=first.line_control_number,
                        cas=[("CO", "45", D("50"))],
                    ),
                ],
            ),
        ]
    )
    post(practice.org, text)
    with tenant_context(practice.org):
        assert set(RemittanceLine.objects.values_list("claim_line", flat=True)) == {
            first.pk,
            second.pk,
        }
        assert not RemittanceException.objects.exists()


def test_a_reversal_and_its_correction_net_out_on_the_balances(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        line = line_of(claim)
    lcn = line.line_control_number
    post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("100"),
                    lines=[
                        Svc("90834", D("150"), D("100"), lcn=lcn, cas=[("CO", "45", D("50"))]),
                    ],
                ),
            ],
            trace="T1",
        ),
    )
    imp = post(
        practice.org,
        build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "22",
                    D("-150"),
                    D("-100"),
                    lines=[
                        Svc("90834", D("-150"), D("-100"), lcn=lcn, cas=[("CO", "45", D("-50"))]),
                    ],
                ),
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("90"),
                    lines=[
                        Svc("90834", D("150"), D("90"), lcn=lcn, cas=[("CO", "45", D("60"))]),
                    ],
                ),
            ],
            trace="T2",
            control=2,
        ),
    )
    assert imp.status == "posted", imp.error
    assert imp.summary["reversals"] == 1
    with tenant_context(practice.org):
        b = LineBalance.objects.get(claim_line=line)
        assert (b.paid, b.contractual) == (D("90"), D("60"))
        claim.refresh_from_db()
        assert claim.status == "paid"


def test_provider_level_adjustments_are_recorded_and_balance_the_payment(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("100"),
                lines=[
                    Svc("90834", D("150"), D("100"), lcn=lcn, cas=[("CO", "45", D("50"))]),
                ],
            ),
        ],
        plb=[("WO", D("25")), ("L6", D("-2.50"))],
    )
    imp = post(practice.org, text)
    assert imp.status == "posted", imp.error
    with tenant_context(practice.org):
        assert Payment.objects.get().amount == D("77.50")
        assert sorted(ProviderAdjustment.objects.values_list("reason_code", "amount")) == [
            ("L6", D("-2.50")),
            ("WO", D("25")),
        ]


def test_a_crossover_moves_the_patient_share_to_the_secondary_coverage(practice, submitted):
    medicaid = add_medicaid(practice)
    claim = submitted()
    with tenant_context(practice.org):
        line = line_of(claim)
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "19",
                D("150"),
                D("80"),
                D("30"),
                crossover="STATE MEDICAID",
                lines=[
                    Svc(
                        "90834",
                        D("150"),
                        D("80"),
                        lcn=line.line_control_number,
                        cas=[("CO", "45", D("40")), ("PR", "2", D("30"))],
                    ),
                ],
            ),
        ]
    )
    imp = post(practice.org, text)
    assert imp.summary["crossovers"] == 1
    with tenant_context(practice.org):
        secondary = SecondaryClaim.objects.get()
        assert secondary.payer == medicaid and secondary.amount == D("30")
        assert secondary.status == "crossed_over" and secondary.primary_paid == D("80")
        assert secondary.primary_adjudication["lines"][0]["adjustments"][1]["reason"] == "2"
        b = LineBalance.objects.get(claim_line=line)
        assert b.transferred == D("30") and b.open_balance == D("0")


def test_unknown_claims_and_lines_go_to_the_exceptions_queue(practice, submitted):
    claim = submitted()
    text = build_835(
        [
            Clp(
                "NOT-OURS-1",
                "1",
                D("100"),
                D("60"),
                lines=[
                    Svc("90832", D("100"), D("60"), cas=[("CO", "45", D("40"))]),
                ],
            ),
            Clp(
                claim.patient_control_number,
                "1",
                D("95"),
                D("60"),
                lines=[
                    Svc(
                        "90832",
                        D("95"),
                        D("60"),
                        lcn="NOPE",
                        dos=lost(),
                        cas=[("CO", "45", D("35"))],
                    ),
                ],
            ),
        ]
    )
    imp = post(practice.org, text)
    assert imp.status == "posted" and imp.summary["unmatched"] == 2
    with tenant_context(practice.org):
        kinds = sorted(RemittanceException.objects.values_list("kind", flat=True))
        assert kinds == ["unmatched_claim", "unmatched_line"]
        assert WorkItem.objects.filter(kind="unmatched_remittance").count() == 2
        assert RemittanceLine.objects.count() == 2  # recorded, never dropped


def test_a_claim_none_of_whose_lines_matched_keeps_its_status(practice, submitted):
    claim = submitted()
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("95"),
                D("60"),
                lines=[Svc("90832", D("95"), D("60"), lcn="NOPE", cas=[("CO", "45", D("35"))])],
            )
        ]
    )
    imp = post(practice.org, text)
    assert imp.summary["matched_claims"] == 1 and imp.summary["unmatched"] == 1
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "submitted"
        assert not LineBalance.objects.exists()


def test_the_same_file_twice_posts_nothing_the_second_time(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("150"),
                lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
            )
        ]
    )
    post(practice.org, text)
    again = post(practice.org, text)
    assert again.status == "duplicate" and again.summary["rows_posted"] == 0
    with tenant_context(practice.org):
        assert Payment.objects.count() == 1 and RemittanceLine.objects.count() == 1


def test_the_same_payment_trace_in_another_file_posts_nothing(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    clp = Clp(
        claim.patient_control_number,
        "1",
        D("150"),
        D("150"),
        lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
    )
    post(practice.org, build_835([clp], control=1))
    again = post(practice.org, build_835([clp], control=2))
    assert again.status == "posted"
    assert again.summary["duplicate_payments"] == 1 and again.summary["rows_posted"] == 0


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: "this is not an X12 file at all", "ISA"),
        (lambda t: t[: len(t) // 2], "truncated"),
        # The SE segment itself (a patient named ROSE would hold "SE*" in its NM1).
        (lambda t: t.replace("~\nSE*", "~\nSE*9", 1), "SE"),
        (lambda t: t.replace("BPR*I*150*", "BPR*I*151*", 1), "does not balance"),
        (lambda t: t.replace("ST*835", "ST*999").replace("005010X221A1", "005010X231A1"), "835"),
    ],
    ids=["not-x12", "truncated", "wrong-count", "unbalanced", "not-835"],
)
def test_bad_files_are_rejected_with_a_reason_and_nothing_is_posted(
    practice, submitted, mangle, reason
):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("150"),
                lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
            )
        ]
    )
    imp = post(practice.org, mangle(text))
    assert imp.status == "rejected"
    assert imp.error and reason in imp.error
    with tenant_context(practice.org):
        assert not Payment.objects.exists() and not LineBalance.objects.exists()
        claim.refresh_from_db()
        assert claim.status == "submitted"


def test_an_unbalanced_file_names_the_segment_position(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("100"),
                lines=[Svc("90834", D("150"), D("100"), lcn=lcn, cas=[("CO", "45", D("40"))])],
            )
        ]
    )
    imp = post(practice.org, text)
    assert imp.status == "rejected" and imp.error_position is not None and imp.error_position > 1


def test_payments_for_another_organizations_claims_are_never_matched(
    practice, submitted, other_org
):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
    text = build_835(
        [
            Clp(
                claim.patient_control_number,
                "1",
                D("150"),
                D("150"),
                lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
            )
        ]
    )
    imp = post(other_org, text)
    assert imp.summary["matched_claims"] == 0 and imp.summary["unmatched"] == 1
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == "submitted"
        assert not LineBalance.objects.exists()
    assert Claim.all_tenants.filter(pk=claim.pk, status="submitted").exists()


def test_posting_a_pending_import_twice_posts_once(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
        text = build_835(
            [
                Clp(
                    claim.patient_control_number,
                    "1",
                    D("150"),
                    D("150"),
                    lines=[Svc("90834", D("150"), D("150"), lcn=lcn)],
                )
            ]
        )
        imp = services.remittance_import_create(file_name="a.835", content=text)
        with pytest.raises(TypeError):  # posting dates its work: the caller says which day it is
            services.remittance_post(import_id=imp.pk)
        services.remittance_post(import_id=imp.pk, today=today())
        services.remittance_post(import_id=imp.pk, today=today())
        assert Payment.objects.count() == 1


def test_posting_works_as_the_application_role_under_row_level_security(
    practice, submitted, requires_postgres
):
    from tests.conftest import app_role

    claim = submitted()
    with tenant_context(practice.org):
        lcn = line_of(claim).line_control_number
        imp = services.remittance_import_create(
            file_name="rls.835",
            content=build_835(
                [
                    Clp(
                        claim.patient_control_number,
                        "1",
                        D("150"),
                        D("100"),
                        lines=[
                            Svc("90834", D("150"), D("100"), lcn=lcn, cas=[("CO", "45", D("50"))])
                        ],
                    )
                ]
            ),
        )
        with app_role(practice.org) as cursor:
            services.remittance_post(import_id=imp.pk, today=today())
            cursor.execute("SELECT current_user, count(*) FROM denials_remittanceline")
            user, count = cursor.fetchone()
        assert user == settings.DATABASE_APP_ROLE and count == 1
        assert LineBalance.objects.get().paid == D("100")
