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
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from bigov.analysis._common import (
    ZERO,
    latest_status,
    money,
    months_between,
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
from bigov.strategy.models import Otc
from bigov.work.models import Confidence, Rag, WorkItem, WorkKind

GroupBy = Literal["benefit", "owner", "unit", "otc", "portfolio"]
GROUPINGS: tuple[str, ...] = ("benefit", "owner", "unit", "otc", "portfolio")
NONE_KEY = "(none)"
FINANCIAL = (BenefitCategory.CASHABLE, BenefitCategory.NON_CASHABLE)


class PeriodFigures(BaseModel):
    """One period of a group: the period's values and the running totals up to it."""

    period: dt.date
    planned: Decimal
    forecast: Decimal
    actual: Decimal
    cum_planned: Decimal
    cum_forecast: Decimal
    cum_actual: Decimal


class RealisationFigures(BaseModel):
    """Totals of a group. ``*_to_date`` cover periods on or before ``as_at``; ``pv_*`` are present
    values at ``pv_base`` (all periods). ``realised_pct`` = actual to date / planned to date."""

    planned: Decimal = ZERO
    forecast: Decimal = ZERO
    actual: Decimal = ZERO
    planned_to_date: Decimal = ZERO
    forecast_to_date: Decimal = ZERO
    actual_to_date: Decimal = ZERO
    realised_pct: Decimal | None = None
    pv_planned: Decimal = ZERO
    pv_forecast: Decimal = ZERO


class BenefitGroup(BaseModel):
    """One group (a benefit, an owner, a business unit, an OTC or a portfolio)."""

    key: str
    name: str
    unit: str = Field(description="currency, or the benefit's own unit when non-financial")
    benefits: list[str]
    figures: RealisationFigures
    periods: list[PeriodFigures]


class BenefitAtRisk(BaseModel):
    """A benefit whose forecast falls short of plan beyond tolerance (for a dis-benefit: exceeds
    it), or whose enabling work is late or at Red. ``reasons`` says which."""

    code: str
    name: str
    kind: str
    planned: Decimal
    forecast: Decimal
    shortfall_pct: Decimal | None
    reasons: list[str]
    late_enablers: list[str] = Field(default_factory=list)
    red_enablers: list[str] = Field(default_factory=list)


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
) -> RealisationReport:
    """Benefits realisation grouped ``by`` one of :data:`GROUPINGS`.

    Args:
        as_at: the date "to date" figures run to, and that enabling work is judged at (today).
        start, end: half-open range of profile periods; None = all.
        tolerance_pct: how far forecast may fall short of plan before a benefit is at risk.
        discount_rate: annual rate for present values (0.035 = 3.5 %); a period ``m`` months after
            ``pv_base`` is divided by ``(1 + rate) ** (m / 12)``.
        pv_base: the date values are discounted to (default: the month of ``as_at``).

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
    stmt = select(
        *key_cols,
        Benefit.code,
        Benefit.category,
        Benefit.unit,
        BenefitProfile.period,
        func.sum(sign * func.coalesce(BenefitProfile.planned, 0)),
        func.sum(sign * func.coalesce(BenefitProfile.forecast, 0)),
        func.sum(sign * func.coalesce(BenefitProfile.actual, 0)),
    ).join(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    stmt = stmt.where(usable, *period_filter).group_by(
        *key_cols, Benefit.code, Benefit.category, Benefit.unit, BenefitProfile.period
    )
    rows = session.execute(stmt).all()

    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        key, name, bcode, category, unit, period, planned, forecast, actual = tuple(row)
        g = groups.setdefault(
            key,
            {
                "name": name,
                "unit": currency if category in FINANCIAL else (unit or ""),
                "benefits": set(),
                "periods": {},
            },
        )
        g["benefits"].add(bcode)
        bucket = g["periods"].setdefault(period, [ZERO, ZERO, ZERO])
        bucket[0] += money(planned)
        bucket[1] += money(forecast)
        bucket[2] += money(actual)

    # the total nets each financial benefit once, whatever the grouping
    total_rows = session.execute(
        select(
            BenefitProfile.period,
            func.sum(sign * func.coalesce(BenefitProfile.planned, 0)),
            func.sum(sign * func.coalesce(BenefitProfile.forecast, 0)),
            func.sum(sign * func.coalesce(BenefitProfile.actual, 0)),
        )
        .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
        .where(financial, profile_currency == currency, *period_filter)
        .group_by(BenefitProfile.period)
    ).all()
    total_periods = {p: [money(a), money(b), money(c)] for p, a, b, c in total_rows}
    excluded = int(
        session.scalar(
            select(func.count())
            .select_from(BenefitProfile)
            .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
            .where(financial, profile_currency != currency)
        )
        or 0
    )

    def figures(
        periods: dict[dt.date, list[Decimal]],
    ) -> tuple[RealisationFigures, list[PeriodFigures]]:
        return _figures(periods, as_at, discount_rate, pv_base)

    out_groups = []
    for key, g in sorted(groups.items()):
        figs, series = figures(g["periods"])
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
    total, total_series = figures(total_periods)
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
        at_risk=benefits_at_risk(session, as_at=as_at, tolerance_pct=tolerance_pct),
        excluded_profile_rows=excluded,
    )


def _figures(
    periods: dict[dt.date, list[Decimal]],
    as_at: dt.date,
    rate: Decimal,
    pv_base: dt.date,
) -> tuple[RealisationFigures, list[PeriodFigures]]:
    series: list[PeriodFigures] = []
    cp = cf = ca = ZERO
    f = RealisationFigures()
    pv_p = pv_f = Decimal(0)
    for period in sorted(periods):
        p, fc, a = periods[period]
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
            f.planned_to_date += p
            f.forecast_to_date += fc
            f.actual_to_date += a
        factor = _discount(rate, months_between(pv_base, period))
        pv_p += p / factor
        pv_f += fc / factor
    f.planned, f.forecast, f.actual = cp, cf, ca
    f.pv_planned, f.pv_forecast = money(pv_p), money(pv_f)
    f.realised_pct = pct(f.actual_to_date, f.planned_to_date)
    return f, series


def _discount(rate: Decimal, months: int) -> Decimal:
    """(1 + rate) ** (months / 12); exact for whole years."""
    if not rate:
        return Decimal(1)
    if months % 12 == 0:
        return (1 + rate) ** (months // 12)
    return (1 + rate) ** (Decimal(months) / 12)


def benefits_at_risk(
    session: Session, *, as_at: dt.date | None = None, tolerance_pct: Decimal = Decimal("10")
) -> list[BenefitAtRisk]:
    """Benefits at risk, by code: forecast short of plan by more than ``tolerance_pct`` of plan
    over the whole profile (a dis-benefit: forecast above plan by more than that), or an enabling
    work item late (actual or forecast finish after baseline finish) or at Red (latest DCA red or
    latest overall RAG red, on or before ``as_at``). Two queries."""
    as_at = as_at or dt.date.today()
    totals = session.execute(
        select(
            Benefit.code,
            Benefit.name,
            Benefit.kind,
            func.sum(func.coalesce(BenefitProfile.planned, 0)),
            func.sum(func.coalesce(BenefitProfile.forecast, 0)),
        )
        .outerjoin(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
        .group_by(Benefit.code, Benefit.name, Benefit.kind)
    ).all()
    latest = latest_status(as_at)
    finish = func.coalesce(WorkItem.actual_finish, WorkItem.forecast_finish)
    late = case(
        (and_(WorkItem.baseline_finish.is_not(None), finish > WorkItem.baseline_finish), 1),
        else_=0,
    )
    red = case(
        (
            (latest.c.confidence == literal(Confidence.RED.value))
            | (latest.c.overall == literal(Rag.RED.value)),
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
    for code, name, kind, planned, forecast in totals:
        p, f = money(planned), money(forecast)
        gap = (f - p) if kind == BenefitKind.DISBENEFIT else (p - f)
        short = pct(gap, p) if p else None
        reasons = []
        if short is not None and short > tolerance_pct:
            reasons.append(
                "forecast above plan" if kind == BenefitKind.DISBENEFIT else "forecast below plan"
            )
        if late_of.get(code):
            reasons.append("enabling work late")
        if red_of.get(code):
            reasons.append("enabling work at red")
        if reasons:
            out.append(
                BenefitAtRisk(
                    code=code,
                    name=name,
                    kind=kind.value,
                    planned=p,
                    forecast=f,
                    shortfall_pct=short,
                    reasons=reasons,
                    late_enablers=sorted(late_of.get(code, [])),
                    red_enablers=sorted(red_of.get(code, [])),
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
