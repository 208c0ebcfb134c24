"""Forms of the denials pages. They parse input; the services decide."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from denials.models import (
    AppealLevel,
    AppealOutcome,
    DenialCategory,
    ExceptionKind,
    RemittanceException,
    WorkKind,
    WorkStatus,
)
from denials.selectors import work_items
from patients.models import Payer
from rcm.form_fields import DATE, tenant_choice
from rcm.tenancy.selectors import members_with_scope


def _members() -> Any:
    return members_with_scope("denials:write")


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
    """Assign the selected items. The assignee starts on "Choose…": unassigning is a choice of
    its own, never what an untouched menu does."""

    UNASSIGN = "none"

    items = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)  # type: ignore[arg-type,var-annotated]
    assignee = forms.ChoiceField(
        choices=[],
        label="Assign the selected items to",
        error_messages={"required": "Choose who gets the selected items (or Unassign)."},
    )

    def __init__(self, *args: Any, scopes: Any, **kwargs: Any) -> None:
        # Its own element ids: the queue's filter form has an "assignee" field too.
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        # Only items the member may see (42 CFR Part 2): a hidden one's id is "not a choice".
        self.fields["items"].queryset = work_items(scopes=scopes)  # type: ignore[attr-defined]
        self._people = {str(u.pk): u for u in _members()}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "Choose…"),
            *((pk, u.get_full_name() or u.email) for pk, u in self._people.items()),
            (self.UNASSIGN, "Unassign (nobody)"),
        ]

    def clean_assignee(self) -> Any:
        value = self.cleaned_data["assignee"]
        return None if value == self.UNASSIGN else self._people[value]


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


class ExceptionFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Open"), ("resolved", "Resolved"), ("all", "All")]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *ExceptionKind.choices])


class _ClaimLineField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.line_number}: {obj.service_code} on {obj.date_of_service:%Y-%m-%d}, ${obj.charge}"
        balance = getattr(obj, "balance_or_none", None)
        if getattr(obj, "posted_here", False):
            label += " (already paid by this remittance claim)"
        elif balance is not None:
            label += f" (posted: paid ${balance.paid}, open ${balance.open_balance})"
        else:
            label += " (nothing posted yet)"
        return label


class MatchLineForm(forms.Form):
    """Which line of the matched claim an unmatched SVC belongs to."""

    claim_line = _ClaimLineField(
        queryset=None,  # type: ignore[arg-type]
        label="Post it to line",
        empty_label="Choose the claim line",
    )
    confirm = forms.BooleanField(
        required=False,
        label="Post it even if this line already has a payment from this same remittance claim",
    )

    def __init__(self, *args: Any, lines: list[Any], **kwargs: Any) -> None:
        from claims.models import ClaimLine

        super().__init__(*args, **kwargs)
        field = self.fields["claim_line"]
        # The claim's own lines only; labels come from the annotated rows the page already read.
        field.queryset = ClaimLine.objects.filter(pk__in=[x.pk for x in lines])  # type: ignore[attr-defined]
        field.choices = [("", field.empty_label)] + [  # type: ignore[attr-defined]
            (str(x.pk), field.label_from_instance(x))  # type: ignore[attr-defined]
            for x in lines
        ]


class MatchClaimForm(forms.Form):
    """Which of our claims an unmatched CLP is for (the page's search lists the choices)."""

    claim = forms.ModelChoiceField(  # type: ignore[var-annotated]
        queryset=None,  # type: ignore[arg-type]
        error_messages={"invalid_choice": "That claim is not one of this organization's."},
    )

    def __init__(self, *args: Any, claims: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claim"].queryset = claims  # type: ignore[attr-defined]


def match_form(
    exception: RemittanceException, data: Any, *, lines: list[Any], claims: Any
) -> forms.Form:
    if exception.kind == ExceptionKind.UNMATCHED_LINE:
        return MatchLineForm(data, lines=lines)
    return MatchClaimForm(data, claims=claims)


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Why it is not ours",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. another provider's patient, payer error: refund requested.",
    )


class NoteForm(forms.Form):
    """A free-text note on a patient, a claim or a denial (append-only: an edit corrects it)."""

    body = forms.CharField(
        label="Note",
        required=True,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the note: it is empty."},
    )
    part2_content = forms.BooleanField(
        label="Holds SUD treatment detail (42 CFR Part 2)", required=False
    )


class NoteRetractForm(forms.Form):
    reason = forms.CharField(
        label="Why retract it",
        max_length=200,
        error_messages={"required": "Say why the note is retracted."},
    )


class NoteSearchForm(forms.Form):
    q = forms.CharField(label="Search notes", required=False, max_length=100)


class ClaimStatusCheckForm(forms.Form):
    """ "Check status" on the claims ticked (one 276 per payer)."""

    claim_ids = forms.TypedMultipleChoiceField(required=False, coerce=uuid.UUID, label="Claims")

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # Any UUID is a valid choice here: the view keeps the claims the member may see.
        self.fields["claim_ids"].valid_value = _is_claim_id  # type: ignore[attr-defined]

    def clean_claim_ids(self):  # type: ignore[no-untyped-def]
        ids = self.cleaned_data.get("claim_ids") or []
        if not ids:
            raise forms.ValidationError("Tick the claims to ask about.")
        if len(ids) > 100:
            raise forms.ValidationError("Tick at most 100 claims at once.")
        return ids


def _is_claim_id(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class ClaimStatusSettingForm(forms.Form):
    """When a payer's claims are asked about automatically (the daily claim status scan)."""

    payer = tenant_choice(Payer)
    after_days = forms.IntegerField(
        min_value=1, max_value=365, initial=30, label="Ask after (days after acceptance)"
    )
    interval_days = forms.IntegerField(
        min_value=1, max_value=365, initial=14, label="Ask again after (days)"
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]
