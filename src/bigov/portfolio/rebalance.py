"""The fewest changes to a plan that reach (nearly) the best value: the rebalance.

When strategy moves (an OTC withdrawn, drivers re-weighted), the best plan under the new values
may differ from the plan of record in many places that do not matter. A board wants the *minimal*
set of changes — stop this, start that, slow or speed something — that gets the new value. This
is a lexicographic pair of solves on one HiGHS instance:

1. maximise value under the new problem (the plan of record is offered as a first incumbent);
2. add the row ``value ≥ V* − tolerance·|V*|`` and minimise the changes to the plan of record:
   one per item stopped or started, half of one per start moved (the item stays but slips or is
   brought forward), and the absolute change of funded fraction for partially funded items.

A penalty in one objective would need a price of a change in value units, which nobody can state;
the lexicographic form needs only the tolerance, which is a board's own materiality threshold.

Callers may rely on: the returned plan satisfies every rule of the new problem and its value is
within the tolerance of the best found; ``changes`` lists exactly the differences from the
reference plan, in the problem's candidate order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal

import highspy
import numpy as np
from pydantic import BaseModel, Field

from bigov.errors import BigovError
from bigov.portfolio.problem import PortfolioProblem, validate_problem
from bigov.portfolio.solver import (
    DEFAULT_MIP_GAP,
    PlanItem,
    build_model,
    evaluate_plan,
    plan_vector,
)

__all__ = ["DEFAULT_TOLERANCE", "Change", "RebalanceResult", "min_change_plan"]

# Value a board will give up to avoid churn, as a fraction of the new optimum. Half a per cent is
# below the precision of most scoring; 0 asks for the exact optimum with the fewest changes.
DEFAULT_TOLERANCE = 0.005
_SHIFT_WEIGHT = 0.5  # moving a start is half a change: the item goes on, later or sooner
_INF = highspy.kHighsInf

Action = Literal["stop", "start", "slow", "speed"]


class Change(BaseModel):
    """One difference from the reference plan.

    ``slow`` = a later start or less funding; ``speed`` = an earlier start or more funding.
    """

    code: str
    name: str = ""
    action: Action
    detail: str
    before: PlanItem | None = None
    after: PlanItem | None = None
    value_before: float = 0.0
    value_after: float = 0.0


class RebalanceResult(BaseModel):
    """The rebalanced plan, what it changes, and the values that justify it."""

    problem: str
    tolerance: float
    reference_value: float
    reference_broken: list[str] = Field(default_factory=list)
    optimum_value: float
    optimum_proven: bool
    value: float
    minimal_proven: bool
    plan: dict[str, PlanItem]
    changes: list[Change]
    dropped: list[str] = Field(default_factory=list)
    run_time: float


def min_change_plan(
    problem: PortfolioProblem,
    reference: Mapping[str, PlanItem],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    time_limit: float | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> RebalanceResult:
    """The plan closest to ``reference`` whose value is within ``tolerance`` of the optimum.

    Args:
        reference: the current plan (plan of record): code → start shift and fraction. Codes
            that are no longer candidates are reported in ``dropped`` and ignored.
        tolerance: fraction of the optimum's value that may be given up to avoid changes.
        time_limit: seconds for *each* of the two solves.

    Raises:
        ValidationError: the problem breaks the format rules.
        InfeasibleError: the new problem has no feasible plan (with the conflict set).
        BigovError: no feasible plan within the time limit.
    """
    validate_problem(problem)
    if not 0.0 <= tolerance < 1.0:
        raise BigovError(f"tolerance must be in [0, 1), not {tolerance}")
    started = time.perf_counter()
    known = {c.code for c in problem.candidates}
    dropped = sorted(code for code in reference if code not in known)
    ref = {code: item for code, item in reference.items() if code in known}
    ref_value, ref_broken = evaluate_plan(problem, ref)

    model = build_model(problem)
    status = model.run(time_limit=time_limit, mip_gap=mip_gap, start=plan_vector(model, ref))
    if status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        from bigov.portfolio.infeasibility import raise_infeasible

        raise_infeasible(problem)
    if not model.has_solution():
        raise BigovError(
            f"no feasible plan found for {problem.name!r} within {time_limit} s",
            hint="raise the time limit",
        )
    optimum_proven = status == highspy.HighsModelStatus.kOptimal
    best = model.column_values()
    h = model.h
    n = len(model.columns)
    value_cost = np.array(h.getLp().col_cost_, dtype=float)
    optimum = float(value_cost @ best)

    # Stage 2: keep the value, minimise the changes. Value row first, then the new objective.
    floor = optimum - tolerance * abs(optimum) - 1e-9 * max(1.0, abs(optimum))
    nz = np.flatnonzero(value_cost)
    h.addRow(floor, _INF, len(nz), nz.astype(np.int32), value_cost[nz])
    change_cost = np.zeros(n)
    deviation_rows: list[tuple[list[int], float]] = []  # (fraction columns, reference fraction)
    for cand in problem.candidates:
        entries = model.by_code[cand.code]
        item = ref.get(cand.code)
        for s, x, _f in entries:
            if item is None:
                change_cost[x] = 1.0  # start
            elif s == item.shift:
                change_cost[x] = -1.0  # kept as it is: saves the stop
            else:
                change_cost[x] = -1.0 + _SHIFT_WEIGHT  # kept, but moved
        if item is not None and cand.partial is not None:
            deviation_rows.append(([f for _, _, f in entries if f is not None], item.fraction))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), change_cost)
    for fcols, frac in deviation_rows:
        # d ≥ |Σ f − frac| with d costing 1 per unit of fraction moved
        h.addCol(1.0, 0.0, _INF, 0, np.zeros(0, np.int32), np.zeros(0))
        d = h.getNumCol() - 1
        idx = np.array([*fcols, d], np.int32)
        ones = np.ones(len(fcols))
        h.addRow(-_INF, frac, len(idx), idx, np.append(ones, -1.0))
        h.addRow(frac, _INF, len(idx), idx, np.append(ones, 1.0))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    start = [*best.tolist(), *([0.0] * len(deviation_rows))]
    for k, (fcols, frac) in enumerate(deviation_rows):
        start[n + k] = abs(sum(best[c] for c in fcols) - frac)
    status2 = model.run(time_limit=time_limit, mip_gap=mip_gap, start=start)
    col = model.column_values() if model.has_solution() else np.array(start)
    minimal_proven = status2 == highspy.HighsModelStatus.kOptimal

    plan: dict[str, PlanItem] = {}
    for code, entries in model.by_code.items():
        for s, x, f in entries:
            if col[x] > 0.5:
                frac = 1.0 if f is None else round(float(np.clip(col[f], 0.0, 10.0)), 9)
                plan[code] = PlanItem(s, frac)
    value, broken = evaluate_plan(problem, plan, model.values)
    if broken:  # pragma: no cover - only if HiGHS returned a point outside its tolerances
        raise BigovError("the rebalanced plan breaks " + "; ".join(broken))
    return RebalanceResult(
        problem=problem.name,
        tolerance=tolerance,
        reference_value=ref_value,
        reference_broken=ref_broken,
        optimum_value=optimum,
        optimum_proven=optimum_proven,
        value=value,
        minimal_proven=minimal_proven,
        plan=plan,
        changes=_changes(problem, ref, plan, model.values),
        dropped=dropped,
        run_time=time.perf_counter() - started,
    )


def _changes(
    problem: PortfolioProblem,
    before: Mapping[str, PlanItem],
    after: Mapping[str, PlanItem],
    values: Mapping[str, float],
) -> list[Change]:
    out: list[Change] = []
    for cand in problem.candidates:
        b, a = before.get(cand.code), after.get(cand.code)
        if b is None and a is None:
            continue
        v_b = values[cand.code] * b.fraction if b else 0.0
        v_a = values[cand.code] * a.fraction if a else 0.0
        action: Action
        if a is None:
            action, detail = "stop", "stopped"
        elif b is None:
            action, detail = "start", "started" + (f" (start {a.shift:+d})" if a.shift else "")
        else:
            parts: list[str] = []
            later = a.shift > b.shift
            if a.shift != b.shift:
                parts.append(f"start moved {a.shift - b.shift:+d} period(s)")
            less = a.fraction < b.fraction - 1e-6
            if abs(a.fraction - b.fraction) > 1e-6:
                parts.append(f"funding {b.fraction:.0%} → {a.fraction:.0%}")
            if not parts:
                continue
            action = "slow" if (later or (a.shift == b.shift and less)) else "speed"
            detail = "; ".join(parts)
        out.append(
            Change(
                code=cand.code,
                name=cand.name,
                action=action,
                detail=detail,
                before=b,
                after=a,
                value_before=v_b,
                value_after=v_a,
            )
        )
    return out
