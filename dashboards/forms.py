from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from credentialing.models import Provider
from dashboards.selectors import DashboardFilters
from patients.levels import LevelOfCare
from patients.models import Payer
from rcm.form_fields import DATE, tenant_choice


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(required=False, widget=DATE, label="From")
    date_to = forms.DateField(required=False, widget=DATE, label="To")
    payer = tenant_choice(Payer, required=False, empty_label="All payers")
    provider = tenant_choice(Provider, required=False, empty_label="All providers")
    level = forms.ChoiceField(
        required=False, choices=[("", "All levels"), *LevelOfCare.choices], label="Level of care"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Empty at import time; the organization's rows once a tenant is in context.
        self.fields["payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]
        self.fields["provider"].queryset = Provider.objects.all()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self, *, today: date) -> DashboardFilters:
        """The filters as entered; an empty period is the 90 days ending `today`."""
        data = self.cleaned_data if self.is_valid() else {}
        return DashboardFilters(
            date_from=data.get("date_from") or today - timedelta(days=89),
            date_to=data.get("date_to") or today,
            payer_id=data["payer"].pk if data.get("payer") else None,
            provider_id=data["provider"].pk if data.get("provider") else None,
            level=data.get("level") or "",
        )
