"""Form fields every app's forms share."""

from __future__ import annotations

from typing import Any

from django import forms

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})


def tenant_choice(model: Any, **kwargs: Any) -> forms.ModelChoiceField:
    """A choice of a tenant row. Empty at import time (there is no tenant yet and the
    fail-closed manager cannot be queried): the form's __init__ sets the organization's rows."""
    return forms.ModelChoiceField(queryset=model.all_tenants.none(), **kwargs)
