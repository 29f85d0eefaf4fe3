from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from uku import registry_numbers
from uku.client_ip import client_ip
from uku.models import ApiToken, Company, Membership, Role, User
from uku.validators import EMAIL_MAX_LENGTH, single_line
from uku.widgets import LocalDateInput

logger = logging.getLogger(__name__)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


def _within_hourly_limit(key: str, limit: int) -> bool:
    """Count one more use of `key` in the current hour; False once `limit` is exceeded.

    A fixed one-hour window in the shared cache: `add` starts the window, `incr` counts atomically.
    """
    if cache.add(key, 1, timeout=3600):
        return limit >= 1
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=3600)
        return limit >= 1


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, with two fixes.

    - At most `UKU_PASSWORD_RESET_PER_HOUR` e-mails per address and
      `UKU_PASSWORD_RESET_PER_IP_PER_HOUR` requests per client address; beyond that nothing is
      sent, but the page answers exactly as if it had been, so nobody learns who has an account.
    - The link is built from `SITE_URL`, never from the request's Host header (which an attacker
      can set, to have the victim's reset token sent to their own server).
    """

    # Django's PasswordResetForm.save takes its options as named parameters; this one reads only
    # `request` and sends through `send_mail` itself, so it keeps **kwargs (what the view passes).
    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        request: HttpRequest | None = kwargs.get("request")
        email = self.cleaned_data["email"].strip().lower()
        address = client_ip(request) if request is not None else ""
        by_email = "password-reset:email:" + hashlib.sha256(email.encode()).hexdigest()
        by_address = "password-reset:ip:" + address
        # Both counters move on every request, so a flood from one address also uses up its quota.
        allowed_address = _within_hourly_limit(
            by_address, settings.UKU_PASSWORD_RESET_PER_IP_PER_HOUR
        )
        allowed_email = _within_hourly_limit(by_email, settings.UKU_PASSWORD_RESET_PER_HOUR)
        if not (allowed_address and allowed_email):
            logger.warning("Password-reset e-mail not sent: hourly limit reached.")
            return
        site = urlsplit(settings.SITE_URL)
        kwargs.update(domain_override=site.netloc, use_https=site.scheme == "https")
        super().save(**kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=EMAIL_MAX_LENGTH)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "external_id"]


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        # The country first: the organisation number is cleaned by its rule.
        fields = ["name", "country", "organisation_number"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out (an older client of this form, an API-like post): the country stays as it is.
        self.fields["country"].required = False

    def clean_country(self) -> str:
        return self.cleaned_data.get("country") or self.instance.country

    def clean_name(self) -> str:
        name = single_line(self.cleaned_data.get("name", ""))
        if not name:
            raise forms.ValidationError(_("Enter the firm's name."), code="required")
        return name

    def clean_organisation_number(self) -> str:
        # Compacted for the country chosen on this form; the model's clean() then checks it by
        # that country's rule, so the error is shown on this field.
        country = self.cleaned_data.get("country") or self.instance.country
        number = self.cleaned_data.get("organisation_number", "")
        if country not in registry_numbers.SCHEMES:
            return number
        return registry_numbers.normalise(country, number)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What will use it?"))
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        choices=[
            (30, _("30 days")),
            (90, _("90 days")),
            (180, _("180 days")),
            (365, _("1 year")),
        ],
        initial=ApiToken.DEFAULT_DAYS,
        required=False,  # left out: the default lifetime
        empty_value=ApiToken.DEFAULT_DAYS,  # type: ignore[arg-type]  # coerced: an int is right
        help_text=_("A token stops working on its expiry; make a new one then."),
    )


class SignupForm(forms.Form):
    """Creates the account of someone accepting an invitation."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password


class AuditFilterForm(forms.Form):
    """The audit log's filters (`uku.audit.filter_events`)."""

    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=254,
        help_text=_("Part of an e-mail address, or “system”."),
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    object = forms.CharField(
        label=_("Object"),
        required=False,
        max_length=255,
        help_text=_("Part of its name, or its id."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=LocalDateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=LocalDateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from uku import audit

        super().__init__(*args, **kwargs)
        action_field = self.fields["action"]
        type_field = self.fields["object_type"]
        assert isinstance(action_field, forms.ChoiceField)
        assert isinstance(type_field, forms.ChoiceField)
        action_field.choices = [("", _("All actions")), *audit.ACTIONS.items()]
        type_field.choices = [("", _("All objects")), *audit.OBJECT_TYPES.items()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
