"""Coverage a 271 ended blocks claims for dates after its end (issue 21, item 2): the build
names the coverage and its end date; a charge on or before the end still becomes a claim; a claim
built before the answer came is scrubbed again and held by the "coverage ended" finding."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from claims import services
from claims.models import Claim, ClaimStatus
from patients import services as patients_services
from patients.models import Coverage
from rcm import part2
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, dos
from tests.clock import now

SAMPLE = Path(__file__).parent.parent / "x12" / "samples" / "271-handwritten"


def answer_inactive(coverage: Coverage, ended_on: date, trace: str = "EQ-END-1") -> None:
    """A 271 saying the coverage is inactive since `ended_on`, applied to a 270 we sent."""
    patients_services.eligibility_request_create(
        coverage=coverage, trace_number=trace, raw_request="ISA*270", now=now() - timedelta(hours=1)
    )
    raw = (
        (SAMPLE / "dependent_inactive.271")
        .read_text()
        .replace("EQ-2026-000418", trace)
        .replace("W555000111", coverage.member_id)
        .replace("DTP*356*D8*20240101", f"DTP*356*D8*{coverage.effective_date:%Y%m%d}")
        .replace("DTP*357*D8*20261031", f"DTP*357*D8*{ended_on:%Y%m%d}")
    )
    patients_services.eligibility_response_apply(raw=raw, now=now())


def test_a_271_ending_coverage_blocks_a_claim_dated_after_it(practice: Practice) -> None:
    ended_on = dos() + timedelta(days=3)
    with tenant_context(practice.org):
        answer_inactive(practice.coverage, ended_on)
    on_the_end = practice.session(45, day=ended_on)
    after = practice.session(45, day=ended_on + timedelta(days=4))
    with tenant_context(practice.org):
        report = services.claims_build(scopes=part2.ORGANIZATION, today=dos() + timedelta(days=10))
        claim = Claim.objects.get()
        assert [line.service_entry_id for line in claim.lines.all()] == [on_the_end.pk]
    assert report.skipped == {
        str(after.pk): f"Coverage with Blue Plan (member W1) ended on {ended_on}: no claim for "
        f"{ended_on + timedelta(days=4)}. Verify eligibility and add the coverage in force on "
        "that date."
    }


def test_a_claim_built_before_the_answer_is_held_by_the_coverage_ended_finding(
    practice: Practice,
) -> None:
    practice.session(45, day=dos())
    with tenant_context(practice.org):
        services.claims_build(scopes=part2.ORGANIZATION, today=dos() + timedelta(days=10))
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.READY
        ended_on = dos() - timedelta(days=2)
        answer_inactive(practice.coverage, ended_on)
        message = OutboxMessage.objects.get(topic=patients_services.COVERAGE_ENDED_TOPIC)
    assert outbox_process(message_id=message.pk, now=now(), organization_id=practice.org.pk)
    with tenant_context(practice.org):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.DRAFT
        finding = claim.findings.get(rule="coverage_inactive")
    assert finding.message.startswith(f"Coverage with Blue Plan ended on {ended_on}: not active")
