"""The portfolio service on a real database: rounds, scenarios, plan of record, rebalance.

Runs on SQLite always and on PostgreSQL when ``BIGOV_TEST_POSTGRES_URL`` is set (the shared
``workspace`` fixture). The hand-built round is described in ``portfolio_db_helpers``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from portfolio_db_helpers import EXPECTED_VALUE, seed
from sqlalchemy import select

from bigov.errors import ConflictError, InfeasibleError
from bigov.portfolio.builder import RoundOptions
from bigov.portfolio.problem import PairwiseInput
from bigov.portfolio.service import PortfolioService
from bigov.portfolio.solver import solve
from bigov.raid.models import RaidItem, RaidKind
from bigov.strategy.models import OtcStatus
from bigov.workspace import Workspace

ROUND = RoundOptions(years=[2028], grain="year")  # these tests pin the yearly mapping


@pytest.fixture
def pf(workspace: Workspace) -> PortfolioService:
    seed(workspace)
    return PortfolioService(workspace)


def test_round_built_from_workspace_has_known_optimum(pf: PortfolioService) -> None:
    built = pf.build_problem(ROUND)
    p = built.problem
    assert built.planning_round == "FY2028"
    assert p.periods == ["FY2028"]
    assert p.budgets == {"change": {"FY2028": 10.0}}
    assert {c.code: (c.cost or {})["change"]["FY2028"] for c in p.candidates} == {
        "A": 5.0, "B": 3.0, "C": 4.0, "R": 2.0,  # R at forecast (its budget is 1)
    }  # fmt: skip
    assert [(f.code, f.decision) for f in p.forced] == [("R", "in")]
    assert p.candidate("C").requires == ["B"]
    assert p.capacity["SK-DEV"]["FY2028"] == pytest.approx(1.0)
    assert p.candidate("A").resources["SK-DEV"]["FY2028"] == pytest.approx(0.6)
    assert p.scoring.weights == {"O1": 4.0, "O2": 3.0}
    assert built.queries <= 16  # a fixed number of queries, whatever the data's size
    solution = solve(p)
    assert solution.selected_codes() == {"A", "B", "R"}
    assert solution.value == pytest.approx(EXPECTED_VALUE)


def test_stoppable_running_item_is_not_forced(pf: PortfolioService) -> None:
    built = pf.build_problem(RoundOptions(years=[2028], stoppable=["R"]))
    assert built.problem.forced == []


def test_save_compare_commit(pf: PortfolioService, workspace: Workspace) -> None:
    base = pf.optimise("base", ROUND, created_by="pmo")
    assert base.selected == ["A", "B", "R"] and base.excluded == ["C"]
    assert base.value == pytest.approx(EXPECTED_VALUE)
    with pytest.raises(ConflictError):
        pf.optimise("base", ROUND)

    # a second view: the board weights leakage far above retail growth
    pf.derive_drivers()
    pf.prioritise("PRIO-BOARD", weights={"DRV/O1": 1, "DRV/O2": 9}, name="Main board")
    leak = pf.optimise("leakage first", ROUND)
    assert leak.selected == ["B", "C", "R"]
    assert leak.prioritisation_version == "PRIO-BOARD/v1"

    cmp = pf.compare(["base", "leakage first"])
    differs = {row["code"] for row in cmp.items if row["differs"]}
    assert differs == {"A", "C"}
    assert cmp.lose_coverage == {"leakage first": ["O1"]}
    assert cmp.scenarios[0].spend_by_period == {"FY2028": 10.0}
    assert cmp.scenarios[1].spend_by_period == {"FY2028": 9.0}
    assert cmp.scenarios[0].capacity_use["SK-DEV"]["FY2028"] == pytest.approx(0.9)
    assert cmp.scenarios[0].coverage == {"O1": 1.0, "O2": 0.5}

    first = pf.commit("base", decided_on=dt.date(2027, 2, 1), written_by="board")
    assert first.superseded is None
    with workspace.session() as s:
        decision = s.scalar(select(RaidItem).where(RaidItem.code == first.decision))
        assert decision is not None and decision.kind is RaidKind.DECISION
        assert "A, B, R" in (decision.description or "")
    assert (pf.plan_of_record("FY2028") or base).name == "base"

    second = pf.commit("leakage first", decided_on=dt.date(2027, 3, 1))
    assert second.superseded == "base"
    por = pf.plan_of_record()
    assert por is not None and por.name == "leakage first" and por.plan_of_record
    assert [s.plan_of_record for s in pf.scenarios("FY2028")] == [False, True]


def test_rebalance_after_otc_withdrawn_is_minimal(
    pf: PortfolioService, workspace: Workspace
) -> None:
    pf.optimise("plan", ROUND)
    pf.commit("plan", decided_on=dt.date(2027, 2, 1))
    workspace.strategy.revise_otc(
        "O1", effective_from=dt.date(2027, 2, 15), reason="exit retail", status=OtcStatus.WITHDRAWN
    )
    report = pf.rebalance(tolerance=0.0, save_as="after O1")
    r = report.result
    assert report.strategy_changes == ["O1 v2 from 2027-02-15: withdrawn (exit retail)"]
    # the old plan is now worth B only (O2 carries all the weight: B and C are 50 each)
    assert r.reference_value == pytest.approx(50.0)
    assert r.optimum_value == pytest.approx(100.0)
    assert {(c.code, c.action) for c in r.changes} == {("A", "stop"), ("C", "start")}
    assert set(r.plan) == {"B", "C", "R"}
    saved = pf.scenario("after O1")
    assert saved.origin == "rebalance" and saved.selected == ["B", "C", "R"]


def test_rebalance_tolerance_keeps_the_plan_when_the_loss_is_small(
    pf: PortfolioService, workspace: Workspace
) -> None:
    pf.optimise("plan", ROUND)
    pf.commit("plan")
    # nothing changed: the plan of record is still optimal, so there is nothing to do
    report = pf.rebalance()
    assert report.result.changes == []


def test_prioritisation_versions_are_kept(pf: PortfolioService) -> None:
    drivers = pf.derive_drivers()
    assert [(d.code, d.otc) for d in drivers] == [("DRV/O1", "O1"), ("DRV/O2", "O2")]
    pf.prioritise("PRIO-BOARD", weights={"DRV/O1": 3, "DRV/O2": 1}, reason="first")
    info = pf.prioritise(
        "PRIO-BOARD",
        pairwise=PairwiseInput(drivers=["DRV/O1", "DRV/O2"], matrix=[[1, "1/3"], [None, 1]]),
        reason="leakage fines",
    )
    assert info.current_version == 2
    v1, v2 = info.versions
    assert v1["weights"] == {"DRV/O1": 0.75, "DRV/O2": 0.25} and v1["method"] == "direct"
    assert v2["method"] == "pairwise" and v2["consistency_ratio"] == pytest.approx(0.0)
    assert v2["weights"]["DRV/O2"] == pytest.approx(0.75)
    # the current version is what a round uses
    assert pf.build_problem(ROUND).problem.scoring.weights == pytest.approx(
        {"DRV/O1": 0.25, "DRV/O2": 0.75}
    )


def test_stored_ratings_replace_derived_ones(pf: PortfolioService) -> None:
    pf.derive_drivers()
    pf.prioritise("P", weights={"DRV/O1": 1, "DRV/O2": 1})
    assert pf.rate({"C": {"DRV/O2": 80}, "B": {"DRV/O2": 10}}) == 2
    p = pf.build_problem(ROUND).problem
    assert p.candidate("C").scores == {"DRV/O2": 80.0}
    assert p.candidate("A").scores == {"DRV/O1": 100.0}  # O1 nobody rated: derived
    assert pf.ratings() == {"B": {"DRV/O2": 10.0}, "C": {"DRV/O2": 80.0}}


def test_import_scenario_from_problem_and_solution(pf: PortfolioService) -> None:
    problem = pf.build_problem(ROUND).problem
    solution = solve(problem)
    summary = pf.import_scenario("from file", problem, solution, planning_round="FY2028")
    assert summary.origin == "imported" and summary.selected == ["A", "B", "R"]
    assert summary.value == pytest.approx(EXPECTED_VALUE)


def test_infeasible_round_names_the_conflict(workspace: Workspace) -> None:
    seed(workspace, extra_running_cost=9.0)  # R (2) + R2 (9) are running, the envelope is 10
    pf = PortfolioService(workspace)
    with pytest.raises(InfeasibleError) as err:
        pf.optimise("impossible", ROUND)
    conflict = err.value.conflict
    assert any(c.startswith("budget change FY2028") for c in conflict)
    assert any(c.startswith("force-in R2") for c in conflict)
    assert any(c.startswith("force-in R ") for c in conflict)
    assert pf.scenarios() == []  # nothing was saved
