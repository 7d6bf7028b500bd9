"""Strategy attainment per OTC: accomplishment, not activity.

For each OTC: its key results against their target trajectories, the benefits contributing to it
realised so far, and a forecast of attainment at the target date, with the delivery confidence of
the work behind it.

Trajectory rule (the same as :meth:`bigov.metrics.service.MetricsService.attainment`): the time
fraction ``f`` of a period is (end of the period − baseline date) / (target date − baseline
date) in days, clamped to 0..1; the expected share of the baseline→target change is ``f``
(linear), ``1 − (1 − f)²`` (front-loaded), ``f²`` (back-loaded) or 0 until the target date then
1 (step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bigov.analysis._common import (
    PCT,
    add_months,
    confidence_from_score,
    latest_status,
    work_closure,
)
from bigov.analysis.benefits import RealisationFigures, realisation
from bigov.db.service import get_by_code
from bigov.errors import NotFoundError
from bigov.strategy.models import (
    KeyResult,
    KeyResultActual,
    Otc,
    Trajectory,
)
from bigov.work.models import Confidence, Contribution

if TYPE_CHECKING:
    from bigov.workspace import Workspace

#: A source of measure actuals: (measure code, as-at date) → [(period start, value)] in order.
MeasureSource = Callable[[str, dt.date], Sequence[tuple[dt.date, Decimal]]]


class KeyResultAttainment(BaseModel):
    """One key result as at a date. Percentages are of the baseline→target change:
    ``attained_pct`` achieved by the latest actual, ``expected_pct`` what the trajectory expected
    by then, ``forecast_pct`` the projection at the target date (pace relative to the trajectory:
    attained / expected, or attained / time fraction for a step trajectory). ``source`` says where
    the actual came from (``metrics`` or ``key_result_actual``)."""

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
    time_fraction: float | None = None
    expected_value: Decimal | None = None
    expected_pct: Decimal | None = None
    attained_pct: Decimal | None = None
    forecast_pct: Decimal | None = None
    forecast_value: Decimal | None = None
    on_track: bool | None = None


class OtcAttainment(BaseModel):
    """An OTC's attainment: the mean of its key results' percentages (each key result weighs the
    same), the benefits contributing to it (net financial, reporting currency) and the latest DCA
    of the work serving it (contributors and their subtrees)."""

    code: str
    title: str
    kind: str
    status: str
    key_results: list[KeyResultAttainment]
    attained_pct: Decimal | None = None
    expected_pct: Decimal | None = None
    forecast_pct: Decimal | None = None
    on_track: bool | None = None
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

    The latest actual on or before ``as_at`` is taken from ``measures`` when the key result names
    a ``measure_code`` and the source has values for it, else from :class:`KeyResultActual`.
    A fixed number of queries plus one call of ``measures`` per key result with a measure code.

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

    out = []
    for oid, code, title, kind, status in otcs:
        rows = [
            _key_result(k, actuals.get(k.id, []), measures, as_at) for k in krs if k.otc_id == oid
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
) -> KeyResultAttainment:
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
    )
    series: Sequence[tuple[dt.date, Decimal]] = []
    if measures is not None and kr.measure_code:
        series = [(p, v) for p, v in measures(kr.measure_code, as_at) if p <= as_at]
        if series:
            row.source = "metrics"
    if not series and reported:
        series, row.source = reported, "key_result_actual"
    if series:
        row.latest_period, row.latest = series[-1]
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
    row.expected_value = (baseline + (target - baseline) * Decimal(str(expected))).quantize(
        Decimal("0.0001")
    )
    row.expected_pct = Decimal(str(expected * 100)).quantize(PCT)
    if row.latest is None:
        return row
    attained = float((row.latest - baseline) / (target - baseline))
    row.attained_pct = Decimal(str(attained * 100)).quantize(PCT)
    row.on_track = attained >= expected - 1e-9
    pace_base = expected if expected > 0 else f
    if pace_base > 0:
        forecast = attained / pace_base
        row.forecast_pct = Decimal(str(forecast * 100)).quantize(PCT)
        row.forecast_value = (baseline + (target - baseline) * Decimal(str(forecast))).quantize(
            Decimal("0.0001")
        )
    return row


__all__ = [
    "KeyResultAttainment",
    "MeasureSource",
    "OtcAttainment",
    "attainment",
    "expected_share",
    "metrics_source",
]
