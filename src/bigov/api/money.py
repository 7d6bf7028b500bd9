"""Money and people on work: cost lines and resource demand, scoped through the work item they
belong to (a user sees the money and people of the work they may see)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bigov.api.common import (
    Cursor,
    Limit,
    SafeStr,
    after_period_code,
    next_page,
    where_given,
)
from bigov.auth.scope import Scope
from bigov.auth.service import Principal
from bigov.finance.models import CostLine, FundingSource
from bigov.resources.models import Demand, Skill
from bigov.server.deps import ServerState, StateDep, UserDep, scoped_read
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


T = TypeVar("T", CostLineOut, DemandOut)


def _page(
    st: ServerState,
    user: Principal,
    query: Callable[[Scope], Any],
    period_col: Any,
    code_col: Any,
    filters: tuple[str | None, dt.date | None],
    limit: int,
    cursor: str | None,
    out: Callable[[Any], T],
) -> tuple[list[T], str | None]:
    """One page of ``query`` in the user's scope, filtered by work item code and month,
    ordered by month then code from the cursor on, and the cursor of the next page."""
    work_item, period = filters
    with scoped_read(st, user) as (s, scope):
        q = where_given(query(scope), (WorkItem.code, work_item), (period_col, period))
        after = after_period_code(cursor, period_col, code_col)
        if after is not None:
            q = q.where(after)
        q = q.order_by(period_col, code_col).limit(limit + 1)
        rows = [out(r) for r in s.execute(q)]
    return next_page(rows, limit, lambda last: [last.period.isoformat(), last.code])


def _cost_lines(scope: Scope) -> Any:
    return (
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


def _demand(scope: Scope) -> Any:
    return (
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
    rows, nxt = _page(
        st,
        user,
        _cost_lines,
        CostLine.period,
        CostLine.code,
        (work_item, period),
        limit,
        cursor,
        lambda r: CostLineOut.model_validate({**r._mapping, "expenditure": r.expenditure.value}),
    )
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
    rows, nxt = _page(
        st,
        user,
        _demand,
        Demand.period,
        Demand.code,
        (work_item, period),
        limit,
        cursor,
        lambda r: DemandOut.model_validate(dict(r._mapping)),
    )
    return DemandPage(items=rows, next_cursor=nxt)


# -- funding -----------------------------------------------------------------------------------
class FundingSourceOut(BaseModel):
    code: str
    name: str
    parent: str | None
    nature: str | None
    fiscal_year: int | None
    amount: Decimal | None
    currency: str


class BudgetSplitOut(BaseModel):
    """The year's budget by nature (run / change) and category (run / grow / transform), as
    `bigov finance split` reports it."""

    fiscal_year: int | None
    by_nature: dict[str, Decimal]
    by_category: dict[str, Decimal]


def _see_funding(st: ServerState, user: Principal) -> None:
    with scoped_read(st, user) as (_, scope):
        if not scope.organisation:
            raise Problem(
                403,
                "funding is organisation-wide: it needs the admin or pmo role, or a seat on a "
                "board that governs the whole organisation",
            )


@router.get("/finance/funding-sources", response_model=list[FundingSourceOut], tags=["finance"])
def list_funding_sources(st: StateDep, user: UserDep) -> Any:
    """The pots of money and how they split (organisation-wide readers), by code."""
    _see_funding(st, user)
    parent = aliased(FundingSource, name="parent_source")
    with st.ws.session() as s:
        rows = s.execute(
            select(
                FundingSource.code,
                FundingSource.name,
                parent.code.label("parent"),
                FundingSource.nature,
                FundingSource.fiscal_year,
                FundingSource.amount,
                FundingSource.currency,
            )
            .outerjoin(parent, parent.id == FundingSource.parent_id)
            .order_by(FundingSource.code)
        )
        return [
            FundingSourceOut(
                **{**r._mapping, "nature": r.nature.value if r.nature is not None else None}
            )
            for r in rows
        ]


@router.get("/finance/budget-split", response_model=BudgetSplitOut, tags=["finance"])
def budget_split(
    st: StateDep,
    user: UserDep,
    fiscal_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> Any:
    """The fiscal year's budget by nature and by category (default: the current year)."""
    _see_funding(st, user)
    year, nature, category = st.ws.finance.budget_split(fiscal_year)
    return BudgetSplitOut(fiscal_year=year, by_nature=nature, by_category=category)
