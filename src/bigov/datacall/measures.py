"""Timeliness and first-time-right as measures of the metrics context, so a board can hold
targets on them like any KPI (``metrics.DATACALL-TIMELINESS`` in an information definition,
targets and RAG from ``bigov metrics define``).

Each org unit's rates (see :func:`bigov.datacall.service.rates`, ``by="unit"``) become one
observation per period of its series, weighted by how many requests counted, so a parent unit
and a quarter roll up as the share of all their requests rather than an average of averages.
Publishing again replaces the periods it touches (the metrics load's newest-batch-wins rule).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from bigov.datacall.service import rates

if TYPE_CHECKING:
    from bigov.workspace import Workspace

TIMELINESS = "DATACALL-TIMELINESS"
FIRST_TIME_RIGHT = "DATACALL-FTR"
NO_UNIT = "(no unit)"


class PublishResult(BaseModel):
    measures: list[str]
    series: int
    observations: int


def _series_code(prefix: str, unit: str) -> str:
    code = f"{prefix}-{unit}"
    if len(code) <= 64:
        return code
    return f"{prefix}-{hashlib.sha256(unit.encode()).hexdigest()[:16]}"


def publish_measures(
    ws: Workspace, periods: Sequence[str], *, today: dt.date | None = None
) -> PublishResult:
    """Define the two measures (targets already set are kept) and load each unit's rates for
    ``periods`` as their observations.

    Raises:
        ConfigError: a bad period.
    """
    import pyarrow as pa

    from bigov.metrics.calendar import Frequency, Grain
    from bigov.metrics.models import MeasureDirection, OrgRollup, TimeAggregation
    from bigov.metrics.schemas import MeasureSpec, SeriesSpec

    rows = [r for r in rates(ws, "unit", periods=periods, today=today) if r.key != NO_UNIT]
    units = sorted({r.key for r in rows})
    specs = (
        (
            TIMELINESS,
            "tm",
            "Data calls: timeliness",
            "first submitted by the cut-off, of those due",
        ),
        (FIRST_TIME_RIGHT, "ft", "Data calls: first time right", "accepted at first assurance"),
    )
    for code, tag, name, what in specs:
        ws.metrics.define(
            MeasureSpec(
                code=code,
                name=name,
                unit="%",
                frequency=Frequency.MONTHLY,
                time_aggregation=TimeAggregation.WEIGHTED_MEAN,
                org_rollup=OrgRollup.WEIGHTED_MEAN,
                direction=MeasureDirection.HIGHER_IS_BETTER,
                grains=[Grain.MONTH, Grain.QUARTER, Grain.YEAR],
                description=f"Share of data-call requests {what} (bigov datacall).",
                series=[SeriesSpec(code=_series_code(f"DC{tag}", u), org=u) for u in units],
            )
        )
    series: list[str] = []
    ts: list[dt.datetime] = []
    values: list[float] = []
    weights: list[float] = []
    for r in rows:
        month = dt.datetime.strptime(r.period, "%Y-%m")
        for tag, value, weight in (
            ("tm", r.timeliness, r.due),
            ("ft", r.first_time_right_pct, r.judged),
        ):
            if value is None or not weight:
                continue
            series.append(_series_code(f"DC{tag}", r.key))
            ts.append(month)
            values.append(float(value))
            weights.append(float(weight))
    if series:
        frame = pa.table(
            {
                "series": pa.array(series, pa.string()),
                "ts": pa.array(ts, pa.timestamp("us")),
                "value": pa.array(values, pa.float64()),
                "weight": pa.array(weights, pa.float64()),
            }
        )
        ws.metrics.load(frame, label="datacall rates", user="bigov datacall")
    return PublishResult(
        measures=[TIMELINESS, FIRST_TIME_RIGHT], series=len(units) * 2, observations=len(series)
    )


__all__ = ["FIRST_TIME_RIGHT", "TIMELINESS", "PublishResult", "publish_measures"]
