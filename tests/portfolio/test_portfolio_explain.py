"""Explanations, conflict sets for infeasible problems, and the efficient frontier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from portfolio_random import correlated_knapsack, random_problem

from bigov.errors import ConfigError, InfeasibleError
from bigov.portfolio.explain import explain
from bigov.portfolio.frontier import compute_frontier, plot_frontier
from bigov.portfolio.infeasibility import find_conflict
from bigov.portfolio.problem import (
    Forced,
    load_problem,
    parse_problem,
)
from bigov.portfolio.solver import build_model, solve


def base(**extra: Any) -> Any:
    data: dict[str, Any] = {
        "periods": ["Y1", "Y2"],
        "budgets": {"capex": {"Y1": 10, "Y2": 10}},
        "capacity": {"dev": {"Y1": 4}},
        "candidates": [
            {"code": "A", "value": 10, "cost": {"capex": {"Y1": 6}}},
            {"code": "B", "value": 9, "cost": {"capex": {"Y1": 5}}, "requires": ["A"]},
            {"code": "C", "value": 8, "cost": {"capex": {"Y1": 4}}},
            {
                "code": "D",
                "value": 3,
                "cost": {"capex": {"Y2": 3}},
                "resources": {"dev": {"Y1": 5}},
            },
            {"code": "E", "value": 4, "cost": {"capex": {"Y2": 8}}, "partial": {"min_fraction": 0}},
        ],
    }
    data.update(extra)
    return parse_problem(data)


def test_mandatory_items_over_budget_give_a_minimal_conflict() -> None:
    p = base(
        forced=[
            {"code": "A", "decision": "in", "reason": "regulator"},
            {"code": "B", "decision": "in", "reason": "board"},
        ]
    )
    with pytest.raises(InfeasibleError) as info:
        solve(p)
    conflict = info.value.conflict
    assert len(conflict) == 3
    assert any(x.startswith("budget capex Y1") for x in conflict)
    assert "force-in A (regulator)" in conflict and "force-in B (board)" in conflict
    assert info.value.exit_code == 7


def test_dependency_on_forced_out_item() -> None:
    p = base(
        forced=[
            {"code": "A", "decision": "out", "reason": "stopped"},
            {"code": "B", "decision": "in", "reason": "promised"},
        ]
    )
    assert sorted(find_conflict(p)) == ["dependency B needs A", "force-in B", "force-out A"]


def test_conflict_is_irreducible_on_random_problems() -> None:
    # Dropping any one group from a reported conflict must make the problem feasible again.
    infeasible = 0
    for seed in range(40):
        p = random_problem(seed)
        out = {f.code for f in p.forced}
        musts = [c.code for c in p.candidates if c.code not in out][:4]
        p = p.model_copy(
            update={
                "forced": [
                    *p.forced,
                    *(Forced(code=c, decision="in", reason="test") for c in musts),
                ]
            }
        )
        groups = find_conflict(p)
        if not groups:
            continue
        infeasible += 1
        model = build_model(p, {c.code: 0.0 for c in p.candidates})
        others = [g for g in model.groups if g not in groups and not g.startswith("start once")]
        model.relax(others)
        assert model.run(feasibility_only=True).name == "kInfeasible"
        for g in groups:
            model.relax([g])
            model.run(feasibility_only=True)
            assert model.has_solution(), (seed, g)
            model.restore([g])
    assert infeasible >= 5  # the loop above must have exercised real conflicts


def test_feasible_problem_has_no_conflict() -> None:
    assert find_conflict(base()) == []


def test_explain_reasons_prices_and_what_it_takes() -> None:
    p = base(budgets={"capex": {"Y1": 10, "Y2": 6}})
    e = explain(p)
    s = e.solution
    assert s.selected_codes() == {"A", "C", "E"}  # B would break Y1; D breaks dev capacity
    assert e.item("A").loss_if_removed == pytest.approx(10.0)  # nothing else fits Y1 instead
    b = e.item("B")
    assert not b.selected
    assert "budget capex Y1" in b.blocked_by
    # B forced in: A + B fill Y1 (11 > 10) → infeasible, so no value increase helps …
    assert b.value_increase_needed is None
    # … but one more unit of Y1 budget fits it without losing value.
    assert b.limit_increase_needed == {"budget capex Y1": pytest.approx(1.0)}
    d = e.item("D")
    assert "capacity dev Y1" in d.blocked_by
    assert d.limit_increase_needed == {"capacity dev Y1": pytest.approx(1.0)}
    budget_y2 = next(c for c in e.constraints if c.group == "budget capex Y2")
    assert budget_y2.binding
    assert budget_y2.shadow_price == pytest.approx(0.5)  # E earns 4 per 8 of budget


def test_value_threshold_is_exact() -> None:
    p = parse_problem(
        {
            "periods": ["Y1"],
            "budgets": {"capex": {"Y1": 10}},
            "candidates": [
                {"code": "A", "value": 10, "cost": {"capex": {"Y1": 6}}},
                {"code": "B", "value": 7, "cost": {"capex": {"Y1": 6}}},
                {"code": "C", "value": 2, "cost": {"capex": {"Y1": 4}}},
            ],
        }
    )
    e = explain(p)
    b = e.item("B")
    assert b.value_increase_needed == pytest.approx(3.0)  # B + C must beat A + C (12)
    assert "B" in solve(p, values={"A": 10, "B": 7 + 3.01, "C": 2}).selected_codes()
    assert "B" not in solve(p, values={"A": 10, "B": 7 + 2.99, "C": 2}).selected_codes()


def test_frontier_is_monotone_and_matches_cold_solves(tmp_path: Path) -> None:
    p = random_problem(3, n=10)
    warm = compute_frontier(p, 8)
    cold = compute_frontier(p, 8, warm=False)
    values = [pt.value for pt in warm.points]
    assert [pt.value for pt in cold.points] == pytest.approx(values)
    feasible = [v for v in values if v is not None]
    assert feasible == sorted(feasible)
    assert all(pt.proven_optimal for pt in warm.points if pt.value is not None)
    out = plot_frontier(warm, tmp_path / "f.svg", plan_of_record=(warm.stated_level, 5.0))
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    plot_frontier(warm, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_capacity_frontier(small_example: Path) -> None:
    p = load_problem(small_example)
    f = compute_frontier(p, 5, dimension="capacity", resource="data_engineering")
    vals = [pt.value for pt in f.points if pt.value is not None]
    assert vals == sorted(vals)
    with pytest.raises(ConfigError):
        compute_frontier(p, 5, dimension="capacity")
    with pytest.raises(ConfigError):
        compute_frontier(p, 5, dimension="capacity", resource="nobody")


def test_fine_frontier_reuses_proven_optima_exactly() -> None:
    # 30 points on a small problem: many levels share an optimum; reusing it must give exactly
    # the values of independent cold solves.
    p = random_problem(11, n=9)
    warm = compute_frontier(p, 30)
    cold = compute_frontier(p, 30, warm=False)
    assert [pt.value for pt in warm.points] == pytest.approx([pt.value for pt in cold.points])
    assert sum(pt.value is not None for pt in warm.points) >= 25


def test_two_worker_frontier_with_repaired_starts_matches_cold_solves() -> None:
    # Levels below the first start from the repaired plan of the level above (with HiGHS's
    # RINS/RENS off), on two workers; every value must still equal an independent cold solve's.
    p = correlated_knapsack(30, 3, seed=4)
    warm = compute_frontier(p, 12, max_scale=1.0, workers=2)
    cold = compute_frontier(p, 12, max_scale=1.0, warm=False)
    assert [pt.value for pt in warm.points] == pytest.approx([pt.value for pt in cold.points])
    assert len({pt.value for pt in warm.points if pt.value is not None}) >= 10
    assert all(pt.proven_optimal for pt in warm.points if pt.value is not None)


def test_warm_frontier_with_partial_funding_and_growth_matches_cold_solves() -> None:
    # The warm levels run HiGHS with FRONTIER_OPTIONS (no node cuts, no restart, no RINS/RENS) and
    # the cold ones as shipped: on a round with continuous parts (partial funding, run work that
    # may grow past its forecast), start shifts and a mandatory item, the values must agree.
    rng = np.random.default_rng(5)
    periods = ["Q1", "Q2", "Q3", "Q4"]
    cands: list[dict[str, Any]] = []
    for j in range(16):
        first = int(rng.integers(0, 3))
        cost = {periods[t]: float(rng.integers(5, 40)) for t in range(first, first + 2)}
        cand: dict[str, Any] = {
            "code": f"W{j}",
            "value": float(rng.integers(10, 90)),
            "category": "run" if j < 4 else "transform",
            "cost": {"opex": cost},
            "resources": {"dev": {q: float(rng.integers(0, 4)) for q in cost}},
        }
        if j < 4:
            cand["partial"] = {"min_fraction": 0.6, "max_fraction": 1.25}
        elif j % 3 == 0:
            cand["partial"] = {"min_fraction": 0.3}
        if j % 5 == 1:
            cand["shift"] = {"earliest": -1, "latest": 1}
        cands.append(cand)
    p = parse_problem(
        {
            "periods": periods,
            "budgets": {"opex": dict.fromkeys(periods, 80.0)},
            "capacity": {"dev": dict.fromkeys(periods, 9.0)},
            "candidates": cands,
            "forced": [{"code": "W0", "decision": "in", "reason": "statutory"}],
        }
    )
    warm = compute_frontier(p, 14, workers=2)
    cold = compute_frontier(p, 14, warm=False)
    assert [pt.value for pt in warm.points] == pytest.approx([pt.value for pt in cold.points])
    assert len({round(pt.value, 6) for pt in warm.points if pt.value is not None}) >= 10
    assert all(pt.proven_optimal for pt in warm.points if pt.value is not None)
