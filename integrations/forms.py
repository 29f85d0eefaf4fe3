from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.base import CredentialField, FieldKind, VendorInfo
from integrations.validators import validate_token_expiry
from uku.widgets import LocalDateInput


def _credential_field(spec: CredentialField) -> forms.Field:
    attrs = {"autocomplete": "off", "spellcheck": "false"}
    if spec.kind == FieldKind.CHOICE:
        return forms.ChoiceField(
            label=spec.label, choices=spec.choices, required=spec.required, help_text=spec.help_text
        )
    widget: forms.Widget = (
        # Never rendered back: a secret is not echoed into HTML, even the one just pasted.
        forms.PasswordInput(render_value=False, attrs=attrs)
        if spec.secret
        else forms.TextInput(attrs=attrs)
    )
    return forms.CharField(
        label=spec.label,
        required=spec.required,
        # No stripping here: the adapter owns credential cleaning, so the UI and the API agree.
        strip=False,
        widget=widget,
        help_text=spec.help_text,
    )


class ConnectForm(forms.Form):
    """The Connect tab's form, built from the vendor's declaration: its credential fields, its
    environments, and an expiry date for vendors whose credentials expire.

    `saved=True` is the form for testing what is saved: the credential fields are optional (empty
    means "the saved ones") and nothing is required but the environment.
    """

    def __init__(self, *args: Any, vendor: VendorInfo, saved: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vendor = vendor
        for spec in vendor.credential_fields:
            field = _credential_field(spec)
            if saved:
                field.required = False
            self.fields[spec.name] = field
        self.fields["environment"] = forms.ChoiceField(
            label=vendor.environment_label or _("Environment"),
            choices=vendor.environments,
            initial=vendor.default_environment,
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            help_text=vendor.environment_help,
        )
        if vendor.credentials_expire:
            self.fields["token_expires_on"] = forms.DateField(
                label=_("Token expires on"),
                required=not saved,
                widget=LocalDateInput(),
                help_text=_("The date you chose when you created it. We warn you before it."),
            )

    @property
    def credential_fields(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in self.vendor.credential_fields]

    def credentials(self) -> dict[str, str] | None:
        """The credentials typed in, or None when none were (test the saved ones)."""
        values = {
            spec.name: self.cleaned_data.get(spec.name) or ""
            for spec in self.vendor.credential_fields
        }
        return values if any(v.strip() for v in values.values()) else None

    def clean_token_expires_on(self) -> date | None:
        value = self.cleaned_data.get("token_expires_on")
        validate_token_expiry(value)
        return value


class HistoryFilterForm(forms.Form):
    """History's filters (GET): what kind of job, how it ended, and when it started."""

    kind = forms.ChoiceField(label=_("What"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    date_from = forms.DateField(label=_("Started from"), required=False, widget=LocalDateInput())
    date_to = forms.DateField(label=_("Started until"), required=False, widget=LocalDateInput())

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        from integrations.models import SyncJobStatus

        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["kind"].choices = everything + kinds  # type: ignore[attr-defined]
        self.fields["status"].choices = everything + list(  # type: ignore[attr-defined]
            SyncJobStatus.choices
        )

    def filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())
