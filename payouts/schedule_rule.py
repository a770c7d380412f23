"""When a restaurant's payout schedule is due: a pure function of the schedule and a calendar day.

The day is a business day in TIME_ZONE: the local date on which the run was requested (the daily
scheduled run's today, not its `as_of`, which is yesterday).
"""

import calendar
from dataclasses import dataclass
from datetime import date

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"


@dataclass(frozen=True)
class ScheduleTerms:
    """A schedule's terms; the default (no schedule recorded) is daily with no minimum of its own."""

    frequency: str = DAILY
    weekday: int | None = None  # weekly: 0 Monday … 6 Sunday
    day_of_month: int | None = None  # monthly: 1 … 28
    last_day_of_month: bool = False  # monthly: the month's last day instead
    min_amount: int = 1


def schedule_is_due(terms: ScheduleTerms, *, on: date) -> bool:
    """Whether a restaurant on these terms is paid on the day `on`."""
    if terms.frequency == DAILY:
        return True
    if terms.frequency == WEEKLY:
        return on.weekday() == terms.weekday
    if terms.frequency == MONTHLY:
        if terms.last_day_of_month:
            return on.day == calendar.monthrange(on.year, on.month)[1]
        return on.day == terms.day_of_month
    raise ValueError(f"Unknown payout frequency {terms.frequency!r}.")


def schedule_terms_problems(*, frequency: str, weekday: int | None, day_of_month: int | None,
                            last_day_of_month: bool, min_amount: int) -> dict[str, list[str]]:
    """What is wrong with these terms, by field (the database's check constraint holds the same rule)."""
    errors: dict[str, list[str]] = {}
    if frequency not in (DAILY, WEEKLY, MONTHLY):
        errors["frequency"] = ["Must be daily, weekly or monthly."]
    if frequency == WEEKLY and (weekday is None or not 0 <= weekday <= 6):
        errors["weekday"] = ["A weekly schedule needs a weekday, 0 (Monday) to 6 (Sunday)."]
    if frequency != WEEKLY and weekday is not None:
        errors["weekday"] = ["Only a weekly schedule has a weekday."]
    if frequency == MONTHLY:
        if last_day_of_month and day_of_month is not None:
            errors["day_of_month"] = ["Either a day from 1 to 28, or the last day of the month; not both."]
        elif not last_day_of_month and (day_of_month is None or not 1 <= day_of_month <= 28):
            errors["day_of_month"] = ["A monthly schedule needs a day from 1 to 28, or the last day of the month."]
    elif day_of_month is not None or last_day_of_month:
        errors["day_of_month"] = ["Only a monthly schedule has a day of the month."]
    if isinstance(min_amount, bool) or not isinstance(min_amount, int) or min_amount < 1:
        errors["min_amount"] = ["Must be a whole number of minor units, at least 1."]
    return errors
