from __future__ import annotations

from django import forms

from interfaces.models import HeldStatus


class HeldFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[*HeldStatus.choices, ("", "All")], required=False, initial=HeldStatus.OPEN
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why dismiss it?",
        help_text="e.g. a test message, or charged by hand as charge 12.",
    )
