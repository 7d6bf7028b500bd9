"""Run / change balance: how the one pot of money and the one pool of people are deployed between
run, grow and transform, per period and per business unit, against the split the board set.

The target split lives in workspace settings ``target_split_run``, ``target_split_grow`` and
``target_split_transform`` (percentages; default 70 / 20 / 10).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bigov.analysis._common import (
    PCT,
    ZERO,
    actual_as_at,
    cost_sums,
    money,
    quantity,
    reporting_currency,
    setting,
)
from bigov.finance.models import CostLine
from bigov.org.models import OrgUnit, OrgUnitKind
from bigov.resources.models import Demand
from bigov.work.models import Category, WorkItem

TARGET_KEYS = {c.value: f"target_split_{c.value}" for c in Category}
DEFAULT_TARGET = {"run": "70", "grow": "20", "transform": "10"}
CATEGORIES = [c.value for c in Category]
ALL_UNITS = "(organisation)"
NO_UNIT = "(none)"


class Split(BaseModel):
    """Amounts by category, their total, each category's share of the total (%) and its
    deviation from the target share (percentage points; positive = above target)."""

    amounts: dict[str, Decimal]
    total: Decimal
    shares: dict[str, Decimal | None]
    deviation_pp: dict[str, Decimal | None]


class BalanceRow(BaseModel):
    """One period (or the whole range, ``period`` None) for one business unit (or the whole
    organisation, ``unit`` = ``(organisation)``)."""

    period: dt.date | None
    unit: str
    unit_name: str
    budget: Split
    forecast: Split
    actual: Split
    fte: Split
    fte_actual: Split


class BalanceReport(BaseModel):
    """The split over time for the organisation (``trend``), per unit per period (``rows``) and over
    the whole range (``totals``, organisation first)."""

    grain: str
    currency: str
    target: dict[str, Decimal]
    as_at: dt.date | None = None
    trend: list[BalanceRow]
    rows: list[BalanceRow]
    totals: list[BalanceRow]


def target_split(session: Session) -> dict[str, Decimal]:
    """The board's run / grow / transform target in percent, from workspace settings."""
    return {
        cat: Decimal(setting(session, key, DEFAULT_TARGET[cat])) for cat, key in TARGET_KEYS.items()
    }


def business_unit_map(session: Session) -> dict[int, tuple[str, str]]:
    """Each organisation unit's business unit (code, name): the nearest unit of kind
    ``business_unit`` at or above it, else its top-most ancestor. One query; cycle-safe."""
    units = {
        uid: (parent, kind, code, name)
        for uid, parent, kind, code, name in session.execute(
            select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.code, OrgUnit.name)
        ).all()
    }
    out: dict[int, tuple[str, str]] = {}
    for uid in units:
        current: int | None = uid
        seen: set[int] = set()
        last = uid
        found: int | None = None
        while current is not None and current in units and current not in seen:
            seen.add(current)
            last = current
            if units[current][1] == OrgUnitKind.BUSINESS_UNIT:
                found = current
                break
            current = units[current][0]
        chosen = found if found is not None else last
        out[uid] = (units[chosen][2], units[chosen][3])
    return out


