"""Time in the centre's zone: what month a moment belongs to, and where a month starts and ends.

Pure functions take the zone explicitly; `centre_tz()` reads the configured one. Times are
stored in UTC and periods (calendar months, "YYYY-MM") are computed in the centre's zone.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """A period string that is not YYYY-MM."""


def centre_tz() -> ZoneInfo:
    """The centre's configured time zone (default Asia/Shanghai)."""
    return ZoneInfo(current_app.config["CENTRE_TIMEZONE"])


def local_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """A UTC moment as wall-clock time in the zone."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(tz)


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    """The calendar month ("YYYY-MM") of the moment, in the zone."""
    local = local_time(moment, tz)
    return f"{local.year:04d}-{local.month:02d}"


def periods_of(moments, tz: ZoneInfo) -> list[str]:
    """`period_of` of each timezone-aware time of a pandas Series, worked out all at once."""
    local = moments.dt.tz_convert(tz)
    months = (local.dt.year * 100 + local.dt.month).to_numpy().tolist()
    names = {month: f"{month // 100:04d}-{month % 100:02d}" for month in set(months)}
    return list(map(names.__getitem__, months))


def period_of_date(day: date) -> str:
    """The calendar month ("YYYY-MM") of a calendar date (already local)."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_RE.match(period or "")
    if not match:
        raise PeriodError(f"not a period (YYYY-MM): {period!r}")
    return int(match.group(1)), int(match.group(2))


def next_period(period: str) -> str:
    year, month = parse_period(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def previous_period(period: str) -> str:
    year, month = parse_period(period)
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


def period_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start (inclusive) and end (exclusive) of the month in the zone."""
    year, month = parse_period(period)
    n_year, n_month = parse_period(next_period(period))
    start = datetime(year, month, 1, tzinfo=tz).astimezone(timezone.utc)
    end = datetime(n_year, n_month, 1, tzinfo=tz).astimezone(timezone.utc)
    return start, end


def month_first_day(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, 1)


def month_last_day(period: str) -> date:
    n_year, n_month = parse_period(next_period(period))
    return date.fromordinal(date(n_year, n_month, 1).toordinal() - 1)


def days_in(first: date, last: date, hired: date, left: date | None) -> int:
    """The days of the month (first..last, inclusive) a person was there: joiners and
    leavers count for the days they were."""
    start = max(first, hired)
    end = min(last, left) if left else last
    return max((end - start).days + 1, 0)
