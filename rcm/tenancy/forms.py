from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import API_KEY_SCOPES, SCOPES, Role
from rcm.tenancy.services import ORGANIZATION_SETTINGS_FIELDS


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class OrganizationSettingsForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ORGANIZATION_SETTINGS_FIELDS

    def clean_group_npi(self) -> str:
        value = self.cleaned_data["group_npi"].strip()
        if value and (len(value) != 10 or not value.isdigit()):
            raise forms.ValidationError("A group NPI is 10 digits.")
        return value

    def clean_tax_id(self) -> str:
        value = self.cleaned_data["tax_id"].strip().replace("-", "")
        if value and (len(value) != 9 or not value.isdigit()):
            raise forms.ValidationError("An EIN is 9 digits (12-3456789).")
        return value

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    part2_access = forms.BooleanField(
        required=False, label="42 CFR Part 2 access (substance use records)"
    )
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Only for a person who has no Parity account yet: their initial password.",
    )


class MemberEditForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    part2_access = forms.BooleanField(
        required=False, label="42 CFR Part 2 access (substance use records)"
    )
    is_active = forms.BooleanField(
        required=False, label="Active (may sign in to this organization)"
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which system uses it, e.g. 'EHR nightly sync'."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(s, f"{s} — {SCOPES[s]}") for s in API_KEY_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. The key stops working then.",
    )
