"""Roll-ups of cost, schedule and delivery confidence up the work hierarchy and across the
organisation.

Every figure is computed in SQL over a recursive closure of the hierarchy, so one roll-up issues
a fixed number of queries whatever the number of items (the query-count test pins it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from bigov.analysis._common import (
    ZERO,
    confidence_from_score,
    confidence_score,
    cost_sums,
    days_between,
    label,
    latest_status,
    money,
    org_closure,
    pct,
    reporting_currency,
    work_closure,
)
from bigov.db.service import get_by_code
from bigov.finance.models import CostLine
from bigov.org.models import OrgUnit
from bigov.work.models import Confidence, Milestone, StatusReport, WorkItem


class CostFigures(BaseModel):
    """Budget, forecast and actual in the reporting currency; ``variance`` = forecast − budget
    (positive means overspend), ``variance_pct`` of budget (None when there is no budget)."""

    budget: Decimal = ZERO
    forecast: Decimal = ZERO
    actual: Decimal = ZERO
    variance: Decimal = ZERO
    variance_pct: Decimal | None = None

    @classmethod
    def of(cls, budget: object, forecast: object, actual: object) -> CostFigures:
        b, f, a = money(budget), money(forecast), money(actual)
        return cls(budget=b, forecast=f, actual=a, variance=f - b, variance_pct=pct(f - b, b))


class ScheduleFigures(BaseModel):
    """Milestones of a subtree as at a date. *Hit*: achieved on or before its baseline date;
    *missed*: achieved after it, or not achieved and the baseline date has passed; *pending*: the
    rest. Slippage = (actual, else forecast) − baseline, in days, over milestones that have both."""

    milestones: int = 0
    hit: int = 0
    missed: int = 0
    pending: int = 0
    slippage_days_max: int | None = None
    slippage_days_mean: float | None = None


class RollupRow(BaseModel):
    """One work item: its own figures and those of its whole subtree (itself included)."""

    code: str
    name: str
    kind: str
    nature: str
    category: str
    parent_code: str | None
    depth: int
    own: CostFigures
    total: CostFigures
    schedule: ScheduleFigures
    confidence: str | None = Field(None, description="the item's own latest DCA")
    confidence_distribution: dict[str, int] = Field(
        default_factory=dict, description="latest DCA of every item in the subtree"
    )
    confidence_mean: str | None = Field(None, description="subtree's mean DCA, as a level")


class OrgRollupRow(BaseModel):
    """Cost of the work owned by an organisation unit and every unit below it."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    own: CostFigures
    total: CostFigures


class TrendPoint(BaseModel):
    """Delivery confidence reported in one period over the items in scope."""

    period: dt.date
    distribution: dict[str, int]
    mean_score: float | None
    mean: str | None


class RollupReport(BaseModel):
    """A roll-up of the whole organisation (``root`` None) or of one item's subtree.

    ``total`` is the sum over the scope, each item counted once. Cost lines in another currency than
    ``currency`` are left out of every figure and counted in ``excluded_cost_lines`` (see
    :func:`bigov.analysis.quality.findings`).
    """

    root: str | None
    as_at: dt.date
    start: dt.date | None
    end: dt.date | None
    currency: str
    total: CostFigures
    schedule: ScheduleFigures
    confidence_distribution: dict[str, int]
    rows: list[RollupRow]
    by_org_unit: list[OrgRollupRow]
    trend: list[TrendPoint]
    excluded_cost_lines: int = 0


def _empty_distribution() -> dict[str, int]:
    return {c.value: 0 for c in Confidence}


