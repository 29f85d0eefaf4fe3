from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.models import Environment
from integrations.validators import validate_token_expiry


class ConnectForm(forms.Form):
    """Paste a token, pick the environment, say when the token expires."""

    employee_token = forms.CharField(
        label=_("Employee token"),
        # No stripping here: the adapter owns credential cleaning, so the UI and the API agree.
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Created in Tripletex under Company → API access. Tripletex shows it once."),
    )
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=Environment.choices,
        initial=Environment.PRODUCTION,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text=_("Test tokens only work against the Test environment, and vice versa."),
    )
    token_expires_on = forms.DateField(
        label=_("Token expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The date you chose in Tripletex. We warn you before it."),
    )

    def __init__(self, *args: object, require_expiry: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["token_expires_on"].required = require_expiry

    def clean_token_expires_on(self) -> date | None:
        value = self.cleaned_data.get("token_expires_on")
        validate_token_expiry(value)
        return value