def balance(
    session: Session,
    *,
    grain: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    as_at: dt.date | None = None,
) -> BalanceReport:
    """Spend (budget, forecast, actual) and FTE (demanded and used) split by run / grow /
    transform, per period (``grain`` = ``month`` or ``year``, the fiscal year named by the year it
    ends in, keyed by its first month) and per business unit.

    Work counts towards the business unit of its organisation unit (see
    :func:`business_unit_map`). FTE comes from committed demand (status not ``proposed``). Cost
    lines in another currency are left out. Periods not on the first of a month are counted in
    their month. Money is as at ``as_at`` (default today): budget whole-life, forecast the
    outturn (actual to date + forecast of the remaining periods) and actual to date, as
    :func:`~bigov.analysis._common.cost_sums` defines them; FTE used counts periods up to
    ``as_at`` only. Four queries at any data size.

    Raises:
        ValueError: unknown grain.
    """
    if grain not in ("month", "year"):
        raise ValueError(f"unknown grain {grain!r}; use month or year")
    as_at = as_at or dt.date.today()
    currency = reporting_currency(session)
    target = target_split(session)
    bu = business_unit_map(session)
    fy_start_month = int(setting(session, "fiscal_year_start_month"))

    def bucket(period: dt.date) -> dt.date:
        if grain == "month":
            return period.replace(day=1)
        # first day of the fiscal year the period falls in
        year = period.year if period.month >= fy_start_month else period.year - 1
        return dt.date(year, fy_start_month, 1)

    cost_filter = [CostLine.currency == currency]
    demand_filter: list[Any] = [or_(Demand.status.is_(None), Demand.status != "proposed")]
    if start is not None:
        cost_filter.append(CostLine.period >= start)
        demand_filter.append(Demand.period >= start)
    if end is not None:
        cost_filter.append(CostLine.period < end)
        demand_filter.append(Demand.period < end)

    cost_rows = session.execute(
        select(
            CostLine.period,
            WorkItem.org_unit_id,
            WorkItem.category,
            *cost_sums(as_at),
        )
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .where(*cost_filter)
        .group_by(CostLine.period, WorkItem.org_unit_id, WorkItem.category)
    ).all()
    fte_rows = session.execute(
        select(
            Demand.period,
            WorkItem.org_unit_id,
            WorkItem.category,
            func.sum(Demand.fte),
            func.sum(actual_as_at(Demand.period, Demand.actual_fte, as_at)),
        )
        .join(WorkItem, WorkItem.id == Demand.work_item_id)
        .where(*demand_filter)
        .group_by(Demand.period, WorkItem.org_unit_id, WorkItem.category)
    ).all()

    # acc[(period|None, unit)][measure][category]
    acc: dict[tuple[dt.date | None, str], dict[str, dict[str, Decimal]]] = {}
    names: dict[str, str] = {ALL_UNITS: "whole organisation", NO_UNIT: "no organisation unit"}

    def add(
        period: dt.date, unit_id: int | None, cat: Any, values: Iterable[tuple[str, Decimal]]
    ) -> None:
        unit_code, unit_name = (
            bu.get(unit_id, (NO_UNIT, names[NO_UNIT]))
            if unit_id
            else (
                NO_UNIT,
                names[NO_UNIT],
            )
        )
        names[unit_code] = unit_name
        b = bucket(period)
        for key in ((b, unit_code), (b, ALL_UNITS), (None, unit_code), (None, ALL_UNITS)):
            slot = acc.setdefault(key, {})
            for measure, value in values:
                m = slot.setdefault(measure, dict.fromkeys(CATEGORIES, ZERO))
                m[cat.value] += value

    for period, unit_id, cat, b, f, a in cost_rows:
        add(
            period,
            unit_id,
            cat,
            (("budget", money(b)), ("forecast", money(f)), ("actual", money(a))),
        )
    for period, unit_id, cat, fte, used in fte_rows:
        add(period, unit_id, cat, (("fte", quantity(fte)), ("fte_actual", quantity(used))))

    def row(key: tuple[dt.date | None, str]) -> BalanceRow:
        slot = acc[key]
        return BalanceRow(
            period=key[0],
            unit=key[1],
            unit_name=names.get(key[1], key[1]),
            **{
                m: _split(slot.get(m), target)
                for m in ("budget", "forecast", "actual", "fte", "fte_actual")
            },
        )

    keys = sorted(acc, key=lambda k: (k[0] or dt.date.min, k[1] != ALL_UNITS, k[1]))
    return BalanceReport(
        grain=grain,
        currency=currency,
        as_at=as_at,
        target=target,
        trend=[row(k) for k in keys if k[0] is not None and k[1] == ALL_UNITS],
        rows=[row(k) for k in keys if k[0] is not None and k[1] != ALL_UNITS],
        totals=[row(k) for k in keys if k[0] is None],
    )


def _split(amounts: dict[str, Decimal] | None, target: dict[str, Decimal]) -> Split:
    amounts = amounts or dict.fromkeys(CATEGORIES, ZERO)
    total = sum(amounts.values(), ZERO)
    shares: dict[str, Decimal | None] = {}
    deviation: dict[str, Decimal | None] = {}
    for cat in CATEGORIES:
        if total:
            share = amounts[cat] / total * 100
            shares[cat] = share.quantize(PCT, ROUND_HALF_UP)
            deviation[cat] = (share - target[cat]).quantize(PCT, ROUND_HALF_UP)
        else:
            shares[cat] = deviation[cat] = None
    return Split(amounts=amounts, total=total, shares=shares, deviation_pp=deviation)


__all__ = ["BalanceReport", "BalanceRow", "Split", "balance", "business_unit_map", "target_split"]
