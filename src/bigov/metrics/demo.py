"""Operational KPIs of the demo enterprise: measures, targets and ~13 months of observations.

:func:`generate_observations` runs after :func:`bigov.demo.generate` has built the organisation
and its key results. It defines every measure of :data:`bigov.demo.OPERATIONAL_MEASURES` (with
targets, RAG thresholds and direction, taken from the key result that names the measure where
there is one) and loads hourly and daily observations up to the demo's as-of date through the
public :class:`~bigov.metrics.service.MetricsService` API, so the monthly and quarterly boards
have harmonised figures to read.

The numbers are generated vectorised (numpy) from the seed: a level moving from the key result's
baseline toward its target (so attainment tells a story), weekly and daily seasonality, noise,
a few planted gaps (so completeness is below 100 % somewhere) and one late batch that fills part
of a gap and restates three days of bills (so "what changed since" has an answer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import select

from bigov.demo import DEFAULT_AS_OF, OPERATIONAL_MEASURES, SCALES, OperationalMeasure
from bigov.errors import ConfigError
from bigov.metrics.calendar import Frequency, Grain
from bigov.metrics.models import MeasureDirection, OrgRollup, TimeAggregation
from bigov.metrics.schemas import LoadResult, MeasureSpec, SeriesSpec, TargetSpec
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace

MONTHS_OF_HISTORY = 13
GRAINS = [Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.QUARTER, Grain.YEAR]


@dataclass(frozen=True)
class _Shape:
    """How one measure's observations look when it has no key result to follow.

    ``start``/``end``: the level at the start and at the end of the history (per observation);
    ``noise``: relative noise; ``daily``/``weekly``: apply the working-hours and weekday shapes;
    ``weight``: the typical weight of one observation (calls offered, jobs, invoices).
    """

    start: float
    end: float
    direction: MeasureDirection
    noise: float = 0.05
    daily: bool = False
    weekly: bool = False
    weight: float = 1.0
    integer: bool = False
    bounds: tuple[float, float] = (0.0, float("inf"))


_LOWER = MeasureDirection.LOWER_IS_BETTER
_HIGHER = MeasureDirection.HIGHER_IS_BETTER
# Levels per observation (an hour or a day); the key result's baseline → target replaces
# start → end for the rates and stocks that have one (sums follow their annual figures).
_SHAPES: dict[str, _Shape] = {
    "CALLS-HANDLED": _Shape(95, 104, _HIGHER, 0.15, daily=True, weekly=True, integer=True),
    "ABANDON-RATE": _Shape(7.5, 4.0, _LOWER, 0.25, daily=True, weight=95, bounds=(0, 100)),
    "PEAK-QUEUE-TIME": _Shape(420, 240, _LOWER, 0.3, daily=True),
    "COMPLAINTS": _Shape(42, 30, _LOWER, 0.3, weekly=True, integer=True),
    "BILLS-ISSUED": _Shape(41_000, 42_500, _HIGHER, 0.04, weekly=True, integer=True),
    "FIRST-TIME-FIX": _Shape(78, 85, _HIGHER, 0.05, weight=160, bounds=(0, 100)),
    "BACKLOG": _Shape(1650, 1200, _LOWER, 0.03, integer=True),
    "LEAKAGE": _Shape(182, 155, _LOWER, 0.04),
    "SUPPLY-INTERRUPTIONS": _Shape(140 / 365, 70 / 365, _LOWER, 0.0, integer=True),
    "POLLUTION-INCIDENTS": _Shape(110 / 365, 80 / 365, _LOWER, 0.0, integer=True),
    "AP-INVOICES": _Shape(88, 95, _HIGHER, 0.03, weekly=True, weight=420, bounds=(0, 100)),
    "SYSTEM-AVAILABILITY": _Shape(99.4, 99.8, _HIGHER, 0.002, weight=60, bounds=(0, 100)),
    "IT-INCIDENTS": _Shape(42 / 30, 25 / 30, _LOWER, 0.0, integer=True),
}
# Count measures drawn as Poisson events per day (rare events, not level + noise).
_POISSON = {"SUPPLY-INTERRUPTIONS", "POLLUTION-INCIDENTS", "IT-INCIDENTS", "COMPLAINTS"}
# Measures whose key-result baseline/target are levels of the measure itself (rates, stocks).
_LEVEL_FROM_KR = {
    "ABANDON-RATE",
    "FIRST-TIME-FIX",
    "BACKLOG",
    "LEAKAGE",
    "AP-INVOICES",
    "SYSTEM-AVAILABILITY",
    "PEAK-QUEUE-TIME",
}
# Planted gaps: (measure, first missing day offset from the start, days missing).
_GAPS = (("COMPLAINTS", 200, 6), ("SYSTEM-AVAILABILITY", 320, 2), ("BILLS-ISSUED", 90, 3))
# Calls by hour of day (contact centre open 08:00–20:00) and by weekday (Mon..Sun).
_HOUR_SHAPE = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0.9, 1.3, 1.4, 1.3, 1.1, 1.2, 1.3, 1.2, 1.0, 0.9, 0.7, 0.5, 0, 0, 0, 0]
)
_WEEK_SHAPE = np.array([1.25, 1.1, 1.0, 1.0, 0.95, 0.45, 0.25])


def _kr_levels(ws: Workspace) -> dict[str, tuple[float, float, str]]:
    """measure code → (baseline, target, direction) of the first key result naming it."""
    from bigov.strategy.models import KeyResult

    out: dict[str, tuple[float, float, str]] = {}
    with ws.session() as s:
        rows = s.execute(
            select(
                KeyResult.measure_code, KeyResult.baseline, KeyResult.target, KeyResult.direction
            )
            .where(KeyResult.measure_code.is_not(None))
            .order_by(KeyResult.code)
        ).all()
    for code, baseline, target, direction in rows:
        if code and baseline is not None and target is not None and code not in out:
            out[code] = (float(baseline), float(target), str(direction.value))
    return out


def _org_units(ws: Workspace, prefix: str) -> list[str]:
    """The demo's units for a measure: the named unit and its regional copies (large scale)."""
    from bigov.org.models import OrgUnit

    with ws.session() as s:
        codes = s.scalars(
            select(OrgUnit.code)
            .where(OrgUnit.code.startswith(prefix, autoescape=True))
            .order_by(OrgUnit.code)
        ).all()
    return list(codes) or [prefix]


