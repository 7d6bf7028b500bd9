"""Aggregation semantics on hand-built series with known answers, through the public service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from bigov.errors import NotFoundError
from bigov.metrics.calendar import Frequency, Grain
from bigov.metrics.models import MeasureDirection, OrgRollup, TimeAggregation
from bigov.metrics.schemas import MeasureSpec, SeriesSpec, TargetSpec
from bigov.metrics.service import MetricsService
from bigov.org.models import OrgUnit
from bigov.workspace import Workspace

UTC = dt.UTC


def noon(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 12, tzinfo=UTC)


def define(svc: MetricsService, code: str, agg: TimeAggregation, **kw: object) -> None:
    spec = MeasureSpec(
        code=code,
        name=code,
        frequency=kw.pop("frequency", Frequency.DAILY),  # type: ignore[arg-type]
        time_aggregation=agg,
        grains=kw.pop("grains", [Grain.DAY, Grain.MONTH, Grain.QUARTER]),  # type: ignore[arg-type]
        series=kw.pop("series", [SeriesSpec(code=f"{code}-A", org="A")]),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    svc.define(spec)


def frame(
    series: str, stamps: list[dt.datetime], values: list[float], weights: list[float] | None = None
) -> pl.DataFrame:
    data: dict[str, object] = {"series": [series] * len(stamps), "ts": stamps, "value": values}
    if weights is not None:
        data["weight"] = weights
    return pl.DataFrame(data)


def by_label(svc: MetricsService, code: str, grain: str, **kw: object) -> dict[str, float | None]:
    return {v.label: v.value for v in svc.values(code, grain=grain, **kw)}  # type: ignore[arg-type]


def test_sum_last_weighted_mean_max(svc: MetricsService) -> None:
    days = [noon(2025, 4, d) for d in (1, 2, 3)] + [noon(2025, 5, 1)]
    for code, agg in [
        ("flow", TimeAggregation.SUM),
        ("stock", TimeAggregation.LAST),
        ("rate", TimeAggregation.WEIGHTED_MEAN),
        ("worst", TimeAggregation.MAX),
        ("best", TimeAggregation.MIN),
    ]:
        define(svc, code, agg)
        svc.load(frame(f"{code}-A", days, [10.0, 30.0, 20.0, 5.0], [1.0, 3.0, 0.0, 2.0]))
    assert by_label(svc, "flow", "month") == {"2025-04": 60.0, "2025-05": 5.0}
    assert by_label(svc, "stock", "month") == {"2025-04": 20.0, "2025-05": 5.0}
    assert by_label(svc, "rate", "month")["2025-04"] == pytest.approx((10 + 90 + 0) / 4)
    assert by_label(svc, "worst", "month")["2025-04"] == 30.0
    assert by_label(svc, "best", "month")["2025-04"] == 10.0
    assert by_label(svc, "flow", "quarter") == {"FY2026-Q1": 65.0}
    assert by_label(svc, "stock", "quarter") == {"FY2026-Q1": 5.0}


def test_fiscal_quarters_with_april_start(svc: MetricsService) -> None:
    define(svc, "q", TimeAggregation.SUM)
    svc.load(
        frame(
            "q-A",
            [noon(2025, 3, 31), noon(2025, 4, 1), noon(2025, 6, 30), noon(2025, 7, 1)],
            [1.0, 2.0, 4.0, 8.0],
        )
    )
    assert by_label(svc, "q", "quarter") == {"FY2025-Q4": 1.0, "FY2026-Q1": 6.0, "FY2026-Q2": 8.0}


def test_partial_period_flagged(svc: MetricsService) -> None:
    define(svc, "p", TimeAggregation.SUM)
    svc.load(frame("p-A", [noon(2025, 4, d) for d in range(1, 13)], [1.0] * 12))
    [april] = svc.values("p", grain="month")
    assert (april.n, april.expected, april.partial) == (12, 30, True)
    assert april.coverage == pytest.approx(0.4)
    [row] = svc.completeness("p", grain="month")
    assert (row.series, row.n, row.expected, row.partial) == ("p-A", 12, 30, True)
    full = [v for v in svc.values("p", grain="day") if v.label == "2025-04-05"]
    assert full[0].partial is False


def test_dst_day_hourly_is_complete_with_23_hours(svc: MetricsService) -> None:
    define(
        svc, "h", TimeAggregation.SUM, frequency=Frequency.HOURLY, grains=[Grain.HOUR, Grain.DAY]
    )
    start = dt.datetime(2025, 3, 30, 0, tzinfo=UTC)  # = 00:00 GMT; clocks go forward at 01:00
    stamps = [start + dt.timedelta(hours=i) for i in range(23)]
    svc.load(frame("h-A", stamps, [1.0] * 23))
    day = {v.label: v for v in svc.values("h", grain="day")}["2025-03-30"]
    assert (day.n, day.expected, day.partial, day.value) == (23, 23, False, 23.0)
    hours = [v.label for v in svc.values("h", grain="hour")]
    assert "2025-03-30T01:00" not in hours and "2025-03-30T02:00" in hours


def test_naive_timestamps_are_local_time(svc: MetricsService, tmp_path: Path) -> None:
    define(svc, "n", TimeAggregation.SUM)
    csv = tmp_path / "n.csv"
    # 23:30 local on 31 March BST... is still March locally although 22:30 UTC
    csv.write_text("series,ts,value\nn-A,2025-04-30 23:30,5\nn-A,2025-05-01 00:30,7\n")
    svc.load(csv)
    assert by_label(svc, "n", "month") == {"2025-04": 5.0, "2025-05": 7.0}


def test_late_correction_replaces_and_as_at_shows_history(svc: MetricsService) -> None:
    define(svc, "c", TimeAggregation.SUM)
    first = svc.load(frame("c-A", [noon(2025, 4, d) for d in (1, 2, 3)], [1.0, 2.0, 3.0]))
    # a later day of the same month (incremental) and a correction of 2 April
    svc.load(frame("c-A", [noon(2025, 4, 4)], [4.0]))
    third = svc.load(frame("c-A", [noon(2025, 4, 2)], [20.0]))
    assert third.recomputed_from_prior
    now = svc.values("c", grain="month")[0]
    assert now.value == 1 + 20 + 3 + 4  # replaced, never double counted
    assert now.n == 4
    assert now.versions == 3
    assert now.batch_ids == [first.batch_id, first.batch_id + 1, third.batch_id]
    before = svc.values("c", grain="month", as_at=first.computed_at)[0]
    assert (before.value, before.versions) == (6.0, 1)
    assert by_label(svc, "c", "quarter") == {"FY2026-Q1": 28.0}
    changes = {
        c.label: (c.before, c.after) for c in svc.changes_since("c", first.computed_at, grain="day")
    }
    assert changes == {"2025-04-02": (2.0, 20.0), "2025-04-04": (None, 4.0)}


def test_csv_and_parquet_sources(svc: MetricsService, tmp_path: Path) -> None:
    define(svc, "f", TimeAggregation.SUM)
    df = frame("f-A", [noon(2025, 4, 1), noon(2025, 4, 2)], [1.5, 2.5])
    df.write_parquet(tmp_path / "o.parquet")
    svc.load(tmp_path / "o.parquet")
    (tmp_path / "o.csv").write_text("series,ts,value\nf-A,2025-04-03T12:00:00Z,3\n")
    svc.load(tmp_path / "o.csv")
    assert by_label(svc, "f", "month") == {"2025-04": 7.0}


def test_org_rollup_targets_and_rag(ws: Workspace, svc: MetricsService) -> None:
    with ws.session() as s:
        root = OrgUnit(code="ROOT", name="Root")
        s.add(root)
        s.flush()
        s.add_all(
            [
                OrgUnit(code="A", name="A", parent_id=root.id),
                OrgUnit(code="B", name="B", parent_id=root.id),
            ]
        )
    series = [SeriesSpec(code="u-A", org="A"), SeriesSpec(code="u-B", org="B")]
    define(
        svc,
        "util",
        TimeAggregation.WEIGHTED_MEAN,
        org_rollup=OrgRollup.WEIGHTED_MEAN,
        series=series,
        targets=[TargetSpec(grain=Grain.MONTH, value=0.8, red_at=0.7)],
    )
    define(
        svc,
        "cases",
        TimeAggregation.SUM,
        series=[SeriesSpec(code="k-A", org="A"), SeriesSpec(code="k-B", org="B")],
        direction=MeasureDirection.LOWER_IS_BETTER,
        targets=[TargetSpec(grain=Grain.MONTH, value=10, period="2025-04")],
    )
    svc.load(
        pl.concat(
            [
                frame("u-A", [noon(2025, 4, 1)], [0.9], [30.0]),
                frame("u-B", [noon(2025, 4, 1)], [0.5], [20.0]),
                frame("k-A", [noon(2025, 4, 1)], [4.0], [1.0]),
                frame("k-B", [noon(2025, 4, 1)], [9.0], [1.0]),
            ]
        )
    )
    [root_util] = svc.values("util", grain="month", org="ROOT")
    assert root_util.value == pytest.approx((0.9 * 30 + 0.5 * 20) / 50)
    assert root_util.rag == "amber" and root_util.series_count == 2
    [a_util] = svc.values("util", grain="month", org="A")
    assert (a_util.value, a_util.rag) == (0.9, "green")
    [cases] = svc.values("cases", grain="month", org="ROOT")
    assert (cases.value, cases.target, cases.variance, cases.rag) == (13.0, 10.0, 3.0, "red")
    assert svc.values("cases", grain="month", org="B")[0].rag == "green"


def test_attainment_against_trajectory(svc: MetricsService) -> None:
    define(svc, "kpi", TimeAggregation.LAST)
    svc.load(frame("kpi-A", [noon(2025, 4, 30), noon(2025, 5, 31)], [55.0, 58.0]))
    rows = svc.attainment(
        "kpi",
        grain="month",
        baseline=50,
        baseline_date=dt.date(2025, 4, 1),
        target=70,
        target_date=dt.date(2025, 6, 1),
    )
    april, may = rows
    assert april.planned == pytest.approx(50 + 20 * 30 / 61)
    assert april.on_track is False and april.attainment == pytest.approx(5 / (20 * 30 / 61))
    assert may.planned == pytest.approx(70) and may.progress == pytest.approx(0.4)


def test_an_appended_day_merges_into_the_stored_month(svc: MetricsService) -> None:
    for code, agg in [
        ("ap", TimeAggregation.SUM),
        ("al", TimeAggregation.LAST),
        ("aw", TimeAggregation.WEIGHTED_MEAN),
        ("ax", TimeAggregation.MAX),
    ]:
        define(svc, code, agg)
        first = svc.load(
            frame(f"{code}-A", [noon(2025, 4, 1), noon(2025, 4, 3)], [5.0, 1.0], [1.0, 1.0])
        )
        # a new day between the two: no raw row replaced, so no raw file is re-read
        later = svc.load(frame(f"{code}-A", [noon(2025, 4, 2)], [9.0], [2.0]))
        assert not later.recomputed_from_prior
        [april] = svc.values(code, grain="month")
        assert april.n == 3 and april.versions == 2
        assert april.batch_ids == [first.batch_id, later.batch_id]
    assert by_label(svc, "ap", "month") == {"2025-04": 15.0}
    assert by_label(svc, "al", "month") == {"2025-04": 1.0}  # 3 April is still the last
    assert by_label(svc, "aw", "month")["2025-04"] == pytest.approx((5 + 1 + 18) / 4)
    assert by_label(svc, "ax", "month") == {"2025-04": 9.0}
    assert by_label(svc, "ap", "quarter") == {"FY2026-Q1": 15.0}
    assert by_label(svc, "ap", "day") == {"2025-04-01": 5.0, "2025-04-02": 9.0, "2025-04-03": 1.0}


def test_a_grain_added_later_is_recomputed_from_raw_rows(svc: MetricsService) -> None:
    define(svc, "g", TimeAggregation.SUM, frequency=Frequency.HOURLY, grains=[Grain.MONTH])
    svc.load(frame("g-A", [noon(2025, 4, 1), noon(2025, 4, 1) + dt.timedelta(hours=1)], [1.0, 2.0]))
    define(
        svc, "g", TimeAggregation.SUM, frequency=Frequency.HOURLY, grains=[Grain.DAY, Grain.MONTH]
    )
    # 1 April has raw rows but no stored day aggregate: the day is rebuilt from the raw rows
    later = svc.load(frame("g-A", [noon(2025, 4, 1) + dt.timedelta(hours=2)], [4.0]))
    assert later.recomputed_from_prior
    assert by_label(svc, "g", "day") == {"2025-04-01": 7.0}
    assert by_label(svc, "g", "month") == {"2025-04": 7.0}


def test_corrections_read_raw_files_of_every_schema(svc: MetricsService) -> None:
    import duckdb

    define(svc, "rw", TimeAggregation.WEIGHTED_MEAN)
    days = [noon(2025, 4, d) for d in (1, 2, 3)]
    weighted = svc.load(frame("rw-A", days[:2], [10.0, 20.0], [1.0, 3.0]))
    plain = svc.load(frame("rw-A", days[2:], [30.0]))  # no weight column: weight 1
    # the first file rewritten in the schema of earlier versions (batch and weight as columns)
    old = svc.store.root / weighted.raw_file
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT series_id::BIGINT AS series_id, ts, value, weight, "
        f"{weighted.batch_id}::BIGINT AS batch_id FROM read_parquet('{old}')) "
        f"TO '{old}.tmp' (FORMAT parquet)"
    )
    con.close()
    old.with_name(old.name + ".tmp").replace(old)
    # correct 2 April: both files are re-read for the month, the correction wins
    fix = svc.load(frame("rw-A", [days[1]], [40.0], [1.0]))
    assert fix.recomputed_from_prior
    [april] = svc.values("rw", grain="month")
    assert april.value == pytest.approx((10 * 1 + 40 * 1 + 30 * 1) / 3)
    assert april.batch_ids == [weighted.batch_id, plain.batch_id, fix.batch_id]


def test_recompute_after_the_fiscal_year_and_grains_change(
    ws: Workspace, svc: MetricsService
) -> None:
    define(svc, "rc", TimeAggregation.SUM, grains=[Grain.MONTH, Grain.QUARTER])
    define(svc, "other", TimeAggregation.SUM, grains=[Grain.MONTH])
    first = svc.load(frame("rc-A", [noon(2025, 3, 31), noon(2025, 4, 1)], [1.0, 2.0]))
    svc.load(frame("rc-A", [noon(2025, 4, 1)], [5.0]))  # a correction: 2 becomes 5
    svc.load(frame("other-A", [noon(2025, 4, 1)], [7.0]))
    assert by_label(svc, "rc", "quarter") == {"FY2025-Q4": 1.0, "FY2026-Q1": 5.0}
    before = max(v.computed_at for v in svc.values("rc", grain="quarter") if v.computed_at)
    # the organisation moves to a February fiscal year (as many retailers) and wants days too
    ws.set_setting("fiscal_year_start_month", "2")
    define(svc, "rc", TimeAggregation.SUM, grains=[Grain.DAY, Grain.MONTH, Grain.QUARTER])
    result = svc.recompute("rc")
    assert (result.measures, result.series, result.raw_rows) == (["rc"], 1, 2)
    assert result.superseded == 4  # two months and two quarters
    assert by_label(svc, "rc", "quarter") == {"FY2026-Q1": 6.0}  # February–April 2025
    assert by_label(svc, "rc", "day") == {"2025-03-31": 1.0, "2025-04-01": 5.0}
    april = {v.label: v for v in svc.values("rc", grain="month")}["2025-04"]
    assert april.batch_ids == [first.batch_id + 1] and april.versions == 3
    # what was known before the recompute is still there, as at then: the April-start quarters
    old = svc.values("rc", grain="quarter", as_at=before)
    assert {v.period_start: v.value for v in old} == {
        dt.datetime(2025, 1, 1): 1.0,
        dt.datetime(2025, 4, 1): 5.0,
    }
    assert by_label(svc, "other", "month") == {"2025-04": 7.0}  # untouched
    with pytest.raises(NotFoundError):
        svc.recompute("nope")


def test_a_series_loaded_beside_finer_grains_keeps_its_own_periods_right(
    svc: MetricsService,
) -> None:
    # B keeps months only; loaded beside A (days) it gets day rows that later loads of B alone
    # do not refresh — an append must not be merged into them
    define(
        svc, "ga", TimeAggregation.SUM, frequency=Frequency.HOURLY, grains=[Grain.DAY, Grain.MONTH]
    )
    define(svc, "gb", TimeAggregation.SUM, frequency=Frequency.HOURLY, grains=[Grain.MONTH])
    t0 = dt.datetime(2025, 1, 15, tzinfo=UTC)

    def hours(series: str, first: int, n: int) -> pl.DataFrame:
        return frame(series, [t0 + dt.timedelta(hours=first + i) for i in range(n)], [1.0] * n)

    svc.load(pl.concat([hours("ga-A", 0, 12), hours("gb-A", 0, 12)]))
    svc.load(hours("gb-A", 12, 6))
    svc.load(pl.concat([hours("ga-A", 18, 6), hours("gb-A", 18, 6)]))
    assert by_label(svc, "gb", "month") == {"2025-01": 24.0}
    assert by_label(svc, "ga", "month") == {"2025-01": 18.0}
    assert by_label(svc, "ga", "day") == {"2025-01-15": 18.0}
    # the next day for both: B's month is completed from its own stored month, not from day
    # rows it never kept
    svc.load(pl.concat([hours("ga-A", 24, 24), hours("gb-A", 24, 24)]))
    assert by_label(svc, "gb", "month") == {"2025-01": 48.0}
    assert by_label(svc, "ga", "month") == {"2025-01": 42.0}
    assert by_label(svc, "ga", "day") == {"2025-01-15": 18.0, "2025-01-16": 24.0}
    assert by_label(svc, "gb", "day") == {}  # B keeps months only
