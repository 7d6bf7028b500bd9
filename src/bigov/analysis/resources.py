"""Resources: demand against capacity by skill, team and month, run and change together;
over-allocation and the work items driving it; what starting a proposed item would do.

Committed demand is every demand row whose status is not ``proposed``. Demand with no supplying
team is compared only at skill level (all teams together).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bigov.analysis._common import ZERO, pct, quantity
from bigov.db.service import get_by_code
from bigov.org.models import OrgUnit
from bigov.resources.models import Capacity, Demand, Skill
from bigov.work.models import Nature, WorkItem

UNASSIGNED = "(unassigned)"
ALL_TEAMS = "(all teams)"


class Driver(BaseModel):
    """A work item's demand in an over-allocated cell."""

    work_item: str
    name: str
    nature: str
    fte: Decimal


class CapacityCell(BaseModel):
    """One skill × team × month (team ``(all teams)`` for the skill-level view). ``gap`` =
    capacity − demand (negative: over-allocated); ``drivers`` lists the work items demanding the
    skill there, largest first, when the cell is over-allocated."""

    period: dt.date
    skill: str
    team: str
    capacity: Decimal
    demand: Decimal
    demand_run: Decimal
    demand_change: Decimal
    gap: Decimal
    utilisation_pct: Decimal | None
    over: bool
    drivers: list[Driver] = Field(default_factory=list)


class CapacityReport(BaseModel):
    """Team-level cells, skill-level cells, and the over-allocated ones of each (by period)."""

    start: dt.date | None
    end: dt.date | None
    cells: list[CapacityCell]
    skills: list[CapacityCell]
    over_allocated: list[CapacityCell]


class WhatIfReport(BaseModel):
    """Starting ``work_item``: its demand added to committed demand. ``newly_over`` were within
    capacity before; ``worsened`` were over already and get worse; ``after`` are the cells it
    touches."""

    work_item: str
    added_fte: Decimal
    newly_over: list[CapacityCell]
    worsened: list[CapacityCell]
    after: list[CapacityCell]


def _committed() -> Any:
    return or_(Demand.status.is_(None), Demand.status != "proposed")


def _cells(
    session: Session,
    start: dt.date | None,
    end: dt.date | None,
    demand_filter: list[Any],
    extra_rows: list[tuple[dt.date, str, str, str, str, str, Decimal]] | None = None,
) -> tuple[list[CapacityCell], list[CapacityCell]]:
    period_filter_c: list[Any] = []
    period_filter_d: list[Any] = []
    if start is not None:
        period_filter_c.append(Capacity.period >= start)
        period_filter_d.append(Demand.period >= start)
    if end is not None:
        period_filter_c.append(Capacity.period < end)
        period_filter_d.append(Demand.period < end)
    cap: dict[tuple[dt.date, str, str], Decimal] = {}
    for period, skill, team, fte in session.execute(
        select(Capacity.period, Skill.code, OrgUnit.code, func.sum(Capacity.fte))
        .join(Skill, Skill.id == Capacity.skill_id)
        .join(OrgUnit, OrgUnit.id == Capacity.org_unit_id)
        .where(*period_filter_c)
        .group_by(Capacity.period, Skill.code, OrgUnit.code)
    ).all():
        cap[(period.replace(day=1), skill, team)] = cap.get(
            (period.replace(day=1), skill, team), ZERO
        ) + quantity(fte)
    # demand per work item (for drivers); the per-cell sums are taken from these rows
    rows: list[tuple[dt.date, str, str, str, str, str, Decimal]] = [
        (
            period.replace(day=1),
            skill,
            team or UNASSIGNED,
            wcode,
            wname,
            nature.value,
            quantity(fte),
        )
        for period, skill, team, wcode, wname, nature, fte in session.execute(
            select(
                Demand.period,
                Skill.code,
                OrgUnit.code,
                WorkItem.code,
                WorkItem.name,
                WorkItem.nature,
                func.sum(Demand.fte),
            )
            .join(Skill, Skill.id == Demand.skill_id)
            .join(WorkItem, WorkItem.id == Demand.work_item_id)
            .outerjoin(OrgUnit, OrgUnit.id == Demand.org_unit_id)
            .where(*period_filter_d, *demand_filter)
            .group_by(
                Demand.period,
                Skill.code,
                OrgUnit.code,
                WorkItem.code,
                WorkItem.name,
                WorkItem.nature,
            )
        ).all()
    ]
    rows += extra_rows or []
    team_cells = _aggregate(cap, rows, by_team=True)
    skill_cap: dict[tuple[dt.date, str, str], Decimal] = {}
    for (period, skill, _team), fte in cap.items():
        skill_cap[(period, skill, ALL_TEAMS)] = (
            skill_cap.get((period, skill, ALL_TEAMS), ZERO) + fte
        )
    skill_cells = _aggregate(skill_cap, rows, by_team=False)
    return team_cells, skill_cells


