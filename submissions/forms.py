from __future__ import annotations

import uuid

from django import forms
from django.db import models

from patients.models import ClaimForm, Payer
from rcm.form_fields import DATE, tenant_choice
from submissions.models import BatchStatus, Clearinghouse
from submissions.selectors import ClaimPick
from submissions.services import CLEARINGHOUSE_FIELDS

MAX_ACK_BYTES = 20 * 1024 * 1024


class ClearinghouseForm(forms.ModelForm):
    core_url = forms.URLField(
        label="CORE endpoint (https)", required=False, assume_scheme="https", max_length=200
    )
    # Write-only: stored encrypted and never shown again; left empty, the stored one is kept.
    core_password = forms.CharField(
        label="CORE password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; never shown again. Leave empty to keep the stored one.",
    )

    core_client_cert = forms.CharField(
        label="CORE client certificate (PEM)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="For TLS client authentication, instead of or with the password. Stored "
        "encrypted; never shown again. Leave empty to keep the stored one.",
    )
    core_client_key = forms.CharField(
        label="CORE client private key (PEM, unencrypted)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="The certificate's private key; stored encrypted, never shown again.",
    )

    class Meta:
        model = Clearinghouse
        fields = CLEARINGHOUSE_FIELDS
        widgets = {"sftp_host_key": forms.Textarea(attrs={"rows": 2})}

    REALTIME_DEFAULTS = ("realtime_timeout_seconds", "realtime_retries")

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for name in self.REALTIME_DEFAULTS:  # left empty: the model's default
            self.fields[name].required = False

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        for name in self.REALTIME_DEFAULTS:
            if data.get(name) is None and name not in self.errors:
                model_field = Clearinghouse._meta.get_field(name)
                if isinstance(model_field, models.Field):
                    data[name] = model_field.get_default()
        return data


class BatchCreateForm(forms.Form):
    # The organization's own clearinghouses are set per request in __init__.
    clearinghouse = tenant_choice(Clearinghouse, empty_label=None)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["clearinghouse"].queryset = Clearinghouse.objects.filter(is_active=True)  # type: ignore[attr-defined]


class ClaimPickForm(forms.Form):
    """The filter of the ready claims a biller picks from (GET, and repeated in the POST of
    "all N on this filter")."""

    payer = tenant_choice(Payer, required=False, empty_label="Any payer")
    claim_form = forms.ChoiceField(
        choices=[("", "Any claim form"), *ClaimForm.choices], required=False, label="Claim form"
    )
    q = forms.CharField(required=False, label="Search", help_text="Claim number, patient or MRN")
    service_from = forms.DateField(required=False, widget=DATE, label="Service from")
    service_to = forms.DateField(required=False, widget=DATE, label="Service to")

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.all()  # type: ignore[attr-defined]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        start, end = data.get("service_from"), data.get("service_to")
        if start and end and end < start:
            self.add_error("service_to", "The end of the range is before its start.")
        return data

    def pick(self) -> ClaimPick:
        data = self.cleaned_data if self.is_valid() else {}
        payer = data.get("payer")
        return ClaimPick(
            payer_id=payer.pk if payer else None,
            claim_form=data.get("claim_form") or "",
            q=(data.get("q") or "").strip(),
            service_from=data.get("service_from"),
            service_to=data.get("service_to"),
        )


class BatchSelectionForm(BatchCreateForm):
    """Create a batch from the claims picked: the boxes ticked (`claim_ids`), or every claim on
    the filter (`all_matching`, with the count the biller saw)."""

    claim_ids = forms.TypedMultipleChoiceField(required=False, coerce=uuid.UUID)
    all_matching = forms.BooleanField(required=False)
    expected_count = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # Any UUID is a syntactically valid choice: the service decides which are batchable.
        self.fields["claim_ids"].valid_value = _is_uuid  # type: ignore[attr-defined]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if not data.get("all_matching") and not data.get("claim_ids"):
            self.add_error("claim_ids", "Tick the claims to send, or choose all on the filter.")
        return data


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


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
