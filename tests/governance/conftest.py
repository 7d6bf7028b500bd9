"""A hand-built governance scenario with known answers, on SQLite and (when
``BIGOV_TEST_POSTGRES_URL`` is set) PostgreSQL.

Escalation chain and cost tolerances (% over budget a node may absorb):

    MB   main board            quarterly, no parent, cost 50
    PF   portfolio progress    monthly,   parent MB,  cost 20   scope: PORT
    PG   programme board       monthly,   parent PF,  cost 10   scope: PROG
    PB1  project board         monthly,   parent PG,  cost 5    governs PRJ-1
    PB2  project board         monthly,   parent PG,  cost 5    governs PRJ-2
    PB3  project board         monthly,   parent PG,  cost 5    governs PRJ-3

Work (PORT portfolio → PROG programme → PRJ-1, PRJ-2, PRJ-3), cost Jan–Jun 2026, 100 a month
budget each (600 whole life):

    PRJ-1 forecast 103/month → 618, +3 %   inside PB1's 5 %: stays at PB1
    PRJ-2 forecast 108/month → 648, +8 %   beyond PB2 (5), inside PG (10): owned by PG
    PRJ-3 forecast 115/month → 690, +15 %  beyond PB3 (5) and PG (10), inside PF (20): owned by PF

Status reports exist for 2026-01 .. 2026-03 (all green, PRJ-3 amber in March). Nothing is
reported for 2026-05, so a May cycle has no data.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from bigov.finance.models import CostLine
from bigov.governance.models import (
    AgendaItem,
    AgendaSection,
    Cadence,
    GovernanceNode,
    InfoForm,
    InformationDefinition,
    NodeKind,
    NodeScope,
    Tolerance,
    ToleranceDimension,
)
from bigov.org.models import OrgUnit, Person
from bigov.work.models import Confidence, Nature, Phase, StatusReport, WorkItem, WorkKind
from bigov.workspace import Workspace

MONTHS = [dt.date(2026, m, 1) for m in range(1, 7)]
REPORTED = MONTHS[:3]
FORECAST = {"PRJ-1": Decimal("103"), "PRJ-2": Decimal("108"), "PRJ-3": Decimal("115")}


def _backends() -> list[str]:
    out = ["sqlite"]
    if os.environ.get("BIGOV_TEST_POSTGRES_URL"):
        out.append("postgresql")
    return out


def open_test_workspace(kind: str, tmp_path: Path) -> tuple[Workspace, str | None]:
    """A fresh workspace on ``kind``; returns it and the PostgreSQL schema to drop (if any)."""
    if kind == "sqlite":
        ws = Workspace.open(f"sqlite:///{tmp_path / 'gov.db'}")
        schema = None
    else:
        schema = f"t_{secrets.token_hex(6)}"
        ws = Workspace.open(os.environ["BIGOV_TEST_POSTGRES_URL"], schema=schema)
    return ws, schema


def close_test_workspace(ws: Workspace, schema: str | None) -> None:
    if schema is not None:
        with ws.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    ws.close()


@pytest.fixture(params=_backends())
def gov_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace holding the scenario of this module's docstring."""
    ws, schema = open_test_workspace(request.param, tmp_path)
    try:
        build_scenario(ws)
        yield ws
    finally:
        close_test_workspace(ws, schema)


@pytest.fixture
def empty_ws(tmp_path: Path) -> Iterator[Workspace]:
    """An empty SQLite workspace (with the cycle tables)."""
    ws, schema = open_test_workspace("sqlite", tmp_path)
    try:
        yield ws
    finally:
        close_test_workspace(ws, schema)


@dataclass(frozen=True)
class Scenario:
    nodes: tuple[str, ...] = ("MB", "PF", "PG", "PB1", "PB2", "PB3")


