"""The neighbourhood search beside HiGHS (bigov.portfolio.search): whatever the machine's speed,
its plans are feasible, never worse than a greedy fill, never above the proven bound, and the
answer is exact when the main solve finishes. No wall-clock time is asserted."""

from __future__ import annotations

import time

import numpy as np
import pytest
from portfolio_random import correlated_knapsack

from bigov.portfolio import search
from bigov.portfolio.problem import PortfolioProblem
from bigov.portfolio.scoring import candidate_values
from bigov.portfolio.search import search_solve
from bigov.portfolio.solver import PlanItem, build_model, evaluate_plan, solve


def _greedy(problem: PortfolioProblem) -> float:
    """Best value per unit of scarce budget first, skipping what does not fit."""
    values = candidate_values(problem)
    limits = problem.budgets["budget"]
    cost = {c.code: (c.cost or {})["budget"] for c in problem.candidates}
    ratio = {
        code: values[code] / max(1e-9, sum(cost[code][k] / max(1.0, v) for k, v in limits.items()))
        for code in values
    }
    used = dict.fromkeys(limits, 0.0)
    total = 0.0
    for code in sorted(values, key=lambda c: -ratio[c]):
        if all(used[k] + cost[code][k] <= limits[k] for k in limits):
            for k in limits:
                used[k] += cost[code][k]
            total += values[code]
    return total


@pytest.mark.parametrize("seed", [1, 2])
def test_a_tight_round_within_a_time_limit_is_feasible_and_bounded(seed: int) -> None:
    # 100 items x 10 limits at a quarter of the row sums: the kind whose optimum hides in the
    # core of LP-marginal items (search._core_phase)
    problem = correlated_knapsack(100, 10, seed=seed, alpha=0.25)
    model = build_model(problem)
    found = search_solve(model, time_limit=2.0, mip_gap=0.0)
    assert found.vec is not None
    plan = {
        model.columns[c].code: PlanItem()
        for c in range(len(model.columns))
        if model.columns[c].kind == "x" and found.vec[c] > 0.5
    }
    value, broken = evaluate_plan(problem, plan)
    assert broken == []
    assert value == pytest.approx(found.value)
    assert found.value >= _greedy(problem) - 1e-6
    assert found.value <= found.bound + 1e-6


def test_the_core_is_the_lp_marginal_items_and_its_plan_is_offered() -> None:
    # the core phase alone, on a round larger than the core: it must hand the pool a feasible
    # plan at least as good as any plan that keeps the non-core items where the LP puts them
    problem = correlated_knapsack(60, 10, seed=3, alpha=0.25)
    main = build_model(problem)
    pool = search._Pool()
    h = search.new_highs(seed=1)
    sub = build_model(problem, main.values, h=h)
    n = len(sub.columns)
    codes = list(sub.by_code)
    xs_of = {c: [x for _, x, _ in sub.by_code[c]] for c in codes}
    lo0 = np.asarray(h.getLp().col_lower_, dtype=float).copy()
    hi0 = np.asarray(h.getLp().col_upper_, dtype=float).copy()
    cost = np.asarray(h.getLp().col_cost_, dtype=float)
    integral = np.ones(n, dtype=np.uint8)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
    h.run()
    lp = np.asarray(h.getSolution().col_value, dtype=float)
    dual = np.abs(np.asarray(h.getSolution().col_dual, dtype=float))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), integral)
    lp_sel = {c: float(sum(lp[x] for x in xs_of[c])) for c in codes}
    rc = {c: float(min(dual[x] for x in xs_of[c])) for c in codes}
    search._core_phase(
        sub, h, pool, time.perf_counter() + 600, codes, xs_of, lp_sel, rc, lo0, hi0, cost
    )
    assert pool.vec is not None and pool.source == "search"
    chosen = {codes[j] for j in range(n) if pool.vec[j] > 0.5}
    value, broken = evaluate_plan(problem, dict.fromkeys(chosen, PlanItem()))
    assert broken == [] and value == pytest.approx(pool.value)
    # the sub-MIP ran to optimality on its core: no better plan keeps the rest as the LP has it
    core = sorted(codes, key=lambda c: (not 0.0 < lp_sel[c] < 1.0, rc[c], c))[: search.CORE_SIZE]
    outside = [c for c in codes if c not in set(core)]
    assert all((c in chosen) == (round(lp_sel[c]) == 1) for c in outside)
    exact = solve(problem)
    assert pool.value <= exact.value + 1e-6
