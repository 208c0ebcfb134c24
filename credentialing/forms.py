from __future__ import annotations

from typing import Any

from django import forms

from credentialing import models
from credentialing.selectors import MATRIX_FILTERS
from credentialing.services import (
    CREDENTIAL_FIELDS,
    ENROLLMENT_DATES,
    ENROLLMENT_FIELDS,
    FACILITY_FIELDS,
    PAYER_RULE_FIELDS,
    PROVIDER_FIELDS,
)
from patients.models import Payer
from rcm.form_fields import DATE, tenant_choice
from rcm.tenancy.models import Membership, User


class ProviderForm(forms.ModelForm):
    supervising_provider = tenant_choice(
        models.Provider,
        required=False,
        help_text="For pre-licensure clinicians who bill under a licensed supervisor.",
    )

    class Meta:
        model = models.Provider
        fields = list(PROVIDER_FIELDS)
        widgets = {"active_from": DATE, "active_until": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supervisors = models.Provider.objects.exclude(provider_type__in=["lmsw"])
        if self.instance.pk:
            supervisors = supervisors.exclude(pk=self.instance.pk)
        self.fields["supervising_provider"].queryset = supervisors  # type: ignore[attr-defined]
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=Membership.objects.values("user_id")
        )
        self.fields["user"].label = "Parity account"


class CredentialForm(forms.ModelForm):
    class Meta:
        model = models.Credential
        fields = list(CREDENTIAL_FIELDS)
        widgets = dict.fromkeys(("issued_on", "expires_on", "verified_on", "attested_on"), DATE)


class FacilityForm(forms.ModelForm):
    class Meta:
        model = models.ServiceFacility
        fields = list(FACILITY_FIELDS)


class EnrollmentForm(forms.ModelForm):
    payer = tenant_choice(Payer)
    service_facility = tenant_choice(models.ServiceFacility, required=False)

    class Meta:
        model = models.PayerEnrollment
        fields = ["payer", *ENROLLMENT_FIELDS]
        widgets = dict.fromkeys(ENROLLMENT_DATES, DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "payer" in self.fields:
            self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]
            self.fields["service_facility"].queryset = models.ServiceFacility.objects.filter(  # type: ignore[attr-defined]
                is_active=True
            )
            self.fields["service_facility"].help_text = "Only where the payer enrols by location."
        self.fields["notes"].widget.attrs["rows"] = 3

    def validate_unique(self) -> None:
        """The service reports a duplicate with a clearer message."""


class EnrollmentEditForm(EnrollmentForm):
    payer = None  # type: ignore[assignment]
    service_facility = None  # type: ignore[assignment]
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the history."
    )

    class Meta(EnrollmentForm.Meta):
        fields = [f for f in EnrollmentForm.Meta.fields if f not in {"payer", "service_facility"}]


class PayerRuleForm(forms.ModelForm):
    payer = tenant_choice(Payer)

    class Meta:
        model = models.PayerProviderRule
        fields = list(PAYER_RULE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]

    def validate_unique(self) -> None:
        """The service reports a duplicate rule itself."""


class RosterFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"})
    )
    provider_type = forms.ChoiceField(
        required=False, label="Type", choices=[("", "Any type"), *models.ProviderType.choices]
    )
    show = forms.ChoiceField(
        required=False,
        choices=[("active", "Active"), ("inactive", "Inactive"), ("all", "All")],
    )


class MatrixFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label="Show", choices=MATRIX_FILTERS)
    provider_type = forms.ChoiceField(
        required=False, label="Type", choices=[("", "Any type"), *models.ProviderType.choices]
    )
    q = forms.CharField(
        required=False, label="Provider", widget=forms.TextInput(attrs={"type": "search"})
    )


class PipelineFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Every status"), *models.EnrollmentStatus.choices]
    )
    payer = tenant_choice(Payer, required=False, empty_label="Every payer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]


class BillabilityForm(forms.Form):
    payer = tenant_choice(Payer)
    date_of_service = forms.DateField(widget=DATE)
    service_code = forms.CharField(required=False, max_length=10, help_text="CPT/HCPCS, e.g. 90837")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]
