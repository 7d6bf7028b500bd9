"""Building blocks shared by the analysis modules: hierarchy closures, money rounding, settings
read through the caller's session, a portable day difference and the latest status per item.

Everything here composes SQLAlchemy Core; nothing formats SQL text.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    Integer,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from bigov.db.settings import DEFAULTS, Setting
from bigov.finance.models import CostLine
from bigov.org.models import OrgUnit
from bigov.strategy.models import Aggregation
from bigov.work.models import Confidence, StatusReport, WorkItem

ZERO = Decimal("0")
CENT = Decimal("0.01")
PCT = Decimal("0.1")


def to_date(period: SQLColumnExpression[Any], as_at: dt.date | None) -> ColumnElement[bool]:
    """SQL: the row's period has begun by ``as_at`` (always true when ``as_at`` is None).

    Periods are month starts, so the as-at month is "to date": a cost line of September holds
    its actual as at 30 September (or 15 September, for the part booked by then)."""
    if as_at is None:
        return true()
    return period <= as_at


def actual_as_at(
    period: SQLColumnExpression[Any], actual: SQLColumnExpression[Any], as_at: dt.date | None
) -> SQLColumnExpression[Any]:
    """SQL: the actual a row holds as at ``as_at`` — none for a period after it (that actual was
    booked later), the stored actual otherwise."""
    if as_at is None:
        return actual
    return case((period <= as_at, actual), else_=None)


def outturn_as_at(
    period: SQLColumnExpression[Any],
    forecast: SQLColumnExpression[Any],
    actual: SQLColumnExpression[Any],
    as_at: dt.date | None,
) -> SQLColumnExpression[Any]:
    """SQL: a row's share of the **forecast outturn** as at ``as_at``: its actual when the
    period has begun by then and an actual is booked, else its forecast.

    Summed, this is "actual to date + forecast of the remaining periods": a past period counts
    what was spent (or realised), never a stale forecast nor zero because a source system
    clears the forecast once the actual is in. A past period with no actual booked yet keeps
    its forecast, so a late finance close does not make the outturn drop. With ``as_at`` None
    every booked actual replaces its forecast.
    """
    booked = actual.is_not(None) if as_at is None else and_(period <= as_at, actual.is_not(None))
    return case((booked, actual), else_=func.coalesce(forecast, 0))


def cost_sums(
    as_at: dt.date | None = None,
) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]]:
    """sum(budget), forecast outturn, actual to date of cost lines, as at ``as_at``: the three
    money figures every roll-up reports, in this order, so each query groups them the same way.

    Budget is whole-life (a plan); forecast is the outturn of :func:`outturn_as_at` (actual to
    date + forecast of the remaining periods); actual counts periods up to ``as_at`` only. With
    ``as_at`` None, the plain sums of the stored columns (no date applied).
    """
    if as_at is None:
        forecast: ColumnElement[Any] = func.sum(CostLine.forecast)
    else:
        forecast = func.sum(
            outturn_as_at(CostLine.period, CostLine.forecast, CostLine.actual, as_at)
        )
    return (
        func.sum(CostLine.budget).label("budget"),
        forecast.label("forecast"),
        func.sum(actual_as_at(CostLine.period, CostLine.actual, as_at)).label("actual"),
    )


def raid_known_as_at(
    raised_on: SQLColumnExpression[Any], as_at: dt.date | None
) -> ColumnElement[bool]:
    """SQL: a RAID row (risk, action, issue, decision) existed as at ``as_at``: raised (for a
    decision: decided) on or before it. A row with no date is taken as known (legacy data)."""
    if as_at is None:
        return true()
    return raised_on.is_(None) | (raised_on <= as_at)


def measure_kinds(session: Session) -> dict[str, Aggregation]:
    """Flow or level of every metrics measure by code, read from how the engine combines a
    period's observations (see :func:`bigov.metrics.models.aggregation_of`); empty when the
    workspace has no metrics tables. One query."""
    try:
        from bigov.metrics.models import MetricMeasure, aggregation_of
    except ImportError:  # pragma: no cover - metrics ships with bigov; kept for slim installs
        return {}
    if not inspect(session.get_bind()).has_table(MetricMeasure.__tablename__):
        return {}
    return {
        code: aggregation_of(kind)
        for code, kind in session.execute(
            select(MetricMeasure.code, MetricMeasure.time_aggregation)
        ).all()
    }


def money(value: Any) -> Decimal:
    """A database sum (Decimal, float on SQLite, or None) as Decimal rounded to the cent."""
    if value is None:
        return ZERO.quantize(CENT, ROUND_HALF_UP)
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def quantity(value: Any, places: str = "0.01") -> Decimal:
    """A non-money sum (FTE, measure values) rounded to ``places``."""
    if value is None:
        return ZERO.quantize(Decimal(places), ROUND_HALF_UP)
    return Decimal(str(value)).quantize(Decimal(places), ROUND_HALF_UP)


def pct(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal, or None when ``whole`` is zero."""
    if not whole:
        return None
    return (part / whole * 100).quantize(PCT, ROUND_HALF_UP)


