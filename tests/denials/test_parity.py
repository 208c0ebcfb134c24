"""Parity flags: outpatient authorization/medical-necessity denials, and a payer whose denial
rate is far above the organization's other payers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from claims.models import Claim
from denials import selectors
from patients import services as patients_services
from rcm import part2
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import admitted
from tests.clock import days_ago, today, years_ago
from tests.denials.test_posting import post
from tests.denials.x835 import Clp, Svc, build_835

D = Decimal
# Work done with the Part 2 grant: these tests are about the queue, not 42 CFR Part 2.
GRANTED = frozenset({part2.GRANT})
pytestmark = pytest.mark.django_db


def _post_claim(practice, claim, *, denied: bool, trace: str, carc: str = "50"):
    with tenant_context(practice.org):
        lines = list(claim.lines.order_by("line_number"))
    svcs = [
        Svc(
            "90834",
            D("150"),
            D("0") if denied else D("150"),
            lcn=line.line_control_number,
            cas=[("CO", carc, D("150"))] if denied else [],
        )
        for line in lines
    ]
    total_paid = sum((s.paid for s in svcs), D("0"))
    post(
        practice.org,
        build_835(
            [Clp(claim.patient_control_number, "1", D("150") * len(svcs), total_paid, lines=svcs)],
            trace=trace,
        ),
    )


def test_a_payer_denying_far_more_than_the_others_is_flagged_with_its_rates(practice, submitted):
    blue_claim = submitted(days=10, start=admitted())
    other_claim = submitted(days=10, start=admitted() + timedelta(days=1))
    with tenant_context(practice.org):
        other = patients_services.payer_create(
            name="Green Plan", payer_id="GP1", payer_type="commercial"
        )
        Claim.objects.filter(pk=other_claim.pk).update(payer=other)
    _post_claim(practice, blue_claim, denied=True, trace="B1", carc="96")
    _post_claim(practice, other_claim, denied=False, trace="G1")
    with tenant_context(practice.org):
        flags = selectors.parity_flags(today=today(), scopes=GRANTED)
    rate = [f for f in flags if f.kind == "denial_rate"]
    assert len(rate) == 1 and rate[0].payer_name == "Blue Plan"
    assert "denied 10 of 10" in rate[0].evidence and "0% (0 of 10)" in rate[0].evidence
    # CARC 96 is a coverage denial, not authorization or medical necessity: no NQTL flag.
    assert not [f for f in flags if f.kind == "nqtl_denial"]


def test_outpatient_medical_necessity_denials_are_flagged_and_exported(practice, submitted):
    claim = submitted()
    _post_claim(practice, claim, denied=True, trace="B1", carc="50")
    with tenant_context(practice.org):
        (flag,) = selectors.parity_flags(today=today(), scopes=GRANTED)
        rows = selectors.parity_packet_rows(today=today(), scopes=GRANTED)
    assert flag.kind == "nqtl_denial" and "medical necessity" in flag.evidence
    assert rows[0]["claim"] == claim.patient_control_number and rows[0]["reason"] == "CO-50"


def test_residential_denials_are_not_outpatient_parity_flags(practice, submitted):
    claim = submitted()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=claim.pk).update(level="3.5")
    _post_claim(practice, claim, denied=True, trace="B1", carc="50")
    with tenant_context(practice.org):
        assert selectors.parity_flags(today=today(), scopes=GRANTED) == []


def test_a_payer_reviewing_stays_far_more_often_than_the_others_is_flagged(org):
    from authorizations.models import ConcurrentReview
    from tests.authorizations.factories import make_authorization
    from tests.patients.factories import CoverageFactory, EpisodeFactory, PayerFactory

    with tenant_context(org):
        strict, lenient = (
            PayerFactory(organization=org, name="Strict Plan"),
            PayerFactory(organization=org, name="Easy Plan"),
        )
    for payer, reviews in ((strict, 4), (strict, 4), (lenient, 1), (lenient, 1)):
        with tenant_context(org):
            episode = EpisodeFactory(organization=org, admission_date=days_ago(90))
            coverage = CoverageFactory(
                organization=org, patient=episode.patient, payer=payer, effective_date=years_ago(1)
            )
        start = days_ago(60)  # a 14-day stay within the last year
        auth = make_authorization(
            org,
            episode=episode,
            coverage=coverage,
            start_date=start,
            end_date=start + timedelta(days=13),
            requested_on=start - timedelta(days=2),
            decided_on=start - timedelta(days=1),
        )
        with tenant_context(org):
            for i in range(reviews):
                ConcurrentReview.objects.create(
                    authorization=auth,
                    review_type="concurrent",
                    scheduled_on=start + timedelta(days=1 + 3 * i),
                )
    with tenant_context(org):
        flags = [
            f
            for f in selectors.parity_flags(today=today(), scopes=GRANTED)
            if f.kind == "review_frequency"
        ]
    assert [f.payer_name for f in flags] == ["Strict Plan"]
    assert "8 concurrent reviews on 2 authorizations (4.0 each)" in flags[0].evidence
    assert "average 1.0" in flags[0].evidence
