"""The Core P3M model on real databases: hierarchy, versioning, constraints, types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bigov.benefits.models import Benefit, BenefitCategory, BenefitProfile
from bigov.errors import NotFoundError, ValidationError
from bigov.finance.models import CostLine, Expenditure
from bigov.governance.models import Cadence, GovernanceNode, NodeKind, Tolerance, ToleranceDimension
from bigov.org.models import OrgUnitKind
from bigov.raid.models import RaidItem, RaidKind
from bigov.strategy.models import OtcKind, OtcStatus
from bigov.work.models import (
    Category,
    Confidence,
    Nature,
    Phase,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace


def _portfolio(ws: Workspace) -> None:
    with ws.session() as s:
        pf = WorkItem(code="PF-1", name="Customer portfolio", kind=WorkKind.PORTFOLIO)
        s.add(pf)
        s.flush()
        pg = WorkItem(code="PG-1", name="Contact centre", kind=WorkKind.PROGRAMME, parent_id=pf.id)
        s.add(pg)
        s.flush()
        s.add_all(
            [
                WorkItem(
                    code="PRJ-1",
                    name="New telephony",
                    kind=WorkKind.PROJECT,
                    parent_id=pg.id,
                    phase=Phase.DELIVERY,
                ),
                WorkItem(
                    code="WS-1",
                    name="Contact centre operations",
                    kind=WorkKind.WORKSTREAM,
                    nature=Nature.RUN,
                    category=Category.RUN,
                    phase=Phase.DELIVERY,
                    parent_id=pg.id,
                ),
            ]
        )


def test_org_hierarchy_descendants(workspace: Workspace) -> None:
    workspace.org.add_unit("GRP", "Group", kind=OrgUnitKind.GROUP)
    workspace.org.add_unit("BU-R", "Retail", kind=OrgUnitKind.BUSINESS_UNIT, parent="GRP")
    workspace.org.add_unit("T-1", "Billing team", kind=OrgUnitKind.TEAM, parent="BU-R")
    workspace.org.add_unit("BU-N", "Networks", kind=OrgUnitKind.BUSINESS_UNIT, parent="GRP")
    assert workspace.org.descendants("BU-R") == ["BU-R", "T-1"]
    assert workspace.org.descendants("GRP") == ["BU-N", "BU-R", "GRP", "T-1"]
    with pytest.raises(NotFoundError, match="no org unit with code 'NOPE'"):
        workspace.org.add_unit("X", "X", parent="NOPE")


def test_codes_are_unique_per_kind(workspace: Workspace) -> None:
    workspace.org.add_unit("U1", "One")
    with pytest.raises(IntegrityError):
        workspace.org.add_unit("U1", "Again")
    # the same code in another kind is fine: codes are unique per kind, not globally
    with workspace.session() as s:
        s.add(WorkItem(code="U1", name="A project", kind=WorkKind.PROJECT))


def test_otc_versions_keep_history(workspace: Workspace) -> None:
    strat = workspace.strategy
    strat.add_otc(
        "OBJ-1", OtcKind.OBJECTIVE, "Halve call waiting time", effective_from=dt.date(2025, 4, 1)
    )
    strat.revise_otc(
        "OBJ-1",
        effective_from=dt.date(2025, 10, 1),
        title="Cut call waiting time by 60 %",
        reason="regulator raised the bar",
    )
    strat.revise_otc(
        "OBJ-1",
        effective_from=dt.date(2026, 3, 1),
        status=OtcStatus.WITHDRAWN,
        reason="channel shift to digital",
    )
    history = strat.history("OBJ-1")
    assert [v.version for v in history] == [1, 2, 3]
    assert history[0].effective_to == dt.date(2025, 10, 1)
    assert history[1].title == "Cut call waiting time by 60 %"
    assert history[2].status is OtcStatus.WITHDRAWN and history[2].effective_to is None
    as_at = strat.as_at("OBJ-1", dt.date(2025, 12, 31))
    assert as_at is not None and as_at.version == 2
    assert strat.as_at("OBJ-1", dt.date(2025, 1, 1)) is None
    current = strat.otcs(OtcKind.OBJECTIVE)[0]
    assert (current.version, current.status) == (3, OtcStatus.WITHDRAWN)
    with pytest.raises(ValidationError, match="must take effect after 2026-03-01"):
        strat.revise_otc("OBJ-1", effective_from=dt.date(2026, 2, 1), reason="backdated")


def test_money_is_exact_decimal(workspace: Workspace) -> None:
    _portfolio(workspace)
    with workspace.session() as s:
        prj = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-1"))
        assert prj is not None
        for month in range(1, 11):
            s.add(
                CostLine(
                    code=f"PRJ-1/2025-{month:02d}/opex",
                    work_item_id=prj.id,
                    period=dt.date(2025, month, 1),
                    expenditure=Expenditure.OPEX,
                    budget=Decimal("0.10"),
                    forecast=Decimal("1234567.89"),
                )
            )
    with workspace.session() as s:
        lines = list(s.scalars(select(CostLine)))
        assert sum((c.budget for c in lines), Decimal(0)) == Decimal("1.00")
        assert all(isinstance(c.forecast, Decimal) for c in lines)
        assert sum((c.forecast for c in lines), Decimal(0)) == Decimal("12345678.90")


def test_enums_store_user_facing_values(workspace: Workspace) -> None:
    _portfolio(workspace)
    with workspace.session() as s:
        prj = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-1"))
        assert prj is not None
        s.add(
            StatusReport(
                code="PRJ-1/2025-06",
                work_item_id=prj.id,
                period=dt.date(2025, 6, 1),
                confidence=Confidence.AMBER_GREEN,
            )
        )
    with workspace.engine.connect() as conn:
        raw = conn.execute(select(StatusReport.__table__.c.confidence)).scalar_one()
    assert raw == "amber/green"
    assert Confidence.GREEN.score == 5 and Confidence.RED.score == 1


def test_summary_counts_and_confidence(workspace: Workspace) -> None:
    _portfolio(workspace)
    with workspace.session() as s:
        ids = {c: i for c, i in s.execute(select(WorkItem.code, WorkItem.id))}  # noqa: C416
        for code, conf in (("PRJ-1", Confidence.RED), ("WS-1", Confidence.GREEN)):
            s.add(
                StatusReport(
                    code=f"{code}/2025-05",
                    work_item_id=ids[code],
                    period=dt.date(2025, 5, 1),
                    confidence=Confidence.GREEN,
                )
            )
            s.add(
                StatusReport(
                    code=f"{code}/2025-06",
                    work_item_id=ids[code],
                    period=dt.date(2025, 6, 1),
                    confidence=conf,
                )
            )
        for code, budget in (("PRJ-1", "300"), ("WS-1", "700")):
            s.add(
                CostLine(
                    code=f"{code}/2025-06/opex",
                    work_item_id=ids[code],
                    period=dt.date(2025, 6, 1),
                    budget=Decimal(budget),
                    forecast=Decimal(budget),
                )
            )
    summary = workspace.work.summary()
    assert summary.by_kind["project"] == 1 and summary.by_kind["programme"] == 1
    assert summary.by_phase["delivery"] == 2 and summary.by_phase["identification"] == 2
    # only the latest report of each item counts
    assert summary.confidence == {
        "green": 1,
        "amber/green": 0,
        "amber": 0,
        "amber/red": 0,
        "red": 1,
    }
    assert summary.fiscal_year == 2026  # June 2025 is in FY2026 when the year starts in April
    assert summary.budget_by_nature == {"change": Decimal("300"), "run": Decimal("700")}
    assert summary.budget_by_category["run"] == Decimal("700")


def test_governance_node_tolerance_and_raid(workspace: Workspace) -> None:
    with workspace.session() as s:
        board = GovernanceNode(
            code="MB", name="Main board", kind=NodeKind.MAIN_BOARD, cadence=Cadence.QUARTERLY
        )
        s.add(board)
        s.flush()
        pb = GovernanceNode(
            code="PB-1", name="Project board", kind=NodeKind.PROJECT_BOARD, parent_id=board.id
        )
        s.add(pb)
        s.flush()
        s.add(
            Tolerance(
                code="PB-1/cost_pct",
                node_id=pb.id,
                dimension=ToleranceDimension.COST_PCT,
                limit=Decimal("5"),
            )
        )
        risk = RaidItem(
            code="R-1",
            kind=RaidKind.RISK,
            title="Supplier insolvency",
            node_id=pb.id,
            probability=3,
            impact=5,
        )
        s.add(risk)
        s.flush()
        assert risk.score == 15
        assert pb.parent is not None and pb.parent.code == "MB"


def test_raid_scale_is_enforced(workspace: Workspace) -> None:
    with pytest.raises(IntegrityError), workspace.session() as s:
        s.add(RaidItem(code="R-9", kind=RaidKind.RISK, title="Bad", probability=9, impact=1))


def test_benefit_profile_unique_per_period(workspace: Workspace) -> None:
    with workspace.session() as s:
        b = Benefit(code="B-1", name="Fewer calls", category=BenefitCategory.CASHABLE)
        s.add(b)
        s.flush()
        s.add(BenefitProfile(code="B-1/2025-04", benefit_id=b.id, period=dt.date(2025, 4, 1)))
    with pytest.raises(IntegrityError), workspace.session() as s:
        b2 = s.scalar(select(Benefit))
        assert b2 is not None
        s.add(BenefitProfile(code="B-1/dup", benefit_id=b2.id, period=dt.date(2025, 4, 1)))


def test_provenance_and_audit_columns(workspace: Workspace) -> None:
    workspace.org.add_unit("U1", "One", written_by="analyst@example.org")
    with workspace.session() as s:
        unit = workspace.org.unit("U1")
        assert unit.written_by == "analyst@example.org"
        assert unit.created_at is not None and unit.updated_at is not None
        assert unit.batch_id is None
        s.rollback()
