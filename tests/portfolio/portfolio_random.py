"""Random small problems and an exhaustive solver for the optimiser tests.

A module of its own (not conftest) so tests import it by a name no other test folder uses.
The exhaustive solver enumerates every selection and start shift and scores it with
:func:`bigov.portfolio.solver.evaluate_plan`, a plain-Python reading of the rules that shares no
code with the MILP model; agreement between the two is the main check of the model.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

import numpy as np

from bigov.portfolio.problem import Candidate, PortfolioProblem, parse_problem
from bigov.portfolio.solver import PlanItem, allowed_shifts, evaluate_plan

BruteForce = Callable[[PortfolioProblem], float | None]


def brute_force(problem: PortfolioProblem) -> float | None:
    """Best value over all plans (full funding only), or None when no plan is feasible."""
    options: list[list[PlanItem | None]] = [
        [None, *(PlanItem(s) for s in allowed_shifts(c, problem.periods))]
        for c in problem.candidates
    ]
    codes = [c.code for c in problem.candidates]
    best: float | None = None
    for combo in itertools.product(*options):
        plan = {code: item for code, item in zip(codes, combo, strict=True) if item is not None}
        value, broken = evaluate_plan(problem, plan)
        if not broken and (best is None or value > best + 1e-9):
            best = value
    return best


def random_problem(seed: int, n: int = 7) -> PortfolioProblem:
    """A small random problem using every kind of rule except partial funding."""
    rng = random.Random(seed)
    periods = ["P1", "P2", "P3"]
    cands: list[dict[str, Any]] = []
    for i in range(n):
        code = f"C{i}"
        start = rng.randrange(3)
        length = rng.randint(1, 3 - start)
        cost = {periods[t]: float(rng.randint(1, 9)) for t in range(start, start + length)}
        cand: dict[str, Any] = {
            "code": code,
            "value": float(rng.randint(1, 20)),
            "category": rng.choice(["run", "grow", "transform"]),
            "portfolio": rng.choice(["A", "B"]),
            "cost": {"capex": cost},
            "resources": {"dev": {p: float(rng.randint(0, 3)) for p in cost}},
        }
        if rng.random() < 0.3:
            cand["shift"] = {"earliest": -1, "latest": 1}
        if i > 0 and rng.random() < 0.3:
            cand["requires"] = [f"C{rng.randrange(i)}"]
        cands.append(cand)
    data: dict[str, Any] = {
        "periods": periods,
        "budgets": {"capex": {p: float(rng.randint(8, 16)) for p in periods}},
        "capacity": {"dev": {p: float(rng.randint(3, 6)) for p in periods}},
        "candidates": cands,
    }
    if rng.random() < 0.5:
        data["total_budgets"] = {"capex": float(rng.randint(20, 35))}
    if rng.random() < 0.6:
        a, b = rng.sample(range(n), 2)
        data["exclusions"] = [{"codes": [f"C{a}", f"C{b}"]}]
    if rng.random() < 0.4:
        data["forced"] = [{"code": f"C{rng.randrange(n)}", "decision": "out", "reason": "test"}]
    if rng.random() < 0.4:
        data["balance"] = [
            {"by": "portfolio", "group": cands[0]["portfolio"], "min_share": 0.3},
        ]
    return parse_problem(data)


def correlated_knapsack(n: int, m: int, seed: int, alpha: float = 0.5) -> PortfolioProblem:
    """A small multi-dimensional knapsack of the hard kind (values correlated with weights,
    limits at ``alpha`` of the row sums): its optimum changes at nearly every frontier level."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 1001, size=(m, n)).astype(float)
    values = np.floor(w.sum(axis=0) / m + 500 * rng.random(n))
    periods = [f"k{i}" for i in range(m)]
    return PortfolioProblem(
        name="knapsack",
        periods=periods,
        budgets={"budget": {periods[i]: float(np.floor(alpha * w[i].sum())) for i in range(m)}},
        candidates=[
            Candidate(
                code=f"x{j}",
                value=float(values[j]),
                cost={"budget": {periods[i]: float(w[i, j]) for i in range(m)}},
            )
            for j in range(n)
        ],
    )
