from __future__ import annotations

from django import forms

from rcm.form_fields import tenant_choice
from submissions.models import BatchStatus, Clearinghouse
from submissions.services import CLEARINGHOUSE_FIELDS

MAX_ACK_BYTES = 20 * 1024 * 1024


class ClearinghouseForm(forms.ModelForm):
    class Meta:
        model = Clearinghouse
        fields = CLEARINGHOUSE_FIELDS
        widgets = {"sftp_host_key": forms.Textarea(attrs={"rows": 2})}


class BatchCreateForm(forms.Form):
    # The organization's own clearinghouses are set per request in __init__.
    clearinghouse = tenant_choice(Clearinghouse, empty_label=None)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["clearinghouse"].queryset = Clearinghouse.objects.filter(is_active=True)  # type: ignore[attr-defined]


class BatchFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *BatchStatus.choices], required=False)


class AckUploadForm(forms.Form):
    file = forms.FileField(help_text="A 999 or 277CA file from the clearinghouse")

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ACK_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB.")
        return upload


class RejectionFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", help_text="Claim number, patient, reason")
    show = forms.ChoiceField(
        choices=[("open", "Waiting to be fixed"), ("all", "All")], required=False
    )
