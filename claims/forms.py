from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from claims import selectors
from claims.models import (
    CARE_PROGRAMS,
    SERVICE_KINDS,
    TELEHEALTH,
    ClaimStatus,
    PayerBillingRuleType,
)
from credentialing.models import Provider, ServiceFacility
from patients.levels import LevelOfCare
from patients.models import EpisodeDiagnosis, EpisodeOfCare, Payer
from rcm.form_fields import DATE, TIME, tenant_choice


class ChargeForm(forms.Form):
    episode = tenant_choice(EpisodeOfCare)
    rendering_provider = tenant_choice(Provider)
    supervising_provider = tenant_choice(
        Provider, required=False, help_text="When billed under a supervisor"
    )
    service_facility = tenant_choice(ServiceFacility, required=False)
    date_of_service = forms.DateField(widget=DATE)
    kind = forms.ChoiceField(choices=SERVICE_KINDS, label="Kind of service")
    start_time = forms.TimeField(widget=TIME, required=False)
    end_time = forms.TimeField(widget=TIME, required=False)
    service_code = forms.CharField(
        max_length=5,
        required=False,
        help_text=(
            "Psychotherapy and crisis: leave blank to bill the code the minutes support; "
            "testing, health behaviour, adaptive behaviour and H-codes: the code"
        ),
    )
    units = forms.IntegerField(min_value=1, required=False, help_text="Untimed codes only")
    telehealth = forms.ChoiceField(choices=TELEHEALTH, required=False)
    place_of_service = forms.CharField(
        max_length=2, required=False, help_text="In person; default 11 (office)"
    )
    modifiers = forms.CharField(
        max_length=20, required=False, help_text="Comma-separated, e.g. HF, 59"
    )
    diagnoses = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Up to 4, in pointer order; default the primary",
    )
    program_minutes = forms.IntegerField(
        min_value=0, required=False, help_text="Per-diem day: documented programming minutes"
    )
    documentation_ref = forms.CharField(
        max_length=80, required=False, label="Progress note reference"
    )
    documentation_signed = forms.BooleanField(required=False, label="Progress note signed")

    def __init__(self, *args: Any, patient: Any, scopes: Any, **kwargs: Any) -> None:
        """`scopes`: the member's; the patient's episodes they may not see (42 CFR Part 2) and
        their diagnoses are neither listed nor accepted."""
        super().__init__(*args, **kwargs)
        episodes = selectors.charge_episodes(scopes=scopes, patient=patient)
        self.fields["episode"].queryset = episodes  # type: ignore[attr-defined]
        providers = Provider.objects.filter(active_until__isnull=True)
        self.fields["rendering_provider"].queryset = providers  # type: ignore[attr-defined]
        self.fields["supervising_provider"].queryset = providers  # type: ignore[attr-defined]
        self.fields["service_facility"].queryset = ServiceFacility.objects.all()  # type: ignore[attr-defined]
        diagnoses = EpisodeDiagnosis.objects.filter(
            episode__in=episodes, effective_to__isnull=True
        ).order_by("-is_primary", "rank")
        self.fields["diagnoses"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), f"{d.code} {d.description}") for d in diagnoses
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end time must be after the start time.")
        if len(data.get("diagnoses") or []) > 4:
            self.add_error("diagnoses", "Choose at most 4.")
        return data

    def service_kwargs(self, tz: ZoneInfo) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        day = data["date_of_service"]
        start, end = data.pop("start_time"), data.pop("end_time")
        data["start_at"] = datetime.combine(day, start, tzinfo=tz) if start else None
        data["end_at"] = datetime.combine(day, end, tzinfo=tz) if end else None
        data["modifiers"] = [
            m.strip().upper() for m in (data.pop("modifiers") or "").split(",") if m.strip()
        ]
        data["diagnosis_ids"] = data.pop("diagnoses") or None
        return data


class ClaimFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", help_text="Claim number, patient name or MRN"
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ClaimStatus.choices])
    payer = tenant_choice(Payer, required=False)
    provider = tenant_choice(Provider, required=False)
    date_from = forms.DateField(required=False, widget=DATE, label="Service from")
    date_to = forms.DateField(required=False, widget=DATE, label="Service to")
    min_age_days = forms.IntegerField(required=False, min_value=0, label="At least N days old")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]
        self.fields["provider"].queryset = Provider.objects.all()  # type: ignore[attr-defined]


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=60, label="Save these filters as")


class ChargeMasterForm(forms.Form):
    service_code = forms.CharField(max_length=5)
    modifier = forms.CharField(max_length=2, required=False)
    description = forms.CharField(max_length=120, required=False)
    charge = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    effective_from = forms.DateField(widget=DATE)
    effective_to = forms.DateField(widget=DATE, required=False)


