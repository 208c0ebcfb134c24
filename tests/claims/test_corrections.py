"""Correcting claims: lines edited or deleted (with a reason, re-scrubbed, in the history and
the audit trail) while the payer does not have the claim; replacements and voids refused with
their reason when the payer never accepted the claim, the claim is a void, a correction is
already open, or the payer's days for corrected claims have passed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from claims import services
from claims.models import Claim, ClaimEvent, ClaimStatus, EntryStatus, ServiceEntry
from rcm import part2
from rcm.audit.models import AuditEvent
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, dos
from tests.clock import days_ago, today

pytestmark = pytest.mark.django_db


def _built(practice: Practice, *minutes: int) -> Claim:
    for week, m in enumerate(minutes or (45,)):
        practice.session(m, day=dos() + timedelta(days=7 * week))
    with tenant_context(practice.org):
        (claim,) = services.claims_build(scopes=part2.ORGANIZATION, today=today()).claims
        claim.refresh_from_db()
    return claim


def _accepted(practice: Practice, number: str = "PAYER-9", status: str = "accepted") -> Claim:
    claim = _built(practice)
    with tenant_context(practice.org):
        for step in ("submitted", "accepted", *([status] if status != "accepted" else [])):
            claim = services.claim_transition(claim=claim, to_status=step)
        Claim.objects.filter(pk=claim.pk).update(payer_claim_number=number)
        claim.refresh_from_db()
    return claim


def test_a_line_edit_changes_line_and_charge_keeps_the_reason_and_rescrubs(practice):
    claim = _built(practice, 45, 45)
    assert claim.status == ClaimStatus.READY and claim.total_charge == Decimal("300.00")
    with tenant_context(practice.org):
        line = claim.lines.get(line_number=2)
        claim = services.claim_line_update(
            line=line, reason="Wrong units", units=2, charge=Decimal("120.50"), today=today()
        )
        line.refresh_from_db()
        assert (line.units, line.charge) == (2, Decimal("120.50"))
        entry = ServiceEntry.objects.get(pk=line.service_entry_id)
        assert (entry.units, entry.charge) == (2, Decimal("120.50"))
        assert claim.total_charge == Decimal("270.50")
        event = ClaimEvent.objects.filter(claim=claim).order_by("-created_at", "-pk")[0:10]
        notes = [e.note for e in event]
        assert any("Line 2 edited (units 1 → 2, charge 150.00 → 120.50): Wrong units" in n
                   for n in notes)  # fmt: skip
        audit = AuditEvent.objects.get(action="claim.line_update")
        assert (
            audit.detail["fields"] == ["charge", "units"] and audit.patient_id == claim.patient_id
        )
        # Re-scrubbed: 2 units of a 45-minute 90834 no longer match the documented time.
        assert claim.status == ClaimStatus.DRAFT and claim.findings.filter(severity="error")
        claim = services.claim_line_update(line=line, reason="Back to 1", units=1, today=today())
        assert claim.status == ClaimStatus.READY and not claim.findings.filter(severity="error")


def test_an_edit_without_a_reason_or_with_a_bad_value_changes_nothing(practice):
    claim = _built(practice)
    with tenant_context(practice.org):
        line = claim.lines.get()
        with pytest.raises(DomainError) as no_reason:
            services.claim_line_update(line=line, reason="  ", units=3, today=today())
        assert no_reason.value.field == "reason"
        for kwargs, field in (
            ({"service_code": "9083"}, "service_code"),
            ({"diagnosis_pointers": [1, 2]}, "diagnosis_pointers"),  # the claim has one
            ({"date_of_service": today() + timedelta(days=1)}, "date_of_service"),
            ({"modifiers": ["HF", "95", "GT", "HO", "U4"]}, "modifiers"),
            ({"place_of_service": "1"}, "place_of_service"),
            ({"charge": Decimal("-1")}, "charge"),
        ):
            with pytest.raises(DomainError) as refused:
                services.claim_line_update(line=line, reason="fix", today=today(), **kwargs)
            assert refused.value.field == field, kwargs
        line.refresh_from_db()
        assert (line.units, line.service_code) == (1, "90834")
        assert not AuditEvent.objects.filter(action="claim.line_update").exists()


def test_a_paid_or_submitted_claim_cannot_be_edited_the_message_says_why(practice):
    claim = _accepted(practice, status="paid")
    with tenant_context(practice.org):
        line = claim.lines.get()
        with pytest.raises(DomainError, match="is paid: its lines can be changed only") as err:
            services.claim_line_update(line=line, reason="late fix", units=2, today=today())
        assert "send a replacement claim" in err.value.message and err.value.field == "status"
        with pytest.raises(DomainError, match="is paid"):
            services.claim_line_delete(line=line, reason="late fix", today=today())
        line.refresh_from_db()
        assert line.units == 1


def test_deleting_a_line_needs_a_reason_renumbers_and_frees_or_voids_the_charge(practice):
    claim = _built(practice, 45, 45, 45)
    with tenant_context(practice.org):
        first, second, third = claim.lines.order_by("line_number")
        with pytest.raises(DomainError) as no_reason:
            services.claim_line_delete(line=first, reason="", today=today())
        assert no_reason.value.field == "reason" and claim.lines.count() == 3
        claim = services.claim_line_delete(line=first, reason="Billed twice", today=today())
        assert list(claim.lines.order_by("line_number").values_list("pk", "line_number")) == [
            (second.pk, 1),
            (third.pk, 2),
        ]
        assert claim.total_charge == Decimal("300.00")
        assert ServiceEntry.objects.get(pk=first.service_entry_id).status == EntryStatus.OPEN
        claim = services.claim_line_delete(
            line=second, reason="Never happened", void_charge=True, today=today()
        )
        assert ServiceEntry.objects.get(pk=second.service_entry_id).status == EntryStatus.VOID
        assert claim.statement_from == claim.statement_to == third.date_of_service
        third.refresh_from_db()
        with pytest.raises(DomainError, match="only line"):
            services.claim_line_delete(line=third, reason="x", today=today())
        notes = list(ClaimEvent.objects.filter(claim=claim).values_list("note", flat=True))
        assert any("deleted; its charge voided: Never happened" in n for n in notes)


def test_a_rejected_claim_goes_back_to_draft_then_ready_when_fixed(practice):
    claim = _built(practice)
    with tenant_context(practice.org):
        for step in ("submitted", "rejected"):
            claim = services.claim_transition(claim=claim, to_status=step)
        with pytest.raises(DomainError) as refused:
            services.claim_rescrub(claim=claim, today=today())
        assert refused.value.field == "reason"
        claim = services.claim_rescrub(claim=claim, today=today(), reason="Address fixed")
        assert claim.status == ClaimStatus.READY
        moves = list(
            ClaimEvent.objects.filter(claim=claim)
            .order_by("created_at", "pk")
            .values_list("from_status", "to_status")
        )
        assert ("rejected", "draft") in moves and ("draft", "ready") in moves


def test_a_replacement_of_a_claim_the_payer_never_accepted_is_refused_with_the_reason(practice):
    claim = _accepted(practice, number="")
    with tenant_context(practice.org):
        with pytest.raises(DomainError, match="never accepted") as refused:
            services.claim_correct(claim=claim, today=today())
        assert "REF*F8" in refused.value.message and refused.value.field == "payer_claim_number"
        with pytest.raises(DomainError, match="never accepted"):
            services.claim_void_with_payer(claim=claim, today=today())
        assert Claim.objects.count() == 1


def test_a_second_open_replacement_and_a_void_of_a_void_are_refused(practice):
    claim = _accepted(practice)
    with tenant_context(practice.org):
        replacement = services.claim_correct(claim=claim, today=today())
        assert replacement.payer_claim_number == ""  # its own comes with its acceptance
        with pytest.raises(
            DomainError, match=f"open 7 replacement.*{replacement.patient_control_number}"
        ):
            services.claim_correct(claim=claim, today=today())
        with pytest.raises(DomainError, match="open 7 replacement"):
            services.claim_void_with_payer(claim=claim, today=today())
        services.claim_transition(claim=replacement, to_status="void", note="not needed")
        void = services.claim_void_with_payer(claim=claim, today=today())
        for step in ("submitted", "accepted"):
            void = services.claim_transition(claim=void, to_status=step) if step != "submitted" \
                else _submitted(void)  # fmt: skip
        Claim.objects.filter(pk=void.pk).update(payer_claim_number="PAYER-10")
        void.refresh_from_db()
        with pytest.raises(DomainError, match="is a void claim"):
            services.claim_correct(claim=void, today=today())
        with pytest.raises(DomainError, match="accepted void claim"):
            services.claim_correct(claim=claim, today=today())


def _submitted(claim: Claim) -> Claim:
    services.claims_scrub(claim_ids=[claim.pk], today=today())
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY, list(claim.findings.values_list("message", flat=True))
    return services.claim_transition(claim=claim, to_status="submitted")


def test_the_payers_days_for_corrected_claims_are_enforced_and_named(practice):
    claim = _accepted(practice)
    with tenant_context(practice.org):
        with pytest.raises(DomainError, match="1 to 3650"):
            services.payer_billing_rule_create(
                payer=practice.payer, rule_type="corrected_claim_days", value="0"
            )
        services.payer_billing_rule_create(
            payer=practice.payer, rule_type="corrected_claim_days", value="60"
        )
        ClaimEvent.objects.filter(claim=claim, to_status="accepted").update(
            created_at=_noon(days_ago(61))
        )
        with pytest.raises(DomainError, match="within 60 days of its decision") as refused:
            services.claim_correct(claim=claim, today=today())
        assert str(days_ago(1)) in refused.value.message  # the day the limit passed
        ClaimEvent.objects.filter(claim=claim, to_status="accepted").update(
            created_at=_noon(days_ago(59))
        )
        assert services.claim_correct(claim=claim, today=today()).frequency == "7"


def _noon(day: Any) -> Any:
    from tests.claims.conftest import at

    return at(day, 12)
