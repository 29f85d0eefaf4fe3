"""Forms of the client pages: new client, edit, registry number and billing settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from uku import registry_numbers
from uku.models import Company, User


class BillingSettingsForm(forms.ModelForm):
    """Client details → Billing → Settings."""

    class Meta:
        model = Client
        fields = ["invoice_email"]


class RegistryNumberForm(forms.ModelForm):
    """Client details → Registry number: the number and its country. The number is compacted
    by the chosen country here and checked by its rule (and for uniqueness in the firm) by the
    model's clean(), so every error is shown on the number field."""

    # Wider than the column: people type "NO 923 609 016 MVA"; it is compacted before saving.
    organisation_number = forms.CharField(
        label=_("Organisation number"), max_length=64, required=False
    )

    class Meta:
        model = Client
        fields = ["registry_country", "organisation_number"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Always one of the countries (the client has one), never "---------".
        country = self.fields["registry_country"]
        assert isinstance(country, forms.ChoiceField)  # a model field with choices makes one
        country.required = True
        country.choices = registry_numbers.Country.choices
        # The stored number shown as people read it ("923 609 016"); compacted again on save.
        instance = self.instance
        if instance.pk and instance.organisation_number:
            shown = registry_numbers.display_number(
                instance.registry_country, instance.organisation_number
            )
            self.initial["organisation_number"] = shown.replace("\xa0", " ")

    def clean_organisation_number(self) -> str:
        country = self.cleaned_data.get("registry_country") or self.instance.registry_country
        number = self.cleaned_data.get("organisation_number", "")
        if country not in registry_numbers.SCHEMES:
            return number
        return registry_numbers.normalise(country, number)


class MemberChoiceField(forms.ModelChoiceField):
    """A firm member, shown with name and e-mail: two members may share a name."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.email})" if obj.name else str(obj.email)


class ClientForm(RegistryNumberForm):
    """New client, and the client page's Edit form: every field a person sets, with the
    responsible accountant chosen among the firm's members. The number is compacted by the
    chosen country (see `RegistryNumberForm`) and checked by the model, so errors sit on their
    fields; `clients.services` validates again before saving."""

    responsible = MemberChoiceField(
        label=_("Responsible accountant"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody yet"),
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "registry_country",
            "organisation_number",
            "customer_number",
            "email",
            "invoice_email",
            "phone",
            "address_line",
            "postal_code",
            "city",
            "responsible",
        ]
        labels = {
            "name": _("Name"),
            "registry_country": _("Registry country"),
            "customer_number": _("Customer number"),
            "email": _("E-mail"),
            "invoice_email": _("Invoice e-mail"),
            "phone": _("Phone"),
            "address_line": _("Address"),
            "postal_code": _("Postal code"),
            "city": _("City"),
        }
        help_texts = {
            "customer_number": _("The client's number in your firm, as on invoices."),
        }

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this firm's members; a user from elsewhere is "not one of the available choices".
        self.fields["responsible"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__company=company
        ).order_by("name", "email")
        self.fields["name"].widget.attrs["autocomplete"] = "organization"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.fields["address_line"].widget.attrs["autocomplete"] = "street-address"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"


class ClientDetailsForm(ClientForm):
    """The client page's Edit form: `ClientForm` without the invoice e-mail, which the page's
    Billing → Settings form keeps (Billing staff may change it, not the rest)."""

    class Meta(ClientForm.Meta):
        fields = [f for f in ClientForm.Meta.fields if f != "invoice_email"]
