"""Why no plan exists: a minimal set of conflicting constraints, in the user's words.

"Infeasible" helps nobody. The deletion filter (Chinneck & Dravnieks 1991) applied to constraint
*groups* (a budget row, a forced decision, a dependency, a balance rule) finds an irreducible
infeasible subset: the problem stays infeasible with only these groups, and becomes feasible if
any one of them is dropped. Each test is a feasibility solve (zero objective, stop at the first
feasible point) on one HiGHS instance whose rows are relaxed and restored in place.

The result is irreducible, not necessarily the smallest of all conflict sets (finding that is
NP-hard in general); the order of the filter favours keeping the decisions a user made
explicitly — forced items and budgets — in the set, since those are what they can change.
"""

from __future__ import annotations

import highspy

from bigov.errors import InfeasibleError
from bigov.portfolio.problem import PortfolioProblem
from bigov.portfolio.solver import SelectionModel, build_model

__all__ = ["describe_group", "find_conflict", "raise_infeasible"]

# Groups tried for deletion first are the most likely to be dropped from the final set; explicit
# decisions go last so that they are the ones reported when several explanations exist.
_DELETION_ORDER = {
    "balance": 0,
    "capacity": 1,
    "exclusion": 2,
    "dependency": 3,
    "total_budget": 4,
    "budget": 5,
    "force": 6,
}

_INFEASIBLE = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


def _infeasible(model: SelectionModel, time_limit: float | None) -> bool:
    # A time-out counts as "feasible" so that an unproven group is kept: the set may then be
    # larger than necessary, but never claims a conflict that does not exist.
    status = model.run(time_limit=time_limit, feasibility_only=True)
    return status in _INFEASIBLE


def find_conflict(problem: PortfolioProblem, *, time_limit: float | None = 30.0) -> list[str]:
    """Names of an irreducible set of constraint groups that cannot hold together.

    Returns an empty list when the problem is feasible. ``time_limit`` bounds each feasibility
    solve (seconds).
    """
    zero = {c.code: 0.0 for c in problem.candidates}
    model = build_model(problem, zero)
    if not _infeasible(model, time_limit):
        return []
    order = sorted(
        (g for g, rows in model.groups.items() if model.rows[rows[0]].kind != "structural"),
        key=lambda g: _DELETION_ORDER.get(model.rows[model.groups[g][0]].kind, 0),
    )
    conflict = list(order)
    for group in order:
        model.relax([group])
        if _infeasible(model, time_limit):
            conflict.remove(group)
        else:
            model.restore([group])
    return conflict


def describe_group(model: SelectionModel, group: str) -> str:
    """A group's name with its limit or reason, e.g. ``budget capex FY25 (≤ 1200)``."""
    row = model.rows[model.groups[group][0]]
    if row.kind in ("budget", "total_budget", "capacity"):
        return f"{group} (≤ {row.upper:g})"
    if row.kind == "force":
        return f"{group} ({row.key[1]})"
    return group


def raise_infeasible(problem: PortfolioProblem, *, time_limit: float | None = 30.0) -> None:
    """Raise :class:`InfeasibleError` whose ``conflict`` lists the groups of a minimal conflict."""
    groups = find_conflict(problem, time_limit=time_limit)
    model = build_model(problem, {c.code: 0.0 for c in problem.candidates})
    conflict = [describe_group(model, g) for g in groups]
    if not conflict:  # pragma: no cover - only if HiGHS disagrees with itself between solves
        raise InfeasibleError(f"no feasible plan for {problem.name!r}")
    raise InfeasibleError(
        f"no feasible plan for {problem.name!r}: these {len(conflict)} constraints cannot all "
        f"hold: " + "; ".join(conflict),
        conflict=conflict,
        hint="drop or loosen any one of them",
    )
