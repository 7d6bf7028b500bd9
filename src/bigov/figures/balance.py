"""The fiscal year's budget by how work is delivered (business as usual or change), per business
unit — the companion of :func:`bigov.analysis.balance.balance`, which splits the same budget lines
by purpose (run / grow / transform). Both read the same cost lines (reporting currency, the year's
periods), so the two change shares differ only by the flags of the work, never by the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bigov.analysis._common import money, reporting_currency
from bigov.analysis.balance import ALL_UNITS, NO_UNIT, business_unit_map
from bigov.finance.models import CostLine
from bigov.work.models import Nature, WorkItem

ZERO = Decimal("0")


def delivery_split(session: Session, start: dt.date, end: dt.date) -> dict[str, dict[str, Decimal]]:
    """Budget of cost lines with ``start <= period < end`` by business unit code (and
    :data:`~bigov.analysis.balance.ALL_UNITS`) and by nature (``run``, ``change``). One query."""
    currency = reporting_currency(session)
    bu = business_unit_map(session)
    out: dict[str, dict[str, Decimal]] = {}
    rows = session.execute(
        select(WorkItem.org_unit_id, WorkItem.nature, func.sum(CostLine.budget))
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .where(CostLine.currency == currency, CostLine.period >= start, CostLine.period < end)
        .group_by(WorkItem.org_unit_id, WorkItem.nature)
    ).all()
    for unit_id, nature, budget in rows:
        unit = bu[unit_id][0] if unit_id in bu else NO_UNIT
        for key in (unit, ALL_UNITS):
            slot = out.setdefault(key, {n.value: ZERO for n in Nature})
            slot[Nature(nature).value] += money(budget)
    return out


__all__ = ["delivery_split"]
