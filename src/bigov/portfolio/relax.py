"""What to change so that an infeasible round has a plan: the least weighted relaxation.

A conflict set (:mod:`bigov.portfolio.infeasibility`) says *which* rules clash; a portfolio
manager also needs to know *by how much* to move them. This module solves an elastic version of
the problem: every budget (by source and period, and over the horizon) and every capacity (by
skill and period) gets a non-negative "extra" column, and every forced decision a binary
"release" column. The objective is the least weighted change:

- a budget or capacity rise costs ``100 / limit`` per unit, i.e. one point per 1 % of that limit,
  so pounds and FTE are comparable and a rise on a small limit is dearer than on a large one;
- releasing a forced decision costs ``force_weight`` points (default 25: as much as raising one
  limit by a quarter), so a few forced items released can beat a large rise everywhere, and the
  other way round.

Each kind may be allowed or not. :func:`relax` solves the combination asked for and, when more
than one kind is allowed, each kind alone as well, so the answer reads "+6.0 FTE of Data Engineer
in 2027-01..03, *or* release the force-in of PRJ-X". Amounts are rounded *up* to the unit a
person uses (£1k, 0.1 FTE) and the rounded change is checked by re-solving the changed problem,
so every option offered is known to give a plan. Dependencies, exclusions and balance rules are
never relaxed: if only they clash, no option is offered and the conflict set says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from bigov.figures.format import money
from bigov.portfolio.problem import Forced, PortfolioProblem, validate_problem

__all__ = [
    "DEFAULT_FORCE_WEIGHT",
    "RelaxChange",
    "RelaxKind",
    "RelaxOption",
    "Relaxation",
    "apply_option",
    "relax",
]

RelaxKind = Literal["budget", "capacity", "force"]
ALL_KINDS: tuple[RelaxKind, ...] = ("budget", "capacity", "force")
DEFAULT_FORCE_WEIGHT = 25.0
_TOL = 1e-6


class RelaxChange(BaseModel):
    """One change of one rule: a rise of a limit over some periods, or a released decision.

    ``amount`` is the rise per period (money or FTE, rounded up to the user's unit); for a
    released decision it is 0 and ``code`` names the item.
    """

    kind: Literal["budget", "total_budget", "capacity", "force"]
    key: str  # funding source, skill, or the forced item's code
    periods: list[str] = Field(default_factory=list)
    amount: float = 0.0  # the rise, or the largest rise when it differs by period
    amounts: dict[str, float] = Field(default_factory=dict)  # the rise of each period
    decision: Literal["in", "out"] | None = None
    reason: str = ""
    text: str


class RelaxOption(BaseModel):
    """A set of changes that together make the round feasible."""

    kinds: list[RelaxKind]
    changes: list[RelaxChange]
    weight: float
    text: str
    verified: bool


class Relaxation(BaseModel):
    """The answer to "what would it take": options, best (least weighted) first.

    ``feasible`` is True when the round needed no change. ``conflict`` is the irreducible
    conflict set, for reference (empty when feasible or not computed).
    """

    problem: str
    feasible: bool
    options: list[RelaxOption]
    conflict: list[str] = Field(default_factory=list)
    text: str


# --- user units ---------------------------------------------------------------------------------


def _round_up(amount: float, kind: str) -> float:
    step = 0.1 if kind == "capacity" else (1000.0 if amount >= 10_000 else 1.0)
    return math.ceil(amount / step - 1e-9) * step


def _quantity(amount: float, kind: str, currency: str | None) -> str:
    if kind == "capacity":
        return f"{amount:,.1f} FTE"
    return money(amount, currency or "GBP")


def _period_span(periods: Sequence[str], order: Sequence[str]) -> str:
    """``2027-01..03`` / ``FY2027`` / ``2027-01, 2027-04``: consecutive periods as one range."""
    index = {p: i for i, p in enumerate(order)}
    ps = sorted(periods, key=lambda p: index.get(p, 0))
    runs: list[list[str]] = []
    for p in ps:
        if runs and index.get(p, -9) == index.get(runs[-1][-1], -99) + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    parts = []
    for run in runs:
        if len(run) == 1:
            parts.append(run[0])
            continue
        a, b = run[0], run[-1]
        common = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            common += 1
        # cut back to a separator so "2027-01..03" rather than "2027-01..3"
        cut = max(a.rfind("-", 0, common), a.rfind(" ", 0, common))
        parts.append(f"{a}..{b[cut + 1 :]}" if cut > 0 else f"{a}..{b}")
    return ", ".join(parts)


def _describe(change: RelaxChange, problem: PortfolioProblem) -> str:
    if change.kind == "force":
        return f"release the force-{change.decision} of {change.key}"
    name = problem.label(change.key)
    qty = _quantity(change.amount, change.kind, problem.currency)
    if len(set(change.amounts.values())) > 1:
        peak = max(change.amounts, key=lambda p: change.amounts[p])
        span = _period_span(change.periods, problem.periods)
        where = f"{span}, most in {peak}"
        if change.kind == "capacity":
            return f"up to +{qty} of {name} in {where}"
        return f"up to +{qty} on the {name} budget in {where}"
    if change.kind == "capacity":
        return f"+{qty} of {name} in {_period_span(change.periods, problem.periods)}"
    if change.kind == "total_budget":
        return f"+{qty} on the total {name} budget"
    return f"+{qty} on the {name} budget in {_period_span(change.periods, problem.periods)}"


def _join(texts: Sequence[str]) -> str:
    return "; ".join(texts) if texts else "no change"


# --- the elastic model --------------------------------------------------------------------------


def _solve_elastic(
    problem: PortfolioProblem,
    kinds: Sequence[RelaxKind],
    force_weight: float,
    time_limit: float | None,
) -> tuple[list[RelaxChange], float] | None:
    """Least weighted change using only ``kinds``; None when no such change gives a plan."""
    import highspy
    import numpy as np

    from bigov.portfolio.solver import build_model

    model = build_model(problem, {c.code: 0.0 for c in problem.candidates})
    h = model.h
    n0 = len(model.columns)
    h.changeColsCost(n0, np.arange(n0, dtype=np.int32), np.zeros(n0))
    inf = highspy.kHighsInf
    limit_kinds = {"budget": ("budget", "total_budget"), "capacity": ("capacity",)}
    elastic: list[tuple[int, str]] = []  # (row, "limit" | "force")
    for r, row in enumerate(model.rows):
        if any(row.kind in limit_kinds[k] for k in kinds if k in limit_kinds):
            elastic.append((r, "limit"))
        elif row.kind == "force" and "force" in kinds:
            elastic.append((r, "force"))
    if not elastic:
        return None
    # a typical limit of each kind prices rises of zero limits
    typical: dict[str, float] = {}
    for r, _ in elastic:
        row = model.rows[r]
        if row.kind != "force" and row.upper > 0:
            typical[row.kind] = max(typical.get(row.kind, 0.0), row.upper)
    costs, lows, highs, starts, index, values, integ = [], [], [], [], [], [], []
    for k, (r, what) in enumerate(elastic):
        row = model.rows[r]
        starts.append(k)
        index.append(r)
        lows.append(0.0)
        if what == "limit":
            base = row.upper if row.upper > 0 else typical.get(row.kind, 1.0)
            costs.append(100.0 / max(base, 1e-9))
            highs.append(inf)
            values.append(-1.0)
            integ.append(0)
        else:
            costs.append(force_weight)
            highs.append(1.0)
            # force-in: Σx + d ≥ 1; force-out: Σx − d ≤ 0
            values.append(1.0 if row.lower >= 1.0 else -1.0)
            integ.append(1)
    k = len(elastic)
    h.addCols(
        k,
        np.array(costs),
        np.array(lows),
        np.array(highs),
        k,
        np.array(starts, np.int32),
        np.array(index, np.int32),
        np.array(values),
    )
    h.changeColsIntegrality(
        k, np.arange(n0, n0 + k, dtype=np.int32), np.array(integ, dtype=np.uint8)
    )
    force_rows = [r for r, what in elastic if what == "force" and model.rows[r].lower >= 1.0]
    if force_rows:
        n = len(force_rows)
        h.changeRowsBounds(n, np.array(force_rows, np.int32), np.ones(n), np.full(n, inf))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    model.run(time_limit=time_limit)
    if not model.has_solution():
        return None
    col = model.column_values()
    # raw rises per (kind, key): {period: amount}
    rises: dict[tuple[str, str], dict[str, float]] = {}
    changes: list[RelaxChange] = []
    reasons = {(f.code, f.decision): f.reason for f in problem.forced}
    for j, (r, what) in enumerate(elastic):
        v = float(col[n0 + j])
        row = model.rows[r]
        if what == "force":
            if v > 0.5:
                decision: Literal["in", "out"] = "in" if row.lower >= 1.0 else "out"
                code = row.key[0]
                changes.append(
                    RelaxChange(
                        kind="force",
                        key=code,
                        decision=decision,
                        reason=reasons.get((code, decision), ""),
                        text="",
                    )
                )
            continue
        if v <= _TOL * max(1.0, abs(row.upper)):
            continue
        if row.kind == "total_budget":
            rises.setdefault(("total_budget", row.key[0]), {})[""] = v
        else:
            rises.setdefault((row.kind, row.key[0]), {})[row.key[1]] = v
    for (kind, key), by_period in rises.items():
        # one change per limit, so "+6.0 FTE of Data Engineer in 2027-01..03" reads as one line
        rounded = {p: _round_up(a, kind) for p, a in by_period.items()}
        changes.append(
            RelaxChange(
                kind=kind,
                key=key,
                periods=[p for p in rounded if p],
                amount=max(rounded.values()),
                amounts={p: a for p, a in rounded.items() if p},
                text="",
            )
        )
    weight = float(model.h.getInfo().objective_function_value)
    order = {"capacity": 0, "budget": 1, "total_budget": 2, "force": 3}
    changes.sort(key=lambda c: (order[c.kind], c.key, c.periods[:1]))
    for c in changes:
        c.text = _describe(c, problem)
    return changes, weight


def apply_option(problem: PortfolioProblem, option: RelaxOption) -> PortfolioProblem:
    """The problem with the option's changes made (limits raised, forced decisions released)."""
    budgets = {s: dict(t) for s, t in problem.budgets.items()}
    totals = dict(problem.total_budgets)
    capacity = {s: dict(t) for s, t in problem.capacity.items()}
    released = {(c.key, c.decision) for c in option.changes if c.kind == "force"}
    for c in option.changes:
        if c.kind == "budget":
            for p in c.periods:
                budgets[c.key][p] = budgets[c.key][p] + c.amounts.get(p, c.amount)
        elif c.kind == "total_budget":
            totals[c.key] = totals[c.key] + c.amount
        elif c.kind == "capacity":
            for p in c.periods:
                capacity[c.key][p] = capacity[c.key][p] + c.amounts.get(p, c.amount)
    forced: list[Forced] = [f for f in problem.forced if (f.code, f.decision) not in released]
    return problem.model_copy(
        update={
            "budgets": budgets,
            "total_budgets": totals,
            "capacity": capacity,
            "forced": forced,
        }
    )


def _feasible(problem: PortfolioProblem, time_limit: float | None) -> bool:
    from bigov.portfolio.solver import build_model

    model = build_model(problem, {c.code: 0.0 for c in problem.candidates})
    model.run(time_limit=time_limit, feasibility_only=True)
    return model.has_solution()


def relax(
    problem: PortfolioProblem,
    *,
    allow: Sequence[RelaxKind] = ALL_KINDS,
    force_weight: float = DEFAULT_FORCE_WEIGHT,
    time_limit: float | None = 30.0,
    with_conflict: bool = True,
) -> Relaxation:
    """The least weighted changes of the allowed kinds that make ``problem`` feasible.

    Options come best first: the combination of every allowed kind, then each kind alone (when
    more than one is allowed and the answer differs). Every option is checked by a feasibility
    solve of the changed problem (``verified``).

    Raises:
        ValidationError: the problem breaks the format rules.
        ConfigError: no kind allowed.
    """
    from bigov.errors import ConfigError

    validate_problem(problem)
    kinds = [k for k in ALL_KINDS if k in set(allow)]
    if not kinds:
        raise ConfigError("allow at least one kind of change: budget, capacity or force")
    if _feasible(problem, time_limit):
        return Relaxation(
            problem=problem.name, feasible=True, options=[], text="the round has a plan as it is"
        )
    tries: list[list[RelaxKind]] = [kinds]
    if len(kinds) > 1:
        tries += [[k] for k in kinds]
    options: list[RelaxOption] = []
    seen: set[tuple[str, ...]] = set()
    for combo in tries:
        found = _solve_elastic(problem, combo, force_weight, time_limit)
        if found is None:
            continue
        changes, weight = found
        key = tuple(c.text for c in changes)
        if key in seen:
            continue
        seen.add(key)
        option = RelaxOption(
            kinds=combo,
            changes=changes,
            weight=round(weight, 3),
            text=_join([c.text for c in changes]),
            verified=False,
        )
        option.verified = _feasible(apply_option(problem, option), time_limit)
        options.append(option)
    conflict: list[str] = []
    if with_conflict:
        from bigov.portfolio.infeasibility import describe_group, find_conflict
        from bigov.portfolio.solver import build_model

        groups = find_conflict(problem, time_limit=time_limit)
        model = build_model(problem, {c.code: 0.0 for c in problem.candidates})
        conflict = [describe_group(model, g) for g in groups]
    if options:
        text = " — or — ".join(o.text for o in options)
    else:
        text = (
            "no change of budgets, capacity or forced decisions ("
            + ", ".join(kinds)
            + " allowed) gives a plan: the clash is between rules that are never relaxed"
        )
    return Relaxation(
        problem=problem.name, feasible=False, options=options, conflict=conflict, text=text
    )
