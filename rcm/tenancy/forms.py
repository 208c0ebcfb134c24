from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import API_KEY_SCOPES, LEAST_PRIVILEGED_ROLE, SCOPES, Role
from rcm.tenancy.rules import billing_identity_errors
from rcm.tenancy.services import ORGANIZATION_SETTINGS_FIELDS
from x12.identifiers import normalize_ein


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class OrganizationSettingsForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ORGANIZATION_SETTINGS_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a post, the policy stays as it is (a form posting other settings only).
        self.fields["two_factor_policy"].required = False
        self.fields["eligibility_raw_retention_days"].required = False
        self.fields["two_factor_policy"].help_text = (
            "They set up an authenticator app before reaching this organization. A "
            "billing-company user is a member of more than one organization."
        )

    def clean_eligibility_raw_retention_days(self) -> int:
        value = self.cleaned_data["eligibility_raw_retention_days"]
        return self.instance.eligibility_raw_retention_days if value is None else value

    def clean_two_factor_policy(self) -> str:
        return self.cleaned_data["two_factor_policy"] or self.instance.two_factor_policy

    def clean_tax_id(self) -> str:
        return normalize_ein(self.cleaned_data["tax_id"])

    def clean_taxonomy_code(self) -> str:
        return self.cleaned_data["taxonomy_code"].strip().upper()

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def clean_pay_to_state(self) -> str:
        return self.cleaned_data["pay_to_state"].strip().upper()

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for field, message in billing_identity_errors(data):
            if field in data:
                self.add_error(field, message)
        return data


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=LEAST_PRIVILEGED_ROLE)
    part2_access = forms.BooleanField(
        required=False, label="42 CFR Part 2 access (substance use records)"
    )
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Only for a person who has no Parity account yet: their initial password.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=Role.choices, initial=LEAST_PRIVILEGED_ROLE)
    part2_access = forms.BooleanField(
        required=False, label="42 CFR Part 2 access (substance use records)"
    )


class AcceptInvitationForm(forms.Form):
    """A person without an account accepts an invitation: their name and a password."""

    first_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common or all-numeric password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if (
            data.get("password1")
            and data.get("password2")
            and data["password1"] != data["password2"]
        ):
            self.add_error("password2", "The two passwords differ.")
        return data


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
