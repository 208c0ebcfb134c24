from __future__ import annotations

from typing import Any

from django import forms

from patient_accounts.models import PaymentMethod, Relationship


class GuarantorForm(forms.Form):
    relationship = forms.ChoiceField(choices=Relationship.choices)
    first_name = forms.CharField(max_length=35, required=False)
    last_name = forms.CharField(max_length=60, required=False)
    address_line1 = forms.CharField(label="Address", max_length=55, required=False)
    address_line2 = forms.CharField(label="Address (line 2)", max_length=55, required=False)
    city = forms.CharField(max_length=30, required=False)
    state = forms.CharField(max_length=2, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    phone = forms.CharField(max_length=20, required=False)


class PaymentForm(forms.Form):
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    check_number = forms.CharField(max_length=30, required=False)
    processor_reference = forms.CharField(
        max_length=80, required=False, help_text="The card processor's transaction reference."
    )
    card_last_four = forms.CharField(
        label="Card: last four digits",
        # Longer than four so that a card number typed here gets the service's own refusal.
        max_length=30,
        required=False,
        help_text="Only the last four digits: never the card number.",
    )
    placement = forms.ChoiceField(label="Collection placement", required=False)
    charge = forms.ChoiceField(
        label="Apply to", required=False, help_text="Oldest balances first, or one charge."
    )
    allocation_amount = forms.DecimalField(
        label="Amount to that charge", max_digits=12, decimal_places=2, required=False
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, charges: Any = (), placement: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        charge_field = self.fields["charge"]
        placement_field = self.fields["placement"]
        assert isinstance(charge_field, forms.ChoiceField)
        assert isinstance(placement_field, forms.ChoiceField)
        charge_field.choices = [("", "Oldest open balances first")] + [
            (str(cb.pk), f"{cb.procedure_code} on {cb.date_of_service}: ${cb.balance}")
            for cb in charges
        ]
        placement_field.choices = [("", "—")] + (
            [(str(placement.pk), f"{placement.agency_name} ({placement.placed_on})")]
            if placement
            else []
        )


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)
    reason = forms.CharField(max_length=200)


class RefundRecordForm(forms.Form):
    recorded_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=80, required=False)


class PlacementForm(forms.Form):
    agency_name = forms.CharField(max_length=120)
    placed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class SmallBalanceForm(forms.Form):
    small_balance_limit = forms.DecimalField(
        label="Write off balances under ($)", max_digits=7, decimal_places=2, min_value=0
    )


class StatementRunForm(forms.Form):
    cycle = forms.CharField(
        max_length=7, help_text="The month of the cycle, YYYY-MM. Each cycle runs once."
    )


class StatementSettingsForm(forms.Form):
    statement_cycle_day = forms.IntegerField(
        label="Cycle day",
        min_value=1,
        max_value=28,
        help_text="The day of the month statements run.",
    )
    statement_minimum = forms.DecimalField(
        label="Minimum balance",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="A guarantor owing less gets no statement.",
    )
    message_friendly = forms.CharField(label="Message, 0-30 days", max_length=300)
    message_reminder = forms.CharField(label="Message, 31-60 days (reminder)", max_length=300)
    message_past_due = forms.CharField(label="Message, 61-90 days (past due)", max_length=300)
    message_final_notice = forms.CharField(
        label="Message, over 90 days (final notice)", max_length=300
    )
    part2_service_label = forms.CharField(
        label="Service label for 42 CFR Part 2 lines",
        max_length=100,
        help_text="Shown instead of the service to a guarantor other than the patient without consent.",
    )
    remit_to_name = forms.CharField(label="Remit to (name)", max_length=200, required=False)
    remit_to_address_line1 = forms.CharField(
        label="Remit-to address", max_length=55, required=False,
        help_text="Leave blank to use the organization's address.",
    )  # fmt: skip
    remit_to_address_line2 = forms.CharField(
        label="Remit-to address (line 2)", max_length=55, required=False
    )
    remit_to_city = forms.CharField(label="Remit-to city", max_length=30, required=False)
    remit_to_state = forms.CharField(label="Remit-to state", max_length=2, required=False)
    remit_to_postal_code = forms.CharField(label="Remit-to ZIP code", max_length=9, required=False)
