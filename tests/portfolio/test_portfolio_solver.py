"""Optimal selection: hand-built problems with known optima; agreement with exhaustive search."""

from __future__ import annotations

from typing import Any

import pytest
from portfolio_random import BruteForce, random_problem

from bigov.portfolio.problem import parse_problem
from bigov.portfolio.solver import PlanItem, evaluate_plan, solve


def problem(candidates: list[dict[str, Any]], **extra: Any) -> Any:
    data: dict[str, Any] = {
        "periods": ["Y1", "Y2"],
        "budgets": {"capex": {"Y1": 10, "Y2": 10}},
        "candidates": candidates,
    }
    data.update(extra)
    return parse_problem(data)


def c(code: str, value: float, y1: float = 0, y2: float = 0, **extra: Any) -> dict[str, Any]:
    cost = {k: v for k, v in (("Y1", y1), ("Y2", y2)) if v}
    return {"code": code, "value": value, "cost": {"capex": cost or {"Y1": 0}}, **extra}


def test_knapsack_known_optimum() -> None:
    # Greedy by ratio takes A (3/unit) then cannot fit B or C; the optimum is B + C.
    p = problem([c("A", 9, 3), c("B", 12, 5), c("C", 12, 5)])
    s = solve(p)
    assert s.proven_optimal and s.status == "optimal"
    assert s.selected_codes() == {"B", "C"}
    assert s.value == pytest.approx(24)
    assert s.spend["capex"] == {"Y1": 10, "Y2": 0}


def test_dependency_and_exclusion() -> None:
    p = problem(
        [c("A", 1, 5), c("B", 20, 5, requires=["A"]), c("C", 15, 5), c("D", 14, 5)],
        exclusions=[{"codes": ["C", "D"], "reason": "alternatives"}],
    )
    s = solve(p)
    assert s.selected_codes() == {"A", "B"}  # 21 beats C + nothing else fitting (15)


def test_forced_in_and_out() -> None:
    p = problem(
        [c("A", 1, 6), c("B", 10, 6), c("C", 9, 4)],
        forced=[
            {"code": "A", "decision": "in", "reason": "law"},
            {"code": "B", "decision": "out", "reason": "board stopped it"},
        ],
    )
    assert solve(p).selected_codes() == {"A", "C"}


def test_start_shift_levels_the_budget() -> None:
    # Both need 8 in their first year; only shifting one to Y2 lets both in.
    p = problem([c("A", 5, 8), c("B", 5, 8, shift={"earliest": 0, "latest": 1})])
    s = solve(p)
    assert s.selected_codes() == {"A", "B"}
    b = next(i for i in s.selected if i.code == "B")
    assert (b.shift, b.start_period) == (1, "Y2")
    assert s.spend["capex"] == {"Y1": 8, "Y2": 8}


def test_partial_funding_fills_the_gap() -> None:
    p = problem([c("A", 10, 6), c("B", 8, 8, partial={"min_fraction": 0.25})])
    s = solve(p)
    b = next(i for i in s.selected if i.code == "B")
    assert b.fraction == pytest.approx(0.5)
    assert s.value == pytest.approx(14)


def test_partial_minimum_fraction_is_respected() -> None:
    p = problem([c("A", 10, 9), c("B", 8, 8, partial={"min_fraction": 0.25})])
    s = solve(p)
    assert s.selected_codes() == {"A"}  # 1 unit left < 25 % of 8


def test_capacity_per_skill_and_period() -> None:
    p = problem(
        [
            c("A", 10, 1, resources={"dev": {"Y1": 3}}),
            c("B", 9, 1, resources={"dev": {"Y1": 3}}),
            c("C", 2, 1),
        ],
        capacity={"dev": {"Y1": 4}},
    )
    assert solve(p).selected_codes() == {"A", "C"}


def test_balance_run_floor_and_shares() -> None:
    cands = [
        c("R", 1, 4, category="run", portfolio="Ops"),
        c("T1", 10, 3, category="transform", portfolio="Dig"),
        c("T2", 10, 3, category="transform", portfolio="Dig"),
    ]
    free = solve(problem(cands, budgets={"capex": {"Y1": 6}}))
    assert free.selected_codes() == {"T1", "T2"}
    floor = solve(
        problem(
            cands,
            budgets={"capex": {"Y1": 7}},
            balance=[{"by": "category", "group": "run", "min_amount": 4}],
        )
    )
    assert floor.selected_codes() == {"R", "T1"}
    share = solve(
        problem(
            cands,
            budgets={"capex": {"Y1": 10}},
            balance=[{"by": "portfolio", "group": "Dig", "max_share": 0.5}],
        )
    )
    assert share.selected_codes() in ({"R", "T1"}, {"R", "T2"})


def test_total_budget_over_the_horizon() -> None:
    p = problem([c("A", 5, 5, 5), c("B", 5, 0, 6)], total_budgets={"capex": 12})
    assert solve(p).selected_codes() == {"A"} or solve(p).selected_codes() == {"B"}


def test_values_override_and_warm_start() -> None:
    p = problem([c("A", 9, 3), c("B", 12, 5), c("C", 12, 5)])
    s = solve(p, values={"A": 100, "B": 1, "C": 1}, start={"B": PlanItem(), "C": PlanItem()})
    assert "A" in s.selected_codes()


@pytest.mark.parametrize("seed", range(25))
def test_agrees_with_exhaustive_search(seed: int, exhaustive: BruteForce) -> None:
    p = random_problem(seed)
    best = exhaustive(p)
    if best is None:
        from bigov.errors import InfeasibleError

        with pytest.raises(InfeasibleError):
            solve(p)
        return
    s = solve(p)
    assert s.value == pytest.approx(best, abs=1e-6)
    value, broken = evaluate_plan(p, s.plan())
    assert broken == []
    assert value == pytest.approx(s.value)


def test_example_solves_and_is_feasible(small_example: Any) -> None:
    from bigov.portfolio.problem import load_problem

    p = load_problem(small_example)
    s = solve(p, time_limit=30)
    assert s.proven_optimal
    assert "REG-05" in s.selected_codes()
    assert not {"ERP-06A", "ERP-06B"} <= s.selected_codes()
    _, broken = evaluate_plan(p, s.plan())
    assert broken == []
