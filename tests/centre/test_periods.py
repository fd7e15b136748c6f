from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from app.centre.periods import (
    PeriodError,
    month_last_day,
    next_period,
    period_bounds,
    period_of,
    periods_of,
    previous_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_moment_belongs_to_the_month_of_the_centre_not_of_utc():
    # 31 March 20:00 UTC is already 1 April 04:00 in Shanghai
    moment = datetime(2026, 3, 31, 20, 0, tzinfo=timezone.utc)
    assert period_of(moment, SHANGHAI) == "2026-04"
    assert period_of(moment, ZoneInfo("UTC")) == "2026-03"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        period_of(datetime(2026, 3, 1), SHANGHAI)


def test_month_bounds_are_local_midnights_in_utc():
    start, end = period_bounds("2026-04", SHANGHAI)
    assert start == datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 4, 30, 16, 0, tzinfo=timezone.utc)


def test_periods_step_over_year_ends():
    assert next_period("2026-12") == "2027-01"
    assert previous_period("2026-01") == "2025-12"
    assert month_last_day("2028-02") == date(2028, 2, 29)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-01", "", "2026/01"])
def test_bad_periods_are_refused(bad):
    with pytest.raises(PeriodError):
        next_period(bad)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London", "America/Sao_Paulo"])
def test_the_months_of_a_whole_column_are_those_of_each_time(zone):
    """Every quarter-hour around two month ends (one of them with a summer-time change in
    London), in UTC and in another zone."""
    tz = ZoneInfo(zone)
    moments = [start + timedelta(minutes=15 * n)
               for start in (datetime(2026, 3, 30, tzinfo=timezone.utc),
                             datetime(2026, 10, 30, tzinfo=timezone.utc))
               for n in range(4 * 24 * 3)]
    times = pd.Series(moments).dt.tz_convert("Asia/Kolkata")
    assert periods_of(times, tz) == [period_of(moment, tz) for moment in moments]
