from __future__ import annotations

from typing import Any

from django import forms

from patients.levels import FACILITY_LEVELS, LevelOfCare
from patients.models import (
    Consent,
    Coverage,
    Patient,
    Payer,
    ProgramType,
    VerificationMethod,
)
from patients.services import (
    BENEFIT_FIELDS,
    CONSENT_FIELDS,
    COVERAGE_FIELDS,
    PATIENT_FIELDS,
    PAYER_FIELDS,
    PAYER_RULE_FIELDS,
)
from rcm.form_fields import DATE, tenant_choice, use_837_cleaners
from rcm.validators import PATIENT_CLEANERS, PAYER_CLEANERS, SUBSCRIBER_NAME_CLEANERS


def _date_widgets(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names, DATE)


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        widgets = _date_widgets("date_of_birth")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_837_cleaners(self, PATIENT_CLEANERS)


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", help_text="Name, MRN, date of birth or member id"
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            ("active", "Active"),
            ("inactive", "Inactive"),
            ("deceased", "Deceased"),
        ],
    )


class PayerForm(forms.ModelForm):
    auth_required_levels = forms.MultipleChoiceField(
        choices=LevelOfCare.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Levels of care that need prior authorization",
    )
    auth_required_codes = forms.CharField(
        required=False,
        label="Service codes that need prior authorization",
        help_text="Comma-separated CPT/HCPCS codes, e.g. 90837, H0015",
    )
    institutional_levels = forms.MultipleChoiceField(
        choices=LevelOfCare.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Levels billed on the 837I (institutional)",
        help_text="Other levels use the default claim form.",
    )

    class Meta:
        model = Payer
        fields = [f for f in PAYER_FIELDS if f not in PAYER_RULE_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_837_cleaners(self, PAYER_CLEANERS)
        payer = self.instance
        if payer.pk:
            self.initial["auth_required_levels"] = payer.auth_required_levels
            self.initial["auth_required_codes"] = ", ".join(payer.auth_required_codes)
            self.initial["institutional_levels"] = [
                k for k, v in payer.claim_form_by_level.items() if v == "837I"
            ]
        else:
            self.initial["institutional_levels"] = sorted(FACILITY_LEVELS)

    def service_data(self) -> dict[str, Any]:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["auth_required_levels"] = self.cleaned_data["auth_required_levels"]
        data["auth_required_codes"] = [
            c.strip() for c in self.cleaned_data["auth_required_codes"].split(",") if c.strip()
        ]
        data["claim_form_by_level"] = dict.fromkeys(
            self.cleaned_data["institutional_levels"], "837I"
        )
        return data


class CoverageForm(forms.ModelForm):
    payer = tenant_choice(Payer)

    class Meta:
        model = Coverage
        fields = list(COVERAGE_FIELDS)
        widgets = _date_widgets("effective_date", "termination_date", "subscriber_date_of_birth")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_837_cleaners(self, SUBSCRIBER_NAME_CLEANERS)
        self.fields["payer"].queryset = Payer.objects.filter(is_active=True)  # type: ignore[attr-defined]


class VerificationForm(forms.Form):
    method = forms.ChoiceField(choices=VerificationMethod.choices)
    reference_number = forms.CharField(max_length=80, required=False)
    payer_representative = forms.CharField(max_length=80, required=False)
    is_active_coverage = forms.BooleanField(
        required=False, initial=True, label="Coverage confirmed active"
    )
    copay = forms.DecimalField(max_digits=10, decimal_places=2, required=False)
    coinsurance_percent = forms.DecimalField(
        max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
    )
    deductible = forms.DecimalField(max_digits=10, decimal_places=2, required=False)
    deductible_met = forms.DecimalField(max_digits=10, decimal_places=2, required=False)
    visit_limit = forms.IntegerField(required=False, min_value=0)
    day_limit = forms.IntegerField(required=False, min_value=0)
    auth_required = forms.NullBooleanField(
        required=False, label="Authorization required (per payer)"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        benefits = {k: data.pop(k) for k in BENEFIT_FIELDS if data.get(k) is not None}
        for k in BENEFIT_FIELDS:
            data.pop(k, None)
        return {**data, "benefits": benefits}


class EpisodeOpenForm(forms.Form):
    program_type = forms.ChoiceField(choices=ProgramType.choices)
    admission_date = forms.DateField(widget=DATE)
    level = forms.ChoiceField(choices=LevelOfCare.choices, label="Level of care at admission")
    referral_source = forms.CharField(max_length=120, required=False)
    diagnosis = forms.CharField(
        max_length=8, required=False, label="Primary diagnosis (ICD-10-CM)", help_text="e.g. F10.20"
    )
    clinical_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, program_types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # From patients.selectors.program_type_choices: 42 CFR Part 2 narrows them.
        self.fields["program_type"].choices = program_types  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    level = forms.ChoiceField(choices=LevelOfCare.choices, label="New level of care")
    on_date = forms.DateField(widget=DATE, label="First day at the new level")
    reason = forms.CharField(max_length=200, required=False)
    clinical_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the new level is medically necessary (payers ask at review).",
    )
    end_current_on = forms.DateField(
        widget=DATE,
        required=False,
        label="Last day at the current level",
        help_text="Defaults to the day before.",
    )
    allow_gap = forms.BooleanField(required=False, label="Allow days with no level of care")
    allow_overlap = forms.BooleanField(required=False, label="Allow both levels on the same day")


class DischargeForm(forms.Form):
    discharge_date = forms.DateField(widget=DATE)
    reason = forms.CharField(max_length=200, required=False)


class DiagnosisForm(forms.Form):
    code = forms.CharField(max_length=8, label="ICD-10-CM code", help_text="e.g. F33.1")
    is_primary = forms.BooleanField(required=False, label="Primary diagnosis")
    effective_from = forms.DateField(
        widget=DATE, required=False, help_text="Defaults to the admission date."
    )


class ConsentForm(forms.ModelForm):
    recipient_payer = tenant_choice(Payer, required=False, help_text="For 'a named payer'")

    class Meta:
        model = Consent
        fields = list(CONSENT_FIELDS)
        widgets = {
            **_date_widgets("signed_on", "expires_on"),
            "information_scope": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient_payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]


class ConsentRevokeForm(forms.Form):
    note = forms.CharField(
        max_length=200, required=False, label="How the patient revoked (optional)"
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, one row per patient and coverage; header as in the template.",
    )
