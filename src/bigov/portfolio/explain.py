"""Why each item is in or out, and what it would take to change that.

For a solved problem this reports:

- every limit (budget, capacity, balance) with its use, slack and whether it binds;
- shadow prices: from the LP with the selection fixed (the textbook MIP dual: the marginal value
  of one more unit for the items that can still flex — partial funding), and from the LP
  relaxation (an indicative price that is informative even when nothing can flex);
- per item, the reasons in plain words (forced, required by, excluded by, blocked by), the value
  a selected item earns over the best plan without it, and for an excluded item the value
  increase and the budget increase that would bring it in, each found by an exact re-solve.

Re-solves reuse one model per question and honour ``time_limit``; a re-solve that hits it gives
a bound that may be loose, which the explanation marks with ``exact = False``.
"""

from __future__ import annotations

from collections.abc import Mapping

import highspy
import numpy as np
from pydantic import BaseModel, Field

from bigov.portfolio.problem import PortfolioProblem
from bigov.portfolio.readable import amount, points
from bigov.portfolio.solver import (
    DEFAULT_MIP_GAP,
    SelectionModel,
    Solution,
    build_model,
    plan_vector,
    solve,
)

__all__ = ["ConstraintStatus", "Explanation", "ItemExplanation", "explain"]

_LIMIT_KINDS = ("budget", "total_budget", "capacity", "balance")
_TOL = 1e-6


class ConstraintStatus(BaseModel):
    """One limit in the chosen plan. Shadow prices are value per unit of extra limit."""

    group: str
    kind: str
    used: float
    limit: float
    slack: float
    binding: bool
    shadow_price: float = 0.0
    lp_shadow_price: float = 0.0


class ItemExplanation(BaseModel):
    """The verdict on one candidate, with the evidence."""

    code: str
    name: str = ""
    selected: bool
    value: float
    reasons: list[str] = Field(default_factory=list)
    blocked_by: list[str] = Field(default_factory=list)
    loss_if_removed: float | None = None
    value_increase_needed: float | None = None
    limit_increase_needed: dict[str, float] | None = None
    exact: bool = True


class Explanation(BaseModel):
    """Everything :func:`explain` found, ready for a table or ``--json``."""

    solution: Solution
    constraints: list[ConstraintStatus]
    items: list[ItemExplanation]

    def item(self, code: str) -> ItemExplanation:
        """The explanation of one candidate; KeyError if unknown."""
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)


def explain(
    problem: PortfolioProblem,
    solution: Solution | None = None,
    *,
    time_limit: float | None = 10.0,
    what_it_takes: bool = True,
) -> Explanation:
    """Explain ``solution`` (solved here if not given) item by item.

    ``what_it_takes`` runs the re-solves (two or three small MILPs per item); turn it off for a
    quick account of binding constraints and reasons only.
    """
    if solution is None:
        solution = solve(problem, time_limit=time_limit)
    model = build_model(problem)
    plan = solution.plan()
    vec = np.array(plan_vector(model, plan))
    constraints = _constraint_status(model, vec, problem, plan)
    by_group = {c.group: c for c in constraints}
    items: list[ItemExplanation] = []
    forced = {f.code: f for f in problem.forced}
    chosen = solution.selected_codes()
    for cand in problem.candidates:
        code = cand.code
        it = ItemExplanation(
            code=code, name=cand.name, selected=code in chosen, value=model.values[code]
        )
        f = forced.get(code)
        if f is not None:
            it.reasons.append(f"forced {f.decision}: {f.reason}")
        if code in chosen:
            users = [c.code for c in problem.candidates if code in c.requires and c.code in chosen]
            if users:
                it.reasons.append("required by " + ", ".join(users))
            if f is None and what_it_takes:
                it.loss_if_removed, exact = _value_with(model, code, "out", solution, time_limit)
                it.exact = exact
                if it.loss_if_removed is not None:
                    it.reasons.append(
                        f"the best plan without it is worth {points(it.loss_if_removed)} less"
                        if it.loss_if_removed > _TOL * max(1.0, abs(solution.value))
                        else "another plan without it is worth as much"
                    )
        else:
            for ex in problem.exclusions:
                if code in ex.codes:
                    rivals = [c for c in ex.codes if c != code and c in chosen]
                    if rivals:
                        why = f" ({ex.reason})" if ex.reason else ""
                        it.reasons.append(f"excluded by {', '.join(rivals)}{why}")
            missing = [r for r in cand.requires if r not in chosen]
            if missing:
                it.reasons.append("needs " + ", ".join(missing) + ", not selected")
            it.blocked_by = _blocking(model, vec, code, by_group)
            if it.blocked_by:
                it.reasons.append("would break " + _blocked_text(it.blocked_by, by_group, problem))
            if f is None and what_it_takes:
                gap, exact = _value_with(model, code, "in", solution, time_limit)
                it.exact = exact
                if gap is None:
                    it.reasons.append("no value increase alone can bring it in")
                else:
                    gap = 0.0 if gap <= _TOL * max(1.0, abs(solution.value)) else gap
                    it.value_increase_needed = gap
                    it.reasons.append(
                        "ties with the chosen plan: any rise in its value brings it in"
                        if gap == 0.0
                        else f"would be chosen if its value rose by more than {points(gap)}"
                    )
                it.limit_increase_needed = _limits_needed(problem, code, solution.value, time_limit)
                if it.limit_increase_needed:
                    extra = _increase_text(it.limit_increase_needed, model, problem)
                    it.reasons.append(f"fits without losing value with {extra}")
            if not it.reasons:
                it.reasons.append("other items give more value for the same limits")
        items.append(it)
    return Explanation(solution=solution, constraints=constraints, items=items)


