from __future__ import annotations

from typing import Any

from django import forms

from rcm.form_fields import DATE
from rcm.tenancy.selectors import membership_list


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False, label="User")
    patient = forms.UUIDField(required=False, label="Patient id")
    action = forms.CharField(required=False, max_length=80, help_text="e.g. auth. or patient.view")
    date_from = forms.DateField(required=False, widget=DATE)
    date_to = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = membership_list()
        choices = [("", "Anyone")] + [(str(m.user_id), m.user.email) for m in members]
        self.fields["actor"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