def _spec(m: OperationalMeasure, shape: _Shape, orgs: list[str], level_end: float) -> MeasureSpec:
    agg = TimeAggregation(m.aggregation)
    higher = shape.direction is MeasureDirection.HIGHER_IS_BETTER
    band = 0.05 if agg in (TimeAggregation.WEIGHTED_MEAN, TimeAggregation.LAST) else 0.1
    if m.code == "SYSTEM-AVAILABILITY":
        band = 0.002
    targets: list[TargetSpec] = []
    for grain, per in ((Grain.MONTH, 1.0), (Grain.QUARTER, 3.0)):
        if agg is TimeAggregation.SUM:
            # flows: the target is the period total at the end level
            slots = 30.4 * per * (24 * float(_HOUR_SHAPE.mean()) if shape.daily else 1)
            value = level_end * slots * (float(_WEEK_SHAPE.mean()) if shape.weekly else 1.0)
        else:
            value = level_end
        red = value * (1 - band) if higher else value * (1 + band)
        targets.append(TargetSpec(grain=grain, value=round(value, 4), red_at=round(red, 4)))
    return MeasureSpec(
        code=m.code,
        name=m.name,
        unit=m.unit,
        owner=m.org_unit_code,
        entity_kind="org_unit",
        entity_code=m.org_unit_code,
        frequency=Frequency(m.frequency),
        time_aggregation=agg,
        org_rollup=OrgRollup.WEIGHTED_MEAN
        if agg is TimeAggregation.WEIGHTED_MEAN
        else OrgRollup.MAX
        if agg is TimeAggregation.MAX
        else OrgRollup.SUM,
        direction=shape.direction,
        grains=GRAINS,
        series=[SeriesSpec(code=f"{m.code}@{org}", org=org) for org in orgs],
        targets=targets,
    )


