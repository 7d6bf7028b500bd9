"""The demo enterprise: deterministic, credible in size, atomic, and carrying its planted gaps.

Runs on SQLite always and on PostgreSQL too when ``BIGOV_TEST_POSTGRES_URL`` is set (each
PostgreSQL workspace lives in its own schema, dropped afterwards).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from bigov.benefits.models import Benefit
from bigov.db.base import Base
from bigov.db.batch import ImportBatch
from bigov.demo import DEFAULT_AS_OF, DELIBERATE_GAPS, OPERATIONAL_MEASURES, generate
from bigov.errors import ConfigError, ConflictError
from bigov.finance.models import CostLine
from bigov.governance.models import GovernanceNode, InformationDefinition, Tolerance
from bigov.org.models import BusinessPlanTarget, OrgUnit
from bigov.strategy.models import KeyResult, Otc, OtcKind, OtcStatus, OtcVersion
from bigov.work.models import (
    Confidence,
    Contribution,
    Dependency,
    Phase,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace

PG_URL = os.environ.get("BIGOV_TEST_POSTGRES_URL")
BACKENDS = (
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)] if PG_URL else ["sqlite"]
)
LIVE = (Phase.DEFINITION, Phase.DELIVERY, Phase.CLOSURE)

WorkspaceFactory = Callable[[], Workspace]


@pytest.fixture(scope="module", params=BACKENDS)
def make_ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkspaceFactory]:
    """Opens fresh, empty workspaces on the backend under test; cleans them all up."""
    opened: list[tuple[Workspace, str | None]] = []

    def factory() -> Workspace:
        if request.param == "sqlite":
            path: Path = tmp_path_factory.mktemp("demo") / "bigov.db"
            ws = Workspace.open(f"sqlite:///{path}")
            opened.append((ws, None))
        else:
            assert PG_URL
            schema = f"t_{secrets.token_hex(6)}"
            ws = Workspace.open(PG_URL, schema=schema)
            opened.append((ws, schema))
        return ws

    yield factory
    for ws, schema in opened:
        ws.close()
        if schema:
            admin = Workspace.open(PG_URL, migrate_schema=False)
            with admin.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.close()


@pytest.fixture(scope="module")
def demo_ws(make_ws: WorkspaceFactory) -> Workspace:
    """One small demo enterprise, shared by the read-only tests of this module."""
    ws = make_ws()
    generate(ws)
    return ws


def rows_by_code(ws: Workspace, table: Table) -> dict[str, tuple[Any, ...]]:
    """Every row of a table by code, without the audit timestamps (they record *when*)."""
    cols = [c for c in table.c if c.name not in ("created_at", "updated_at", "batch_id")]
    with ws.engine.connect() as conn:
        return {r.code: tuple(r) for r in conn.execute(select(*cols).order_by(table.c.code))}


def count(s: Session, model: type[Any]) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def otc_codes(s: Session, kind: OtcKind) -> list[str]:
    return list(s.scalars(select(Otc.code).where(Otc.kind == kind, Otc.status == OtcStatus.ACTIVE)))


# -- determinism ----------------------------------------------------------------------------------
def test_same_seed_gives_identical_rows_and_another_seed_does_not(
    make_ws: WorkspaceFactory,
) -> None:
    a, b, c = make_ws(), make_ws(), make_ws()
    generate(a, seed=7)
    generate(b, seed=7)
    generate(c, seed=8)
    tables = [
        "work_item",
        "cost_line",
        "benefit_profile",
        "status_report",
        "raid_item",
        "otc_version",
        "demand",
        "governance_node",
        "person",
    ]
    for name in tables:
        table = Base.metadata.tables[name]
        assert rows_by_code(a, table) == rows_by_code(b, table), name
    assert rows_by_code(a, WorkItem.__table__) != rows_by_code(c, WorkItem.__table__)
    assert rows_by_code(a, CostLine.__table__) != rows_by_code(c, CostLine.__table__)


# -- size and shape --------------------------------------------------------------------------------
def test_small_scale_has_the_promised_size(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        by_kind = dict(s.execute(select(WorkItem.kind, func.count()).group_by(WorkItem.kind)).all())
        assert by_kind[WorkKind.PORTFOLIO] == 3
        assert 8 <= by_kind[WorkKind.PROGRAMME] <= 12
        assert 50 <= by_kind[WorkKind.PROJECT] <= 70
        assert 30 <= by_kind[WorkKind.WORKSTREAM] <= 45
        assert 2 <= by_kind[WorkKind.PRODUCT] <= 5
        bus = s.scalar(select(func.count()).where(OrgUnit.kind == "business_unit"))
        assert 5 <= (bus or 0) <= 8
        assert 60 <= count(s, Benefit) <= 110
        assert 12 <= count(s, Otc) <= 24
        phases = dict(
            s.execute(
                select(WorkItem.phase, func.count())
                .where(WorkItem.kind == WorkKind.PROJECT)
                .group_by(WorkItem.phase)
            ).all()
        )
        assert phases.get(Phase.DELIVERY, 0) > 25
        assert 1 <= phases.get(Phase.CANCELLED, 0) <= 3
        assert phases.get(Phase.CLOSED, 0) >= 2
        assert phases.get(Phase.IDENTIFICATION, 0) + phases.get(Phase.DEFINITION, 0) >= 3
        # three fiscal years of monthly costs
        months = s.scalar(select(func.count(func.distinct(CostLine.period))))
        assert months == 36
        assert count(s, Tolerance) >= 5 * count(s, GovernanceNode)
        sources = set(s.scalars(select(InformationDefinition.source).distinct()))
        assert {
            "work.status",
            "finance.cost",
            "benefits.profile",
            "resources.demand",
            "raid.risk",
            "strategy.attainment",
        } <= sources
        assert any(src.startswith("metrics.") for src in sources)
        measures = set(
            s.scalars(select(KeyResult.measure_code).where(KeyResult.measure_code.is_not(None)))
        )
        assert measures <= {m.code for m in OPERATIONAL_MEASURES}
        assert {"CALLS-HANDLED", "FIRST-TIME-FIX", "BACKLOG"} <= measures
    assert demo_ws.setting("organisation_name") == "Northwind Utilities plc"
    assert demo_ws.fiscal_year_start_month == 4


def test_every_row_has_demo_provenance(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        batch = s.scalars(select(ImportBatch).where(ImportBatch.source == "demo")).one()
        assert batch.status == "committed"
        for name in ("work_item", "cost_line", "benefit", "status_report", "raid_item"):
            table = Base.metadata.tables[name]
            stray = s.scalar(
                select(func.count())
                .select_from(table)
                .where(
                    (table.c.batch_id != batch.id)
                    | (table.c.written_by != "bigov demo")
                    | table.c.batch_id.is_(None)
                )
            )
            assert stray == 0, name


def test_otc_versions_are_recorded_like_the_strategy_service(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        otcs = list(s.scalars(select(Otc)))
        revised = [o for o in otcs if o.version > 1]
        assert len(revised) >= 2
        assert any(o.status is OtcStatus.WITHDRAWN for o in revised)
        for otc in otcs:
            versions = list(
                s.scalars(
                    select(OtcVersion)
                    .where(OtcVersion.otc_id == otc.id)
                    .order_by(OtcVersion.version)
                )
            )
            assert [v.version for v in versions] == list(range(1, otc.version + 1))
            assert [v.code for v in versions] == [f"{otc.code}@v{v.version}" for v in versions]
            for old, new in itertools.pairwise(versions):
                assert old.effective_to == new.effective_from
                assert new.change_reason
            assert versions[-1].effective_to is None
            assert versions[-1].effective_from == otc.effective_from
            assert versions[-1].title == otc.title


# -- planted gaps ----------------------------------------------------------------------------------
def test_every_planted_gap_is_really_there(demo_ws: Workspace) -> None:
    gaps = {k: set(v) for k, v in DELIBERATE_GAPS.items()}
    with demo_ws.session() as s:
        contributed = set(
            s.scalars(select(Otc.code).join(Contribution, Contribution.otc_id == Otc.id))
        )
        objectives = set(otc_codes(s, OtcKind.OBJECTIVE))
        assert objectives - contributed == gaps["objectives_without_work"]

        funded_items = set(s.scalars(select(CostLine.work_item_id).where(CostLine.budget > 0)))
        funded_otcs = set(
            s.scalars(
                select(Otc.code)
                .join(Contribution, Contribution.otc_id == Otc.id)
                .where(Contribution.work_item_id.in_(funded_items))
            )
        )
        unfunded = (objectives & contributed) - funded_otcs
        assert unfunded == gaps["objectives_without_funded_work"]

        items = {i.id: i for i in s.scalars(select(WorkItem))}
        aligned = set(s.scalars(select(Contribution.work_item_id)))

        def aligned_or_ancestor(item: WorkItem) -> bool:
            node: WorkItem | None = item
            while node is not None:
                if node.id in aligned:
                    return True
                node = items.get(node.parent_id) if node.parent_id else None
            return False

        unaligned = {
            i.code
            for i in items.values()
            if i.kind is WorkKind.PROJECT
            and i.phase is not Phase.CANCELLED
            and i.id in funded_items
            and not aligned_or_ancestor(i)
        }
        assert unaligned == gaps["work_without_otc"]

        assert (
            set(s.scalars(select(Benefit.code).where(Benefit.owner_id.is_(None))))
            == gaps["benefits_without_owner"]
        )
        assert (
            set(s.scalars(select(Benefit.code).where(Benefit.measure.is_(None))))
            == gaps["benefits_without_measure"]
        )

        planned = set(
            s.scalars(
                select(Otc.code).join(BusinessPlanTarget, BusinessPlanTarget.otc_id == Otc.id)
            )
        )
        assert set(otc_codes(s, OtcKind.TARGET)) - planned == gaps["targets_without_business_plan"]
        assert (
            set(otc_codes(s, OtcKind.CHALLENGE)) - contributed
            == gaps["challenges_without_innovation"]
        )

        sums = s.execute(
            select(Otc.code, func.sum(Contribution.weight))
            .join(Contribution, Contribution.otc_id == Otc.id)
            .group_by(Otc.code)
        )
        off = {code for code, total in sums if abs(Decimal(total) - 1) > Decimal("0.0001")}
        assert off == gaps["contribution_weights_not_one"]

        # one live project has no board of its own; its unit's management team governs it, so
        # it is no gap (`bigov gaps` and `governance propose` agree on that)
        no_board = {
            i.code for i in items.values() if i.phase in LIVE and i.governing_node_id is None
        }
        assert no_board == {"PRJ-AUTO-004"}


# -- data quality ----------------------------------------------------------------------------------
def test_status_reports_are_valid_and_show_a_realistic_trend(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        reports = list(s.scalars(select(StatusReport)))
        assert reports
        assert all(isinstance(r.confidence, Confidence) for r in reports)
        latest = max(r.period for r in reports)
        assert latest < DEFAULT_AS_OF
        by_item: dict[int, list[StatusReport]] = defaultdict(list)
        for r in sorted(reports, key=lambda r: r.period):
            by_item[r.work_item_id].append(r)
        now = [v[-1] for v in by_item.values() if v[-1].period == latest]
        reds = [r for r in now if r.confidence in (Confidence.RED, Confidence.AMBER_RED)]
        greens = [r for r in now if r.confidence in (Confidence.GREEN, Confidence.AMBER_GREEN)]
        assert reds and len(greens) > len(reds)
        declining = [
            v
            for v in by_item.values()
            if len(v) > 3 and v[-1].confidence.score < v[-4].confidence.score
        ]
        assert declining
        for r in reports:
            # a cost RAG of red goes with a red/amber overall view, never a green DCA
            if r.cost.value == "red":
                assert r.confidence is not Confidence.GREEN
            assert r.narrative


def test_live_work_reports_every_month_to_the_as_of_date(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        latest = s.scalar(select(func.max(StatusReport.period)))
        live = set(
            s.scalars(
                select(WorkItem.id).where(
                    WorkItem.phase.in_([Phase.DELIVERY, Phase.CLOSURE]),
                    WorkItem.kind.in_([WorkKind.PROJECT, WorkKind.PROGRAMME, WorkKind.WORKSTREAM]),
                )
            )
        )
        reporting = set(
            s.scalars(select(StatusReport.work_item_id).where(StatusReport.period == latest))
        )
        assert live <= reporting


def test_costs_are_decimal_non_negative_and_actuals_only_in_the_past(demo_ws: Workspace) -> None:
    month = DEFAULT_AS_OF.replace(day=1)
    with demo_ws.session() as s:
        sample = s.scalars(select(CostLine).limit(50)).all()
        assert all(
            isinstance(c.budget, Decimal) and c.budget.as_tuple().exponent == -2 for c in sample
        )
        for column in (CostLine.budget, CostLine.forecast, CostLine.actual):
            assert (s.scalar(select(func.min(column))) or 0) >= 0
        future_actuals = s.scalar(
            select(func.count()).where(CostLine.period >= month, CostLine.actual.is_not(None))
        )
        assert future_actuals == 0
        unfunded = set(DELIBERATE_GAPS["objectives_without_funded_work"])
        assert unfunded
        costed = set(s.scalars(select(CostLine.work_item_id).distinct()))
        kinds = [WorkKind.WORKSTREAM, WorkKind.PRODUCT]
        run = set(s.scalars(select(WorkItem.id).where(WorkItem.kind.in_(kinds))))
        assert run <= costed


def test_dependencies_have_no_cycles(demo_ws: Workspace) -> None:
    with demo_ws.session() as s:
        edges = s.execute(select(Dependency.predecessor_id, Dependency.successor_id)).all()
    assert edges
    successors: dict[int, list[int]] = defaultdict(list)
    indegree: dict[int, int] = defaultdict(int)
    nodes: set[int] = set()
    for a, b in edges:
        successors[a].append(b)
        indegree[b] += 1
        nodes |= {a, b}
    ready = [n for n in nodes if indegree[n] == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in successors[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    assert seen == len(nodes)


def test_benefit_actuals_only_before_the_as_of_month(demo_ws: Workspace) -> None:
    from bigov.benefits.models import BenefitProfile

    with demo_ws.session() as s:
        late = s.scalar(
            select(func.count()).where(
                BenefitProfile.period >= DEFAULT_AS_OF.replace(day=1),
                BenefitProfile.actual.is_not(None),
            )
        )
        assert late == 0
        assert s.scalar(select(func.count()).where(BenefitProfile.actual.is_not(None)))


# -- safety ----------------------------------------------------------------------------------------
def test_refuses_a_non_empty_database_and_changes_nothing(make_ws: WorkspaceFactory) -> None:
    ws = make_ws()
    generate(ws, seed=3)
    before = rows_by_code(ws, WorkItem.__table__)
    with pytest.raises(ConflictError, match="--force"):
        generate(ws, seed=4)
    assert rows_by_code(ws, WorkItem.__table__) == before
    with ws.session() as s:
        assert count(s, ImportBatch) == 1


def test_force_replaces_the_data(make_ws: WorkspaceFactory) -> None:
    ws = make_ws()
    first = generate(ws, seed=3)
    second = generate(ws, seed=4, force=True)
    assert second.batch_id != first.batch_id
    assert second.rows["work_item"] == first.rows["work_item"]
    with ws.session() as s:
        assert count(s, WorkItem) == second.rows["work_item"]
        assert s.scalar(select(func.count()).where(WorkItem.batch_id == first.batch_id)) == 0
        # ids keep working for later writes on every backend (sequences moved on)
        s.add(OrgUnit(code="BU-NEW", name="New unit"))
        s.flush()


class _InterruptError(Exception):
    pass


class _InterruptingReporter:
    """Stops the run when it reaches a late stage, as Ctrl-C would."""

    def start(self, task: str, total: int | None = None) -> None:
        if task == "costs":
            raise _InterruptError(task)

    def advance(self, steps: int = 1) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def finish(self) -> None:
        return None


def test_an_interrupted_run_leaves_the_database_as_it_was(make_ws: WorkspaceFactory) -> None:
    ws = make_ws()
    with pytest.raises(_InterruptError):
        generate(ws, reporter=_InterruptingReporter())
    assert ws.is_empty()
    with ws.session() as s:
        assert count(s, ImportBatch) == 0
        assert count(s, StatusReport) == 0


def test_unknown_scale_is_a_config_error(make_ws: WorkspaceFactory) -> None:
    with pytest.raises(ConfigError):
        generate(make_ws(), scale="huge")


def test_as_of_moves_the_actuals(make_ws: WorkspaceFactory) -> None:
    ws = make_ws()
    report = generate(ws, as_of=dt.date(2025, 9, 1))
    assert report.as_of == dt.date(2025, 9, 1)
    with ws.session() as s:
        assert s.scalar(
            select(func.max(CostLine.period)).where(CostLine.actual.is_not(None))
        ) == dt.date(2025, 8, 1)


@pytest.mark.slow
def test_large_scale_multiplies_the_enterprise(make_ws: WorkspaceFactory) -> None:
    ws = make_ws()
    report = generate(ws, scale="large")
    assert report.rows["work_item"] > 2500
    assert report.rows["benefit"] > 1500
    with ws.session() as s:
        assert count(s, WorkItem) == report.rows["work_item"]
