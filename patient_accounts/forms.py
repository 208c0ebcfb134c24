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