def build_scenario(ws: Workspace) -> Scenario:
    with ws.session() as s:
        org = OrgUnit(code="ORG", name="Organisation")
        s.add(org)
        s.flush()
        chair = Person(code="P-CHAIR", name="Alex Chair", org_unit_id=org.id)
        sro = Person(code="P-SRO", name="Sam Owner", org_unit_id=org.id)
        s.add_all([chair, sro])
        s.flush()

        def node(
            code: str, kind: NodeKind, parent: GovernanceNode | None, cadence: Cadence, cost: str
        ) -> GovernanceNode:
            n = GovernanceNode(
                code=code,
                name=f"{code} board",
                kind=kind,
                cadence=cadence,
                parent_id=parent.id if parent else None,
                chair_id=chair.id,
                sitting_day=10,
            )
            s.add(n)
            s.flush()
            s.add_all(
                [
                    Tolerance(
                        code=f"{code}-COST",
                        node_id=n.id,
                        dimension=ToleranceDimension.COST_PCT,
                        limit=Decimal(cost),
                    ),
                    Tolerance(
                        code=f"{code}-CONF",
                        node_id=n.id,
                        dimension=ToleranceDimension.CONFIDENCE,
                        limit=Decimal("2"),
                    ),
                    Tolerance(
                        code=f"{code}-SCH",
                        node_id=n.id,
                        dimension=ToleranceDimension.SCHEDULE_DAYS,
                        limit=Decimal("30"),
                    ),
                ]
            )
            return n

        mb = node("MB", NodeKind.MAIN_BOARD, None, Cadence.QUARTERLY, "50")
        pf = node("PF", NodeKind.PORTFOLIO_PROGRESS, mb, Cadence.MONTHLY, "20")
        pg = node("PG", NodeKind.PROGRAMME_BOARD, pf, Cadence.MONTHLY, "10")
        boards = {
            f"PRJ-{i}": node(f"PB{i}", NodeKind.PROJECT_BOARD, pg, Cadence.MONTHLY, "5")
            for i in (1, 2, 3)
        }
        port = WorkItem(
            code="PORT", name="Change portfolio", kind=WorkKind.PORTFOLIO, phase=Phase.DELIVERY
        )
        s.add(port)
        s.flush()
        prog = WorkItem(
            code="PROG",
            name="Digital programme",
            kind=WorkKind.PROGRAMME,
            parent_id=port.id,
            phase=Phase.DELIVERY,
        )
        s.add(prog)
        s.flush()
        s.add_all(
            [
                NodeScope(code="PF-S1", node_id=pf.id, work_item_id=port.id),
                NodeScope(code="PG-S1", node_id=pg.id, work_item_id=prog.id),
            ]
        )
        for code, board in boards.items():
            item = WorkItem(
                code=code,
                name=f"Project {code[-1]}",
                kind=WorkKind.PROJECT,
                parent_id=prog.id,
                nature=Nature.CHANGE,
                phase=Phase.DELIVERY,
                governing_node_id=board.id,
                owner_id=sro.id,
                baseline_finish=dt.date(2026, 6, 30),
                forecast_finish=dt.date(2026, 6, 30),
            )
            s.add(item)
            s.flush()
            for m in MONTHS:
                s.add(
                    CostLine(
                        code=f"CL-{code}-{m:%Y%m}",
                        work_item_id=item.id,
                        period=m,
                        budget=Decimal("100"),
                        forecast=FORECAST[code],
                        actual=FORECAST[code] if m in REPORTED else None,
                    )
                )
            for m in REPORTED:
                conf = (
                    Confidence.AMBER if code == "PRJ-3" and m == REPORTED[-1] else Confidence.GREEN
                )
                s.add(
                    StatusReport(
                        code=f"SR-{code}-{m:%Y%m}",
                        work_item_id=item.id,
                        period=m,
                        confidence=conf,
                        narrative=f"{code} on track in {m:%B}",
                        reported_on=m + dt.timedelta(days=27),
                    )
                )
        # The programme board's agenda asks for status reports (required, 45 days fresh).
        agenda = AgendaItem(
            code="PG-A1",
            node_id=pg.id,
            sequence=1,
            section=AgendaSection.PROGRESS,
            title="Delivery status",
        )
        s.add(agenda)
        s.flush()
        s.add(
            InformationDefinition(
                code="PG-I1",
                agenda_item_id=agenda.id,
                title="Project status reports",
                source="work.status",
                form=InfoForm.TABLE,
                required=True,
                freshness_days=45,
                owner_id=sro.id,
            )
        )
    return Scenario()