def setting(session: Session, key: str, default: str | None = None) -> str:
    """A workspace setting read through the caller's session (so a function needs no Workspace).

    Falls back to ``default``, then to the workspace's documented default.
    """
    row = session.get(Setting, key)
    if row is not None:
        return row.value
    if default is not None:
        return default
    return DEFAULTS[key]


def reporting_currency(session: Session) -> str:
    """The workspace currency every money total is stated in."""
    return setting(session, "currency").upper()


def work_closure(name: str = "work_closure") -> CTE:
    """(ancestor_id, descendant_id) for every work item and each item below it, itself included.

    Recursive CTE joined with UNION (not UNION ALL): the pairs are finite, so a cycle in bad data
    ends the recursion instead of looping, and each pair appears once, so a sum over a subtree
    never counts an item twice even when the hierarchy is cyclic.
    """
    base = select(WorkItem.id.label("ancestor_id"), WorkItem.id.label("descendant_id"))
    closure = base.cte(name, recursive=True)
    child = select(closure.c.ancestor_id, WorkItem.id).where(
        WorkItem.parent_id == closure.c.descendant_id
    )
    return closure.union(child)


def org_closure(name: str = "org_closure") -> CTE:
    """(ancestor_id, descendant_id) over the organisation structure; same guarantees as
    :func:`work_closure`."""
    base = select(OrgUnit.id.label("ancestor_id"), OrgUnit.id.label("descendant_id"))
    closure = base.cte(name, recursive=True)
    child = select(closure.c.ancestor_id, OrgUnit.id).where(
        OrgUnit.parent_id == closure.c.descendant_id
    )
    return closure.union(child)


def latest_status(as_at: dt.date | None = None, name: str = "latest_status") -> Subquery:
    """(work_item_id, period, confidence, overall) of each item's latest report on or before
    ``as_at`` (any date when None). One row per item that has a report."""
    last = select(StatusReport.work_item_id, func.max(StatusReport.period).label("period"))
    if as_at is not None:
        last = last.where(StatusReport.period <= as_at)
    last_sq = last.group_by(StatusReport.work_item_id).subquery(f"{name}_period")
    return (
        select(
            StatusReport.work_item_id,
            StatusReport.period,
            StatusReport.confidence,
            StatusReport.overall,
        )
        .join(
            last_sq,
            and_(
                last_sq.c.work_item_id == StatusReport.work_item_id,
                last_sq.c.period == StatusReport.period,
            ),
        )
        .subquery(name)
    )


def confidence_score(column: ColumnElement[Any]) -> ColumnElement[int]:
    """SQL expression: 5 (green) .. 1 (red) for a confidence column, NULL when unknown."""
    return case({c: c.score for c in Confidence}, value=column, else_=None)


def confidence_from_score(score: float | None) -> str | None:
    """The DCA level nearest to a mean score (5 green .. 1 red)."""
    if score is None:
        return None
    ordered = list(Confidence)
    index = min(max(int(5 - round(score)), 0), len(ordered) - 1)
    return ordered[index].value


class days_between(FunctionElement[int]):  # noqa: N801 - reads as an SQL function at call sites
    """Whole days from ``start`` to ``end`` (end - start) for two DATE expressions, on SQLite
    and PostgreSQL alike."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return compiler.process(func.cast(func.julianday(end) - func.julianday(start), Integer), **kw)


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return compiler.process(end - start, **kw)


@compiles(days_between)
def _days_between_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return compiler.process(end - start, **kw)


def month_start(day: dt.date) -> dt.date:
    """First day of the month of ``day``."""
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` (a month start) moved by ``months``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from the month of ``start`` to the month of ``end``."""
    return (end.year - start.year) * 12 + end.month - start.month


def fiscal_year_of(session: Session, day: dt.date) -> int:
    """The fiscal year of ``day`` (named by the calendar year it ends in), from the workspace's
    ``fiscal_year_start_month``; same rule as :meth:`bigov.workspace.Workspace.fiscal_year_of`."""
    start = int(setting(session, "fiscal_year_start_month"))
    if start == 1:
        return day.year
    return day.year + 1 if day.month >= start else day.year


def label(value: Any) -> str:
    """An enum's value or a plain string, for keys of result dictionaries."""
    return str(getattr(value, "value", value))


def as_float(value: Any) -> float | None:
    """A numeric database value as float (None stays None)."""
    return None if value is None else float(value)


__all__ = [
    "CENT",
    "PCT",
    "ZERO",
    "actual_as_at",
    "add_months",
    "as_float",
    "confidence_from_score",
    "confidence_score",
    "cost_sums",
    "days_between",
    "fiscal_year_of",
    "label",
    "latest_status",
    "measure_kinds",
    "money",
    "month_start",
    "months_between",
    "org_closure",
    "outturn_as_at",
    "pct",
    "quantity",
    "raid_known_as_at",
    "reporting_currency",
    "setting",
    "to_date",
    "work_closure",
]
