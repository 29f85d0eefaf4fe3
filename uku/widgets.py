"""Form widgets shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import pgettext_lazy


class LocalDateInput(forms.DateInput):
    """A date typed the way the active language writes it (01.12.2026 in Norwegian, 01/12/2026 in
    English), rendered in the language's first DATE_INPUT_FORMATS entry (uku/formats/).

    Not `<input type="date">`: its picker follows the browser's own locale, so an English browser
    showed Norwegian users mm/dd/yyyy beside dd.mm.yyyy everywhere else on the page.
    """

    # The pattern shown as a placeholder, in the words of the language (åååå = year in Norwegian).
    placeholder = pgettext_lazy("date input placeholder", "dd/mm/yyyy")

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        merged = {"placeholder": self.placeholder, "inputmode": "numeric", "autocomplete": "off"}
        merged.update(attrs or {})
        super().__init__(attrs=merged)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # Resolved per request, so the placeholder follows the language switched to.
        context["widget"]["attrs"]["placeholder"] = str(self.placeholder)
        return context
