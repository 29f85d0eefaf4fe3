"""The import day of each option, in the firm's time zone, with its country's public holidays."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.utils import timezone

from summarytasks import schedule


@pytest.mark.parametrize(
    ("period", "country", "expected"),
    [
        # Easter 2024: Maundy Thursday (28th) and Good Friday (29th) are Norwegian holidays, and
        # the 30th and 31st a weekend.
        (date(2024, 3, 1), "NO", date(2024, 3, 27)),
        # Estonia and Finland keep Good Friday only; Poland neither.
        (date(2024, 3, 1), "EE", date(2024, 3, 28)),
        (date(2024, 3, 1), "FI", date(2024, 3, 28)),
        (date(2024, 3, 1), "PL", date(2024, 3, 29)),
        # April 2025 holds Easter (17th, 18th, 21st) but ends on a Wednesday.
        (date(2025, 4, 1), "NO", date(2025, 4, 30)),
        # March 2025 ends on a Monday; no Easter in it.
        (date(2025, 3, 1), "NO", date(2025, 3, 31)),
        # Christmas: 31 December 2023 is a Sunday, the 30th a Saturday.
        (date(2023, 12, 1), "NO", date(2023, 12, 29)),
        # New Year's Eve 2024 is a Tuesday and no holiday in Norway.
        (date(2024, 12, 1), "NO", date(2024, 12, 31)),
        # 31 May 2025 is a Saturday.
        (date(2025, 5, 1), "NO", date(2025, 5, 30)),
        # 31 August 2024 is a Saturday.
        (date(2024, 8, 1), "NO", date(2024, 8, 30)),
    ],
)
def test_it_finds_the_last_work_day(period, country, expected):
    assert schedule.import_day(period, "last_work_day", country) == expected


def test_it_skips_a_holiday_that_ends_a_month():
    # Boxing Day is 26 December; a month ending on a holiday moves back: Christmas 2021 fell on
    # a weekend, so December 2021 ended on Friday the 31st.
    assert schedule.import_day(date(2021, 12, 1), "last_work_day", "NO") == date(2021, 12, 31)
    # 31 December 2022 is a Saturday.
    assert schedule.import_day(date(2022, 12, 1), "last_work_day", "NO") == date(2022, 12, 30)
    # Estonia keeps Christmas Eve: December 2023 ends on a weekend, and the 24th-26th are free
    # anyway; December 2024's last work day is the 31st (a Tuesday).
    assert schedule.import_day(date(2024, 12, 1), "last_work_day", "EE") == date(2024, 12, 31)


def test_it_uses_the_last_calendar_day_whatever_the_weekday():
    assert schedule.import_day(date(2024, 3, 1), "last_day", "NO") == date(2024, 3, 31)
    assert schedule.import_day(date(2024, 2, 1), "last_day", "NO") == date(2024, 2, 29)
    assert schedule.import_day(date(2023, 12, 1), "last_day", "NO") == date(2023, 12, 31)


def test_it_uses_day_n_of_the_following_month():
    assert schedule.import_day(date(2024, 3, 1), "5", "NO") == date(2024, 4, 5)
    # New Year's Day is a holiday, but a day of the month is a calendar day.
    assert schedule.import_day(date(2024, 12, 1), "1", "NO") == date(2025, 1, 1)
    assert schedule.import_day(date(2025, 1, 1), "28", "NO") == date(2025, 2, 28)


def test_it_refuses_an_unknown_rule():
    for rule in ("0", "29", "last_week", ""):
        with pytest.raises(ValueError):
            schedule.import_day(date(2024, 3, 1), rule, "NO")


@pytest.mark.parametrize(
    ("today", "rule", "due"),
    [
        (date(2024, 3, 27), "last_work_day", date(2024, 3, 1)),
        (date(2024, 3, 28), "last_work_day", None),  # Maundy Thursday: already imported
        (date(2024, 3, 29), "last_work_day", None),
        (date(2024, 3, 31), "last_day", date(2024, 3, 1)),
        (date(2024, 3, 30), "last_day", None),
        (date(2024, 4, 5), "5", date(2024, 3, 1)),
        (date(2024, 4, 6), "5", None),
        (date(2025, 1, 1), "1", date(2024, 12, 1)),
        (date(2023, 12, 29), "last_work_day", date(2023, 12, 1)),
        (date(2023, 12, 31), "last_work_day", None),
    ],
)
def test_it_knows_which_month_is_due_today(today, rule, due):
    assert schedule.due_period(today, rule, "NO") == due


@time_machine.travel("2024-03-26T23:30:00Z", tick=False)
def test_it_decides_in_oslo_time_not_utc():
    # 23:30 UTC on the 26th is 00:30 on the 27th in Oslo (CET, UTC+1): the import day.
    assert timezone.now().date() == date(2024, 3, 26)
    assert schedule.firm_today("NO") == date(2024, 3, 27)
    assert schedule.due_period(schedule.firm_today("NO"), "last_work_day", "NO") == date(2024, 3, 1)


@time_machine.travel("2024-03-31T22:30:00Z", tick=False)
def test_it_follows_summer_time():
    # Summer time began on 31 March 2024: 22:30 UTC is 00:30 on 1 April in Oslo (UTC+2), which
    # is still the 31st at UTC+1. The last-day import of March is over; April has begun.
    assert schedule.firm_today("NO") == date(2024, 4, 1)
    assert schedule.due_period(schedule.firm_today("NO"), "last_day", "NO") is None
    # Helsinki is an hour ahead of Oslo.
    with time_machine.travel("2024-03-31T21:30:00Z", tick=False):
        assert schedule.firm_today("NO") == date(2024, 3, 31)
        assert schedule.firm_today("FI") == date(2024, 4, 1)


@time_machine.travel("2024-10-30T23:30:00Z", tick=False)
def test_it_follows_the_end_of_summer_time():
    # Back to CET on 27 October 2024: 23:30 UTC on the 30th is 00:30 on the 31st (a Thursday,
    # October's last work day).
    assert schedule.firm_today("NO") == date(2024, 10, 31)
    assert schedule.due_period(date(2024, 10, 31), "last_work_day", "NO") == date(2024, 10, 1)


def test_it_says_when_the_next_import_is():
    assert schedule.next_import(date(2024, 3, 10), "last_work_day", "NO") == (
        date(2024, 3, 27),
        date(2024, 3, 1),
    )
    assert schedule.next_import(date(2024, 3, 28), "last_work_day", "NO") == (
        date(2024, 4, 30),
        date(2024, 4, 1),
    )
    assert schedule.next_import(date(2024, 3, 10), "5", "NO") == (
        date(2024, 4, 5),
        date(2024, 3, 1),
    )
    assert schedule.next_import(date(2024, 3, 3), "5", "NO") == (
        date(2024, 3, 5),
        date(2024, 2, 1),
    )


def test_a_reload_covers_exactly_the_last_twelve_whole_months():
    periods = schedule.reload_periods(date(2025, 1, 15))
    assert len(periods) == 12
    assert periods[0] == date(2024, 1, 1) and periods[-1] == date(2024, 12, 1)
    assert len(set(periods)) == 12


@pytest.mark.parametrize(
    ("today", "rule", "period"),
    [
        (date(2024, 3, 27), schedule.LAST_WORK_DAY, date(2024, 3, 1)),  # the import day itself
        (date(2024, 3, 28), schedule.LAST_WORK_DAY, date(2024, 3, 1)),  # missed: still March
        (date(2024, 4, 29), schedule.LAST_WORK_DAY, date(2024, 3, 1)),  # up to April's day
        (date(2024, 4, 30), schedule.LAST_WORK_DAY, date(2024, 4, 1)),
        (date(2024, 3, 30), schedule.LAST_DAY, date(2024, 2, 1)),
        (date(2024, 3, 31), schedule.LAST_DAY, date(2024, 3, 1)),
        (date(2024, 4, 4), "5", date(2024, 2, 1)),
        (date(2024, 4, 5), "5", date(2024, 3, 1)),
        (date(2024, 5, 4), "5", date(2024, 3, 1)),
        (date(2025, 1, 2), "1", date(2024, 12, 1)),
    ],
)
def test_the_last_due_month_stays_due_until_the_next_import_day(today, rule, period):
    assert schedule.last_due_period(today, rule, "NO") == period
