"""Forms of the denials pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from denials.models import AppealLevel, AppealOutcome, DenialCategory, WorkKind, WorkStatus
from rcm.tenancy.models import Membership, User

DATE = forms.DateInput(attrs={"type": "date"})


def _members() -> Any:
    ids = Membership.objects.filter(is_active=True).values_list("user_id", flat=True)
    return User.objects.filter(pk__in=ids).order_by("email")


class _UserField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.email


class QueueFilterForm(forms.Form):
    category = forms.ChoiceField(
        required=False, choices=[("", "Any category"), *DenialCategory.choices]
    )
    payer = forms.ChoiceField(required=False, choices=[])
    assignee = forms.ChoiceField(required=False, choices=[])
    age = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Older than",
        choices=[
            ("", "Any age"),
            ("7", "7 days"),
            ("30", "30 days"),
            ("60", "60 days"),
            ("90", "90 days"),
        ],
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Open"), ("all", "All"), *WorkStatus.choices]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *WorkKind.choices])
    due = forms.BooleanField(required=False, label="Due now only")

    def __init__(self, *args: Any, payers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].choices = [("", "Any payer"), *payers]  # type: ignore[attr-defined]
        people = [(str(u.pk), u.get_full_name() or u.email) for u in _members()]
        self.fields["assignee"].choices = [("", "Anyone"), ("none", "Unassigned"), *people]  # type: ignore[attr-defined]


class BulkAssignForm(forms.Form):
    items = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)  # type: ignore[arg-type,var-annotated]
    assignee = _UserField(queryset=None, required=False, empty_label="Unassign")  # type: ignore[arg-type]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from denials.models import WorkItem

        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = WorkItem.objects.all()  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = _members()  # type: ignore[attr-defined]


class WorkItemUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=WorkStatus.choices)
    next_follow_up = forms.DateField(required=False, widget=DATE)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(forms.Form):
    file = forms.FileField(label="835 file")


class AppealForm(forms.Form):
    level = forms.ChoiceField(choices=AppealLevel.choices)


class LetterForm(forms.Form):
    letter_body = forms.CharField(
        label="Letter", widget=forms.Textarea(attrs={"rows": 30, "class": "letter"})
    )


class AppealSubmitForm(forms.Form):
    submitted_on = forms.DateField(widget=DATE)
    method = forms.ChoiceField(
        choices=[("portal", "Payer portal"), ("fax", "Fax"), ("mail", "Mail"), ("phone", "Phone")]
    )


class AppealDecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=[c for c in AppealOutcome.choices if c[0]])
    decided_on = forms.DateField(widget=DATE)
    recovered_amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class WriteOffForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)  # type: ignore[arg-type]
    reason = forms.CharField(max_length=200)


class SettingsForm(forms.Form):
    write_off_approval_threshold = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="Write-offs above this amount wait for someone else's approval.",
    )
    small_balance_limit = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="Open balances up to this amount are written off automatically (0 turns it off).",
    )