def rollup(
    session: Session,
    root: str | None = None,
    *,
    as_at: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> RollupReport:
    """Cost, schedule and confidence rolled up the work hierarchy (and by organisation unit).

    Args:
        root: code of a work item whose subtree is the scope; None for every item.
        as_at: the date the figures are as at (default today): actuals of periods after it are
            left out (they were booked later), forecast is the outturn (actual to date +
            forecast of the remaining periods, see :func:`~bigov.analysis._common.cost_sums`),
            milestones are judged against it and status is the latest report of a period on or
            before it. Budget stays whole-life.
        start, end: half-open period range of cost lines (``start <= period < end``); None = all.

    Returns rows ordered by code. A fixed number of queries (about ten) at any data size; a cyclic
    hierarchy neither loops nor double counts.

    Raises:
        NotFoundError: ``root`` is not a work item code.
    """
    as_at = as_at or dt.date.today()
    currency = reporting_currency(session)
    root_id = get_by_code(session, WorkItem, root).id if root else None
    closure = work_closure()

    # scope: the items the report covers
    if root_id is None:
        scope = select(WorkItem.id.label("id")).subquery("scope")
    else:
        scope = (
            select(closure.c.descendant_id.label("id"))
            .where(closure.c.ancestor_id == root_id)
            .subquery("scope")
        )

    cost_filter = [CostLine.currency == currency]
    if start is not None:
        cost_filter.append(CostLine.period >= start)
    if end is not None:
        cost_filter.append(CostLine.period < end)

    parent = aliased(WorkItem)
    items = session.execute(
        select(
            WorkItem.id,
            WorkItem.code,
            WorkItem.name,
            WorkItem.kind,
            WorkItem.nature,
            WorkItem.category,
            WorkItem.parent_id,
            parent.code,
        )
        .join(scope, scope.c.id == WorkItem.id)
        .outerjoin(parent, parent.id == WorkItem.parent_id)
    ).all()

    own_cost = {
        wid: (b, f, a)
        for wid, b, f, a in session.execute(
            select(
                CostLine.work_item_id,
                *cost_sums(as_at),
            )
            .join(scope, scope.c.id == CostLine.work_item_id)
            .where(*cost_filter)
            .group_by(CostLine.work_item_id)
        ).all()
    }
    sub_cost = {
        aid: (b, f, a)
        for aid, b, f, a in session.execute(
            select(
                closure.c.ancestor_id,
                *cost_sums(as_at),
            )
            .join(scope, scope.c.id == closure.c.ancestor_id)
            .join(CostLine, CostLine.work_item_id == closure.c.descendant_id)
            .where(*cost_filter)
            .group_by(closure.c.ancestor_id)
        ).all()
    }
    excluded = int(
        session.scalar(
            select(func.count())
            .select_from(CostLine)
            .join(scope, scope.c.id == CostLine.work_item_id)
            .where(CostLine.currency != currency)
        )
        or 0
    )

    # schedule, per ancestor over its subtree, and over the whole scope
    achieved = func.coalesce(Milestone.actual_date, Milestone.forecast_date)
    hit = case(
        (
            and_(
                Milestone.actual_date.is_not(None),
                Milestone.baseline_date.is_not(None),
                Milestone.actual_date <= Milestone.baseline_date,
            ),
            1,
        ),
        else_=0,
    )
    missed = case(
        (
            and_(
                Milestone.baseline_date.is_not(None),
                (Milestone.actual_date > Milestone.baseline_date)
                | (Milestone.actual_date.is_(None) & (Milestone.baseline_date < as_at)),
            ),
            1,
        ),
        else_=0,
    )
    slip = case(
        (
            and_(achieved.is_not(None), Milestone.baseline_date.is_not(None)),
            days_between(achieved, Milestone.baseline_date),
        ),
        else_=None,
    )
    schedule_cols = (
        func.count(Milestone.id),
        func.sum(hit),
        func.sum(missed),
        func.max(slip),
        func.avg(slip),
    )
    sub_schedule = {
        row[0]: row[1:]
        for row in session.execute(
            select(closure.c.ancestor_id, *schedule_cols)
            .join(scope, scope.c.id == closure.c.ancestor_id)
            .join(Milestone, Milestone.work_item_id == closure.c.descendant_id)
            .group_by(closure.c.ancestor_id)
        ).all()
    }
    scope_schedule = session.execute(
        select(*schedule_cols).join(scope, scope.c.id == Milestone.work_item_id)
    ).one()

    # delivery confidence: each item's latest report, then its distribution per subtree
    latest = latest_status(as_at)
    own_conf = dict(
        session.execute(
            select(latest.c.work_item_id, latest.c.confidence).join(
                scope, scope.c.id == latest.c.work_item_id
            )
        ).all()
    )
    sub_conf: dict[int, dict[str, int]] = {}
    sub_score: dict[int, float | None] = {}
    for aid, conf, n in session.execute(
        select(closure.c.ancestor_id, latest.c.confidence, func.count())
        .join(scope, scope.c.id == closure.c.ancestor_id)
        .join(latest, latest.c.work_item_id == closure.c.descendant_id)
        .where(latest.c.confidence.is_not(None))
        .group_by(closure.c.ancestor_id, latest.c.confidence)
    ).all():
        sub_conf.setdefault(aid, _empty_distribution())[label(conf)] += int(n)
    for aid, dist in sub_conf.items():
        sub_score[aid] = _mean_score(dist)

    # trend: confidence reported in each period by the items in scope
    trend_rows = session.execute(
        select(StatusReport.period, StatusReport.confidence, func.count())
        .join(scope, scope.c.id == StatusReport.work_item_id)
        .where(StatusReport.confidence.is_not(None), StatusReport.period <= as_at)
        .group_by(StatusReport.period, StatusReport.confidence)
        .order_by(StatusReport.period)
    ).all()
    by_period: dict[dt.date, dict[str, int]] = {}
    for period, conf, n in trend_rows:
        by_period.setdefault(period, _empty_distribution())[label(conf)] += int(n)
    trend = [
        TrendPoint(
            period=p,
            distribution=d,
            mean_score=_mean_score(d),
            mean=confidence_from_score(_mean_score(d)),
        )
        for p, d in sorted(by_period.items())
    ]

    parent_of = {row[0]: row[6] for row in items}
    rows = [
        RollupRow(
            code=code,
            name=name,
            kind=kind.value,
            nature=nature.value,
            category=category.value,
            parent_code=parent_code,
            depth=_depth(wid, parent_of, root_id),
            own=CostFigures.of(*own_cost.get(wid, (None, None, None))),
            total=CostFigures.of(*sub_cost.get(wid, (None, None, None))),
            schedule=_schedule(sub_schedule.get(wid)),
            confidence=Confidence(own_conf[wid]).value if own_conf.get(wid) else None,
            confidence_distribution=sub_conf.get(wid, _empty_distribution()),
            confidence_mean=confidence_from_score(sub_score.get(wid)),
        )
        for wid, code, name, kind, nature, category, _pid, parent_code in items
    ]
    rows.sort(key=lambda r: r.code)
    total = CostFigures.of(
        sum((money(v[0]) for v in own_cost.values()), ZERO),
        sum((money(v[1]) for v in own_cost.values()), ZERO),
        sum((money(v[2]) for v in own_cost.values()), ZERO),
    )
    distribution = _empty_distribution()
    for conf in own_conf.values():
        if conf is not None:
            distribution[Confidence(conf).value] += 1

    return RollupReport(
        root=root,
        as_at=as_at,
        start=start,
        end=end,
        currency=currency,
        total=total,
        schedule=_schedule(tuple(scope_schedule)),
        confidence_distribution=distribution,
        rows=rows,
        by_org_unit=_org_rollup(session, scope, cost_filter, as_at),
        trend=trend,
        excluded_cost_lines=excluded,
    )


def _org_rollup(
    session: Session,
    scope: FromClause,
    cost_filter: Sequence[ColumnElement[bool]],
    as_at: dt.date,
) -> list[OrgRollupRow]:
    """Cost of the in-scope work owned by each organisation unit, own and with its sub-units."""
    oc = org_closure()
    cost = (
        select(WorkItem.org_unit_id.label("org_unit_id"), *cost_sums(as_at))
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .join(scope, scope.c.id == CostLine.work_item_id)
        .where(*cost_filter, WorkItem.org_unit_id.is_not(None))
        .group_by(WorkItem.org_unit_id)
        .subquery("unit_cost")
    )
    parent = aliased(OrgUnit)
    units = session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, parent.code).outerjoin(
            parent, parent.id == OrgUnit.parent_id
        )
    ).all()
    own = {
        uid: (b, f, a)
        for uid, b, f, a in session.execute(
            select(cost.c.org_unit_id, cost.c.budget, cost.c.forecast, cost.c.actual)
        ).all()
    }
    total = {
        aid: (b, f, a)
        for aid, b, f, a in session.execute(
            select(
                oc.c.ancestor_id,
                func.sum(cost.c.budget),
                func.sum(cost.c.forecast),
                func.sum(cost.c.actual),
            )
            .join(cost, cost.c.org_unit_id == oc.c.descendant_id)
            .group_by(oc.c.ancestor_id)
        ).all()
    }
    out = [
        OrgRollupRow(
            code=code,
            name=name,
            kind=kind.value,
            parent_code=parent_code,
            own=CostFigures.of(*own.get(uid, (None, None, None))),
            total=CostFigures.of(*total.get(uid, (None, None, None))),
        )
        for uid, code, name, kind, parent_code in units
        if uid in total
    ]
    return sorted(out, key=lambda r: r.code)


