"""Rolling days up to months gives what aggregating months directly gives."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from bigov.metrics.calendar import FiscalCalendar, Grain
from bigov.metrics.harmonise import Harmoniser

SERIES = pa.table(
    {
        "code": ["a", "b"],
        "series_id": pa.array([1, 2], pa.int64()),
        "frequency": ["hourly", "hourly"],
        "grains": ["month", "month"],
    }
)
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

observations = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 24 * 200), st.integers(-1000, 1000)),
    min_size=1,
    max_size=300,
    unique_by=lambda t: (t[0], t[1]),
)


def month_rows(rows: list[tuple[str, int, int]], grains: set[Grain]) -> set[tuple[object, ...]]:
    table = pa.table(
        {
            "series": [r[0] for r in rows],
            "ts": pa.array(
                [START + dt.timedelta(hours=r[1]) for r in rows], pa.timestamp("us", tz="UTC")
            ),
            "value": [float(r[2]) for r in rows],
        }
    )
    with Harmoniser(FiscalCalendar("Europe/London", 4), threads=1) as h:
        h.stage(table, SERIES)
        out = h.aggregate(grains, batch_id=1)
    return {
        (r["series_id"], r["period_start"], r["n"], r["sum"], r["min"], r["max"], r["last_value"])
        for r in out.to_pylist()
        if r["grain"] == "month"
    }


@settings(max_examples=40, deadline=None)
@given(observations)
def test_day_then_month_equals_month(rows: list[tuple[str, int, int]]) -> None:
    assert month_rows(rows, {Grain.DAY, Grain.MONTH}) == month_rows(rows, {Grain.MONTH})
