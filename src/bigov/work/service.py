"""Queries and commands of the work context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from bigov.db.service import Service, get_by_code
from bigov.work.models import Confidence, Phase, StatusReport, WorkItem, WorkKind
from bigov.work.schemas import PortfolioSummary


def latest_status_subquery(as_at: dt.date | None = None) -> Subquery:
    """Columns ``work_item_id`` and ``period``: each item's most recent status-report period (of
    the periods up to ``as_at``, when given)."""
    q = select(StatusReport.work_item_id, func.max(StatusReport.period).label("period"))
    if as_at is not None:
        q = q.where(StatusReport.period <= as_at)
    return q.group_by(StatusReport.work_item_id).subquery()


class WorkService(Service):
    """Work items and their status."""

    def items(self, kind: WorkKind | None = None) -> list[WorkItem]:
        """Work items (optionally of one kind), by code."""
        with self.ws.session() as s:
            q = select(WorkItem).order_by(WorkItem.code)
            if kind is not None:
                q = q.where(WorkItem.kind == kind)
            return list(s.scalars(q))

    def item(self, code: str) -> WorkItem:
        """One work item by code (NotFoundError if absent)."""
        with self.ws.session() as s:
            return get_by_code(s, WorkItem, code)

    def confidence_distribution(
        self, session: Session, as_at: dt.date | None = None
    ) -> dict[str, int]:
        """Count of live work items at each DCA level, from each item's latest status report.

        One query whatever the number of items. Closed and cancelled items are left out: their
        confidence no longer says anything about delivery.
        """
        latest = latest_status_subquery(as_at)
        rows = session.execute(
            select(StatusReport.confidence, func.count())
            .join(
                latest,
                (latest.c.work_item_id == StatusReport.work_item_id)
                & (latest.c.period == StatusReport.period),
            )
            .join(WorkItem, WorkItem.id == StatusReport.work_item_id)
            .where(WorkItem.phase.not_in([Phase.CLOSED, Phase.CANCELLED]))
            .where(StatusReport.confidence.is_not(None))
            .group_by(StatusReport.confidence)
        )
        found = {c.value: int(n) for c, n in rows if c is not None}
        return {c.value: found.get(c.value, 0) for c in Confidence}

    def summary(
        self, fiscal_year: int | None = None, as_at: dt.date | None = None
    ) -> PortfolioSummary:
        """Counts by kind and phase, the run/change split of budget in a fiscal year (default: the
        latest year with budget), and the delivery-confidence distribution. A fixed number of
        queries, independent of the size of the portfolio."""
        from bigov.finance.service import budget_split

        with self.ws.session() as s:
            kinds = s.execute(select(WorkItem.kind, func.count()).group_by(WorkItem.kind))
            by_kind: dict[WorkKind, int] = {k: n for k, n in kinds}  # noqa: C416
            phases = s.execute(select(WorkItem.phase, func.count()).group_by(WorkItem.phase))
            by_phase: dict[Phase, int] = {p: n for p, n in phases}  # noqa: C416
            last = select(func.max(StatusReport.period))
            if as_at is not None:
                last = last.where(StatusReport.period <= as_at)
            period = s.scalar(last)
            fy, by_nature, by_category = budget_split(s, self.ws, fiscal_year)
            return PortfolioSummary(
                organisation=self.ws.setting("organisation_name"),
                currency=self.ws.setting("currency"),
                fiscal_year=fy,
                by_kind={k.value: int(by_kind.get(k, 0)) for k in WorkKind},
                by_phase={p.value: int(by_phase.get(p, 0)) for p in Phase},
                budget_by_nature=by_nature,
                budget_by_category=by_category,
                confidence=self.confidence_distribution(s, as_at),
                confidence_period=period,
                counts=table_counts(s),
            )


def table_counts(session: Session) -> dict[str, int]:
    """Rows per table of the workspace, in one query (a query per table cost a twentieth of a
    second of every `bigov status`). The tables are the database's own, not the mapped models':
    naming them from the models would map all ~75 classes, half of the command's time."""
    from sqlalchemy import inspect, literal, table, union_all

    names = sorted(
        name
        for name in inspect(session.connection()).get_table_names()
        if name not in ("setting", "alembic_version") and not name.startswith("procrastinate_")
    )
    if not names:
        return {}
    counts = union_all(
        *(
            select(literal(name).label("name"), func.count().label("n")).select_from(table(name))
            for name in names
        )
    )
    found = {name: int(n or 0) for name, n in session.execute(counts)}
    return {name: found.get(name, 0) for name in names}


ZERO = Decimal("0")
