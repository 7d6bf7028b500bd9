"""Benefits realisation: planned vs forecast vs actual by period and cumulative, grouped per
benefit, owner, realising business unit, OTC or portfolio; benefits at risk; dis-benefits netted;
financial benefits in present value.

Money figures cover financial benefits only (cashable and non-cashable) in the reporting currency,
with dis-benefits counted negative. Non-financial benefits are in their own units and appear only
in the per-benefit view. Profile rows in another currency are left out and counted (see
:func:`bigov.analysis.quality.findings`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from bigov.analysis._common import (
    ZERO,
    actual_as_at,
    days_between,
    latest_status,
    measure_kinds,
    money,
    months_between,
    outturn_as_at,
    pct,
    reporting_currency,
    work_closure,
)
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitContribution,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
)
from bigov.org.models import ManagementTeam, OrgUnit, Person
from bigov.strategy.models import Aggregation, Otc, aggregation_for_unit, is_count_unit
from bigov.work.models import Confidence, Phase, Rag, WorkItem, WorkKind

GroupBy = Literal["benefit", "owner", "unit", "otc", "portfolio"]
GROUPINGS: tuple[str, ...] = ("benefit", "owner", "unit", "otc", "portfolio")
NONE_KEY = "(none)"
FINANCIAL = (BenefitCategory.CASHABLE, BenefitCategory.NON_CASHABLE)
# phases in which enabling work has delivered (or stopped): it can no longer be late
DONE_PHASES = (Phase.CLOSURE, Phase.CLOSED, Phase.CANCELLED)
WHOLE = Decimal("1")


class PeriodFigures(BaseModel):
    """One period of a group as at the report's date: planned; ``forecast`` the period's share of
    the forecast outturn (its actual when the period has begun and an actual is booked, else its
    forecast); ``actual`` booked for a period on or before the as-at date (0 after it). The
    ``cum_*`` running totals end at the group's figures. For a level (a benefit measured in %,
    points, an index...) the values are levels and ``cum_*`` repeat them: levels never add up.
    """

    period: dt.date
    planned: Decimal
    forecast: Decimal
    actual: Decimal
    cum_planned: Decimal
    cum_forecast: Decimal
    cum_actual: Decimal


class RealisationFigures(BaseModel):
    """Totals of a group as at a date.

    ``planned``: whole-life plan. ``forecast``: the **benefit forecast** = actual to date +
    forecast of the remaining periods (a period that has begun by the as-at date and holds an
    actual counts its actual). ``actual`` = ``actual_to_date``: nothing booked for a later period
    was known at the date. ``planned_to_date`` / ``forecast_to_date``: plan and stored forecast
    of the periods on or before the as-at date. ``realised_pct`` = actual to date / planned to
    date. ``pv_*``: present values at ``pv_base`` (all periods).

    For a level (``aggregation`` "level": a non-financial benefit in %, points, an index...)
    every figure is a level, not a sum: planned and forecast at the last period, planned and
    forecast to date at the latest period begun by the date, actual the latest booked value.
    A count (``count``, ``systems``...) is stated in whole numbers.
    """

    planned: Decimal = ZERO
    forecast: Decimal = ZERO
    actual: Decimal = ZERO
    planned_to_date: Decimal = ZERO
    forecast_to_date: Decimal = ZERO
    actual_to_date: Decimal = ZERO
    realised_pct: Decimal | None = None
    pv_planned: Decimal = ZERO
    pv_forecast: Decimal = ZERO
    aggregation: str = Aggregation.FLOW.value


class BenefitGroup(BaseModel):
    """One group (a benefit, an owner, a business unit, an OTC or a portfolio)."""

    key: str
    name: str
    unit: str = Field(description="currency, or the benefit's own unit when non-financial")
    benefits: list[str]
    figures: RealisationFigures
    periods: list[PeriodFigures]


class BenefitAtRisk(BaseModel):
    """A benefit whose forecast (actual to date + forecast of the rest) falls short of plan
    beyond tolerance (for a dis-benefit: exceeds it), or, while it is not yet realised, whose
    open enabling work is late or at Red. ``reasons`` says which."""

    code: str
    name: str
    kind: str
    planned: Decimal
    forecast: Decimal
    shortfall_pct: Decimal | None
    reasons: list[str]
    late_enablers: list[str] = Field(default_factory=list)
    red_enablers: list[str] = Field(default_factory=list)
    planned_to_date: Decimal = ZERO
    actual_to_date: Decimal = ZERO
    realised_pct: Decimal | None = None
    financial: bool = Field(default=True, description="money (else in ``unit``)")
    unit: str | None = Field(default=None, description="a non-financial benefit's own unit")
    realised: bool = False


class RealisationReport(BaseModel):
    """Benefits realisation grouped ``by``; ``total`` nets every financial benefit once (even when
    a benefit appears in several groups, e.g. two OTCs), and ``periods`` is its time series."""

    by: str
    as_at: dt.date
    currency: str
    discount_rate: Decimal
    pv_base: dt.date
    tolerance_pct: Decimal
    groups: list[BenefitGroup]
    total: RealisationFigures
    periods: list[PeriodFigures]
    at_risk: list[BenefitAtRisk]
    excluded_profile_rows: int = 0


def _group_columns(by: str) -> tuple[Any, list[Any], list[Any]]:
    """(select-from, [key, name] columns, extra joins) of a grouping."""
    if by == "benefit":
        return None, [Benefit.code, Benefit.name], []
    if by == "owner":
        return (
            Person,
            [func.coalesce(Person.code, NONE_KEY), func.coalesce(Person.name, "no owner")],
            [(Person, Person.id == Benefit.owner_id)],
        )
    if by == "unit":
        team = aliased(ManagementTeam)
        unit = aliased(OrgUnit)
        return (
            None,
            [
                func.coalesce(unit.code, NONE_KEY),
                func.coalesce(unit.name, "no realising team"),
            ],
            [(team, team.id == Benefit.realising_team_id), (unit, unit.id == team.org_unit_id)],
        )
    if by == "otc":
        bc = aliased(BenefitContribution)
        return (
            None,
            [func.coalesce(Otc.code, NONE_KEY), func.coalesce(Otc.title, "no OTC")],
            [(bc, bc.benefit_id == Benefit.id), (Otc, Otc.id == bc.otc_id)],
        )
    # portfolio: every portfolio above (or being) a work item that enables the benefit, once
    closure = work_closure()
    portfolio = aliased(WorkItem)
    pairs = (
        select(BenefitEnabler.benefit_id, portfolio.id.label("portfolio_id"))
        .join(closure, closure.c.descendant_id == BenefitEnabler.work_item_id)
        .join(portfolio, portfolio.id == closure.c.ancestor_id)
        .where(portfolio.kind == WorkKind.PORTFOLIO)
        .distinct()
        .subquery("benefit_portfolio")
    )
    pf = aliased(WorkItem)
    return (
        None,
        [func.coalesce(pf.code, NONE_KEY), func.coalesce(pf.name, "no portfolio")],
        [(pairs, pairs.c.benefit_id == Benefit.id), (pf, pf.id == pairs.c.portfolio_id)],
    )


def realisation(
    session: Session,
    *,
    by: str = "benefit",
    as_at: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    tolerance_pct: Decimal = Decimal("10"),
    discount_rate: Decimal = Decimal("0"),
    pv_base: dt.date | None = None,
    late_tolerance_days: int = 0,
) -> RealisationReport:
    """Benefits realisation grouped ``by`` one of :data:`GROUPINGS`.

    Args:
        as_at: the date the report is as at (default today): "to date" figures run to it,
            actuals of later periods are left out (they were booked later), the forecast is
            actual to date + forecast of the remaining periods, and enabling work is judged
            at it.
        start, end: half-open range of profile periods; None = all.
        tolerance_pct: how far forecast may fall short of plan before a benefit is at risk.
        discount_rate: annual rate for present values (0.035 = 3.5 %); a period ``m`` months after
            ``pv_base`` is divided by ``(1 + rate) ** (m / 12)``.
        pv_base: the date values are discounted to (default: the month of ``as_at``).
        late_tolerance_days: days enabling work may slip before it makes a benefit at risk
            (see :func:`benefits_at_risk`).

    A fixed number of queries at any data size.

    Raises:
        ValueError: unknown grouping.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    as_at = as_at or dt.date.today()
    pv_base = pv_base or as_at.replace(day=1)
    currency = reporting_currency(session)
    sign = case((Benefit.kind == BenefitKind.DISBENEFIT, -1), else_=1)
    profile_currency = func.coalesce(BenefitProfile.currency, Benefit.currency, currency)
    financial = Benefit.category.in_(FINANCIAL)
    period_filter: list[ColumnElement[bool]] = []
    if start is not None:
        period_filter.append(BenefitProfile.period >= start)
    if end is not None:
        period_filter.append(BenefitProfile.period < end)
    # money rows: financial benefits in the reporting currency; per-benefit view adds the
    # non-financial ones in their own units
    usable = and_(financial, profile_currency == currency)
    if by == "benefit":
        usable = usable | ~financial

    _from, key_cols, joins = _group_columns(by)
    values = _period_values(sign, as_at)
    stmt = select(
        *key_cols,
        Benefit.code,
        Benefit.category,
        Benefit.unit,
        Benefit.measure_code,
        BenefitProfile.period,
        *values,
    ).join(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    stmt = stmt.where(usable, *period_filter).group_by(
        *key_cols,
        Benefit.code,
        Benefit.category,
        Benefit.unit,
        Benefit.measure_code,
        BenefitProfile.period,
    )
    rows = session.execute(stmt).all()
    kinds = measure_kinds(session)

    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        key, name, bcode, category, unit, measure_code, period, *figures_of_period = tuple(row)
        financial_row = category in FINANCIAL
        g = groups.setdefault(
            key,
            {
                "name": name,
                "unit": currency if financial_row else (unit or ""),
                "benefits": set(),
                "periods": {},
                # money always flows; a non-financial benefit (only ever alone in its group, by
                # benefit) follows its measure, else its unit
                "level": not financial_row
                and _aggregation(unit, measure_code, kinds) is Aggregation.LEVEL,
                "whole": not financial_row and is_count_unit(unit),
            },
        )
        g["benefits"].add(bcode)
        _accumulate(g["periods"], period, figures_of_period)

    # the total nets each financial benefit once, whatever the grouping
    total_rows = session.execute(
        select(BenefitProfile.period, *values)
        .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
        .where(financial, profile_currency == currency, *period_filter)
        .group_by(BenefitProfile.period)
    ).all()
    total_periods: dict[dt.date, list[Decimal]] = {}
    for period, *figures_of_period in total_rows:
        _accumulate(total_periods, period, figures_of_period)
    excluded = int(
        session.scalar(
            select(func.count())
            .select_from(BenefitProfile)
            .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
            .where(financial, profile_currency != currency)
        )
        or 0
    )

    out_groups = []
    for key, g in sorted(groups.items()):
        figs, series = _figures(
            g["periods"], as_at, discount_rate, pv_base, level=g["level"], whole=g["whole"]
        )
        out_groups.append(
            BenefitGroup(
                key=key,
                name=g["name"],
                unit=g["unit"],
                benefits=sorted(g["benefits"]),
                figures=figs,
                periods=series,
            )
        )
    total, total_series = _figures(total_periods, as_at, discount_rate, pv_base)
    return RealisationReport(
        by=by,
        as_at=as_at,
        currency=currency,
        discount_rate=discount_rate,
        pv_base=pv_base,
        tolerance_pct=tolerance_pct,
        groups=out_groups,
        total=total,
        periods=total_series,
        at_risk=benefits_at_risk(
            session,
            as_at=as_at,
            tolerance_pct=tolerance_pct,
            late_tolerance_days=late_tolerance_days,
        ),
        excluded_profile_rows=excluded,
    )


def _period_values(sign: ColumnElement[Any], as_at: dt.date) -> tuple[ColumnElement[Any], ...]:
    """Per (group, period): planned, forecast outturn, actual as at, stored forecast, and the
    number of actuals booked as at the date (a level needs to know whether a period has one)."""
    period, actual = BenefitProfile.period, BenefitProfile.actual
    return (
        func.sum(sign * func.coalesce(BenefitProfile.planned, 0)),
        func.sum(sign * outturn_as_at(period, BenefitProfile.forecast, actual, as_at)),
        func.sum(sign * func.coalesce(actual_as_at(period, actual, as_at), 0)),
        func.sum(sign * func.coalesce(BenefitProfile.forecast, 0)),
        func.count(actual_as_at(period, actual, as_at)),
    )


def _accumulate(
    periods: dict[dt.date, list[Decimal]], period: dt.date, values: Sequence[Any]
) -> None:
    """Add one row of :func:`_period_values` to its period's bucket."""
    planned, outturn, actual, stored, booked = values
    bucket = periods.setdefault(period, [ZERO, ZERO, ZERO, ZERO, ZERO])
    bucket[0] += money(planned)
    bucket[1] += money(outturn)
    bucket[2] += money(actual)
    bucket[3] += money(stored)
    bucket[4] += Decimal(int(booked or 0))


def _aggregation(
    unit: str | None, measure_code: str | None, kinds: dict[str, Aggregation]
) -> Aggregation:
    """A non-financial benefit's aggregation: its metrics measure's, else its unit's default."""
    if measure_code and measure_code in kinds:
        return kinds[measure_code]
    return aggregation_for_unit(unit)


def _figures(
    periods: dict[dt.date, list[Decimal]],
    as_at: dt.date,
    rate: Decimal,
    pv_base: dt.date,
    *,
    level: bool = False,
    whole: bool = False,
) -> tuple[RealisationFigures, list[PeriodFigures]]:
    """Figures and series of one group from its period buckets (see :func:`_accumulate`)."""
    series: list[PeriodFigures] = []
    cp = cf = ca = ZERO
    f = RealisationFigures(aggregation=(Aggregation.LEVEL if level else Aggregation.FLOW).value)
    pv_p = pv_f = Decimal(0)
    last_booked: Decimal | None = None
    for period in sorted(periods):
        p, fc, a, stored, booked = periods[period]
        if whole:
            p, fc, a, stored = (_whole(v) for v in (p, fc, a, stored))
        if level:
            # a level is the value of its period: the "running total" is the value itself
            cp, cf, ca = p, fc, (a if booked else ca)
        else:
            cp, cf, ca = cp + p, cf + fc, ca + a
        series.append(
            PeriodFigures(
                period=period,
                planned=p,
                forecast=fc,
                actual=a,
                cum_planned=cp,
                cum_forecast=cf,
                cum_actual=ca,
            )
        )
        if period <= as_at:
            if level:
                f.planned_to_date, f.forecast_to_date = p, stored
                if booked:
                    last_booked = a
            else:
                f.planned_to_date += p
                f.forecast_to_date += stored
                f.actual_to_date += a
        if not level:
            factor = _discount(rate, months_between(pv_base, period))
            pv_p += p / factor
            pv_f += fc / factor
    if level:
        f.actual_to_date = last_booked if last_booked is not None else ZERO
        pv_p, pv_f = cp, cf  # a level is not discounted
    f.planned, f.forecast = cp, cf
    f.actual = f.actual_to_date
    f.pv_planned, f.pv_forecast = money(pv_p), money(pv_f)
    if whole:
        f.pv_planned, f.pv_forecast = _whole(f.pv_planned), _whole(f.pv_forecast)
    f.realised_pct = pct(f.actual_to_date, f.planned_to_date)
    return f, series


def _whole(value: Decimal) -> Decimal:
    """A count as a whole number (half up): never "2.3 systems"."""
    return value.quantize(WHOLE, ROUND_HALF_UP)


def _discount(rate: Decimal, months: int) -> Decimal:
    """(1 + rate) ** (months / 12); exact for whole years."""
    if not rate:
        return Decimal(1)
    if months % 12 == 0:
        return (1 + rate) ** (months // 12)
    return (1 + rate) ** (Decimal(months) / 12)


def benefits_at_risk(
    session: Session,
    *,
    as_at: dt.date | None = None,
    tolerance_pct: Decimal = Decimal("10"),
    late_tolerance_days: int = 0,
) -> list[BenefitAtRisk]:
    """Benefits at risk as at ``as_at`` (default today), by code. A benefit is at risk when

    * its **forecast** (actual to date + forecast of the remaining periods, see
      :class:`RealisationFigures`; a level's final value) falls short of its whole-life plan by
      more than ``tolerance_pct`` of plan (a dis-benefit: exceeds it by more), or
    * it is **not yet realised** and enabling work still open at the date is **late** (its
      baseline finish has passed unfinished, or its forecast finish is after the baseline, by
      more than ``late_tolerance_days`` — a board's schedule tolerance) or at **Red** (latest
      DCA or overall RAG of a report on or before the date).

    *Realised*: actual to date at least the plan to date (with some plan due), or at least the
    whole-life plan. *Open*: not finished on or before the date (an item with no finish date
    in a closure, closed or cancelled phase has finished) — work that closed late has done its
    part and no longer puts the benefit at risk. Every profile row counts whatever its
    currency (a shortfall is a ratio). Three queries.
    """
    as_at = as_at or dt.date.today()
    kinds = measure_kinds(session)
    meta: dict[str, tuple[str, BenefitKind, bool, bool]] = {}
    own_unit: dict[str, str | None] = {}  # non-financial benefits: their unit
    periods: dict[str, dict[dt.date, list[Decimal]]] = {}
    one = literal(1)
    for code, name, kind, category, unit, measure_code, period, *values in session.execute(
        select(
            Benefit.code,
            Benefit.name,
            Benefit.kind,
            Benefit.category,
            Benefit.unit,
            Benefit.measure_code,
            BenefitProfile.period,
            *_period_values(one, as_at),
        )
        .outerjoin(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
        .group_by(
            Benefit.code,
            Benefit.name,
            Benefit.kind,
            Benefit.category,
            Benefit.unit,
            Benefit.measure_code,
            BenefitProfile.period,
        )
    ).all():
        non_financial = category not in FINANCIAL
        if non_financial:
            own_unit[code] = unit
        meta[code] = (
            name,
            kind,
            non_financial and _aggregation(unit, measure_code, kinds) is Aggregation.LEVEL,
            non_financial and is_count_unit(unit),
        )
        bucket = periods.setdefault(code, {})
        if period is not None:
            _accumulate(bucket, period, values)

    latest = latest_status(as_at)
    # never NULL (NOT NULL would read as "not open" and hide late work): two-valued on purpose
    finished = or_(
        and_(WorkItem.actual_finish.is_not(None), WorkItem.actual_finish <= as_at),
        and_(WorkItem.actual_finish.is_(None), WorkItem.phase.in_(DONE_PHASES)),
    )
    # as at the date, an item that finished later was still running towards its forecast
    expected_finish = func.coalesce(WorkItem.forecast_finish, WorkItem.actual_finish)
    overdue = as_at - dt.timedelta(days=late_tolerance_days)
    late = case(
        (
            and_(
                ~finished,
                WorkItem.baseline_finish.is_not(None),
                (days_between(expected_finish, WorkItem.baseline_finish) > late_tolerance_days)
                | (WorkItem.baseline_finish < overdue),
            ),
            1,
        ),
        else_=0,
    )
    red = case(
        (
            and_(
                ~finished,
                (latest.c.confidence == literal(Confidence.RED.value))
                | (latest.c.overall == literal(Rag.RED.value)),
            ),
            1,
        ),
        else_=0,
    )
    enablers = session.execute(
        select(Benefit.code, WorkItem.code, late, red)
        .join(BenefitEnabler, BenefitEnabler.benefit_id == Benefit.id)
        .join(WorkItem, WorkItem.id == BenefitEnabler.work_item_id)
        .outerjoin(latest, latest.c.work_item_id == WorkItem.id)
    ).all()
    late_of: dict[str, list[str]] = {}
    red_of: dict[str, list[str]] = {}
    for bcode, wcode, is_late, is_red in enablers:
        if is_late:
            late_of.setdefault(bcode, []).append(wcode)
        if is_red:
            red_of.setdefault(bcode, []).append(wcode)
    out = []
    for code, (name, kind, level, whole) in meta.items():
        f, _series = _figures(periods[code], as_at, Decimal(0), as_at, level=level, whole=whole)
        p, fc = f.planned, f.forecast
        gap = (fc - p) if kind == BenefitKind.DISBENEFIT else (p - fc)
        short = pct(gap, p) if p else None
        realised = bool(
            (f.planned_to_date > 0 and f.actual_to_date >= f.planned_to_date)
            or (p > 0 and f.actual_to_date >= p)
        )
        reasons = []
        if short is not None and short > tolerance_pct:
            reasons.append(
                "forecast above plan" if kind == BenefitKind.DISBENEFIT else "forecast below plan"
            )
        late_list = [] if realised else sorted(late_of.get(code, []))
        red_list = [] if realised else sorted(red_of.get(code, []))
        if late_list:
            reasons.append("enabling work late")
        if red_list:
            reasons.append("enabling work at red")
        if reasons:
            out.append(
                BenefitAtRisk(
                    code=code,
                    name=name,
                    kind=kind.value,
                    planned=p,
                    forecast=fc,
                    shortfall_pct=short,
                    reasons=reasons,
                    late_enablers=late_list,
                    red_enablers=red_list,
                    planned_to_date=f.planned_to_date,
                    actual_to_date=f.actual_to_date,
                    realised_pct=f.realised_pct,
                    realised=realised,
                    financial=code not in own_unit,
                    unit=own_unit.get(code),
                )
            )
    return sorted(out, key=lambda r: r.code)


__all__ = [
    "GROUPINGS",
    "BenefitAtRisk",
    "BenefitGroup",
    "PeriodFigures",
    "RealisationFigures",
    "RealisationReport",
    "benefits_at_risk",
    "realisation",
]
