"""Forms of the authorization pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from authorizations.models import (
    Authorization,
    AuthorizationStatus,
    ReviewOutcome,
    ReviewType,
    UnitType,
)
from authorizations.services import AUTH_FORM_FIELDS
from patients.levels import LevelOfCare
from patients.models import Coverage, EpisodeOfCare
from rcm.form_fields import DATE
from rcm.tenancy.selectors import members_with_scope

EXPIRING_CHOICES = [
    ("", "Any end date"),
    ("1", "Ending within 1 day"),
    ("3", "Within 3 days"),
    ("7", "Within 7 days"),
    ("14", "Within 14 days"),
    ("30", "Within 30 days"),
]


class AuthorizationFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", help_text="Auth number, last name or MRN")
    expiring_within = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=EXPIRING_CHOICES, label="Expiring"
    )
    payer = forms.ChoiceField(required=False, choices=[])
    level = forms.ChoiceField(required=False, choices=[("", "Any level"), *LevelOfCare.choices])
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *AuthorizationStatus.choices]
    )

    def __init__(self, *args: Any, payers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].choices = [("", "Any payer"), *payers]  # type: ignore[attr-defined]


class _ReviewerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.email


def _reviewers() -> Any:
    return members_with_scope("authorizations:write")


class _CoverageField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.payer.name} · member {obj.member_id} ({obj.get_priority_display().lower()})"


class AuthorizationForm(forms.ModelForm):
    service_codes = forms.CharField(
        required=False, help_text="Space or comma separated, e.g. H0018 H2036; empty covers any"
    )
    # Declared here (not taken from the model) so no tenant queryset is built at import time.
    coverage = _CoverageField(queryset=None)  # type: ignore[arg-type]
    assigned_to = _ReviewerField(queryset=None, required=False, label="Utilization reviewer")  # type: ignore[arg-type]

    field_order = ["coverage"]

    class Meta:
        model = Authorization
        fields = list(AUTH_FORM_FIELDS)
        widgets = {
            "start_date": DATE,
            "end_date": DATE,
            "requested_on": DATE,
            "decided_on": DATE,
            "reference_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, patient_id: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coverages = Coverage.objects.select_related("payer").order_by("priority")
        if patient_id:
            coverages = coverages.filter(patient_id=patient_id)
        self.fields["coverage"].queryset = coverages  # type: ignore[attr-defined]
        self.fields["assigned_to"].queryset = _reviewers()  # type: ignore[attr-defined]
        if self.instance.pk:
            self.initial.setdefault("coverage", self.instance.coverage_id)
            self.initial.setdefault("assigned_to", self.instance.assigned_to_id)
            self.initial["service_codes"] = " ".join(self.instance.service_codes or [])

    def clean_service_codes(self) -> list[str]:
        raw = self.cleaned_data.get("service_codes") or ""
        return [c for c in raw.replace(",", " ").split() if c]

    def _post_clean(self) -> None:
        # The services validate the whole authorization (with clear messages); skip model checks.
        pass


class _EpisodeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.patient} · {obj.get_program_type_display()} from {obj.admission_date}"


class NewAuthorizationForm(AuthorizationForm):
    episode = _EpisodeField(queryset=None)  # type: ignore[arg-type]
    status = forms.ChoiceField(
        choices=[
            (AuthorizationStatus.REQUESTED, "Requested"),
            (AuthorizationStatus.PENDING, "Pending payer decision"),
            (AuthorizationStatus.APPROVED, "Approved"),
            (AuthorizationStatus.PARTIAL, "Partially approved"),
        ]
    )
    next_review_on = forms.DateField(required=False, widget=DATE, label="Next concurrent review")

    field_order = ["episode", "coverage", "status"]

    def __init__(self, *args: Any, episodes: QuerySet[EpisodeOfCare], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The caller's choices come from authorizations.selectors.episode_choices (42 CFR Part 2:
        # no SUD episode in the dropdown of a member without the grant).
        self.fields["episode"].queryset = episodes  # type: ignore[attr-defined]
        self.fields["coverage"].queryset = self.fields["coverage"].queryset.select_related(  # type: ignore[attr-defined]
            "patient"
        )
        self.fields["requested_on"].required = False


class DecideForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (AuthorizationStatus.APPROVED, "Approved"),
            (AuthorizationStatus.PARTIAL, "Partially approved"),
            (AuthorizationStatus.DENIED, "Denied"),
            (AuthorizationStatus.PENDING, "Pending (payer asked for more information)"),
        ]
    )
    decided_on = forms.DateField(widget=DATE)
    units_approved = forms.IntegerField(required=False, min_value=0)
    auth_number = forms.CharField(required=False, max_length=50, label="Payer authorization number")
    end_date = forms.DateField(required=False, widget=DATE, help_text="If the payer changed it")
    approval_note = forms.CharField(required=False, max_length=300)
    overlap_reason = forms.CharField(required=False, max_length=300)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ReviewScheduleForm(forms.Form):
    review_type = forms.ChoiceField(choices=ReviewType.choices)
    scheduled_on = forms.DateField(widget=DATE)
    reviewer = forms.CharField(required=False, max_length=120, label="Payer reviewer")


class ReviewCompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices)
    completed_on = forms.DateField(widget=DATE)
    new_end_date = forms.DateField(required=False, widget=DATE, label="New end date (extension)")
    added_units = forms.IntegerField(required=False, min_value=1, label="Units added (extension)")
    reviewer = forms.CharField(required=False, max_length=120, label="Payer reviewer")
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_review_on = forms.DateField(required=False, widget=DATE, label="Next review")


class UsageForm(forms.Form):
    date_of_service = forms.DateField(widget=DATE)
    units = forms.IntegerField(min_value=1)
    unit_type = forms.ChoiceField(choices=UnitType.choices)
    service_code = forms.CharField(required=False, max_length=10)


class SettingsForm(forms.Form):
    expiry_alert_days = forms.CharField(
        label="Alert when ending within (days)", help_text="Comma separated, e.g. 7, 3, 1"
    )
    low_units_percent = forms.IntegerField(
        label="Alert below this % of units remaining", min_value=1, max_value=99
    )
    default_assignee = _ReviewerField(queryset=None, required=False)  # type: ignore[arg-type]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_assignee"].queryset = _reviewers()  # type: ignore[attr-defined]

    def clean_expiry_alert_days(self) -> list[int]:
        raw = self.cleaned_data["expiry_alert_days"]
        try:
            return [int(x) for x in raw.replace(",", " ").split()]
        except ValueError as exc:
            raise forms.ValidationError("Whole numbers of days, e.g. 7, 3, 1.") from exc
