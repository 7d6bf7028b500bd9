"""Period arithmetic: fiscal quarters, ISO weeks across year ends, DST, labels, expected counts."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from bigov.errors import ConfigError
from bigov.metrics.calendar import (
    FiscalCalendar,
    Frequency,
    Grain,
    base_grain,
    cadence_grain,
    duckdb_period_start,
)

D = dt.datetime
UK = FiscalCalendar("Europe/London", 4)


@pytest.mark.parametrize(
    ("day", "grain", "start", "label"),
    [
        (D(2025, 4, 1), Grain.QUARTER, D(2025, 4, 1), "FY2026-Q1"),
        (D(2025, 3, 31), Grain.QUARTER, D(2025, 1, 1), "FY2025-Q4"),
        (D(2025, 12, 15), Grain.QUARTER, D(2025, 10, 1), "FY2026-Q3"),
        (D(2026, 2, 1), Grain.YEAR, D(2025, 4, 1), "FY2026"),
        (D(2025, 3, 1), Grain.YEAR, D(2024, 4, 1), "FY2025"),
        (D(2025, 4, 9, 13, 30), Grain.HOUR, D(2025, 4, 9, 13), "2025-04-09T13:00"),
        (D(2025, 4, 9, 13, 30), Grain.MONTH, D(2025, 4, 1), "2025-04"),
        (D(2024, 12, 31), Grain.WEEK, D(2024, 12, 30), "2025-W01"),
        (D(2027, 1, 1), Grain.WEEK, D(2026, 12, 28), "2026-W53"),
        (D(2021, 1, 3), Grain.WEEK, D(2020, 12, 28), "2020-W53"),
    ],
)
def test_period_start_and_label(day: D, grain: Grain, start: D, label: str) -> None:
    assert UK.period_start(grain, day) == start
    assert UK.label(grain, start) == label
    assert UK.parse_period(grain, label) == start


def test_january_fiscal_year_is_calendar_year() -> None:
    cal = FiscalCalendar("UTC", 1)
    assert cal.label(Grain.QUARTER, cal.period_start(Grain.QUARTER, D(2025, 5, 5))) == "FY2025-Q2"


def test_dst_days_have_23_and_25_hours() -> None:
    assert UK.expected_count(Frequency.HOURLY, Grain.DAY, D(2025, 3, 30)) == 23
    assert UK.expected_count(Frequency.HOURLY, Grain.DAY, D(2025, 10, 26)) == 25
    assert UK.expected_count(Frequency.HOURLY, Grain.DAY, D(2025, 6, 1)) == 24
    assert UK.expected_count(Frequency.DAILY, Grain.MONTH, D(2025, 2, 1)) == 28
    assert UK.expected_count(Frequency.DAILY, Grain.QUARTER, D(2025, 4, 1)) == 91
    assert UK.expected_count(Frequency.WEEKLY, Grain.MONTH, D(2025, 9, 1)) == 5  # 1,8,15,22,29
    assert UK.expected_count(Frequency.MONTHLY, Grain.YEAR, D(2025, 4, 1)) == 12
    assert UK.expected_count(Frequency.MONTHLY, Grain.DAY, D(2025, 4, 1)) is None
    assert UK.expected_count(Frequency.IRREGULAR, Grain.MONTH, D(2025, 4, 1)) is None


def test_cadence_and_base_grain() -> None:
    assert cadence_grain("monthly") is Grain.MONTH
    assert cadence_grain("fortnightly") is Grain.WEEK
    assert cadence_grain("annual") is Grain.YEAR
    with pytest.raises(ConfigError):
        cadence_grain("sometimes")
    assert base_grain({Grain.MONTH, Grain.QUARTER}) is Grain.MONTH
    assert base_grain({Grain.WEEK, Grain.MONTH}) is Grain.DAY
    assert base_grain({Grain.HOUR, Grain.WEEK}) is Grain.HOUR


def test_bad_calendar_settings() -> None:
    with pytest.raises(ConfigError):
        FiscalCalendar("Mars/Olympus", 4)
    with pytest.raises(ConfigError):
        FiscalCalendar("UTC", 13)
    with pytest.raises(ConfigError):
        UK.parse_period(Grain.QUARTER, "FY2026-Q5")


@pytest.mark.parametrize("fy", [1, 4, 7, 10])
def test_duckdb_twin_matches_python(fy: int) -> None:
    cal = FiscalCalendar("UTC", fy)
    days = [D(2024, 1, 1) + dt.timedelta(days=i * 11) for i in range(80)]
    con = duckdb.connect()
    for grain in Grain:
        expr = duckdb_period_start(grain, "d", fy)
        got = [
            r[0]
            for r in con.execute(
                f"SELECT {expr} FROM unnest(?::TIMESTAMP[]) t(d)", [days]
            ).fetchall()
        ]
        assert got == [cal.period_start(grain, d) for d in days], grain