def _increase_text(
    increases: Mapping[str, float], model: SelectionModel, problem: PortfolioProblem
) -> str:
    """``+4.4 FTE of Data Engineer (at most) in 2026-09..2027-03, +£1.20m on budget change
    FY2027``: a skill's months folded into one range with the largest rise."""
    from bigov.portfolio.relax import _period_span

    parts: list[str] = []
    by_skill: dict[str, dict[str, float]] = {}
    for g, v in increases.items():
        row = model.rows[model.groups[g][0]]
        if row.kind == "capacity":
            by_skill.setdefault(row.key[0], {})[row.key[1]] = v
        else:
            parts.append(f"+{amount(v, row.kind, problem.currency)} on {g}")
    for skill, months in by_skill.items():
        top = max(months.values())
        span = _period_span(list(months), problem.periods)
        most = " (at most)" if len(months) > 1 and min(months.values()) < top - 0.05 else ""
        parts.append(f"+{amount(top, 'capacity')} of {problem.label(skill)}{most} in {span}")
    return ", ".join(parts)


def _blocked_text(
    groups: list[str], by_group: Mapping[str, ConstraintStatus], problem: PortfolioProblem
) -> str:
    """Blocking limits, a skill's months folded into one range named by its tightest month."""
    from bigov.portfolio.relax import _period_span

    out: list[str] = []
    by_skill: dict[str, list[str]] = {}
    for g in groups:
        parts = g.split(" ")
        if parts[0] == "capacity" and len(parts) == 3:
            by_skill.setdefault(parts[1], []).append(parts[2])
        else:
            out.append(_with_use(g, by_group[g], problem))
    for skill, months in by_skill.items():
        tight = min(months, key=lambda m: by_group[f"capacity {skill} {m}"].slack)
        st = by_group[f"capacity {skill} {tight}"]
        over = problem.capacity_allowance.get(skill, {}).get(tight, 0.0)
        span = _period_span(months, problem.periods)
        note = f", {over:,.1f} of it committed over capacity" if over else ""
        out.append(
            f"capacity {skill} {span} ({problem.label(skill)}, tightest {tight}: "
            f"{st.used:,.1f} of {st.limit:,.1f} FTE used{note})",
        )
    return "; ".join(out)


def _with_use(group: str, status: ConstraintStatus, problem: PortfolioProblem) -> str:
    """``capacity SK-DATA 2026-10 (Data Engineer: 59.5 of 60.0 FTE used)``."""
    parts = group.split(" ")
    who = problem.label(parts[1]) + ": " if len(parts) == 3 and parts[0] == "capacity" else ""
    used = amount(status.used, status.kind, problem.currency)
    limit = amount(status.limit, status.kind, problem.currency)
    return f"{group} ({who}{used} of {limit} used)"


def _constraint_status(
    model: SelectionModel,
    vec: np.ndarray[tuple[int], np.dtype[np.float64]],
    problem: PortfolioProblem,
    plan: Mapping[str, object],
) -> list[ConstraintStatus]:
    fixed = _fixed_lp_duals(problem, model, vec)
    relaxed = _lp_duals(problem)
    out = []
    for group, rows in model.groups.items():
        first = model.rows[rows[0]]
        if first.kind not in _LIMIT_KINDS:
            continue
        # For a multi-row group (a balance rule) report its tightest row.
        best: ConstraintStatus | None = None
        for r in rows:
            row = model.rows[r]
            used = sum(coef * vec[c] for c, coef in model.entries[r].items())
            if np.isfinite(row.upper):
                limit, slack = row.upper, row.upper - used
            else:
                limit, slack = row.lower, used - row.lower
            status = ConstraintStatus(
                group=group,
                kind=row.kind,
                used=float(used),
                limit=float(limit),
                slack=float(slack),
                binding=bool(slack <= _TOL * max(1.0, abs(limit))),
                shadow_price=fixed.get(r, 0.0),
                lp_shadow_price=relaxed.get(r, 0.0),
            )
            if best is None or status.slack < best.slack:
                best = status
        assert best is not None
        out.append(best)
    return out


