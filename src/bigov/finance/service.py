"""Queries and commands of the finance context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bigov.analysis._common import reporting_currency
from bigov.db.service import Service
from bigov.finance.models import CostLine
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace


def fiscal_year_bounds(ws: Workspace, fiscal_year: int) -> tuple[dt.date, dt.date]:
    """First day of the fiscal year and first day of the next (half-open range)."""
    start_month = ws.fiscal_year_start_month
    if start_month == 1:
        return dt.date(fiscal_year, 1, 1), dt.date(fiscal_year + 1, 1, 1)
    return dt.date(fiscal_year - 1, start_month, 1), dt.date(fiscal_year, start_month, 1)


def budget_split(
    session: Session, ws: Workspace, fiscal_year: int | None
) -> tuple[int | None, dict[str, Decimal], dict[str, Decimal]]:
    """Budget of a fiscal year by run/change and by run/grow/transform (two grouped queries).

    With ``fiscal_year`` None, the latest fiscal year that has started (or else the latest with
    budget) is used. Returns (year, by nature, by category); empty dicts when there is no budget.
    """
    if fiscal_year is None:
        latest = session.scalar(select(func.max(CostLine.period)))
        if latest is None:
            return None, {}, {}
        fiscal_year = min(ws.fiscal_year_of(latest), ws.fiscal_year_of(dt.date.today()))
    start, end = fiscal_year_bounds(ws, fiscal_year)
    # the same lines bigov.analysis.balance splits (reporting currency, the year's periods), so
    # the change shares of `bigov status`, `bigov balance` and the packs agree
    in_year = (
        (CostLine.period >= start)
        & (CostLine.period < end)
        & (CostLine.currency == reporting_currency(session))
    )
    nature: dict[str, Decimal] = {}
    for key, total in session.execute(
        select(WorkItem.nature, func.sum(CostLine.budget))
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .where(in_year)
        .group_by(WorkItem.nature)
    ):
        nature[key.value] = Decimal(total or 0)
    category: dict[str, Decimal] = {}
    for cat, total in session.execute(
        select(WorkItem.category, func.sum(CostLine.budget))
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .where(in_year)
        .group_by(WorkItem.category)
    ):
        category[cat.value] = Decimal(total or 0)
    return fiscal_year, nature, category


class FinanceService(Service):
    """Funding and cost."""

    def budget_split(
        self, fiscal_year: int | None = None
    ) -> tuple[int | None, dict[str, Decimal], dict[str, Decimal]]:
        """See :func:`budget_split`."""
        with self.ws.session() as s:
            return budget_split(s, self.ws, fiscal_year)
