"""The fast pass's integer zone arithmetic agrees with the Python calendar, and its problems
fall through to the exact report."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest

from bigov.errors import ValidationError
from bigov.metrics.calendar import FiscalCalendar, Grain
from bigov.metrics.harmonise import Harmoniser

SERIES = {"code": ["a"], "series_id": [7], "frequency": ["hourly"], "grains": ["month"]}


@pytest.mark.parametrize(
    ("tz", "fy"), [("Europe/London", 4), ("Asia/Kolkata", 1), ("America/St_Johns", 7)]
)
def test_period_sql_matches_calendar(tz: str, fy: int) -> None:
    cal = FiscalCalendar(tz, fy)
    rnd = random.Random(5)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    # random instants plus every quarter hour around the 2024 DST changes
    stamps = [base + dt.timedelta(seconds=rnd.randrange(0, 3 * 365 * 86400)) for _ in range(400)]
    for day in (dt.datetime(2024, 3, 30, tzinfo=dt.UTC), dt.datetime(2024, 10, 26, tzinfo=dt.UTC)):
        stamps += [day + dt.timedelta(minutes=15 * i) for i in range(4 * 48)]
    with Harmoniser(cal, threads=1) as h:
        h.con.execute("CREATE TEMP TABLE t AS SELECT unnest(?::TIMESTAMPTZ[]) AS ts", [stamps])
        for grain in Grain:
            expr = h._period_sql(grain, "ts", min(stamps), max(stamps))
            got = [r[0] for r in h.con.execute(f"SELECT {expr} FROM t").fetchall()]
            want = [cal.period_start(grain, cal.to_local(s)) for s in stamps]
            assert got == want, grain


def test_naive_wall_times_read_like_the_calendar(tmp_path: Path) -> None:
    cal = FiscalCalendar("Europe/London", 4)
    # around both changes, the hour that repeats read as its first occurrence
    walls = ["2025-03-30 00:30", "2025-03-30 02:00", "2025-03-30 03:30", "2025-10-26 01:30"]
    csv = tmp_path / "n.csv"
    csv.write_text("series,ts,value\n" + "".join(f"a,{w},1\n" for w in walls))
    with Harmoniser(cal, threads=1) as h:
        h.stage(csv, SERIES)
        assert h._partials_grain is not None  # the fast pass took it: no problem found
        got = [r[0] for r in h.con.execute("SELECT ts FROM staged ORDER BY ts").fetchall()]
    want = sorted(cal.to_utc(dt.datetime.fromisoformat(w)) for w in walls)
    assert got == want


@pytest.mark.parametrize(
    ("wall", "reason"),
    [
        # inside the fast pass's window, and outside it (a file of 2025 with a row of 2026)
        (
            "2025-03-30 01:30",
            "2025-03-30 01:30 does not exist in Europe/London: the clocks go forward from "
            "01:00 to 02:00 on 30 Mar 2025",
        ),
        (
            "2026-03-29 01:00",
            "2026-03-29 01:00 does not exist in Europe/London: the clocks go forward from "
            "01:00 to 02:00 on 29 Mar 2026",
        ),
        # before 1970 (DuckDB's own zone conversion): 02:00 GMT became 03:00 BST
        (
            "1965-03-21 02:30",
            "1965-03-21 02:30 does not exist in Europe/London (the clocks go forward over it)",
        ),
    ],
)
def test_skipped_wall_time_is_refused_not_moved(tmp_path: Path, wall: str, reason: str) -> None:
    csv = tmp_path / "n.csv"
    csv.write_text(f"series,ts,value\na,2025-03-30 00:30,1\na,{wall},2\na,2025-03-30 03:00,4\n")
    raw = tmp_path / "raw.parquet"
    with (
        Harmoniser(FiscalCalendar("Europe/London", 4), threads=1) as h,
        pytest.raises(ValidationError) as info,
    ):
        h.stage(csv, SERIES, raw_path=raw, batch_id=1)
    assert info.value.message.startswith("n.csv: 1 bad row(s), nothing stored (1 × local times ")
    assert [(p.row, p.column, p.value, p.reason) for p in info.value.problems] == [
        (3, "ts", wall, reason)
    ]
    assert not raw.exists()


def test_skipped_wall_time_in_a_typed_frame_is_refused() -> None:
    # naive Arrow timestamps take the same zone arithmetic as CSV text
    table = pa.table(
        {
            "series": ["a", "a"],
            "ts": pa.array(
                [dt.datetime(2026, 3, 29, 0, 30), dt.datetime(2026, 3, 29, 1, 30)],
                pa.timestamp("us"),
            ),
            "value": [1.0, 2.0],
        }
    )
    with (
        Harmoniser(FiscalCalendar("Europe/London", 4), threads=1) as h,
        pytest.raises(ValidationError) as info,
    ):
        h.stage(table, SERIES)
    assert [(p.row, p.reason) for p in info.value.problems] == [
        (
            2,
            "2026-03-29 01:30:00 does not exist in Europe/London: the clocks go forward from "
            "01:00 to 02:00 on 29 Mar 2026",
        )
    ]


@pytest.mark.parametrize(
    "stamps",
    [
        # off the hour: sub-second times share a bitmap slot, the exact check names them
        ("2025-04-01T12:00:00.25Z", "2025-04-01T12:00:01Z", "2025-04-01T12:00:00.25Z"),
        # on the hour: the bitmaps alone find the repeated slot
        ("2025-04-01T10:00:00Z", "2025-04-01T11:00:00Z", "2025-04-01T10:00:00Z"),
    ],
)
def test_duplicates_are_named_and_nothing_is_kept(
    tmp_path: Path, stamps: tuple[str, str, str]
) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("series,ts,value\n" + "".join(f"a,{t},{i}\n" for i, t in enumerate(stamps)))
    with Harmoniser(FiscalCalendar(), threads=2) as h, pytest.raises(ValidationError) as info:
        h.stage(csv, SERIES, raw_path=tmp_path / "raw.parquet", batch_id=1)
    assert "1 × duplicate series and timestamp within the file" in info.value.message
    assert [p.row for p in info.value.problems] == [4]
    assert not (tmp_path / "raw.parquet").exists()


def test_frame_with_unknown_series_is_reported() -> None:
    table = pa.table(
        {
            "series": ["a", "zz"],
            "ts": pa.array(
                [dt.datetime(2025, 4, 1, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC")
            ),
            "value": [1.0, 2.0],
        }
    )
    with Harmoniser(FiscalCalendar(), threads=1) as h, pytest.raises(ValidationError) as info:
        h.stage(table, SERIES)
    assert "1 × unknown series code" in info.value.message


def _load_csv(tmp_path: Path, text: str, grains: set[Grain], tz: str = "Europe/London") -> list:
    csv = tmp_path / "o.csv"
    csv.write_text(text)
    series = {**SERIES, "grains": [",".join(g.value for g in grains)]}
    with Harmoniser(FiscalCalendar(tz, 4), threads=2) as h:
        h.stage(csv, series)
        return h.aggregate(grains, batch_id=1).to_pylist()


def test_timestamps_finer_than_a_slot_are_not_duplicates(tmp_path: Path) -> None:
    # 10:00, 10:05 and 10:10 share a 15-minute bitmap slot: the exact check clears them
    rows = _load_csv(
        tmp_path,
        "series,ts,value\na,2025-04-01T10:00:00Z,1\na,2025-04-01T10:05:00Z,2\n"
        "a,2025-04-01T10:10:00Z,4\n",
        {Grain.MONTH},
    )
    assert [(r["n"], r["sum"], r["last_value"]) for r in rows] == [(3, 7.0, 4.0)]


def test_rows_outside_the_guessed_window_are_still_right(tmp_path: Path) -> None:
    # the window is guessed from the first and last lines (April 2025); a row from 2019 in the
    # middle takes the exact zone conversion (BST in July 2019: 23:30 UTC is 1 August locally)
    rows = _load_csv(
        tmp_path,
        "series,ts,value\na,2025-04-01T10:00:00Z,1\na,2019-07-31T23:30:00Z,2\n"
        "a,2025-04-02T10:00:00Z,4\n",
        {Grain.MONTH},
    )
    got = {(r["period_start"], r["n"], r["sum"]) for r in rows}
    assert got == {(dt.datetime(2025, 4, 1), 2, 5.0), (dt.datetime(2019, 8, 1), 1, 2.0)}


def test_the_hour_clocks_go_back_is_two_hours_not_a_duplicate(tmp_path: Path) -> None:
    # 00:30Z and 01:30Z on 26 October 2025 are both 01:30 in London
    rows = _load_csv(
        tmp_path,
        "series,ts,value\na,2025-10-26T00:30:00Z,1\na,2025-10-26T01:30:00Z,2\n",
        {Grain.HOUR, Grain.DAY},
    )
    hour = [r for r in rows if r["grain"] == "hour"]
    assert [(r["period_start"], r["n"], r["sum"]) for r in hour] == [
        (dt.datetime(2025, 10, 26, 1, 0), 2, 3.0)
    ]


def test_weeks_and_months_are_both_rolled_up_from_days(tmp_path: Path) -> None:
    # Monday 30 June and Tuesday 1 July 2025: one ISO week, two months
    rows = _load_csv(
        tmp_path,
        "series,ts,value\na,2025-06-30T12:00:00Z,1\na,2025-07-01T12:00:00Z,2\n",
        {Grain.WEEK, Grain.MONTH},
    )
    by_grain: dict[str, set[tuple[dt.datetime, float]]] = {}
    for r in rows:
        by_grain.setdefault(r["grain"], set()).add((r["period_start"], r["sum"]))
    assert by_grain["week"] == {(dt.datetime(2025, 6, 30), 3.0)}
    assert by_grain["month"] == {(dt.datetime(2025, 6, 1), 1.0), (dt.datetime(2025, 7, 1), 2.0)}


def test_naive_times_outside_the_guessed_window_are_still_local(tmp_path: Path) -> None:
    # naive wall times: the middle row (summer 2019) is outside the window of the first and
    # last lines (winter 2025) and takes the exact conversion — 23:30 BST stays in July
    csv = tmp_path / "n.csv"
    csv.write_text(
        "series,ts,value\na,2025-01-10 10:00,1\na,2019-07-31 23:30,2\na,2025-01-11 10:00,4\n"
    )
    with Harmoniser(FiscalCalendar("Europe/London", 4), threads=2) as h:
        h.stage(csv, SERIES)
        stamps = sorted(r[0] for r in h.con.execute("SELECT ts FROM staged").fetchall())
        rows = h.aggregate({Grain.MONTH}, batch_id=1).to_pylist()
    assert stamps[0] == dt.datetime(2019, 7, 31, 22, 30, tzinfo=dt.UTC)
    got = {(r["period_start"], r["sum"]) for r in rows}
    assert got == {(dt.datetime(2025, 1, 1), 5.0), (dt.datetime(2019, 7, 1), 2.0)}


def test_rows_outside_the_window_follow_the_same_zone_data(tmp_path: Path) -> None:
    # the window is guessed from the first and last lines (10 December); the other rows take
    # the zone's full tree of changes — the same zoneinfo data as the calendar (DuckDB's ICU
    # data disagrees for some zones, e.g. Vancouver from November 2026)
    cal = FiscalCalendar("America/Vancouver", 4)
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    stamps = [t0 + dt.timedelta(hours=h) for h in range(24 * 12)]
    middle = [t for t in stamps if t.day == 10]
    order = middle[:1] + [t for t in stamps if t.day != 10] + middle[1:]
    csv = tmp_path / "v.csv"
    csv.write_text("series,ts,value\n" + "".join(f"a,{t:%Y-%m-%dT%H:%M:%S}Z,1\n" for t in order))
    series = {**SERIES, "grains": ["day"]}
    with Harmoniser(cal, threads=2) as h:
        h.stage(csv, series)
        got = {r["period_start"]: r["n"] for r in h.aggregate({Grain.DAY}, batch_id=1).to_pylist()}
    want: dict[dt.datetime, int] = {}
    for t in stamps:
        day = cal.period_start(Grain.DAY, cal.to_local(t))
        want[day] = want.get(day, 0) + 1
    assert got == want


def test_a_date_whose_midnight_is_skipped_is_the_start_of_its_day(tmp_path: Path) -> None:
    # America/Santiago goes from 00:00 to 01:00 on 7 Sep 2025: the date still names that day
    cal = FiscalCalendar("America/Santiago", 1)
    csv = tmp_path / "days.csv"
    csv.write_text("series,ts,value\na,2025-09-06,1\na,2025-09-07,2\na,2025-09-08,4\n")
    with Harmoniser(cal, threads=1) as h:
        h.stage(csv, SERIES)
        assert h._partials_grain is not None
        got = [r[0] for r in h.con.execute("SELECT ts FROM staged ORDER BY ts").fetchall()]
    assert got == [cal.to_utc(dt.datetime(2025, 9, d)) for d in (6, 7, 8)]
    assert got[1] == dt.datetime(2025, 9, 7, 4, tzinfo=dt.UTC)  # 01:00 local, the day's start
    # a time inside the skipped hour is still refused
    csv.write_text("series,ts,value\na,2025-09-06,1\na,2025-09-07 00:30,2\n")
    with Harmoniser(cal, threads=1) as h, pytest.raises(ValidationError) as info:
        h.stage(csv, SERIES)
    assert [(p.row, p.reason) for p in info.value.problems] == [
        (
            3,
            "2025-09-07 00:30 does not exist in America/Santiago: the clocks go forward from "
            "00:00 to 01:00 on 07 Sep 2025",
        )
    ]