def _schedule(values: tuple[object, ...] | None) -> ScheduleFigures:
    if values is None:
        return ScheduleFigures()
    count, hit, missed, slip_max, slip_mean = values
    n, h, m = int(count or 0), int(hit or 0), int(missed or 0)  # type: ignore[call-overload]
    return ScheduleFigures(
        milestones=n,
        hit=h,
        missed=m,
        pending=n - h - m,
        slippage_days_max=None if slip_max is None else int(slip_max),  # type: ignore[call-overload]
        slippage_days_mean=None if slip_mean is None else round(float(slip_mean), 1),  # type: ignore[arg-type]
    )


def _mean_score(dist: dict[str, int]) -> float | None:
    n = sum(dist.values())
    if not n:
        return None
    return round(sum(Confidence(k).score * v for k, v in dist.items()) / n, 2)


def _depth(wid: int, parent_of: dict[int, int | None], root_id: int | None) -> int:
    """Levels below the scope's top (cycle-safe: stops when it meets an item twice)."""
    depth, seen, current = 0, {wid}, parent_of.get(wid)
    while current is not None and current in parent_of and wid != root_id:
        if current in seen:
            break
        seen.add(current)
        depth += 1
        if current == root_id:
            break
        current = parent_of.get(current)
    return depth


__all__ = [
    "CostFigures",
    "OrgRollupRow",
    "RollupReport",
    "RollupRow",
    "ScheduleFigures",
    "TrendPoint",
    "confidence_score",
    "rollup",
]
