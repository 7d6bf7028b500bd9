"""Strategy attainment per OTC: accomplishment, not activity.

For each OTC: its key results against their target trajectories, the benefits contributing to it
realised so far, and a forecast of attainment at the target date, with the delivery confidence of
the work behind it.

Measure semantics: a key result's actual is its value over its **window** (``period``: the
latest period; ``ytd``: the fiscal year to date; ``r12``: the twelve months to date), which a
**flow** adds up and a **level** (%, index, score, points) averages — a level is never summed
over months. A count (``count``, ``systems``...) is a whole number. Attainment is reported
capped at 100 % (``attained_pct``, ``forecast_pct``) with the raw value kept
(``attained_raw_pct``, ``forecast_raw_pct``) and the overshoot flagged.

Trajectory rule (the same as :meth:`bigov.metrics.service.MetricsService.attainment`): the time
fraction ``f`` of a period is (end of the period − baseline date) / (target date − baseline
date) in days, clamped to 0..1; the expected share of the baseline→target change is ``f``
(linear), ``1 − (1 − f)²`` (front-loaded), ``f²`` (back-loaded) or 0 until the target date then
1 (step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bigov.analysis._common import (
    PCT,
    add_months,
    confidence_from_score,
    latest_status,
    measure_kinds,
    setting,
    work_closure,
)
from bigov.analysis.benefits import RealisationFigures, realisation
from bigov.db.service import get_by_code
from bigov.errors import NotFoundError
from bigov.strategy.models import (
    Aggregation,
    KeyResult,
    KeyResultActual,
    KrWindow,
    Otc,
    Trajectory,
    is_count_unit,
)
from bigov.work.models import Confidence, Contribution

if TYPE_CHECKING:
    from bigov.workspace import Workspace

#: A source of measure actuals: (measure code, as-at date) → [(period start, value)] in order.
MeasureSource = Callable[[str, dt.date], Sequence[tuple[dt.date, Decimal]]]

HUNDRED = Decimal("100.0")
WHOLE = Decimal("1")
PLACES = Decimal("0.0001")


class KeyResultAttainment(BaseModel):
    """One key result as at a date. Percentages are of the baseline→target change:
    ``attained_pct`` achieved by the actual, ``expected_pct`` what the trajectory expected
    by then, ``forecast_pct`` the projection at the target date (pace relative to the trajectory:
    attained / expected, or attained / time fraction for a step trajectory). ``source`` says where
    the actual came from (``metrics`` or ``key_result_actual``).

    ``latest`` is the actual over the key result's ``window`` ending with ``latest_period``
    (``window_start`` .. ``latest_period``, ``window_periods`` periods with a value): summed for a
    flow, averaged for a level (``aggregation``); a whole number for a count.
    ``attained_pct`` and ``forecast_pct`` are capped at 100 % for display; the raw values are
    ``attained_raw_pct`` and ``forecast_raw_pct``, and ``overshoot`` / ``forecast_overshoot``
    say the raw value went beyond 100 %. ``on_track`` compares the raw values."""

    code: str
    name: str
    unit: str | None
    direction: str
    trajectory: str
    baseline: Decimal | None
    target: Decimal | None
    baseline_date: dt.date | None
    target_date: dt.date | None
    latest: Decimal | None = None
    latest_period: dt.date | None = None
    source: str | None = None
    window: str = KrWindow.PERIOD.value
    aggregation: str = Aggregation.FLOW.value
    window_start: dt.date | None = None
    window_periods: int = 0
    time_fraction: float | None = None
    expected_value: Decimal | None = None
    expected_pct: Decimal | None = None
    attained_pct: Decimal | None = None
    attained_raw_pct: Decimal | None = None
    overshoot: bool = False
    forecast_pct: Decimal | None = None
    forecast_raw_pct: Decimal | None = None
    forecast_overshoot: bool = False
    forecast_value: Decimal | None = None
    on_track: bool | None = None


class OtcAttainment(BaseModel):
    """An OTC's attainment: the mean of its key results' (capped) percentages (each key result
    weighs the same, so one overshoot cannot hide another's shortfall; ``overshoot`` says some key
    result went beyond 100 %), the benefits contributing to it (net financial, reporting
    currency) and the latest DCA of the work serving it (contributors and their subtrees)."""

    code: str
    title: str
    kind: str
    status: str
    key_results: list[KeyResultAttainment]
    attained_pct: Decimal | None = None
    expected_pct: Decimal | None = None
    forecast_pct: Decimal | None = None
    on_track: bool | None = None
    overshoot: bool = False
    benefits: RealisationFigures | None = None
    work_items: int = 0
    confidence_distribution: dict[str, int] = Field(default_factory=dict)
    confidence: str | None = Field(None, description="mean DCA of the serving work, as a level")


def metrics_source(ws: Workspace) -> MeasureSource | None:
    """Actuals of a key result's ``measure_code`` from the metrics engine (monthly values as known
    at the as-at date), or None when this installation or this workspace's schema has no metrics
    context.

    One call of :meth:`MetricsService.values` per key result that names a measure; an unknown
    measure yields no values (the key result falls back to its reported actuals).
    """
    try:
        from bigov.metrics.models import MetricMeasure
        from bigov.metrics.service import MetricsService
    except ImportError:  # pragma: no cover - metrics ships with bigov; kept for slim installs
        return None
    # a workspace whose schema predates the metrics tables has no measures to offer
    if not inspect(ws.engine).has_table(MetricMeasure.__tablename__):
        return None
    service = MetricsService(ws)

    def source(code: str, as_at: dt.date) -> Sequence[tuple[dt.date, Decimal]]:
        try:
            values = service.values(code, grain="month", as_at=as_at)
        except NotFoundError:
            return []
        return [
            (
                v.period_start.date()
                if isinstance(v.period_start, dt.datetime)
                else v.period_start,
                Decimal(str(v.value)),
            )
            for v in values
            if v.value is not None
        ]

    return source


def expected_share(trajectory: Trajectory, fraction: float) -> float:
    """The share of the baseline→target change a trajectory expects at time fraction ``f``."""
    f = min(1.0, max(0.0, fraction))
    if trajectory == Trajectory.FRONT_LOADED:
        return 1 - (1 - f) ** 2
    if trajectory == Trajectory.BACK_LOADED:
        return f**2
    if trajectory == Trajectory.STEP:
        return 1.0 if f >= 1 else 0.0
    return f


def attainment(
    session: Session,
    otc: str | None = None,
    *,
    as_at: dt.date | None = None,
    measures: MeasureSource | None = None,
) -> list[OtcAttainment]:
    """Attainment of one OTC (``otc``) or of every OTC that is not withdrawn, by code.

    The actuals up to ``as_at`` are taken from ``measures`` when the key result names a
    ``measure_code`` and the source has values for it (its monthly aggregates as known at
    ``as_at``), else from :class:`KeyResultActual`. A key result's aggregation is the one it
    declares, else its metrics measure's (summed = flow, else level) when the actuals come from
    there, else the default of its unit. A fixed number of queries plus one call of
    ``measures`` per key result with a measure code.

    Raises:
        NotFoundError: ``otc`` is not an OTC code.
    """
    as_at = as_at or dt.date.today()
    otc_filter: list[Any] = []
    if otc is not None:
        otc_filter.append(Otc.id == get_by_code(session, Otc, otc).id)
    else:
        otc_filter.append(Otc.status != "withdrawn")
    otcs = session.execute(
        select(Otc.id, Otc.code, Otc.title, Otc.kind, Otc.status)
        .where(*otc_filter)
        .order_by(Otc.code)
    ).all()
    ids = [row[0] for row in otcs]
    krs = (
        session.execute(select(KeyResult).where(KeyResult.otc_id.in_(ids)).order_by(KeyResult.code))
        .scalars()
        .all()
    )
    actuals: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for kr_id, period, value in session.execute(
        select(KeyResultActual.key_result_id, KeyResultActual.period, KeyResultActual.value)
        .where(
            KeyResultActual.key_result_id.in_([k.id for k in krs]),
            KeyResultActual.period <= as_at,
        )
        .order_by(KeyResultActual.period)
    ).all():
        actuals.setdefault(kr_id, []).append((period, Decimal(str(value))))

    # delivery confidence of the serving work: contributors and their subtrees, each item once
    closure = work_closure()
    latest = latest_status(as_at)
    served = (
        select(Contribution.otc_id, closure.c.descendant_id)
        .join(closure, closure.c.ancestor_id == Contribution.work_item_id)
        .where(Contribution.otc_id.in_(ids))
        .distinct()
        .subquery("served")
    )
    dist: dict[int, dict[str, int]] = {}
    for oid, conf, n in session.execute(
        select(served.c.otc_id, latest.c.confidence, func.count())
        .select_from(served)
        .outerjoin(latest, latest.c.work_item_id == served.c.descendant_id)
        .group_by(served.c.otc_id, latest.c.confidence)
    ).all():
        d = dist.setdefault(oid, {c.value: 0 for c in Confidence} | {"none": 0})
        d[Confidence(conf).value if conf is not None else "none"] += int(n)
    benefits = {g.key: g.figures for g in realisation(session, by="otc", as_at=as_at).groups}
    kinds = measure_kinds(session) if measures is not None else {}
    fy_start = int(setting(session, "fiscal_year_start_month"))

    out = []
    for oid, code, title, kind, status in otcs:
        rows = [
            _key_result(k, actuals.get(k.id, []), measures, as_at, kinds, fy_start)
            for k in krs
            if k.otc_id == oid
        ]
        measured = [r for r in rows if r.attained_pct is not None]
        d = dist.get(oid, {})
        work_items = sum(d.values())
        scored = {k: v for k, v in d.items() if k != "none"}
        n_scored = sum(scored.values())
        mean = (
            sum(Confidence(k).score * v for k, v in scored.items()) / n_scored if n_scored else None
        )
        result = OtcAttainment(
            code=code,
            title=title,
            kind=kind.value,
            status=status.value,
            key_results=rows,
            benefits=benefits.get(code),
            work_items=work_items,
            confidence_distribution=d,
            confidence=confidence_from_score(mean),
        )
        if measured:
            result.attained_pct = _mean([r.attained_pct for r in measured])
            result.expected_pct = _mean([r.expected_pct for r in measured])
            result.forecast_pct = _mean([r.forecast_pct for r in measured])
            result.on_track = all(r.on_track for r in measured)
            result.overshoot = any(r.overshoot for r in measured)
        out.append(result)
    return out


def _mean(values: Sequence[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return (sum(present, Decimal(0)) / len(present)).quantize(PCT)


def _key_result(
    kr: KeyResult,
    reported: list[tuple[dt.date, Decimal]],
    measures: MeasureSource | None,
    as_at: dt.date,
    kinds: dict[str, Aggregation] | None = None,
    fy_start_month: int = 1,
) -> KeyResultAttainment:
    window = KrWindow(kr.window or KrWindow.PERIOD)
    row = KeyResultAttainment(
        code=kr.code,
        name=kr.name,
        unit=kr.unit,
        direction=kr.direction.value,
        trajectory=kr.trajectory.value,
        baseline=kr.baseline,
        target=kr.target,
        baseline_date=kr.baseline_date,
        target_date=kr.target_date,
        window=window.value,
    )
    series: Sequence[tuple[dt.date, Decimal]] = []
    if measures is not None and kr.measure_code:
        series = [(p, v) for p, v in measures(kr.measure_code, as_at) if p <= as_at]
        if series:
            row.source = "metrics"
    if not series and reported:
        series, row.source = reported, "key_result_actual"
    aggregation = kr.aggregation
    if aggregation is None and row.source == "metrics" and kr.measure_code in (kinds or {}):
        aggregation = (kinds or {})[kr.measure_code or ""]
    aggregation = aggregation or kr.effective_aggregation
    row.aggregation = aggregation.value
    whole = is_count_unit(kr.unit)
    if series:
        row.latest_period = series[-1][0]
        row.window_start = _window_start(window, row.latest_period, fy_start_month)
        values = [v for p, v in series if p >= row.window_start]
        row.window_periods = len(values)
        total = sum(values, Decimal(0))
        # a level's mean over the window; with one period (window "period") its value as is
        value = (
            total
            if aggregation is Aggregation.FLOW or len(values) == 1
            else (total / len(values)).quantize(PLACES)
        )
        row.latest = _whole(value) if whole else value
    if (
        kr.baseline is None
        or kr.target is None
        or kr.baseline_date is None
        or kr.target_date is None
        or kr.target == kr.baseline
    ):
        return row
    baseline, target = Decimal(kr.baseline), Decimal(kr.target)
    span = (kr.target_date - kr.baseline_date).days or 1
    when = add_months(row.latest_period, 1) if row.latest_period else as_at
    f = min(1.0, max(0.0, (when - kr.baseline_date).days / span))
    expected = expected_share(kr.trajectory, f)
    row.time_fraction = round(f, 6)
    expected_value = baseline + (target - baseline) * Decimal(str(expected))
    row.expected_value = _whole(expected_value) if whole else expected_value.quantize(PLACES)
    row.expected_pct = Decimal(str(expected * 100)).quantize(PCT)
    if row.latest is None:
        return row
    attained = float((row.latest - baseline) / (target - baseline))
    row.attained_raw_pct = Decimal(str(attained * 100)).quantize(PCT)
    row.attained_pct = min(row.attained_raw_pct, HUNDRED)
    row.overshoot = row.attained_raw_pct > HUNDRED
    row.on_track = attained >= expected - 1e-9
    pace_base = expected if expected > 0 else f
    if pace_base > 0:
        forecast = attained / pace_base
        row.forecast_raw_pct = Decimal(str(forecast * 100)).quantize(PCT)
        row.forecast_pct = min(row.forecast_raw_pct, HUNDRED)
        row.forecast_overshoot = row.forecast_raw_pct > HUNDRED
        forecast_value = baseline + (target - baseline) * Decimal(str(forecast))
        row.forecast_value = _whole(forecast_value) if whole else forecast_value.quantize(PLACES)
    return row


def _window_start(window: KrWindow, latest: dt.date, fy_start_month: int) -> dt.date:
    """First period of ``window`` ending with the period ``latest`` (a month start)."""
    latest = latest.replace(day=1)
    if window is KrWindow.YTD:
        year = latest.year if latest.month >= fy_start_month else latest.year - 1
        return dt.date(year, fy_start_month, 1)
    if window is KrWindow.R12:
        return add_months(latest, -11)
    return latest


def _whole(value: Decimal) -> Decimal:
    """A count as a whole number (half up): never "2.3 systems"."""
    return value.quantize(WHOLE, ROUND_HALF_UP)


__all__ = [
    "KeyResultAttainment",
    "MeasureSource",
    "OtcAttainment",
    "attainment",
    "expected_share",
    "metrics_source",
]
