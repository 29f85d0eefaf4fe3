from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.base import Capability, iter_vendors


def _vendor_choices() -> list[tuple[str, object]]:
    return [(v.key, v.label) for v in iter_vendors()] + [("", _("None (no accounting system)"))]


def _default_vendor() -> str:
    """The first accounting system that can supply products: the usual choice."""
    return next((v.key for v in iter_vendors(Capability.PRODUCTS)), "")


class ActivateBillingForm(forms.Form):
    """Turn billing on (or change its accounting system)."""

    accounting_vendor = forms.ChoiceField(
        label=_("Accounting system"),
        choices=_vendor_choices,
        required=False,
        initial=_default_vendor,
        help_text=_(
            "Products and VAT types are imported from it, and invoices will be exported to it."
        ),
    )


class ProductSearchForm(forms.Form):
    """The filters above the product list (GET)."""

    SHOW_CHOICES = (("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All")))
    SORT_CHOICES = (
        ("name", _("Name")),
        ("-name", _("Name")),
        ("number", _("Number")),
        ("-number", _("Number")),
        ("price", _("Price")),
        ("-price", _("Price, highest first")),
    )

    q = forms.CharField(label=_("Search products"), required=False, max_length=100)
    show = forms.ChoiceField(label=_("Show"), choices=SHOW_CHOICES, required=False)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)
