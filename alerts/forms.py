from django import forms

from alerts.models import Area, Severity


class AlertFilterForm(forms.Form):
    show = forms.ChoiceField(
        required=False,
        choices=[
            ("open", "Open"),
            ("snoozed", "Snoozed"),
            ("acknowledged", "Acknowledged"),
            ("all", "All"),
        ],
    )
    area = forms.ChoiceField(required=False, choices=[("", "All areas"), *Area.choices])
    severity = forms.ChoiceField(required=False, choices=[("", "Any severity"), *Severity.choices])
    mine = forms.BooleanField(required=False, label="Assigned to me")