def _observations(
    rng: np.random.Generator,
    m: OperationalMeasure,
    shape: _Shape,
    series: str,
    start: dt.datetime,
    end: dt.datetime,
    level: tuple[float, float],
) -> pl.DataFrame:
    """One series' observations over ``[start, end)`` (UTC), vectorised."""
    step = np.timedelta64(1, "h") if m.frequency == "hourly" else np.timedelta64(1, "D")
    first = np.datetime64(start.replace(tzinfo=None), "us")
    if m.frequency == "daily":
        first = first + np.timedelta64(12, "h")  # midday: the same date in every nearby zone
    stamps = np.arange(first, np.datetime64(end.replace(tzinfo=None), "us"), step)
    n = stamps.size
    t = np.linspace(0.0, 1.0, n)
    base = level[0] + (level[1] - level[0]) * t
    hours = (stamps.astype("datetime64[h]").astype(np.int64) % 24).astype(int)
    weekday = ((stamps.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(int)
    factor = np.ones(n)
    if shape.daily:
        factor *= _HOUR_SHAPE[hours] if m.aggregation == "sum" else 0.6 + 0.3 * _HOUR_SHAPE[hours]
    if shape.weekly:
        factor *= _WEEK_SHAPE[weekday]
    if m.code in _POISSON:
        values = rng.poisson(np.maximum(base * factor, 0.0)).astype(float)
    else:
        values = base * factor * (1 + shape.noise * rng.standard_normal(n))
        values = np.clip(values, *shape.bounds)
        if shape.integer:
            values = np.round(values)
    weights = np.full(n, 1.0)
    if shape.weight != 1.0:
        weights = np.maximum(1.0, np.round(shape.weight * factor * rng.uniform(0.8, 1.2, n)))
        if shape.daily:
            weights = np.where(_HOUR_SHAPE[hours] == 0, 1.0, weights)
    frame = pl.DataFrame(
        {
            "series": pl.Series([series] * n, dtype=pl.String),
            "ts": pl.Series(stamps).dt.replace_time_zone("UTC"),
            "value": values,
            "weight": weights,
        }
    )
    # (a closed contact centre still sends a row per hour, zero, so completeness stays
    # meaningful overnight)
    return frame


def generate_observations(
    ws: Workspace, *, seed: int = 42, scale: str = "small", as_of: dt.date | None = None
) -> LoadResult:
    """Define the demo's operational measures and load ~13 months of observations to ``as_of``.

    Run after :func:`bigov.demo.generate` (it reads the organisation units and key results).
    Two loads: the bulk history (with planted gaps) and a late batch that fills part of one gap
    and restates three days of bills. Returns the bulk load's result; the late batch is the next
    batch id. The same ``seed``, ``scale`` and ``as_of`` give the same observations.

    Raises:
        ConfigError: unknown scale.
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown demo scale {scale!r}", hint=f"use one of {', '.join(SCALES)}")
    day = as_of or DEFAULT_AS_OF
    svc = MetricsService(ws)
    cal = svc.calendar()
    rng = np.random.default_rng(seed)
    first_month = dt.date(day.year, day.month, 1)
    for _ in range(MONTHS_OF_HISTORY):
        first_month = (first_month - dt.timedelta(days=1)).replace(day=1)
    start = cal.to_utc(dt.datetime(first_month.year, first_month.month, 1))
    end = cal.to_utc(dt.datetime(day.year, day.month, day.day))
    krs = _kr_levels(ws)
    frames: list[pl.DataFrame] = []
    late: list[pl.DataFrame] = []
    for m in OPERATIONAL_MEASURES:
        shape = _SHAPES[m.code]
        level = (shape.start, shape.end)
        if m.code in krs and m.code in _LEVEL_FROM_KR:
            baseline, target, _direction = krs[m.code]
            # most of the way from baseline toward target over the history: behind plan somewhere
            level = (baseline, baseline + (target - baseline) * 0.8)
        orgs = _org_units(ws, m.org_unit_code)
        svc.define(_spec(m, shape, orgs, level[1]))
        for org in orgs:
            frame = _observations(rng, m, shape, f"{m.code}@{org}", start, end, level)
            for code, offset, days in _GAPS:
                if code != m.code:
                    continue
                lo = start + dt.timedelta(days=offset)
                hi = lo + dt.timedelta(days=days)
                missing = pl.col("ts").is_between(lo, hi, closed="left")
                # the late batch brings the first day of the gap afterwards
                first_day = pl.col("ts").is_between(lo, lo + dt.timedelta(days=1), closed="left")
                late.append(frame.filter(first_day))
                frame = frame.filter(~missing)
            if m.code == "BILLS-ISSUED":
                # three days restated by the late batch (a billing run re-counted)
                restate = frame.filter(
                    pl.col("ts").is_between(
                        end - dt.timedelta(days=40), end - dt.timedelta(days=37), closed="left"
                    )
                )
                late.append(restate.with_columns((pl.col("value") * 1.08).round(0)))
            frames.append(frame)
    bulk = svc.load(pl.concat(frames), label="demo operational history")
    if late:
        # the late rows may repeat a (series, ts) across frames only if gaps overlapped
        # restatements, which the planted dates avoid
        svc.load(pl.concat(late), label="demo late corrections")
    return bulk


__all__ = ["MONTHS_OF_HISTORY", "generate_observations"]
