"""Dates, times, numbers and money per language: Norwegian conventions for nb, a European English
(day first, 24-hour), never Django's American defaults."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from uku.registry_numbers import display_number
from uku.templatetags.uku_tags import money
from uku.widgets import LocalDateInput

EVENING = datetime(2026, 12, 1, 22, 11, tzinfo=ZoneInfo("Europe/Oslo"))


def render(source: str, **context: object) -> str:
    return Template("{% load uku_tags %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "short_date", "short_datetime", "time"),
    [
        ("en", "01/12/2026", "01/12/2026 22:11", "22:11"),
        ("nb", "01.12.2026", "01.12.2026 22:11", "22:11"),
    ],
)
def test_dates_are_day_first_and_times_24_hour(language, short_date, short_datetime, time) -> None:
    with translation.override(language):
        assert render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=EVENING) == short_date
        assert render('{{ d|date:"SHORT_DATETIME_FORMAT" }}', d=EVENING) == short_datetime
        assert render('{{ d|time:"TIME_FORMAT" }}', d=EVENING) == time
        # The sentence's own full stop no longer follows a "p.m." (the "p.m.." of the issue).
        assert "p.m." not in render("{{ d }}.", d=EVENING)


def test_long_dates_in_each_language() -> None:
    with translation.override("en"):
        assert render('{{ d|date:"DATE_FORMAT" }}', d=date(2026, 12, 1)) == "1 December 2026"
    with translation.override("nb"):
        assert render('{{ d|date:"DATE_FORMAT" }}', d=date(2026, 12, 1)) == "1. desember 2026"


def test_money_is_written_the_languages_way() -> None:
    with translation.override("nb"):
        assert money(Decimal("1200"), "NOK") == "kr\xa01\xa0200,00"
        assert money(Decimal("1234567.5")) == "kr\xa01\xa0234\xa0567,50"
        assert money(Decimal("99.9"), "EUR") == "EUR\xa099,90"
        assert money(Decimal("-1200"), "NOK") == "kr\xa0-1\xa0200,00"
    with translation.override("en"):
        assert money(Decimal("1200"), "NOK") == "NOK\xa01,200.00"
        assert money(Decimal("0.005"), "eur") == "EUR\xa00.01"
    assert money(None) == "" and money("") == ""
    assert money("n/a") == "n/a"  # never a crash in a page


def test_the_money_filter_in_a_template() -> None:
    with translation.override("nb"):
        assert render("{{ a|money:c }}", a=Decimal("1200"), c="NOK") == "kr\xa01\xa0200,00"


def test_organisation_numbers_are_grouped_for_people() -> None:
    assert display_number("NO", "923609016") == "923\xa0609\xa0016"
    assert render("{{ n|registry_number }}", n="923609016") == "923\xa0609\xa0016"
    assert display_number("FI", "10010034") == "1001003-4"  # the country's own form
    assert display_number("NO", "12345") == "12345"  # not valid: shown as typed
    assert display_number("NO", "") == ""


class _DateForm(forms.Form):
    day = forms.DateField(widget=LocalDateInput())


@pytest.mark.parametrize(
    ("language", "typed", "shown", "placeholder"),
    [
        ("en", "24/12/2026", "24/12/2026", "dd/mm/yyyy"),
        ("nb", "24.12.2026", "24.12.2026", "dd.mm.åååå"),
    ],
)
def test_date_inputs_follow_the_language(language, typed, shown, placeholder) -> None:
    with translation.override(language):
        form = _DateForm({"day": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == date(2026, 12, 24)
        html = str(_DateForm(initial={"day": date(2026, 12, 24)})["day"])
        assert f'value="{shown}"' in html and f'placeholder="{placeholder}"' in html
        assert 'type="text"' in html  # not the browser's own picker, which follows its locale
        # ISO dates, as scripts and pasted values have them, are still accepted.
        assert _DateForm({"day": "2026-12-24"}).is_valid()
    with translation.override("en"):
        assert not _DateForm({"day": "12/24/2026"}).is_valid()  # no American month-first


def test_the_home_page_groups_the_firms_organisation_number(world, as_user) -> None:
    world.firm_a.organisation_number = "923609016"
    world.firm_a.save()
    page = as_user(world.owner).get(reverse("home")).content.decode()
    assert "923\xa0609\xa0016" in page


def test_import_counts_agree_in_number_in_norwegian() -> None:
    """The import preview said "1 nye": each count is its own plural now."""
    source = (
        "{% load i18n %}{% blocktranslate count counter=n %}{{ counter }} new,{% plural %}"
        "{{ counter }} new,{% endblocktranslate %}"
    )
    with translation.override("nb"):
        assert Template(source).render(Context({"n": 1})) == "1 ny,"
        assert Template(source).render(Context({"n": 3})) == "3 nye,"
    with translation.override("en"):
        assert Template(source).render(Context({"n": 1})) == "1 new,"
