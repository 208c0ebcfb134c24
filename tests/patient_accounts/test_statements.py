"""Patient statements: a run per cycle makes one statement per guarantor whose balance reaches
the minimum (none for zero, credit or under the minimum), kept as history with the lines since
the last statement, insurance paid, the amount owed, aging and the message by age; a cycle runs
once; a Part 2 line shows the organization's generic label to a guarantor other than the
patient unless the patient consented to that guarantor."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from claims.models import Claim
from patient_accounts import services, statements
from patient_accounts.models import ChargeBalance, RunStatus, Statement, StatementRun
from patients import services as patients_services
from rcm import part2
from rcm.errors import DomainError
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from tests.clock import now, today

D = Decimal
pytestmark = pytest.mark.django_db
ALL = part2.ORGANIZATION


def cycle(offset_months: int = 0) -> str:
    first = today().replace(day=1)
    month = first.month - 1 + offset_months
    return f"{first.year + month // 12:04d}-{month % 12 + 1:02d}"


def run_statements(practice, cycle_: str, on=None) -> StatementRun:
    """Start the run and let the outbox handler make it, as the worker would."""
    with tenant_context(practice.org):
        run = statements.statement_run_create(cycle=cycle_, today=on or today())
        message = OutboxMessage.objects.get(topic=statements.RUN_TOPIC, payload__run_id=str(run.pk))
    assert outbox_process(message_id=message.pk, now=now(), organization_id=practice.org.pk)
    with tenant_context(practice.org):
        run.refresh_from_db()
    return run


def set_guarantor(practice, first="Mary", last="Doe"):
    with tenant_context(practice.org):
        services.guarantor_set(
            patient=practice.patient,
            data={
                "relationship": "parent",
                "first_name": first,
                "last_name": last,
                "address_line1": "9 Oak St",
                "city": "Portland",
                "state": "OR",
                "postal_code": "97201",
            },
        )


def test_the_coinsurance_a_claim_left_is_on_the_runs_statement_and_first_billed_there(
    practice, coinsured
):
    cb = coinsured(pr=D("30.00"))
    run = run_statements(practice, cycle())
    assert run.status == RunStatus.DONE
    assert (run.accounts_total, run.accounts_done, run.statements_count) == (1, 1, 1)
    assert run.amount_total == D("30.00")
    with tenant_context(practice.org):
        (s,) = Statement.objects.filter(run=run)
        assert s.patient == practice.patient and s.amount_due == D("30.00")
        assert (
            s.guarantor_name == "Jane Doe" and s.guarantor_address["address_line1"] == "12 Elm Ave"
        )
        assert s.insurance_paid == D("80.00")
        assert s.charges[0]["balance"] == "30.00" and s.charges[0]["service"] == "90834"
        assert s.aging["0-30"] == "30.00" and s.message_level == "friendly"
        assert "Thank you" in s.message
        assert any(line["patient"] == "30.00" for line in s.lines)
        cb.refresh_from_db()
        assert cb.first_statement_on == today()
        pdf = statements.statement_pdf([s], organization=practice.org)
        assert pdf.startswith(b"%PDF")
        html = statements.statement_html([s], organization=practice.org)
        assert "$30.00" in html and "Detach and return" in html and "100 River St" in html


def test_a_cycle_runs_once_the_second_is_refused_on_cycle_and_changes_nothing(practice, coinsured):
    coinsured()
    run_statements(practice, cycle())
    with tenant_context(practice.org):
        before = (StatementRun.objects.count(), Statement.objects.count())
        with pytest.raises(DomainError) as err:
            statements.statement_run_create(cycle=cycle(), today=today())
        assert err.value.field == "cycle" and "already run" in str(err.value)
        with pytest.raises(DomainError) as err:
            statements.statement_run_create(cycle="2026-13", today=today())
        assert err.value.field == "cycle"
        assert (StatementRun.objects.count(), Statement.objects.count()) == before
        assert OutboxMessage.objects.filter(topic=statements.RUN_TOPIC).count() == 1


def test_the_handler_run_again_makes_no_second_statement(practice, coinsured):
    coinsured()
    run = run_statements(practice, cycle())
    with tenant_context(practice.org):
        statements.statement_run_execute(run_id=run.pk, now=now())
        StatementRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
        statements.statement_run_execute(run_id=run.pk, now=now())
        assert Statement.objects.filter(run=run).count() == 1


def test_a_balance_under_the_minimum_or_a_credit_gets_no_statement(practice, coinsured):
    coinsured(pr=D("4.00"))
    run = run_statements(practice, cycle())
    assert (run.accounts_total, run.statements_count, run.skipped_count) == (1, 0, 1)
    # Paid off with more than owed: a credit, again no statement.
    with tenant_context(practice.org):
        services.payment_record(
            patient=practice.patient, scopes=ALL, amount=D("10.00"), method="cash",
            received_on=today(), today=today(),
        )  # fmt: skip
    run = run_statements(practice, cycle(1))
    assert run.statements_count == 0
    with tenant_context(practice.org):
        assert Statement.objects.count() == 0


def test_the_next_statement_lists_only_the_lines_since_the_last_and_the_message_ages(
    practice, coinsured
):
    coinsured(pr=D("30.00"))
    first_day = today() - timedelta(days=70)
    run_statements(practice, cycle(-3), on=first_day)
    with tenant_context(practice.org):
        ChargeBalance.objects.update(first_statement_on=first_day)
        services.payment_record(
            patient=practice.patient, scopes=ALL, amount=D("10.00"), method="cash",
            received_on=today(), today=today(),
        )  # fmt: skip
    run = run_statements(practice, cycle())
    with tenant_context(practice.org):
        s = Statement.objects.get(run=run)
        assert s.amount_due == D("20.00") and s.previous_balance == D("30.00")
        assert [line["patient"] for line in s.lines] == ["-10.00"]
        assert s.aging["61-90"] == "20.00" and s.message_level == "past_due"
        assert s.message.startswith("Past due")


def test_a_part2_line_shows_the_generic_label_to_another_guarantor_without_consent(
    practice, coinsured
):
    cb = coinsured()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=cb.claim_id).update(is_part2=True)
    set_guarantor(practice)
    run = run_statements(practice, cycle())
    with tenant_context(practice.org):
        s = Statement.objects.get(run=run)
        assert s.part2 and s.guarantor_name == "Mary Doe"
        assert s.charges[0]["service"] == "Behavioral health services"
        html = statements.statement_html([s], organization=practice.org)
        assert "90834" not in html and "Behavioral health services" in html
        # Members without the grant do not see the statement at all.
        assert not part2.visible(Statement.objects.all(), set()).exists()


def test_a_part2_line_shows_the_service_to_the_patient_or_a_consented_guarantor(
    practice, coinsured
):
    cb = coinsured()
    with tenant_context(practice.org):
        Claim.objects.filter(pk=cb.claim_id).update(is_part2=True)
    run = run_statements(practice, cycle())  # self: the patient's own records
    with tenant_context(practice.org):
        assert Statement.objects.get(run=run).charges[0]["service"] == "90834"
    set_guarantor(practice)
    with tenant_context(practice.org):
        consent = patients_services.consent_create(
            patient=practice.patient,
            disclosing_party="Riverbend",
            recipient_class="other",
            recipient_name="mary  DOE",
            purpose="payment",
            information_scope="Statements of account",
            signed_on=today() - timedelta(days=5),
            expires_on=today() + timedelta(days=365),
        )
    run = run_statements(practice, cycle(1))
    with tenant_context(practice.org):
        assert Statement.objects.get(run=run).charges[0]["service"] == "90834"
        patients_services.consent_revoke(consent=consent)
    run = run_statements(practice, cycle(2))
    with tenant_context(practice.org):
        assert Statement.objects.get(run=run).charges[0]["service"] == "Behavioral health services"


def test_statement_settings_name_each_bad_field_and_change_nothing(practice):
    with tenant_context(practice.org):
        good = {
            "statement_cycle_day": "15",
            "statement_minimum": "10.00",
            "message_friendly": "Hi",
            "message_reminder": "Reminder",
            "message_past_due": "Past due",
            "message_final_notice": "Final",
            "part2_service_label": "Health services",
            "remit_to_address_line1": "PO Box 5",
            "remit_to_city": "Salem",
            "remit_to_state": "or",
            "remit_to_postal_code": "97301",
        }
        with pytest.raises(DomainError) as err:
            statements.statement_settings_set(
                data={**good, "statement_cycle_day": "31", "statement_minimum": "-1"}
            )
        assert {e.field for e in err.value.errors} == {"statement_cycle_day", "statement_minimum"}
        assert services.account_settings().statement_cycle_day == 1
        s = statements.statement_settings_set(data=good)
        assert (s.statement_cycle_day, s.statement_minimum, s.remit_to_state) == (15, D("10"), "OR")
        assert statements.remit_to(s, practice.org)["city"] == "Salem"


def test_each_statement_made_sends_the_statement_sent_webhook_event(practice, coinsured):
    from webhooks.models import WebhookDelivery
    from webhooks.services import endpoint_create

    with tenant_context(practice.org):
        hook = endpoint_create(
            url="https://93.184.215.14/billing-hook", event_types=["statement.sent"]
        ).endpoint
    coinsured(pr=Decimal("30.00"))
    run = run_statements(practice, cycle())
    with tenant_context(practice.org):
        (statement,) = Statement.objects.filter(run=run)
        (message,) = OutboxMessage.objects.filter(topic="patient_accounts.statement_sent")
    assert message.payload == {"statement_id": str(statement.pk)}
    assert outbox_process(message_id=message.pk, now=now(), organization_id=practice.org.pk)
    with tenant_context(practice.org):
        (delivery,) = WebhookDelivery.objects.filter(endpoint=hook)
        assert delivery.event_type == "statement.sent"
        assert delivery.payload["data"] == {
            "statement_id": str(statement.pk),
            "patient_id": str(practice.patient.pk),
            "statement_date": statement.statement_date.isoformat(),
            "amount_due": "30.00",
        }
