"""When the monthly import of work statistics runs: the import day of a month, in the firm's
time zone, with its country's public holidays (the `holidays` package).

Pure functions of dates, so the rules are tested without a database: `import_day(period, rule,
country)` is the day the statistics of `period` (a month's first day) are imported, and
`due_period(today, rule, country)` is the month whose import day is `today`, if any, and
`last_due_period` the latest month whose import day has come (the one the fan-out imports).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

from uku.registry_numbers import DEFAULT_COUNTRY

LAST_WORK_DAY = "last_work_day"
LAST_DAY = "last_day"
DAY_CHOICES = tuple(str(day) for day in range(1, 29))
RULES = (LAST_WORK_DAY, LAST_DAY, *DAY_CHOICES)

# Calendar decisions are made where the firm is: a firm in Norway closes its month in Oslo.
TIME_ZONES = {
    "NO": "Europe/Oslo",
    "EE": "Europe/Tallinn",
    "FI": "Europe/Helsinki",
    "LV": "Europe/Riga",
    "PL": "Europe/Warsaw",
}


def firm_time_zone(country: str) -> ZoneInfo:
    """The time zone of a firm in `country` (Europe/Oslo for Norway and anything unknown)."""
    return ZoneInfo(TIME_ZONES.get(country or DEFAULT_COUNTRY, TIME_ZONES[DEFAULT_COUNTRY]))


def firm_today(country: str, now: datetime | None = None) -> date:
    """Today's date where the firm is (the UTC date is a day off around midnight)."""
    return (now or timezone.now()).astimezone(firm_time_zone(country)).date()


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    code = country if country in TIME_ZONES else DEFAULT_COUNTRY
    return frozenset(holidays.country_holidays(code, years=year))


def is_work_day(day: date, country: str) -> bool:
    """Monday to Friday and not a public holiday of `country`."""
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(period: date) -> date:
    return (period.replace(day=1) - timedelta(days=1)).replace(day=1)


def last_day(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def last_work_day(period: date, country: str) -> date:
    """The month's last day that is a work day in `country` (Easter moves it: 27 March 2024 in
    Norway, where Maundy Thursday and Good Friday are holidays)."""
    day = last_day(period)
    while not is_work_day(day, country):
        day -= timedelta(days=1)
    return day


def check_rule(rule: str) -> str:
    """`rule` if it is one of `RULES`, else `ValueError`."""
    if str(rule) not in RULES:
        raise ValueError(rule)
    return str(rule)


def import_day(period: date, rule: str, country: str) -> date:
    """The day the statistics of the month `period` are imported under `rule`: its last work
    day, its last calendar day, or day N (1-28) of the following month (any weekday: the data
    of a closed month does not change with the weekday it is read on)."""
    rule = check_rule(rule)
    if rule == LAST_WORK_DAY:
        return last_work_day(period, country)
    if rule == LAST_DAY:
        return last_day(period)
    return next_month(period).replace(day=int(rule))


def due_period(today: date, rule: str, country: str) -> date | None:
    """The month whose import day is `today` under `rule`, or None. At most one month is due on
    a day: the current one (end-of-month rules) or the previous one (day N)."""
    rule = check_rule(rule)
    candidate = month_start(today) if rule in (LAST_WORK_DAY, LAST_DAY) else previous_month(today)
    return candidate if import_day(candidate, rule, country) == today else None


def last_due_period(today: date, rule: str, country: str) -> date:
    """The latest month whose import day is on or before `today` under `rule`: the month
    `due_period` names on its import day, and still the same month on every later day until
    the next month's import day. The hourly fan-out imports this month, so an import day the
    beat missed (a worker down, a deploy) is caught up on the next run instead of skipped."""
    rule = check_rule(rule)
    period = month_start(today) if rule in (LAST_WORK_DAY, LAST_DAY) else previous_month(today)
    while import_day(period, rule, country) > today:
        period = previous_month(period)
    return period


def next_import(today: date, rule: str, country: str) -> tuple[date, date]:
    """(the next import day on or after `today`, the month it imports)."""
    period = month_start(today) if rule in (LAST_WORK_DAY, LAST_DAY) else previous_month(today)
    while import_day(period, rule, country) < today:
        period = next_month(period)
    return import_day(period, rule, country), period


def reload_periods(today: date, months: int = 12) -> list[date]:
    """The months a *Reload data* back-fills: the `months` whole months before the one `today`
    is in, oldest first (the current month is not over; its import day fills it)."""
    periods: list[date] = []
    period = previous_month(month_start(today))
    for _ in range(months):
        periods.append(period)
        period = previous_month(period)
    return list(reversed(periods))
