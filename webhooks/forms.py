from __future__ import annotations

from django import forms

from webhooks.events import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="HTTPS only; a private, loopback or link-local address is refused.",
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {about}") for name, about in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
    )


class EndpointFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=80, label="Search")


class Part2Form(forms.Form):
    allowed = forms.ChoiceField(choices=[("yes", "Allow"), ("no", "Do not allow")])
