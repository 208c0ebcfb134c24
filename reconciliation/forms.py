from __future__ import annotations

from typing import Any

from django import forms

from reconciliation.models import BankAccount, UnderpaymentOutcome


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)


class StatementUploadForm(forms.Form):
    file = forms.FileField(label="Bank statement (BAI2 or CSV)")
    bank_account = forms.ModelChoiceField(
        queryset=BankAccount.all_tenants.none(),  # the view sets the tenant's accounts
        required=False,
        label="Bank account",
        help_text="Needed for a CSV (read through the account's column mapping); a BAI2 file "
        "names its accounts.",
    )

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = accounts  # type: ignore[attr-defined]


class BankAccountForm(forms.ModelForm):
    class Meta:
        model = BankAccount
        fields = [
            "name",
            "bank_name",
            "account_number",
            "csv_date_column",
            "csv_date_format",
            "csv_amount_column",
            "csv_type_column",
            "csv_reference_column",
        ]
        labels = {
            "account_number": "Account number (as the bank's BAI2 files give it)",
            "csv_date_column": "CSV: date column",
            "csv_date_format": "CSV: date format (e.g. %m/%d/%Y)",
            "csv_amount_column": "CSV: amount column",
            "csv_type_column": "CSV: type column",
            "csv_reference_column": "CSV: reference / description column (holds the TRN trace)",
        }


class MatchForm(forms.Form):
    deposits = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    payments = forms.MultipleChoiceField(
        label="ERAs", choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the totals differ.",
    )

    def __init__(self, *args: Any, deposits: list[Any], payments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deposits"].choices = [(str(d.pk), str(d.pk)) for d in deposits]  # type: ignore[attr-defined]
        self.fields["payments"].choices = [(str(p.pk), str(p.pk)) for p in payments]  # type: ignore[attr-defined]


class UnmatchForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class SettingsForm(forms.Form):
    era_without_deposit_days = forms.IntegerField(
        label="Queue an ERA without a deposit after (days)", min_value=1, max_value=90
    )
    suggestion_window_days = forms.IntegerField(
        label="Suggest ERAs dated within (days) of a deposit", min_value=0, max_value=30
    )


class UnderpaymentSearchForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=100, help_text="Code, payer, claim, name, $"
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "All"), *UnderpaymentOutcome.choices],
    )


class UnderpaymentResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[c for c in UnderpaymentOutcome.choices if c[0] != UnderpaymentOutcome.OPEN]
    )
    recovered_amount = forms.DecimalField(
        label="Recovered amount",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="Only when recovered: what the payer paid back (at most the variance).",
    )
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ToleranceForm(forms.Form):
    underpayment_tolerance_amount = forms.DecimalField(
        label="Underpayment tolerance ($)", max_digits=12, decimal_places=2
    )
    underpayment_tolerance_percent = forms.DecimalField(
        label="Underpayment tolerance (% of the expected payment)", max_digits=5, decimal_places=2
    )
