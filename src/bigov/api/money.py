"""Money and people on work: cost lines and resource demand, scoped through the work item they
belong to (a user sees the money and people of the work they may see)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, or_, select

from bigov.api.common import Cursor, Limit, SafeStr, decode_cursor, encode_cursor
from bigov.finance.models import CostLine, FundingSource
from bigov.resources.models import Demand, Skill
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem
from bigov.work.models import WorkItem

router = APIRouter(tags=["finance", "resources"])
Period = Annotated[dt.date | None, Query(description="A month start, e.g. 2026-09-01.")]
Item = Annotated[SafeStr | None, Query(max_length=64, description="Work item code.")]


class CostLineOut(BaseModel):
    code: str
    work_item: str
    period: dt.date
    funding_source: str | None
    expenditure: str
    budget: Decimal
    forecast: Decimal
    actual: Decimal | None
    currency: str


class DemandOut(BaseModel):
    code: str
    work_item: str
    skill: str
    period: dt.date
    fte: Decimal
    actual_fte: Decimal | None
    status: str | None


class CostPage(BaseModel):
    items: list[CostLineOut]
    next_cursor: str | None


class DemandPage(BaseModel):
    items: list[DemandOut]
    next_cursor: str | None


def _after(cursor: str | None, period_col: Any, code_col: Any) -> Any:
    """Keyset condition for (period, code) ordering from a cursor (None: from the start)."""
    if cursor is None:
        return None
    last_period, last_code = decode_cursor(cursor, 2)
    try:
        day = dt.date.fromisoformat(str(last_period))
    except ValueError:
        raise Problem(422, "field 'cursor': not a cursor this API returned") from None
    return or_(period_col > day, and_(period_col == day, code_col > str(last_code)))


@router.get("/finance/cost-lines", response_model=CostPage)
def list_cost_lines(
    st: StateDep,
    user: UserDep,
    work_item: Item = None,
    period: Period = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Any:
    """Budget, forecast and actual by work item and month, for work in your scope."""
    with scoped_read(st, user) as (s, scope):
        q = (
            select(
                CostLine.code,
                WorkItem.code.label("work_item"),
                CostLine.period,
                FundingSource.code.label("funding_source"),
                CostLine.expenditure,
                CostLine.budget,
                CostLine.forecast,
                CostLine.actual,
                CostLine.currency,
            )
            .join(WorkItem, WorkItem.id == CostLine.work_item_id)
            .outerjoin(FundingSource, FundingSource.id == CostLine.funding_source_id)
            .where(scope.work)
        )
        if work_item is not None:
            q = q.where(WorkItem.code == work_item)
        if period is not None:
            q = q.where(CostLine.period == period)
        after = _after(cursor, CostLine.period, CostLine.code)
        if after is not None:
            q = q.where(after)
        rows = [
            CostLineOut.model_validate({**r._mapping, "expenditure": r.expenditure.value})
            for r in s.execute(q.order_by(CostLine.period, CostLine.code).limit(limit + 1))
        ]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].period.isoformat(), rows[-1].code]) if more else None
    return CostPage(items=rows, next_cursor=nxt)


@router.get("/resources/demand", response_model=DemandPage)
def list_demand(
    st: StateDep,
    user: UserDep,
    work_item: Item = None,
    period: Period = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Any:
    """FTE demand by work item, skill and month, for work in your scope."""
    with scoped_read(st, user) as (s, scope):
        q = (
            select(
                Demand.code,
                WorkItem.code.label("work_item"),
                Skill.code.label("skill"),
                Demand.period,
                Demand.fte,
                Demand.actual_fte,
                Demand.status,
            )
            .join(WorkItem, WorkItem.id == Demand.work_item_id)
            .join(Skill, Skill.id == Demand.skill_id)
            .where(scope.work)
        )
        if work_item is not None:
            q = q.where(WorkItem.code == work_item)
        if period is not None:
            q = q.where(Demand.period == period)
        after = _after(cursor, Demand.period, Demand.code)
        if after is not None:
            q = q.where(after)
        rows = [
            DemandOut.model_validate(dict(r._mapping))
            for r in s.execute(q.order_by(Demand.period, Demand.code).limit(limit + 1))
        ]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].period.isoformat(), rows[-1].code]) if more else None
    return DemandPage(items=rows, next_cursor=nxt)
