"""Roll-ups on the hand-built organisation, and the query count at two data sizes.

Forecast is the outturn as at 15 June: a booked actual replaces its period's forecast (PRJ-A
Apr 90 and May 110 for 100 and 120; PRJ-B May 55 for 60; RUN-1 190 and 210), June's forecast
stands. PRJ-A 300/330/200, PRJ-B 100/105/105; PG-1 subtree 450/485/355; PF-1 530/565/395;
organisation 960/995/825 (see conftest for the cost lines).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from analysis_dates import AS_AT
from sqlalchemy import event
from sqlalchemy.orm import Session

from bigov.analysis.rollups import rollup
from bigov.finance.models import CostLine
from bigov.work.models import Confidence, Milestone, StatusReport, WorkItem, WorkKind
from bigov.workspace import Workspace

D = Decimal


def test_cost_up_the_hierarchy(session: Session) -> None:
    report = rollup(session, as_at=AS_AT)
    rows = {r.code: r for r in report.rows}
    assert (rows["PG-1"].total.budget, rows["PG-1"].total.forecast, rows["PG-1"].total.actual) == (
        D("450.00"),
        D("485.00"),
        D("355.00"),
    )
    assert rows["PG-1"].own.budget == D("10.00")
    pf = rows["PF-1"].total
    assert (pf.budget, pf.forecast, pf.actual, pf.variance) == (D(530), D(565), D(395), D(35))
    assert pf.variance_pct == D("6.6")  # 35 / 530
    assert rows["PRJ-A"].total.variance == D(30)
    assert (report.total.budget, report.total.forecast, report.total.actual) == (
        D(960),
        D(995),
        D(825),
    )
    assert rows["PRJ-A"].depth == 2 and rows["PF-1"].depth == 0
    assert rows["PRJ-A"].parent_code == "PG-1"
    assert report.excluded_cost_lines == 0


def test_schedule_and_confidence(session: Session) -> None:
    report = rollup(session, as_at=AS_AT)
    rows = {r.code: r for r in report.rows}
    pg = rows["PG-1"].schedule
    assert (pg.milestones, pg.hit, pg.missed, pg.pending) == (4, 1, 2, 1)
    assert pg.slippage_days_max == 30
    assert pg.slippage_days_mean == 16.8  # (-3 + 30 + 10 + 30) / 4 = 16.75
    assert (report.schedule.milestones, report.schedule.pending) == (5, 2)
    assert rows["PG-1"].confidence_distribution == {
        "green": 1,
        "amber/green": 0,
        "amber": 2,
        "amber/red": 0,
        "red": 1,
    }
    assert rows["PG-1"].confidence_mean == "amber"  # (5 + 3 + 3 + 1) / 4 = 3
    assert rows["PRJ-B"].confidence == "red"
    assert rows["RUN-1"].confidence == "green"  # the July red is after the as-at date
    assert report.confidence_distribution["amber"] == 3
    assert [(t.period.month, t.mean_score) for t in report.trend] == [
        (4, 3.67),
        (5, 3.67),
        (6, 3.4),
    ]


def test_subtree_scope_and_period_range(session: Session) -> None:
    report = rollup(
        session, "PG-1", as_at=AS_AT, start=dt.date(2024, 5, 1), end=dt.date(2024, 6, 1)
    )
    assert sorted(r.code for r in report.rows) == ["PG-1", "PRJ-A", "PRJ-B", "PRJ-C", "WS-1"]
    # May only (outturn: the actual replaces the forecast): PRJ-A 100/110/110, PRJ-B 50/55/55,
    # WS-1 20/20/20
    assert (report.total.budget, report.total.forecast, report.total.actual) == (
        D(170),
        D(185),
        D(185),
    )
    assert {r.code: r.depth for r in report.rows}["PRJ-A"] == 1


def test_rollup_by_org_unit(session: Session) -> None:
    units = {u.code: u for u in rollup(session, as_at=AS_AT).by_org_unit}
    assert units["TEAM-DEV"].own.budget == D(400)
    assert (units["BU-DIG"].total.budget, units["BU-DIG"].total.actual) == (D(410), D(315))
    assert (units["BU-OPS"].own.budget, units["BU-OPS"].total.budget) == (D(110), D(550))
    assert units["GRP"].total.forecast == D(995)


@contextmanager
def count_queries(ws: Workspace) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(ws.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(ws.engine, "before_cursor_execute", before)


def _grow(ws: Workspace, ids: dict[str, int], n: int) -> None:
    """Add n projects under PG-1, each with a sub-workstream, cost, a milestone and status."""
    with ws.session() as s:
        for i in range(n):
            p = WorkItem(
                code=f"X-{i}",
                name="x",
                kind=WorkKind.PROJECT,
                parent_id=ids["PG-1"],
                org_unit_id=ids["TEAM-DEV"],
            )
            s.add(p)
            s.flush()
            c = WorkItem(code=f"X-{i}-W", name="x", kind=WorkKind.WORKSTREAM, parent_id=p.id)
            s.add(c)
            s.flush()
            s.add(
                CostLine(
                    code=f"XC-{i}",
                    work_item_id=c.id,
                    period=dt.date(2024, 4, 1),
                    budget=D(1),
                    forecast=D(1),
                    actual=D(1),
                )
            )
            s.add(
                Milestone(
                    code=f"XM-{i}", work_item_id=c.id, name="m", baseline_date=dt.date(2024, 5, 1)
                )
            )
            s.add(
                StatusReport(
                    code=f"XS-{i}",
                    work_item_id=p.id,
                    period=dt.date(2024, 6, 1),
                    confidence=Confidence.GREEN,
                )
            )


def test_query_count_does_not_grow_with_items(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, ids = faulty_ws
    counts = []
    for extra in (0, 40):
        _grow(ws, ids, extra)
        for root in (None, "PF-1"):
            with ws.session() as s, count_queries(ws) as statements:
                report = rollup(s, root, as_at=AS_AT)
            counts.append((root, len(statements)))
        assert len(report.rows) == 7 + 2 * extra  # PF-1's subtree
    assert counts[0] == counts[2] and counts[1] == counts[3]
    assert counts[2][1] <= 15
