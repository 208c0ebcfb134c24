"""Form fields every app's forms share."""

from __future__ import annotations

from typing import Any

from django import forms

from rcm.validators import Cleaner

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})


def tenant_choice(model: Any, **kwargs: Any) -> forms.ModelChoiceField:
    """A choice of a tenant row. Empty at import time (there is no tenant yet and the
    fail-closed manager cannot be queried): the form's __init__ sets the organization's rows."""
    return forms.ModelChoiceField(queryset=model.all_tenants.none(), **kwargs)


class CleanedCharField(forms.CharField):
    """A text field whose non-blank value goes through one of rcm.validators' cleaners (and is
    stored as the cleaner returns it: ZIP without hyphen, phone in E.164...)."""

    def __init__(self, cleaner: Cleaner, **kwargs: Any) -> None:
        self.cleaner = cleaner
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        return self.cleaner(value) if value else value


def use_837_cleaners(form: forms.BaseForm, cleaners: dict[str, Cleaner]) -> None:
    """Give a form's fields named in `cleaners` their cleaner (a ModelForm's generated fields:
    call it from __init__), keeping each field's label, length and required flag."""
    for name, cleaner in cleaners.items():
        field = form.fields.get(name)
        if isinstance(field, forms.CharField):
            form.fields[name] = CleanedCharField(
                cleaner,
                required=field.required,
                max_length=field.max_length,
                label=field.label,
                help_text=field.help_text,
                widget=field.widget,
            )
