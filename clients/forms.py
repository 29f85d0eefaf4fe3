from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from uku import registry_numbers


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

    def clean_organisation_number(self) -> str:
        country = self.cleaned_data.get("registry_country") or self.instance.registry_country
        number = self.cleaned_data.get("organisation_number", "")
        if country not in registry_numbers.SCHEMES:
            return number
        return registry_numbers.normalise(country, number)