def _aggregate(
    cap: dict[tuple[dt.date, str, str], Decimal],
    rows: list[tuple[dt.date, str, str, str, str, str, Decimal]],
    *,
    by_team: bool,
) -> list[CapacityCell]:
    demand: dict[tuple[dt.date, str, str], list[tuple[str, str, str, Decimal]]] = {}
    for period, skill, team, wcode, wname, nature, fte in rows:
        key = (period, skill, team if by_team else ALL_TEAMS)
        demand.setdefault(key, []).append((wcode, wname, nature, fte))
    out = []
    for key in sorted(set(cap) | set(demand)):
        period, skill, team = key
        items = demand.get(key, [])
        drivers_by_item: dict[str, Driver] = {}
        for wcode, wname, nature, fte in items:
            d = drivers_by_item.setdefault(
                wcode, Driver(work_item=wcode, name=wname, nature=nature, fte=ZERO)
            )
            d.fte += fte
        total = sum((d.fte for d in drivers_by_item.values()), ZERO)
        run = sum((d.fte for d in drivers_by_item.values() if d.nature == Nature.RUN.value), ZERO)
        capacity = cap.get(key, ZERO)
        over = total > capacity and team != UNASSIGNED
        out.append(
            CapacityCell(
                period=period,
                skill=skill,
                team=team,
                capacity=capacity,
                demand=total,
                demand_run=run,
                demand_change=total - run,
                gap=capacity - total,
                utilisation_pct=pct(total, capacity),
                over=over,
                drivers=sorted(drivers_by_item.values(), key=lambda d: (-d.fte, d.work_item))
                if over
                else [],
            )
        )
    return out


def capacity(
    session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> CapacityReport:
    """Committed demand against capacity per skill × team × month (``start <= period < end``),
    and per skill × month across teams. Three queries at any data size."""
    cells, skills = _cells(session, start, end, [_committed()])
    return CapacityReport(
        start=start,
        end=end,
        cells=cells,
        skills=skills,
        over_allocated=[c for c in cells + skills if c.over],
    )


def what_if(
    session: Session,
    work_item: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> WhatIfReport:
    """What starting ``work_item`` would do: its demand rows (whatever their status) added to the
    committed demand of everything else.

    Raises:
        NotFoundError: unknown work item.
    """
    item = get_by_code(session, WorkItem, work_item)
    others = [_committed(), Demand.work_item_id != item.id]
    before, before_skills = _cells(session, start, end, others)
    after, after_skills = _cells(
        session, start, end, [or_(_committed(), Demand.work_item_id == item.id)]
    )
    touched = {
        (period, skill, team)
        for period, skill, team in session.execute(
            select(Demand.period, Skill.code, func.coalesce(OrgUnit.code, UNASSIGNED))
            .join(Skill, Skill.id == Demand.skill_id)
            .outerjoin(OrgUnit, OrgUnit.id == Demand.org_unit_id)
            .where(Demand.work_item_id == item.id)
        ).all()
    }
    touched = {(p.replace(day=1), s, t) for p, s, t in touched} | {
        (p.replace(day=1), s, ALL_TEAMS) for p, s, _t in touched
    }
    old = {(c.period, c.skill, c.team): c for c in before + before_skills}
    new = [c for c in after + after_skills if (c.period, c.skill, c.team) in touched]
    added = sum(
        (
            quantity(v)
            for v in session.scalars(
                select(Demand.fte).where(
                    Demand.work_item_id == item.id,
                    *([Demand.period >= start] if start else []),
                    *([Demand.period < end] if end else []),
                )
            ).all()
        ),
        ZERO,
    )
    newly, worse = [], []
    for cell in new:
        prior = old.get((cell.period, cell.skill, cell.team))
        was_over = prior is not None and prior.over
        if cell.over and not was_over:
            newly.append(cell)
        elif cell.over and prior is not None and cell.gap < prior.gap:
            worse.append(cell)
    return WhatIfReport(
        work_item=work_item, added_fte=added, newly_over=newly, worsened=worse, after=new
    )


__all__ = ["CapacityCell", "CapacityReport", "Driver", "WhatIfReport", "capacity", "what_if"]
