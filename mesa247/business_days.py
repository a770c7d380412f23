"""Business days: calendar dates in TIME_ZONE, and the instants that bound them."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def day_start(day: date) -> datetime:
    """The first instant of `day` in TIME_ZONE."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def days_bounds(first_day: date, last_day: date) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the days from `first_day` to `last_day`, both inclusive. The calendar's
    first and last days leave that side unbounded (the day after 9999-12-31 does not exist)."""
    start = None if first_day == date.min else day_start(first_day)
    end = None if last_day == date.max else day_start(last_day + timedelta(days=1))
    return start, end