class ContractRateForm(forms.Form):
    payer = tenant_choice(Payer)
    service_code = forms.CharField(max_length=5)
    modifier = forms.CharField(max_length=2, required=False)
    education_level = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any licensure level"),
            ("doctoral", "Doctoral"),
            ("masters", "Master's"),
            ("bachelors", "Bachelor's"),
            ("below_bachelors", "Below bachelor's"),
        ],
    )
    allowed = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    effective_from = forms.DateField(widget=DATE)
    effective_to = forms.DateField(widget=DATE, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]


class PayerBillingRuleForm(forms.Form):
    payer = tenant_choice(Payer)
    rule_type = forms.ChoiceField(choices=PayerBillingRuleType.choices)
    service_code = forms.CharField(max_length=5, required=False)
    level = forms.ChoiceField(required=False, choices=[("", "—"), *LevelOfCare.choices])
    value = forms.CharField(
        max_length=20,
        help_text="A modifier (HF), minutes (300), midpoint / whole_units, or days (90)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]


REASON_HELP = "Why the claim changes: kept in its history and audit trail"


class ClaimLineForm(forms.Form):
    """A line of a claim the payer does not have, corrected with a reason. Every field is
    checked at once; the service's refusal lands beside its field."""

    service_code = forms.RegexField(
        regex=r"^[A-Za-z0-9]{5}$",
        max_length=5,
        error_messages={"invalid": "A service code is 5 letters or digits (CPT or HCPCS)."},
    )
    modifiers = forms.RegexField(
        regex=r"^\s*([A-Za-z0-9]{2}[\s,]*){0,4}$",
        required=False,
        max_length=20,
        help_text="Up to 4, separated by spaces (HF 95)",
        error_messages={
            "invalid": "Up to 4 modifiers of 2 letters or digits, separated by spaces."
        },
    )
    units = forms.IntegerField(min_value=1, max_value=9999)
    charge = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    date_of_service = forms.DateField(widget=DATE)
    place_of_service = forms.RegexField(
        regex=r"^[0-9]{2}$",
        max_length=2,
        error_messages={"invalid": "A place of service is a 2-digit code (11, 02, 10...)."},
    )
    diagnosis_pointers = forms.RegexField(
        regex=r"^\s*([1-9][0-9]?[\s,]*){1,4}$",
        max_length=20,
        help_text="1 to 4 of the claim's diagnoses, by number (1 2)",
        error_messages={"invalid": "1 to 4 diagnosis numbers, separated by spaces."},
    )
    reason = forms.CharField(max_length=200, help_text=REASON_HELP)

    @staticmethod
    def initial_for(line: Any) -> dict[str, Any]:
        return {
            "service_code": line.service_code,
            "modifiers": " ".join(line.modifiers),
            "units": line.units,
            "charge": line.charge,
            "date_of_service": line.date_of_service,
            "place_of_service": line.place_of_service,
            "diagnosis_pointers": " ".join(str(p) for p in line.diagnosis_pointers),
        }


class ClaimLineDeleteForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text=REASON_HELP)
    void_charge = forms.BooleanField(
        required=False,
        label="Void the charge too (the service should never have been billed)",
        help_text="Otherwise the charge goes back to the open charges, to bill on another claim",
    )


class ClaimRescrubForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="What was fixed",
        help_text="The patient's address, the coverage... kept in the claim's history",
    )


class CareMinutesForm(forms.Form):
    episode = tenant_choice(EpisodeOfCare, label="Patient and episode")
    program = forms.ChoiceField(choices=CARE_PROGRAMS)
    staff_name = forms.CharField(max_length=120, label="Staff member")
    performed_on = forms.DateField(widget=DATE, label="Day")
    minutes = forms.IntegerField(min_value=1, max_value=600)
    activity = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, scopes: Any, **kwargs: Any) -> None:
        """Only the episodes the member may see (42 CFR Part 2) are offered or accepted."""
        super().__init__(*args, **kwargs)
        episodes = selectors.charge_episodes(scopes=scopes).select_related("patient")
        self.fields["episode"].queryset = episodes  # type: ignore[attr-defined]
        self.fields["episode"].label_from_instance = lambda e: (  # type: ignore[attr-defined]
            f"{e.patient.last_name}, {e.patient.first_name} — {e.get_program_type_display()} "
            f"from {e.admission_date}"
        )


class CareMonthConfirmForm(forms.Form):
    rendering_provider = tenant_choice(Provider, label="Billing practitioner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rendering_provider"].queryset = Provider.objects.filter(  # type: ignore[attr-defined]
            active_until__isnull=True
        )
