"""US banking days (billing-rules.md section 9, ACH): Monday to Friday except the Federal
Reserve's holidays. The holidays come from the maintained `holidays` package (the eleven
US federal holidays); the Federal Reserve's own observance rule is applied on top: a holiday
on a Sunday is observed the Monday after, one on a Saturday is not moved (the Reserve Banks
are open the Friday before)."""

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def reserve_holidays(year: int) -> frozenset[date]:
    days = set()
    for day in holidays.US(years=year, observed=False):
        days.add(day + timedelta(days=1) if day.weekday() == 6 else day)
    return frozenset(days)


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in reserve_holidays(day.year)


def banking_days_after(day: date, n: int) -> date:
    """The n-th banking day after `day` (day itself not counted)."""
    found = 0
    while found < n:
        day += timedelta(days=1)
        found += is_banking_day(day)
    return day
