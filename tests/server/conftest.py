"""A small organisation on a real workspace (SQLite, and PostgreSQL when configured), one user
per role with a bearer token, and a TestClient on the real app.

    GROUP ─┬─ U-A ── U-A1     N-BOARD (main board) ── N-PB-A (programme board; scope: PG-A)
           └─ U-B             N-FIN (finance: no scope, so it governs everything)

    PG-A  (U-A, node N-PB-A) ── PRJ-A1 (U-A1)    BEN-A: owner ben@, unit U-A, enabled by PRJ-A1
    PG-B  (U-B, owner mgr@)  ── PRJ-B1 (U-B)     BEN-B: owner other, unit U-B, enabled by PG-B
    PRJ-B2 (U-B, owner other)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from bigov.auth.service import add_user, create_token
from bigov.benefits.models import Benefit, BenefitCategory, BenefitEnabler
from bigov.finance.models import CostLine
from bigov.governance.models import GovernanceNode, NodeKind, NodeScope
from bigov.org.models import OrgUnit, OrgUnitKind, Person
from bigov.raid.models import RaidItem, RaidKind
from bigov.resources.models import Demand, Skill
from bigov.server import ServerSettings, create_app
from bigov.work.models import Confidence, Phase, StatusReport, WorkItem, WorkKind
from bigov.workspace import Workspace

PASSWORD = "a long enough password"
ROLES = ("admin", "pmo", "board", "boardall", "mgr", "ben", "viewer")


@dataclass
class Org:
    ws: Workspace
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def seed(ws: Workspace) -> None:
    with ws.session() as s:
        group = OrgUnit(code="GROUP", name="Group", kind=OrgUnitKind.GROUP)
        s.add(group)
        s.flush()
        ua = OrgUnit(code="U-A", name="Unit A", parent_id=group.id)
        ub = OrgUnit(code="U-B", name="Unit B", parent_id=group.id)
        s.add_all([ua, ub])
        s.flush()
        ua1 = OrgUnit(code="U-A1", name="Unit A1", parent_id=ua.id)
        mgr = Person(code="P-MGR", name="Manager", email="Mgr@Example.org")
        ben = Person(code="P-BEN", name="Benefit owner", email="ben@example.org")
        other = Person(code="P-OTHER", name="Someone else", email="other@example.org")
        board = GovernanceNode(code="N-BOARD", name="Main board", kind=NodeKind.MAIN_BOARD)
        s.add_all([ua1, mgr, ben, other, board])
        s.flush()
        pb = GovernanceNode(
            code="N-PB-A",
            name="Programme A board",
            kind=NodeKind.PROGRAMME_BOARD,
            parent_id=board.id,
        )
        # a finance committee with no scope of its own governs the whole organisation
        fin = GovernanceNode(code="N-FIN", name="Finance committee", kind=NodeKind.FINANCE)
        s.add_all([pb, fin])
        s.flush()

        def item(code: str, kind: WorkKind, unit: OrgUnit, **kw: object) -> WorkItem:
            wi = WorkItem(
                code=code,
                name=f"Item {code}",
                kind=kind,
                org_unit_id=unit.id,
                phase=Phase.DELIVERY,
                **kw,
            )
            s.add(wi)
            s.flush()
            return wi

        pga = item("PG-A", WorkKind.PROGRAMME, ua, governing_node_id=pb.id, owner_id=other.id)
        a1 = item("PRJ-A1", WorkKind.PROJECT, ua1, parent_id=pga.id)
        pgb = item("PG-B", WorkKind.PROGRAMME, ub, owner_id=mgr.id)
        b1 = item("PRJ-B1", WorkKind.PROJECT, ub, parent_id=pgb.id)
        b2 = item("PRJ-B2", WorkKind.PROJECT, ub, owner_id=other.id)
        s.add(NodeScope(code="NS-1", node_id=pb.id, work_item_id=pga.id))
        for wi in (pga, a1, pgb, b1, b2):
            s.add(
                StatusReport(
                    code=f"SR-{wi.code}",
                    work_item_id=wi.id,
                    period=dt.date(2026, 9, 1),
                    confidence=Confidence.AMBER,
                )
            )
        bena = Benefit(
            code="BEN-A",
            name="Benefit A",
            category=BenefitCategory.CASHABLE,
            owner_id=ben.id,
            owner_unit_id=ua.id,
        )
        benb = Benefit(
            code="BEN-B",
            name="Benefit B",
            category=BenefitCategory.CASHABLE,
            owner_id=other.id,
            owner_unit_id=ub.id,
        )
        s.add_all([bena, benb])
        s.flush()
        s.add(BenefitEnabler(code="BE-1", benefit_id=bena.id, work_item_id=a1.id))
        s.add(BenefitEnabler(code="BE-2", benefit_id=benb.id, work_item_id=pgb.id))
        for wi in (a1, b1, b2):
            s.add(
                RaidItem(
                    code=f"R-{wi.code}",
                    kind=RaidKind.RISK,
                    title=f"Risk on {wi.code}",
                    work_item_id=wi.id,
                )
            )
        s.add(RaidItem(code="R-NODE", kind=RaidKind.ISSUE, title="Board's own", node_id=pb.id))
        skill = Skill(code="SK-PM", name="Project management")
        s.add(skill)
        s.flush()
        for wi in (pga, a1, pgb, b1, b2):
            s.add(
                CostLine(
                    code=f"C-{wi.code}",
                    work_item_id=wi.id,
                    period=dt.date(2026, 9, 1),
                    budget=Decimal("1000.00"),
                    forecast=Decimal("1100.00"),
                )
            )
            s.add(
                Demand(
                    code=f"D-{wi.code}",
                    work_item_id=wi.id,
                    skill_id=skill.id,
                    period=dt.date(2026, 9, 1),
                    fte=Decimal("1.50"),
                )
            )


def add_users(ws: Workspace) -> dict[str, str]:
    specs = {
        "admin": ("admin@example.org", "admin", [], []),
        "pmo": ("pmo@example.org", "pmo", [], []),
        "board": ("board@example.org", "board_member", [], ["N-PB-A"]),
        "boardall": ("chair@example.org", "board_member", [], ["N-FIN"]),
        "mgr": ("mgr@example.org", "manager", [], []),
        "ben": ("ben@example.org", "benefit_owner", [], []),
        "viewer": ("viewer@example.org", "viewer", ["U-A"], []),
    }
    tokens: dict[str, str] = {}
    with ws.session() as s:
        for email, role, units, nodes in specs.values():
            add_user(s, email, role, password=PASSWORD, units=units, nodes=nodes)
        s.flush()
        for who, (email, *_rest) in specs.items():
            tokens[who] = create_token(s, email, name="test")
    return tokens


@pytest.fixture
def org(workspace: Workspace) -> Iterator[Org]:
    seed(workspace)
    tokens = add_users(workspace)
    app = create_app(ServerSettings(secret_key="test-secret"), workspace)
    with TestClient(app) as client:
        yield Org(workspace, client, tokens)
