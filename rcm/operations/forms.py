from __future__ import annotations

from django import forms

from rcm.operations.selectors import STATUS_FILTERS


class OperationsFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            (s, "Failed (needs attention)" if s == "failed" else s.title()) for s in STATUS_FILTERS
        ],
    )
    q = forms.CharField(required=False, max_length=80, label="Search")


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this job will not run again (kept in the audit trail).",
    )
