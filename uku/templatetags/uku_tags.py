"""Template helpers: Bootstrap classes and accessible error wiring for form fields, and the
language's way of writing money (`money`) and registry numbers (`registry_number`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils import numberformat, translation
from django.utils.formats import get_format
from django.utils.safestring import SafeString

from uku import registry_numbers

register = template.Library()


@register.filter
def bs_widget(field: BoundField) -> SafeString:
    """Render `field`'s widget with Bootstrap classes, `aria-invalid` and `aria-describedby`."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs: dict[str, str | bool] = {"class": css}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


# What a currency is called before the amount, per language; any other currency by its ISO code.
# Norwegians write their own currency "kr 1 200,00" (Språkrådet); English readers get the code.
_CURRENCY_SIGNS = {"nb": {"NOK": "kr"}}
DEFAULT_CURRENCY = "NOK"  # billing's: product prices and invoices without a currency are in NOK
NBSP = "\xa0"


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """`amount` with two decimals, grouped and signed the active language's way: "kr 1 200,00"
    in Norwegian, "NOK 1,200.00" in English. Blank for no amount; shown as given when it is not a
    number (never a crash in a page)."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    code = (currency or DEFAULT_CURRENCY).upper()
    language = (translation.get_language() or "en").split("-")[0]
    sign = _CURRENCY_SIGNS.get(language, {}).get(code, code)
    number = numberformat.format(
        value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),  # as invoices round
        str(get_format("DECIMAL_SEPARATOR")),
        decimal_pos=2,
        grouping=int(get_format("NUMBER_GROUPING")),
        thousand_sep=str(get_format("THOUSAND_SEPARATOR")),
        force_grouping=True,
    )
    return f"{sign}{NBSP}{number}"  # "kr -1 200,00": the sign stays with the number


@register.filter
def registry_number(value: str, country: str = "") -> str:
    """A registry number (organisation number) as people read it: grouped in threes for Norway
    ("923 609 016", non-breaking), the country's own form elsewhere (Y-tunnus "1234567-8")."""
    return registry_numbers.display_number(country or registry_numbers.DEFAULT_COUNTRY, value)