def _duals(model: SelectionModel) -> dict[int, float]:
    # HiGHS reports duals as d(objective)/d(rhs) in the model's own sense; for a maximisation a
    # binding ≤ row has a non-negative dual. Report magnitudes: "value per extra unit of limit".
    if model.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return {}
    duals = model.h.getSolution().row_dual
    return {r: abs(float(d)) for r, d in enumerate(duals) if abs(d) > 1e-9}


def _fixed_lp_duals(
    problem: PortfolioProblem,
    mip: SelectionModel,
    vec: np.ndarray[tuple[int], np.dtype[np.float64]],
) -> dict[int, float]:
    lp = build_model(problem, mip.values, relax_integrality=True)
    xs = np.array([i for i, c in enumerate(lp.columns) if c.kind == "x"], np.int32)
    lp.h.changeColsBounds(len(xs), xs, vec[xs], vec[xs])
    lp.run()
    return _duals(lp)


def _lp_duals(problem: PortfolioProblem) -> dict[int, float]:
    lp = build_model(problem, relax_integrality=True)
    lp.run()
    return _duals(lp)


def _blocking(
    model: SelectionModel,
    vec: np.ndarray[tuple[int], np.dtype[np.float64]],
    code: str,
    by_group: Mapping[str, ConstraintStatus],
) -> list[str]:
    """Limits the item would break if added to the plan as it stands (at its planned start)."""
    entries = [e for e in model.by_code[code] if e[0] == 0] or model.by_code[code][:1]
    _, x, f = entries[0]
    col = x if f is None else f
    out = []
    for group, rows in model.groups.items():
        if group not in by_group:
            continue
        for r in rows:
            coef = model.entries[r].get(col, 0.0)
            if not coef:
                continue
            row = model.rows[r]
            used = sum(c * vec[k] for k, c in model.entries[r].items())
            if used + coef > row.upper + _TOL or used + coef < row.lower - _TOL:
                out.append(group)
                break
    return out


def _value_with(
    model: SelectionModel,
    code: str,
    decision: str,
    solution: Solution,
    time_limit: float | None,
) -> tuple[float | None, bool]:
    """Best value with ``code`` forced in/out, as a shortfall from the solution's value.

    Returns (None, exact) when the forced problem is infeasible.
    """
    model.fix(code, "in" if decision == "in" else "out")
    try:
        status = model.run(time_limit=time_limit, mip_gap=DEFAULT_MIP_GAP)
        if not model.has_solution():
            return None, status == highspy.HighsModelStatus.kInfeasible
        value = float(model.h.getInfo().objective_function_value)
        return solution.value - value, status == highspy.HighsModelStatus.kOptimal
    finally:
        model.fix(code, None)


def _limits_needed(
    problem: PortfolioProblem, code: str, target: float, time_limit: float | None
) -> dict[str, float] | None:
    """Least increase of budgets and capacities that fits ``code`` while keeping ``target`` value.

    Budget and capacity rows get elastic columns; the objective becomes "minimise the sum of
    relative increases" (each increase divided by its limit, so £ and FTE are comparable),
    subject to a value floor. None when no increase can make room (a rule blocks the item).
    """
    model = build_model(problem)
    h = model.h
    budget_rows = [
        r for r, row in enumerate(model.rows) if row.kind in ("budget", "total_budget", "capacity")
    ]
    if not budget_rows:
        return None
    n0 = len(model.columns)
    # Value floor first (uses the current objective coefficients), then elastic columns.
    values = np.asarray(h.getLp().col_cost_, dtype=float)
    nz = np.flatnonzero(values)
    h.addRow(
        target - _TOL * max(1.0, abs(target)),
        highspy.kHighsInf,
        len(nz),
        nz.astype(np.int32),
        values[nz],
    )
    k = len(budget_rows)
    h.addCols(
        k,
        np.array([1.0 / max(model.rows[r].upper, 1e-9) for r in budget_rows]),
        np.zeros(k),
        np.full(k, highspy.kHighsInf),
        k,
        np.arange(k, dtype=np.int32),
        np.array(budget_rows, np.int32),
        np.full(k, -1.0),
    )
    h.changeColsCost(n0, np.arange(n0, dtype=np.int32), np.zeros(n0))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    model.fix(code, "in")
    model.run(time_limit=time_limit)
    if not model.has_solution():
        return None
    col = model.column_values()
    return {
        model.rows[r].group: round(float(col[n0 + i]), 6)
        for i, r in enumerate(budget_rows)
        if col[n0 + i] > _TOL
    }
